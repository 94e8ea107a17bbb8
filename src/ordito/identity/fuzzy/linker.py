"""The probabilistic linker over a table of person records, independent of where they came from.

``ordito resolve`` feeds it the person records of events (``stage.py``); tests and benchmarks feed it
FEBRL or generated records directly. Every step is SQL on the engine except EM (numpy, on level
patterns):

1. ``normalise``: raw attributes to canonical ones (``normalize.py``);
2. ``block``: blocking keys (``blocking.py``);
3. ``candidate_pairs``: pairs sharing a small key;
4. ``train``: u from random pairs, m and the prior by EM over the candidate pairs;
5. ``score``: comparison levels, match weight and probability of every pair.

Raw records: ``rec_id`` BIGINT, ``node_id`` BIGINT, ``src`` VARCHAR, and VARCHAR ``name``, ``first_name``,
``last_name``, ``birth_date``, ``address``, ``postcode``, ``city``, ``email``, ``phone`` (any may be NULL).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from ...store.duckdb import DuckDBEngine
from . import normalize as nz
from .blocking import DEFAULT_CAP, keys_select, pairs_select
from .compare import COMPARISONS, SCHEMES, levels_table
from .model import DEFAULT_M, M_CAPS, Model, estimate_u, expectation_maximisation, level_counts

RAW_COLUMNS = (
    "name",
    "first_name",
    "last_name",
    "birth_date",
    "address",
    "postcode",
    "city",
    "email",
    "phone",
)


def normalise(eng: DuckDBEngine, raw: str, out: str) -> None:
    """Canonical attributes of the raw records of ``raw`` into the temp table ``out``.

    Names, addresses, cities and birth dates are normalised once per distinct raw value and joined back
    (a million records hold 380k names, 232k addresses and 39 cities: half the work of normalising every
    record). The folded address feeds both the street and the civic number, so it is materialised first."""
    full = "coalesce(nullif(concat_ws(' ', first_name, last_name), ''), name)"
    email_ok = "regexp_full_match(lower(trim(r.email)), '[^@\\s]+@[^@\\s]+\\.[a-z]{2,}')"
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE {out}_n AS
        SELECT first_name, last_name, name AS raw_name, {full} AS name, {nz.name_tokens(full)} AS name_toks
        FROM (SELECT DISTINCT first_name, last_name, name FROM {raw})""")
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE {out}_a AS
        SELECT address, {nz.street("af", folded=True)} AS street, {nz.civic("af", folded=True)} AS civic
        FROM (SELECT address, {nz.address_folded("address")} AS af FROM (SELECT DISTINCT address FROM {raw}))""")
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE {out}_c AS
        SELECT city AS raw_city, {nz.city("city")} AS city FROM (SELECT DISTINCT city FROM {raw})""")
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE {out}_d AS
        SELECT birth_date, {nz.birth_date("birth_date")} AS dob FROM (SELECT DISTINCT birth_date FROM {raw})""")
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT r.rec_id, r.node_id, r.src, n.name, n.name_toks, d.dob, a.street, a.civic,
               {nz.postcode("r.postcode")} AS postcode, c.city,
               CASE WHEN {email_ok} THEN lower(trim(r.email)) END AS email, {nz.email_local("r.email")} AS email_local,
               {nz.phone_digits("r.phone")} AS phone, {nz.phone_tail("r.phone")} AS phone_tail
        FROM {raw} r
        LEFT JOIN {out}_n n ON n.first_name IS NOT DISTINCT FROM r.first_name
             AND n.last_name IS NOT DISTINCT FROM r.last_name AND n.raw_name IS NOT DISTINCT FROM r.name
        LEFT JOIN {out}_a a ON a.address IS NOT DISTINCT FROM r.address
        LEFT JOIN {out}_c c ON c.raw_city IS NOT DISTINCT FROM r.city
        LEFT JOIN {out}_d d ON d.birth_date IS NOT DISTINCT FROM r.birth_date""")
    for t in "nacd":
        eng.execute(f"DROP TABLE {out}_{t}")


@dataclass
class TrainResult:
    model: Model
    iterations: int
    random_pairs: int
    candidate_pairs: int


