"""Compare a workspace with a ground-truth folder written by ``ordito generate``.

Every stage that exists is scored; stages not built yet are reported as ``null`` with a note, never
guessed. Identity is scored pairwise over the source records present in the workspace: two records are a
predicted pair when they resolve to the same customer key, a true pair when they belong to the same
person. Records the resolver leaves without a customer (only shared identifiers) are singletons.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .errors import InputError
from .store.duckdb import DuckDBEngine
from .store.sqlutil import lit


def _pairs(n: str) -> str:
    return f"sum({n} * ({n} - 1) / 2)"


def score_identity(eng: DuckDBEngine, gt: Path) -> dict[str, Any]:
    rec = gt / "records.parquet"
    if not rec.exists():
        raise InputError(f"{gt} has no records.parquet: is it a ground_truth folder of `ordito generate`?")
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE _gt AS
        SELECT source, source_key, person_id FROM read_parquet({lit(str(rec))})
        WHERE person_id IS NOT NULL AND person_id <> ''""")
    eng.execute("""CREATE OR REPLACE TEMP TABLE _sc AS
        SELECT g.person_id, c.customer_key, e.seq
        FROM _gt g JOIN events e ON e.source = g.source AND e.source_key = g.source_key
        LEFT JOIN event_customer c ON c.seq = e.seq""")
    total_gt = int(eng.scalar("SELECT count(*) FROM _gt"))
    present = int(eng.scalar("SELECT count(*) FROM _sc"))
    tp = int(
        eng.scalar(f"""SELECT coalesce({_pairs("n")}, 0) FROM (SELECT count(*) AS n FROM _sc
                           WHERE customer_key IS NOT NULL GROUP BY person_id, customer_key)""")
    )
    pred = int(
        eng.scalar(f"""SELECT coalesce({_pairs("n")}, 0) FROM (SELECT count(*) AS n FROM _sc
                             WHERE customer_key IS NOT NULL GROUP BY customer_key)""")
    )
    true = int(
        eng.scalar(
            f"SELECT coalesce({_pairs('n')}, 0) FROM (SELECT count(*) AS n FROM _sc GROUP BY person_id)"
        )
    )
    unresolved = int(eng.scalar("SELECT count(*) FROM _sc WHERE customer_key IS NULL"))
    persons = int(eng.scalar("SELECT count(DISTINCT person_id) FROM _sc"))
    customers = int(eng.scalar("SELECT count(DISTINCT customer_key) FROM _sc WHERE customer_key IS NOT NULL"))
    precision = tp / pred if pred else 1.0
    recall = tp / true if true else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    # people split over several customers, customers mixing several people
    split = int(
        eng.scalar("""SELECT count(*) FROM (SELECT person_id FROM _sc WHERE customer_key IS NOT NULL
                              GROUP BY person_id HAVING count(DISTINCT customer_key) > 1)""")
    )
    mixed = int(
        eng.scalar("""SELECT count(*) FROM (SELECT customer_key FROM _sc WHERE customer_key IS NOT NULL
                              GROUP BY customer_key HAVING count(DISTINCT person_id) > 1)""")
    )
    ceiling = _exact_match_ceiling(eng, gt)
    eng.execute("DROP TABLE _sc")
    eng.execute("DROP TABLE _gt")
    return {
        "precision": round(precision, 5),
        "recall": round(recall, 5),
        "f1": round(f1, 5),
        "true_pairs": true,
        "predicted_pairs": pred,
        "correct_pairs": tp,
        "records_in_ground_truth": total_gt,
        "records_scored": present,
        "records_without_customer": unresolved,
        "persons": persons,
        "customers": customers,
        "persons_split": split,
        "exact_match_ceiling": ceiling,
        "customers_mixing_persons": mixed,
        "base": "pairs of source records present in the workspace (same customer key vs same true person)",
    }


def _exact_match_ceiling(eng: DuckDBEngine, gt: Path) -> dict[str, Any] | None:
    """The best recall any exact-matching linker can reach on this data: link two records when they share a
    normalised identifier that the ground truth says belongs to one person only. What lies between this
    and 1.0 needs fuzzy matching (names, addresses) or is not linkable at all."""
    import numpy as np
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    idf = gt / "identifiers.csv"
    if not idf.exists():
        return None
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE _gtshared AS
        SELECT DISTINCT n.identifier_id FROM read_csv({lit(str(idf))}, all_varchar = true) g
        JOIN identifier_norm n ON n.raw = g.raw
        WHERE g.person_ids LIKE '%;%' OR coalesce(g.shared_reason, '') <> ''""")
    rec = eng.arrow("SELECT seq, person_id FROM _sc ORDER BY seq")
    links = eng.arrow("""SELECT l.seq, l.identifier_id FROM event_links l SEMI JOIN _sc USING (seq)
                         JOIN identifiers i USING (identifier_id)
                         WHERE i.status <> 'placeholder' AND l.identifier_id NOT IN (SELECT identifier_id FROM _gtshared)""")
    eng.execute("DROP TABLE _gtshared")
    seqs = np.asarray(rec.column("seq").to_numpy(), dtype=np.int64)
    n = len(seqs)
    if n == 0:
        return None
    ls = np.asarray(links.column("seq").to_numpy(), dtype=np.int64)
    li = np.asarray(links.column("identifier_id").to_numpy(), dtype=np.int64)
    rows = np.searchsorted(seqs, ls)
    uniq, cols = np.unique(li, return_inverse=True)
    size = n + len(uniq)
    m = coo_matrix((np.ones(len(rows), dtype=np.int8), (rows, cols + n)), shape=(size, size))
    _, lab = connected_components(m, directed=False)
    person = rec.column("person_id").to_pylist()
    from collections import Counter

    def pairs(c: Counter[Any]) -> int:
        return sum(v * (v - 1) // 2 for v in c.values())

    tp = pairs(Counter(zip(lab[:n].tolist(), person, strict=True)))
    true = pairs(Counter(person))
    no_id = int(n - len(np.unique(ls)))
    return {
        "recall": round(tp / true, 5) if true else 1.0,
        "records_without_usable_identifier": no_id,
        "note": "best recall of any exact-matching linker that knows which identifiers are shared",
    }


def score(eng: DuckDBEngine, ground_truth: str | Path) -> dict[str, Any]:
    gt = Path(ground_truth)
    if not gt.is_dir():
        raise InputError(f"{gt} is not a folder")
    out: dict[str, Any] = {"ground_truth": str(gt), "identity": score_identity(eng, gt)}
    out["episodes"] = None
    out["friction"] = None
    out["sentiment"] = None
    out["notes"] = {
        "episodes": "not built yet (journeys issue)",
        "friction": "not built yet (journeys issue)",
        "sentiment": "not built yet (voice-of-the-customer issue)",
    }
    return out
