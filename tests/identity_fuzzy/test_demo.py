"""The demo company with its fuzzy silos: pairwise precision and recall over every record, homonyms never
merged, and the fuzzy silos resolved incrementally against an already resolved base with stable keys."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

import ordito
from ordito.demo import generate
from ordito.score import score

CUSTOMERS = 600
SEED = 7


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("fuzzy_company")
    generate(out, customers=CUSTOMERS, seed=SEED, fuzzy=True)
    return out


@pytest.fixture(scope="module")
def incremental(
    company: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ordito.Workspace, dict[str, str]]]:
    """The base silos ingested and resolved first, then the fuzzy silos on top (an incremental run)."""
    base = tmp_path_factory.mktemp("base") / "company"
    shutil.copytree(company, base, ignore=shutil.ignore_patterns("warranty", "repairs"))
    ws = ordito.Workspace(tmp_path_factory.mktemp("ws") / "ws.duckdb")
    ws.ingest(base)
    ws.resolve()
    before = {f"{s}:{k}": c for s, k, c in ws.sql(_KEYS)}
    ws.ingest(company)
    ws.resolve()
    yield ws, before
    ws.close()


_KEYS = """SELECT e.source, e.source_key, c.customer_key FROM events e JOIN event_customer c ON c.seq = e.seq
           WHERE c.customer_key IS NOT NULL"""


def test_pairwise_precision_and_recall(
    company: Path, incremental: tuple[ordito.Workspace, dict[str, str]]
) -> None:
    ws, _ = incremental
    s = score(ws.engine, company / "ground_truth")["identity"]
    assert s["precision"] >= 0.995, s
    assert s["recall"] >= 0.98, s
    fuzzy_events = ws.sql("SELECT count(*) FROM events WHERE source IN ('warranty', 'repairs')")[0][0]
    assert fuzzy_events > 0.3 * CUSTOMERS


def test_homonyms_never_merge_with_their_namesake(
    company: Path, incremental: tuple[ordito.Workspace, dict[str, str]]
) -> None:
    ws, _ = incremental
    rows = ws.sql(f"""WITH g AS (SELECT source, source_key, person_id FROM read_parquet('{company}/ground_truth/records.parquet'))
        SELECT c.customer_key, list(DISTINCT g.person_id) FROM g JOIN events e USING (source, source_key)
        JOIN event_customer c ON c.seq = e.seq WHERE c.customer_key IS NOT NULL
        GROUP BY 1 HAVING count(DISTINCT substr(g.person_id, 3)) < count(DISTINCT g.person_id)""")
    assert rows == []  # no customer holds both P0xxxxxxx and its namesake P9xxxxxxx
    homonyms = ws.sql(
        f"SELECT count(*) FROM read_csv('{company}/ground_truth/persons.csv') WHERE person_id LIKE 'P9%'"
    )[0][0]
    assert homonyms >= 10


def test_fuzzy_records_join_their_person(
    company: Path, incremental: tuple[ordito.Workspace, dict[str, str]]
) -> None:
    ws, _ = incremental
    joined, total = (
        ws.sql(f"""WITH g AS (SELECT source, source_key, person_id FROM read_parquet('{company}/ground_truth/records.parquet')),
        s AS (SELECT g.source, g.person_id, c.customer_key FROM g JOIN events e USING (source, source_key)
              JOIN event_customer c ON c.seq = e.seq),
        main AS (SELECT person_id, arg_max(customer_key, n) AS k FROM
                 (SELECT person_id, customer_key, count(*) AS n FROM s WHERE source NOT IN ('warranty', 'repairs')
                  GROUP BY ALL) GROUP BY 1)
        SELECT count(*) FILTER (WHERE s.customer_key = m.k), count(*) FROM s JOIN main m USING (person_id)
        WHERE s.source IN ('warranty', 'repairs')""")[0]
    )
    # many fuzzy records belong to people the base silos know by no address (they never ordered): those
    # can only join each other; measured 0.71 at this size and seed
    assert joined / total >= 0.65, (joined, total)


def test_existing_keys_survive_the_fuzzy_silos(incremental: tuple[ordito.Workspace, dict[str, str]]) -> None:
    ws, before = incremental
    after = {f"{s}:{k}": c for s, k, c in ws.sql(_KEYS)}
    changed = {r: (old, after.get(r)) for r, old in before.items() if after.get(r) != old}
    merged = {
        (o, n)
        for o, n in ws.sql("SELECT other_key, customer_key FROM identity_changes WHERE action = 'merge'")
    }
    for rec, (old, new) in changed.items():
        assert (old, new) in merged, (rec, old, new)  # a key changes only by a recorded merge
    assert len(changed) <= 0.02 * len(before)