def tf_table(eng: DuckDBEngine, records: str, out: str, names: str | None = None) -> None:
    """Frequency of every name among the records that have one (for the term-frequency adjustment);
    ``names``: a table with a ``name_toks`` column, only its names."""
    only = f"AND name_toks IN (SELECT name_toks FROM {names})" if names else ""
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE {out} AS
        SELECT name_toks, count(*) / (SELECT count(*) FROM {records} WHERE name_toks IS NOT NULL) AS tf
        FROM {records} WHERE name_toks IS NOT NULL {only} GROUP BY name_toks""")


def random_pairs_select(records: str, rounds: int, link_only: bool = False) -> str:
    """Deterministic pseudo-random pairs: the records ranked by two different hashes and paired rank by
    rank, ``rounds`` times with other hashes (linking two files: one record of each)."""
    first = f"(SELECT min(src) FROM {records})"
    parts = []
    for seed in range(1, rounds + 1):
        wa = f"WHERE src = {first}" if link_only else ""
        wb = f"WHERE src <> {first}" if link_only else ""
        a = f"(SELECT rec_id, row_number() OVER (ORDER BY hash(rec_id, {seed}), rec_id) AS rn FROM {records} {wa})"
        b = f"(SELECT rec_id, row_number() OVER (ORDER BY hash(rec_id, {seed + 1000}), rec_id) AS rn FROM {records} {wb})"
        parts.append(
            f"SELECT a.rec_id AS rec_a, b.rec_id AS rec_b FROM {a} a JOIN {b} b USING (rn) WHERE a.rec_id <> b.rec_id"
        )
    return " UNION ALL ".join(parts)


#: Training sessions, as Splink trains: EM over the pairs of some blocking keys, not estimating the
#: comparisons those keys force to agree (their m would be biased); each m is the mean of the sessions that
#: estimated it. Same full name -> learn birth date, address, contacts; same birth date -> learn name,
#: address; same address -> learn name and birth date (households are the non-matches there).
SESSIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("f", ("name",)),
    ("dsb", ("birth_date",)),
    ("atu", ("address",)),
)


def train(
    eng: DuckDBEngine,
    records: str,
    pairs: str,
    *,
    link_only: bool = False,
    max_random: int = 300_000,
    max_em_pairs: int = 1_000_000,
    max_session_records: int = 250_000,
    cap: int = DEFAULT_CAP,
    scheme: str = "household",
    levels: str | None = None,
) -> TrainResult:
    """Estimate a model from the records and their candidate pairs (no labels).

    ``levels``: the comparison levels of ``pairs`` if already computed (they are the costly part).
    ``max_session_records``: the EM sessions block a hash sample of about this many records (their pairs
    keep their share of matches; a million records' sessions cost more than the rest of training)."""
    comps = SCHEMES[scheme]
    n_rec = int(eng.scalar(f"SELECT count(*) FROM {records}"))
    rounds = max(1, min(40, math.ceil(max_random / max(n_rec, 1))))
    rp = random_pairs_select(records, rounds, link_only)
    eng.execute(f"CREATE OR REPLACE TEMP TABLE _fz_rp AS SELECT * FROM ({rp}) LIMIT {max_random}")
    levels_table(eng, "_fz_rp", records, "_fz_rpl", comps=comps)
    xu, nu = level_counts(eng, "_fz_rpl", comps)
    u = estimate_u(xu, nu, comps)
    n_random = int(nu.sum())
    estimates: dict[str, list[list[float]]] = {c.name: [] for c in comps}
    names = [c.name for c in comps]
    cross = records if link_only else None
    sessions: dict[str, int] = {}
    address = tuple(c.name for c in comps if c.name in ("address", "street", "civic", "postcode", "city"))
    every = math.ceil(n_rec / max_session_records)
    sample = f"hash(rec_id) % {every} = 0" if every > 1 else ""
    for kinds, excluded0 in SESSIONS:
        excluded = address if excluded0 == ("address",) else excluded0
        eng.execute(f"CREATE OR REPLACE TEMP TABLE _fz_sk AS {keys_select(records, sample, kinds=kinds)}")
        eng.execute(f"CREATE OR REPLACE TEMP TABLE _fz_sp AS {pairs_select('_fz_sk', cap, cross_src=cross)}")
        n_sp = int(eng.scalar("SELECT count(*) FROM _fz_sp"))
        if n_sp > max_em_pairs:
            eng.execute(
                f"DELETE FROM _fz_sp WHERE hash(rec_a, rec_b) % {math.ceil(n_sp / max_em_pairs)} <> 0"
            )
        if levels:
            eng.execute(
                f"CREATE OR REPLACE TEMP TABLE _fz_eml AS SELECT l.* FROM {levels} l SEMI JOIN _fz_sp USING (rec_a, rec_b)"
            )
        else:
            levels_table(eng, "_fz_sp", records, "_fz_eml", comps=comps)
        x, n = level_counts(eng, "_fz_eml", comps)
        sessions[kinds] = n_sp
        if len(x) == 0:
            continue
        for name in excluded:
            x[:, names.index(name)] = 0
        m, _u, _lam, _it = expectation_maximisation(x, n, u, comps, fix_u=True)
        for j, c in enumerate(comps):
            if c.name not in excluded and (x[:, j] > 0).any():
                estimates[c.name].append(m[c.name])
    m_final = {
        k: [sum(v[i] for v in vs) / len(vs) for i in range(len(vs[0]))] if vs else list(DEFAULT_M[k])
        for k, vs in estimates.items()
    }
    for k, caps in ((k, v) for k, v in M_CAPS.items() if k in m_final):
        for level, cap_m in caps.items():
            m_final[k][level - 1] = min(m_final[k][level - 1], cap_m)
    # the prior: the share of matches among all candidate pairs (m and u fixed), then over all pairs
    n_pairs = int(eng.scalar(f"SELECT count(*) FROM {pairs}"))
    if levels:
        x, n = level_counts(eng, levels, comps)
    else:
        levels_table(eng, pairs, records, "_fz_eml", comps=comps)
        x, n = level_counts(eng, "_fz_eml", comps)
    it = 0
    lam_cand = 0.1
    if len(x):
        _m, _u, lam_cand, it = expectation_maximisation(x, n, u, comps, m_final, fix_u=True, fix_m=True)
    if link_only:
        sizes = [int(v) for (v,) in eng.execute(f"SELECT count(*) FROM {records} GROUP BY src ORDER BY src")]
        total = sizes[0] * sum(sizes[1:]) if len(sizes) > 1 else 1
    else:
        total = n_rec * (n_rec - 1) // 2
    lam = min(max(lam_cand * n_pairs / max(total, 1), 1e-12), 0.5)
    for t in ("_fz_rp", "_fz_rpl", "_fz_sk", "_fz_sp", "_fz_eml"):
        eng.execute(f"DROP TABLE IF EXISTS {t}")
    model = Model(
        m_final,
        u,
        lam,
        0,
        {
            "records": n_rec,
            "random_pairs": n_random,
            "candidate_pairs": n_pairs,
            "session_pairs": sessions,
            "lambda_candidates": lam_cand,
        },
        u,
        scheme,
    )
    return TrainResult(model, it, n_random, n_pairs)


def score_select(
    eng: DuckDBEngine,
    model: Model,
    pairs: str,
    records: str,
    tf: str | None,
    extra: str = "",
    levels: str | None = None,
) -> str:
    """SELECT rec_a, rec_b, lv_*, weight, probability for the pairs (or for a table of their levels)."""
    if not levels:
        levels_table(eng, pairs, records, "_fz_slv", extra, model.comparisons)
        levels = "_fz_slv"
    lv = f"SELECT * FROM {levels}"
    # each record's name frequency first (a join on names over the records, not over the pairs)
    tf_join = (
        f"""LEFT JOIN (SELECT r.rec_id, t.tf FROM {records} r JOIN {tf} t ON t.name_toks = r.name_toks) t
            ON t.rec_id = s.rec_a"""
        if tf
        else ""
    )
    tf_col = "t.tf" if tf else None
    total = model.total_sql(tf_col)
    return f"""SELECT s.*, {total} AS weight, 1.0 / (1.0 + pow(2.0, -({total}))) AS probability
        FROM ({lv}) s {tf_join}"""


def link_tables(
    eng: DuckDBEngine,
    raw: str,
    *,
    link_only: bool = False,
    cap: int = DEFAULT_CAP,
    model: Model | None = None,
    scheme: str = "household",
) -> Model:
    """Run the whole linker on a raw records table; leaves ``_fz_rec``, ``_fz_blocks``, ``_fz_pairs``
    and ``_fz_scored`` (every candidate pair with its levels, weight and probability). Returns the model."""
    normalise(eng, raw, "_fz_rec")
    eng.execute(f"CREATE OR REPLACE TEMP TABLE _fz_blocks AS {keys_select('_fz_rec')}")
    eng.execute(
        f"CREATE OR REPLACE TEMP TABLE _fz_pairs AS {pairs_select('_fz_blocks', cap, cross_src='_fz_rec' if link_only else None)}"
    )
    if model is None:
        model = train(eng, "_fz_rec", "_fz_pairs", link_only=link_only, cap=cap, scheme=scheme).model
    tf_table(eng, "_fz_rec", "_fz_tf")
    eng.execute(
        f"CREATE OR REPLACE TEMP TABLE _fz_scored AS {score_select(eng, model, '_fz_pairs', '_fz_rec', '_fz_tf')}"
    )
    return model


__all__ = ["COMPARISONS", "RAW_COLUMNS", "Model", "link_tables", "normalise", "score_select", "train"]
