"""Journey maps: the directly-follows graph, the variants and a Sankey of channel transitions.

All three are computed inside the engine from the event log of :mod:`ordito.journeys.log`, in SQL of the
portable subset (docs/ENGINES.md), so they run on DuckDB (the workspace), PostgreSQL and Spark alike.

* **Directly-follows graph (DFG).** An edge ``a -> b`` counts the times an event with activity ``b``
  directly follows one with activity ``a`` in the same case (events ordered by time, then ``seq``).
  Edges with ``source`` None count the cases that *start* with ``target``; edges with ``target`` None
  the cases that *end* with ``source`` (what pm4py calls start and end activities). Every edge carries
  its frequency, the number of cases it occurs in, and the time between the two events (total, mean,
  min, max, in whole seconds: ``date_diff('second', ...)`` counts second boundaries crossed).
* **Variants.** A variant is the sequence of activities of a case. Cases are grouped by their number of
  events and two polynomial hashes of the sequence (``sum(activity_code * r^position) mod p`` for two
  primes, with weights from a small table registered for the query), then each variant is shown with
  the activities of its first case. Two different sequences share a variant only if both 31-bit hashes
  collide (about ``length / 2^62`` for a pair); ``variants(..., verify=True)`` checks every case
  against its variant's example and raises if one ever differs.
* **Sankey.** Consecutive events of a case on the same channel are one *step*; the links count the
  cases going from the channel of step ``k`` to the channel of step ``k + 1`` (``None``: the case ended
  there), for the first ``max_steps`` steps.

Performance: case ids and activities are replaced by integer codes (two small DISTINCT queries joined
back) before the one sort by case and time; on DuckDB the window runs over one global order (``ORDER BY
case, time, seq`` and a comparison with the previous row's case), which is faster there than ``PARTITION
BY``; other engines get ``PARTITION BY`` (a global order would move every row to one Spark task).
That sort is still the cost of a map from the events; :func:`prepare` materialises a log's coded steps
in a DuckDB workspace (refreshed case by case as events arrive), and the maps then read them.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..errors import OrditoError, StoreError
from ..store.base import Engine
from ..store.duckdb import DuckDBEngine
from .log import LogSpec, case_id_sql, check_case_notion, keyed_log_sql

__all__ = [
    "JourneyMap",
    "PreparedLog",
    "Variant",
    "Variants",
    "dfg",
    "dfg_sql",
    "fresh_prepared",
    "longest_case_sql",
    "nodes_sql",
    "prepare",
    "prepared_dfg_sql",
    "prepared_name",
    "prepared_nodes_sql",
    "prepared_variants_sql",
    "sankey",
    "sankey_sql",
    "variants",
    "variants_check_sql",
    "variants_sql",
]

# Two primes below 2^31 and a base for each: products of a code (< 2^31) and a weight stay below 2^62.
P1, R1 = 2147483647, 1_000_003
P2, R2 = 2147483629, 998_244_353 % 2147483629
WEIGHTS_TABLE = "_ordito_variant_weights"
#: A number of variants larger than any log: "no limit" as a query parameter.
ALL = 1 << 62


def _coded(spec: LogSpec) -> str:
    """CTEs shared by the maps: integer codes for cases and activities, and the coded log.

    The log is written out where it is read instead of being a CTE of its own: a CTE read three times is
    materialised by DuckDB (10M rows written and read back cost more than scanning ``events`` again,
    which reads a few compressed columns).
    """
    log = keyed_log_sql(spec.case, spec.level, spec.activity, spec.sources)
    return f"""
WITH case_codes AS (
    SELECT case_ns, case_key, row_number() OVER (ORDER BY case_ns, case_key) AS cid
    FROM (SELECT DISTINCT case_ns, case_key FROM ({log}) AS l0) AS c
),
activity_codes AS (
    SELECT activity, row_number() OVER (ORDER BY activity) AS aid
    FROM (SELECT DISTINCT activity FROM ({log}) AS l1) AS a
),
coded AS (
    SELECT c.cid, a.aid, l.timestamp, l.seq
    FROM ({log}) AS l
    JOIN case_codes AS c ON c.case_ns = l.case_ns AND c.case_key = l.case_key
    JOIN activity_codes AS a ON a.activity = l.activity
)"""


def _steps(partitioned: bool) -> str:
    """Each event with the activity and time of the previous event of its case (NULLs at a start)."""
    if partitioned:
        w = "OVER (PARTITION BY cid ORDER BY timestamp, seq)"
        return f"""
steps AS (
    SELECT cid, aid, timestamp, lag(aid) {w} AS prev_aid, lag(timestamp) {w} AS prev_ts
    FROM coded
)"""
    # One global order; the previous row belongs to the same case when its packed (case, activity)
    # code lies in this case's range: two window functions instead of three.
    w = "OVER (ORDER BY cid, timestamp, seq)"
    return f"""
packed AS (
    SELECT
        cid,
        aid,
        timestamp,
        lag(cid * (SELECT count(*) + 1 FROM activity_codes) + aid) {w} AS prev_code,
        lag(timestamp) {w} AS prev_time,
        cid * (SELECT count(*) + 1 FROM activity_codes) AS base
    FROM coded
),
steps AS (
    SELECT
        cid,
        aid,
        timestamp,
        CASE WHEN prev_code > base THEN prev_code - base END AS prev_aid,
        CASE WHEN prev_code > base THEN prev_time END AS prev_ts
    FROM packed
)"""


def dfg_sql(
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
    *,
    cases: bool = True,
    partitioned: bool = True,
) -> str:
    """Edges of the directly-follows graph with frequency, cases (when ``cases``) and time.

    Columns: ``source`` (None: the case starts), ``target`` (None: the case ends), ``frequency``,
    ``cases``, ``total_seconds``, ``mean_seconds``, ``min_seconds``, ``max_seconds``; most frequent first.
    The end edges need no look-ahead: the cases ending on an activity are its events minus the edges
    leaving it.
    """
    spec = LogSpec.of(case, level, activity, sources)
    pairs = """
pairs AS (
    SELECT cid, prev_aid AS src, aid AS dst, date_diff('second', prev_ts, timestamp) AS seconds FROM steps
)"""
    return f"""{_coded(spec)},{_steps(partitioned)},{pairs},{_edges_tail(cases)}"""


def _edges_tail(cases: bool, cases_expr: str = "count(DISTINCT cid)") -> str:
    """From ``pairs`` (cid, src, dst, seconds) and ``activity_codes``: the edges of the graph."""
    n_cases = f"{cases_expr} AS cases," if cases else "CAST(NULL AS BIGINT) AS cases,"
    return f"""
follows AS (
    -- each event with its predecessor (NULL: the case starts here)
    SELECT
        src,
        dst,
        count(*) AS frequency,
        {n_cases}
        CAST(sum(seconds) AS BIGINT) AS total_seconds,
        min(seconds) AS min_seconds,
        max(seconds) AS max_seconds
    FROM pairs
    GROUP BY src, dst
),
flows AS (
    SELECT dst AS aid, frequency AS n_in, 0 AS n_out FROM follows
    UNION ALL
    SELECT src AS aid, 0 AS n_in, frequency AS n_out FROM follows WHERE src IS NOT NULL
),
ends AS (
    SELECT aid, CAST(sum(n_in) - sum(n_out) AS BIGINT) AS n FROM flows GROUP BY aid
),
edges AS (
    SELECT src, dst, frequency, cases, total_seconds, min_seconds, max_seconds FROM follows
    UNION ALL
    SELECT
        aid AS src,
        CAST(NULL AS BIGINT) AS dst,
        n AS frequency,
        n AS cases,
        CAST(NULL AS BIGINT) AS total_seconds,
        CAST(NULL AS BIGINT) AS min_seconds,
        CAST(NULL AS BIGINT) AS max_seconds
    FROM ends
    WHERE n > 0
)
SELECT
    s.activity AS source,
    t.activity AS target,
    e.frequency AS frequency,
    e.cases AS cases,
    e.total_seconds AS total_seconds,
    CAST(e.total_seconds AS DOUBLE) / e.frequency AS mean_seconds,
    e.min_seconds AS min_seconds,
    e.max_seconds AS max_seconds
FROM edges AS e
LEFT JOIN activity_codes AS s ON s.aid = e.src
LEFT JOIN activity_codes AS t ON t.aid = e.dst
ORDER BY frequency DESC, source NULLS FIRST, target NULLS LAST
"""


def nodes_sql(
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
) -> str:
    """Activities with their events and the cases they occur in, most frequent first."""
    return f"""
WITH log AS ({keyed_log_sql(case, level, activity, sources)}),
per_case AS (
    SELECT activity, case_ns, case_key, count(*) AS n FROM log GROUP BY activity, case_ns, case_key
)
SELECT activity, CAST(sum(n) AS BIGINT) AS events, count(*) AS cases
FROM per_case
GROUP BY activity
ORDER BY events DESC, activity
"""


def variants_sql(
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
) -> str:
    """Variants, most common first, one row per (variant, position) of its example case.

    Parameters ``?``, ``?``: how many variants to return (twice). Needs the weights table ``_ordito_variant_weights``
    (``pos``, ``w1``, ``w2``) for positions 1..the longest case (:func:`variants` registers it).
    Columns: ``rank``, ``cases``, ``share`` (of all cases), ``events`` (per case), ``total_seconds``,
    ``min_seconds``, ``max_seconds`` (case durations: first to last event), ``example_case``,
    ``variants`` and ``cases_total`` (the same on every row), ``pos``, ``activity``.
    """
    spec = LogSpec.of(case, level, activity, sources)
    examples = """
    SELECT cid, aid, row_number() OVER (PARTITION BY cid ORDER BY timestamp, seq) AS pos
    FROM coded
    WHERE cid IN (SELECT example_cid FROM ranked WHERE rank <= ?)"""
    return f"""{_coded(spec)},
positioned AS (
    SELECT cid, aid, timestamp, row_number() OVER (PARTITION BY cid ORDER BY timestamp, seq) AS pos
    FROM coded
),
traces AS (
    SELECT
        p.cid,
        count(*) AS events,
        CAST(sum((p.aid * w.w1) % {P1}) % {P1} AS BIGINT) AS h1,
        CAST(sum((p.aid * w.w2) % {P2}) % {P2} AS BIGINT) AS h2,
        date_diff('second', min(p.timestamp), max(p.timestamp)) AS seconds
    FROM positioned AS p
    JOIN {WEIGHTS_TABLE} AS w ON w.pos = p.pos
    GROUP BY p.cid
),{_variants_tail(examples)}"""


def _variants_tail(
    example_steps: str, example: str = "min(cid) AS example_cid, min(cid) AS example_key"
) -> str:
    """From ``traces`` (cid, events, h1, h2, seconds), ``case_codes`` and ``activity_codes``: the ranked
    variants with the steps (``example_steps``: cid, aid, pos) of each variant's example case, the case
    of the smallest ``example_key`` (by default the smallest code: codes follow the case ids)."""
    return f"""
grouped AS (
    SELECT
        events,
        h1,
        h2,
        count(*) AS cases,
        {example},
        CAST(sum(seconds) AS BIGINT) AS total_seconds,
        min(seconds) AS min_seconds,
        max(seconds) AS max_seconds
    FROM traces
    GROUP BY events, h1, h2
),
ranked AS (
    SELECT
        g.*,
        row_number() OVER (ORDER BY g.cases DESC, g.example_key) AS rank,
        count(*) OVER () AS variants,
        sum(g.cases) OVER () AS cases_total
    FROM grouped AS g
),
example_steps AS ({example_steps}
)
SELECT
    r.rank AS rank,
    r.cases AS cases,
    CAST(r.cases AS DOUBLE) / nullif(r.cases_total, 0) AS share,
    r.events AS events,
    r.total_seconds AS total_seconds,
    r.min_seconds AS min_seconds,
    r.max_seconds AS max_seconds,
    CAST({case_id_sql("c.case_ns", "c.case_key")} AS VARCHAR) AS example_case,
    CAST(r.variants AS BIGINT) AS variants,
    CAST(r.cases_total AS BIGINT) AS cases_total,
    p.pos AS pos,
    a.activity AS activity
FROM ranked AS r
JOIN case_codes AS c ON c.cid = r.example_cid
JOIN example_steps AS p ON p.cid = r.example_cid
JOIN activity_codes AS a ON a.aid = p.aid
WHERE r.rank <= ?
ORDER BY rank, pos
"""


def variants_check_sql(
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
) -> str:
    """Events whose activity differs from the one at the same position of their variant's example case
    (0 when the hashes grouped only equal sequences). Needs the weights table, like variants_sql."""
    spec = LogSpec.of(case, level, activity, sources)
    return f"""{_coded(spec)},
positioned AS (
    SELECT cid, aid, row_number() OVER (PARTITION BY cid ORDER BY timestamp, seq) AS pos
    FROM coded
),
traces AS (
    SELECT
        p.cid,
        count(*) AS events,
        CAST(sum((p.aid * w.w1) % {P1}) % {P1} AS BIGINT) AS h1,
        CAST(sum((p.aid * w.w2) % {P2}) % {P2} AS BIGINT) AS h2
    FROM positioned AS p
    JOIN {WEIGHTS_TABLE} AS w ON w.pos = p.pos
    GROUP BY p.cid
),
examples AS (
    SELECT events, h1, h2, min(cid) AS example_cid FROM traces GROUP BY events, h1, h2
),
assigned AS (
    SELECT t.cid, x.example_cid
    FROM traces AS t
    JOIN examples AS x ON x.events = t.events AND x.h1 = t.h1 AND x.h2 = t.h2
),
expected AS (
    -- every case's positions with the activity its example case has there
    SELECT a.cid, q.pos, q.aid
    FROM assigned AS a
    JOIN positioned AS q ON q.cid = a.example_cid
)
SELECT count(*) AS mismatches
FROM positioned AS p
JOIN expected AS x ON x.cid = p.cid AND x.pos = p.pos
WHERE p.aid <> x.aid
"""


def longest_case_sql(
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
) -> str:
    """The number of events of the longest case (NULL for an empty log)."""
    return f"""
WITH log AS ({keyed_log_sql(case, level, activity, sources)})
SELECT max(n) AS longest FROM (SELECT count(*) AS n FROM log GROUP BY case_ns, case_key) AS per_case
"""


def sankey_sql(
    case: str = "episode",
    sources: Sequence[str] | None = None,
) -> str:
    """Channel transitions between consecutive steps of a case (a step: consecutive events on one
    channel). Parameters ``?``, ``?``: the number of steps shown (twice). Columns ``step`` (1-based),
    ``source`` (the channel of that step), ``target`` (the next step's channel; None: the case ended),
    ``cases``."""
    log = keyed_log_sql(case, "channel", "type", sources)
    return f"""
WITH log AS ({log}),
changes AS (
    SELECT
        case_ns,
        case_key,
        activity,
        timestamp,
        seq,
        CASE WHEN lag(activity) OVER (PARTITION BY case_ns, case_key ORDER BY timestamp, seq) = activity
            THEN 0 ELSE 1 END AS change
    FROM log
),
numbered AS (
    SELECT
        case_ns,
        case_key,
        activity,
        CAST(sum(change) OVER (
            PARTITION BY case_ns, case_key ORDER BY timestamp, seq
            ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
        ) AS BIGINT) AS step
    FROM changes
),
stages AS (
    SELECT DISTINCT case_ns, case_key, step, activity FROM numbered WHERE step <= ? + 1
)
SELECT a.step AS step, a.activity AS source, b.activity AS target, count(*) AS cases
FROM stages AS a
LEFT JOIN stages AS b ON b.case_ns = a.case_ns AND b.case_key = a.case_key AND b.step = a.step + 1
WHERE a.step <= ?
GROUP BY a.step, a.activity, b.activity
ORDER BY step, cases DESC, source, target NULLS LAST
"""


# --- prepared logs (a workspace's materialised maps input) ------------------------------------------


def prepared_name(spec: LogSpec) -> str:
    """The table prefix of a prepared log: ``journey_log_<case>_<level>[_<activity>][_<sources hash>]``."""
    name = f"journey_log_{spec.case}_{spec.level}"
    if spec.level == "activity":
        name += "_" + spec.activity.replace("property:", "p_")
    if spec.sources:
        name += "_" + hashlib.md5(",".join(sorted(spec.sources)).encode()).hexdigest()[:8]
    return name


def _fingerprint_sql(case: str) -> str:
    """What a prepared log was built from: the last event, and the case table's rows (DuckDB only)."""
    parts = ["CAST((SELECT coalesce(max(seq), 0) FROM events) AS VARCHAR)"]
    table, col = {
        "customer": ("event_customer", "customer_key"),
        "episode": ("episode_events", "episode_id"),
    }.get(case, ("", ""))
    if table:
        parts.append(
            f"(SELECT CAST(count(*) AS VARCHAR) || '/' || CAST(coalesce(bit_xor(hash(seq, {col})), 0) AS VARCHAR) "
            f"FROM {table})"
        )
    return "SELECT " + " || '|' || ".join(parts) + " AS fingerprint"


def prepared_dfg_sql(prefix: str, *, cases: bool = True) -> str:
    """The edges of dfg_sql, read from a prepared log (``<prefix>_steps``, ``<prefix>_activities``)."""
    return f"""
WITH activity_codes AS (SELECT activity, aid FROM {prefix}_activities),
pairs AS (SELECT cid, prev_aid AS src, aid AS dst, seconds, new_edge FROM {prefix}_steps),{
        _edges_tail(cases, "count(CASE WHEN new_edge = 1 THEN 1 END)")
    }"""


def prepared_nodes_sql(prefix: str) -> str:
    return f"""
SELECT a.activity AS activity, count(*) AS events, count(CASE WHEN s.new_activity = 1 THEN 1 END) AS cases
FROM {prefix}_steps AS s
JOIN {prefix}_activities AS a ON a.aid = s.aid
GROUP BY a.activity
ORDER BY events DESC, activity
"""


def prepared_variants_sql(prefix: str) -> str:
    """The rows of variants_sql, read from a prepared log (parameters ``?``, ``?``: how many)."""
    examples = f"""
    SELECT cid, aid, pos FROM {prefix}_steps WHERE cid IN (SELECT example_cid FROM ranked WHERE rank <= ?)"""
    return f"""
WITH case_codes AS (SELECT case_ns, case_key, cid FROM {prefix}_cases),
activity_codes AS (SELECT activity, aid FROM {prefix}_activities),
traces AS (
    SELECT t.cid, t.events, t.h1, t.h2, t.seconds, k.case_ns || chr(1) || k.case_key AS sort_key
    FROM {prefix}_traces AS t
    JOIN {prefix}_cases AS k ON k.cid = t.cid
),{_variants_tail(examples, "arg_min(cid, sort_key) AS example_cid, min(sort_key) AS example_key")}"""


@dataclass
class PreparedLog:
    prefix: str
    spec: LogSpec
    events: int
    cases: int
    seconds: float
    #: "built" (from scratch), "refreshed" (only the changed cases), or "current" (nothing to do)
    mode: str = "built"
    #: cases recomputed by a refresh
    changed_cases: int = 0


_PREPARED_VERSION = "2"


def _steps_sql(p: str, src: str) -> str:
    """The steps of the events in ``src`` (case_ns, case_key, activity, timestamp, seq), coded with the
    prepared log's codes; columns in the order of ``<p>_steps``."""
    w = "OVER (PARTITION BY cid ORDER BY timestamp, seq)"
    return f"""
WITH coded AS (
    SELECT c.cid, a.aid, l.timestamp, l.seq
    FROM {src} AS l
    JOIN {p}_cases AS c ON c.case_ns = l.case_ns AND c.case_key = l.case_key
    JOIN {p}_activities AS a ON a.activity = l.activity
),
s1 AS (
    SELECT cid, row_number() {w} AS pos, aid, lag(aid) {w} AS prev_aid,
           date_diff('second', lag(timestamp) {w}, timestamp) AS seconds, timestamp, seq
    FROM coded
)
-- the first time an edge and an activity occur in their case: cases per edge and per activity become
-- conditional counts instead of COUNT(DISTINCT) over every event
SELECT cid, pos, aid, prev_aid, seconds, timestamp, seq,
    CASE WHEN row_number() OVER (PARTITION BY cid, prev_aid, aid ORDER BY pos) = 1 THEN 1 ELSE 0 END AS new_edge,
    CASE WHEN row_number() OVER (PARTITION BY cid, aid ORDER BY pos) = 1 THEN 1 ELSE 0 END AS new_activity
FROM s1"""


def _traces_sql(p: str, where: str = "") -> str:
    return f"""
SELECT s.cid, count(*) AS events,
       CAST(sum((s.aid * w.w1) % {P1}) % {P1} AS BIGINT) AS h1,
       CAST(sum((s.aid * w.w2) % {P2}) % {P2} AS BIGINT) AS h2,
       date_diff('second', min(s.timestamp), max(s.timestamp)) AS seconds
FROM {p}_steps AS s JOIN {WEIGHTS_TABLE} AS w ON w.pos = s.pos
{where}
GROUP BY s.cid"""


def prepare(
    engine: Engine,
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
    *,
    full: bool = False,
) -> PreparedLog:
    """Materialise a log's coded steps in the workspace so that maps and variants of that log are read
    from it (a scan and a GROUP BY) instead of sorting every event again.

    Tables ``<prefix>_cases``, ``_activities``, ``_steps`` (cid, pos, aid, prev_aid, seconds, timestamp,
    seq, new_edge and new_activity: 1 where the edge or activity first occurs in its case), ``_traces``
    (cid, events, h1, h2, seconds) and ``_meta`` (fingerprint, spec, version, built_at). The maps use them
    only while the fingerprint (last event seq; for customers and episodes also a hash of their table)
    still matches: new events, a resolve or an analyze make them stale, and the maps compute from
    ``events`` until ``prepare`` runs again. Run again, ``prepare`` recomputes only the cases whose events
    changed (new events, or events now belonging to another customer or episode); ``full`` rebuilds.
    DuckDB workspaces only.
    """
    if not isinstance(engine, DuckDBEngine):
        raise OrditoError("prepare works on a DuckDB workspace; other engines compute maps from events")
    t0 = time.perf_counter()
    spec = LogSpec.of(case, level, activity, sources)
    check_case_notion(engine, case)
    p = prepared_name(spec)
    fingerprint = str(engine.scalar(_fingerprint_sql(case)))
    try:
        meta = engine.one(f"SELECT fingerprint, version FROM {p}_meta")
    except StoreError:
        meta = None
    mode, changed = "built", 0
    if meta is not None and meta[1] == _PREPARED_VERSION and not full:
        if meta[0] == fingerprint:
            mode = "current"
        else:
            engine.execute(f"DROP TABLE IF EXISTS {p}_meta")
            changed = _refresh(engine, spec, p)
            mode = "refreshed"
    else:
        engine.execute(f"DROP TABLE IF EXISTS {p}_meta")
        _build(engine, spec, p)
    if mode != "current":
        engine.execute(
            f"CREATE TABLE {p}_meta AS SELECT CAST(? AS VARCHAR) AS fingerprint, CAST(? AS VARCHAR) AS spec, "
            "CAST(? AS VARCHAR) AS version, current_timestamp AS built_at",
            [
                fingerprint,
                f"{spec.case}/{spec.level}/{spec.activity}/{','.join(spec.sources)}",
                _PREPARED_VERSION,
            ],
        )
    row = engine.one(f"SELECT (SELECT count(*) FROM {p}_steps), (SELECT count(*) FROM {p}_traces)")
    events, n_cases = (int(row[0]), int(row[1])) if row else (0, 0)
    return PreparedLog(p, spec, events, n_cases, time.perf_counter() - t0, mode, changed)


def _build(engine: Engine, spec: LogSpec, p: str) -> None:
    log = keyed_log_sql(spec.case, spec.level, spec.activity, spec.sources)
    engine.execute(
        f"""CREATE OR REPLACE TABLE {p}_cases AS
        SELECT case_ns, case_key, row_number() OVER (ORDER BY case_ns, case_key) AS cid
        FROM (SELECT DISTINCT case_ns, case_key FROM ({log}) AS l0) AS c"""
    )
    engine.execute(
        f"""CREATE OR REPLACE TABLE {p}_activities AS
        SELECT activity, row_number() OVER (ORDER BY activity) AS aid
        FROM (SELECT DISTINCT activity FROM ({log}) AS l1) AS a"""
    )
    engine.execute(f"CREATE OR REPLACE TABLE {p}_steps AS {_steps_sql(p, f'({log})')}")
    _register_weights(engine, int(engine.scalar(f"SELECT max(pos) FROM {p}_steps") or 1))
    try:
        engine.execute(f"CREATE OR REPLACE TABLE {p}_traces AS {_traces_sql(p)}")
    finally:
        engine.unregister(WEIGHTS_TABLE)


def _refresh(engine: Engine, spec: LogSpec, p: str) -> int:
    """Recompute the steps and traces of the cases whose events changed; returns how many cases."""
    log = keyed_log_sql(spec.case, spec.level, spec.activity, spec.sources)
    tmp = ("_jl_cur", "_jl_old", "_jl_aff", "_jl_affc", "_jl_src")
    try:
        if spec.case == "thread":
            # events never change and an event's thread is written on it: only new events change cases
            last = int(engine.scalar(f"SELECT coalesce(max(seq), 0) FROM {p}_steps") or 0)
            engine.execute(
                f"""CREATE OR REPLACE TEMP TABLE _jl_aff AS
                SELECT DISTINCT case_ns, case_key FROM ({log}) AS l WHERE l.seq > {last}"""
            )
            cur = f"({log})"
        else:
            # a resolve or an analyze can move old events to another customer or episode: compare
            engine.execute(f"CREATE OR REPLACE TEMP TABLE _jl_cur AS {log}")
            engine.execute(
                f"""CREATE OR REPLACE TEMP TABLE _jl_old AS
                SELECT s.seq, k.case_ns, k.case_key FROM {p}_steps AS s JOIN {p}_cases AS k ON k.cid = s.cid"""
            )
            # cases with an event that is new, gone, or now in another case
            engine.execute(
                """CREATE OR REPLACE TEMP TABLE _jl_aff AS
                SELECT DISTINCT case_ns, case_key FROM (
                    SELECT c.case_ns, c.case_key FROM _jl_cur AS c
                    LEFT JOIN _jl_old AS o ON o.seq = c.seq AND o.case_ns = c.case_ns AND o.case_key = c.case_key
                    WHERE o.seq IS NULL
                    UNION ALL
                    SELECT o.case_ns, o.case_key FROM _jl_old AS o
                    LEFT JOIN _jl_cur AS c ON c.seq = o.seq AND c.case_ns = o.case_ns AND c.case_key = o.case_key
                    WHERE c.seq IS NULL
                ) AS changed"""
            )
            cur = "_jl_cur"
        n = int(engine.scalar("SELECT count(*) FROM _jl_aff") or 0)
        if n == 0:
            return 0
        engine.execute(
            f"""CREATE OR REPLACE TEMP TABLE _jl_src AS
            SELECT c.* FROM {cur} AS c JOIN _jl_aff AS a ON a.case_ns = c.case_ns AND a.case_key = c.case_key"""
        )
        # codes for new cases and activities, after the existing ones
        engine.execute(
            f"""INSERT INTO {p}_cases
            SELECT a.case_ns, a.case_key,
                   (SELECT coalesce(max(cid), 0) FROM {p}_cases) + row_number() OVER (ORDER BY a.case_ns, a.case_key)
            FROM (SELECT DISTINCT case_ns, case_key FROM _jl_src) AS a
            LEFT JOIN {p}_cases AS k ON k.case_ns = a.case_ns AND k.case_key = a.case_key
            WHERE k.cid IS NULL"""
        )
        engine.execute(
            f"""INSERT INTO {p}_activities
            SELECT x.activity, (SELECT coalesce(max(aid), 0) FROM {p}_activities) + row_number() OVER (ORDER BY x.activity)
            FROM (SELECT DISTINCT activity FROM _jl_src) AS x
            LEFT JOIN {p}_activities AS a ON a.activity = x.activity
            WHERE a.aid IS NULL"""
        )
        engine.execute(
            f"""CREATE OR REPLACE TEMP TABLE _jl_affc AS
            SELECT k.cid FROM {p}_cases AS k
            JOIN _jl_aff AS a ON a.case_ns = k.case_ns AND a.case_key = k.case_key"""
        )
        engine.execute(f"DELETE FROM {p}_steps WHERE cid IN (SELECT cid FROM _jl_affc)")
        engine.execute(f"DELETE FROM {p}_traces WHERE cid IN (SELECT cid FROM _jl_affc)")
        engine.execute(
            f"""DELETE FROM {p}_cases WHERE cid IN (SELECT cid FROM _jl_affc)
            AND NOT EXISTS (SELECT 1 FROM _jl_src AS s WHERE s.case_ns = {p}_cases.case_ns
                            AND s.case_key = {p}_cases.case_key)"""
        )
        engine.execute(f"INSERT INTO {p}_steps {_steps_sql(p, '_jl_src')}")
        _register_weights(engine, int(engine.scalar(f"SELECT max(pos) FROM {p}_steps") or 1))
        try:
            engine.execute(
                f"INSERT INTO {p}_traces {_traces_sql(p, 'WHERE s.cid IN (SELECT cid FROM _jl_affc)')}"
            )
        finally:
            engine.unregister(WEIGHTS_TABLE)
        return n
    finally:
        for t in tmp:
            engine.execute(f"DROP TABLE IF EXISTS {t}")


def fresh_prepared(engine: Engine, spec: LogSpec) -> str | None:
    """The prefix of a prepared log of ``spec`` that is still current, else None."""
    if not isinstance(engine, DuckDBEngine):
        return None
    p = prepared_name(spec)
    try:
        built = engine.scalar(f"SELECT fingerprint FROM {p}_meta")
    except StoreError:
        return None
    return p if built is not None and built == engine.scalar(_fingerprint_sql(spec.case)) else None


# --- runners ----------------------------------------------------------------------------------------


@dataclass
class JourneyMap:
    """A directly-follows graph: ``nodes`` (activity, events, cases) and ``edges`` (see dfg_sql)."""

    spec: LogSpec
    edges: list[dict[str, Any]]
    nodes: list[dict[str, Any]] = field(default_factory=list)
    #: the prepared log it was read from (None: computed from the events)
    prepared: str | None = None

    @property
    def cases(self) -> int:
        """Cases in the log (each starts once)."""
        return sum(e["frequency"] for e in self.edges if e["source"] is None)

    @property
    def events(self) -> int:
        """Events in the log (each is the target of one edge: from the previous event, or a start)."""
        return sum(e["frequency"] for e in self.edges if e["target"] is not None)

    def follows(self) -> dict[tuple[str, str], int]:
        """The edges between activities as ``{(a, b): frequency}`` (pm4py's ``dfg``)."""
        return {
            (e["source"], e["target"]): e["frequency"]
            for e in self.edges
            if e["source"] is not None and e["target"] is not None
        }

    def start_activities(self) -> dict[str, int]:
        return {e["target"]: e["frequency"] for e in self.edges if e["source"] is None}

    def end_activities(self) -> dict[str, int]:
        return {e["source"]: e["frequency"] for e in self.edges if e["target"] is None}

    def handoffs(self) -> list[dict[str, Any]]:
        """Edges between two different activities (at department level: handoffs between teams)."""
        return [
            e
            for e in self.edges
            if e["source"] is not None and e["target"] is not None and e["source"] != e["target"]
        ]

    def rework(self) -> list[dict[str, Any]]:
        """Self-loops: an activity directly repeated in the same case."""
        return [e for e in self.edges if e["source"] is not None and e["source"] == e["target"]]

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.spec.case,
            "level": self.spec.level,
            "activity": self.spec.activity,
            "cases": self.cases,
            "events": self.events,
            "nodes": self.nodes,
            "edges": self.edges,
        }

    def to_dot(self, *, min_frequency: int = 1) -> str:
        """Graphviz DOT text: edge labels are frequency and mean time."""

        def qd(s: str) -> str:
            return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'

        lines = [
            "digraph journey {",
            "  rankdir=LR;",
            '  node [shape=box, style=rounded, fontname="Helvetica"];',
        ]
        lines.append('  "__start__" [label="start", shape=circle];')
        lines.append('  "__end__" [label="end", shape=doublecircle];')
        for n in self.nodes:
            label = f"{n['activity']}\n{n['events']:,}"
            lines.append(f"  {qd(n['activity'])} [label={qd(label)}];")
        for e in self.edges:
            if e["frequency"] < min_frequency:
                continue
            src = qd(e["source"]) if e["source"] is not None else '"__start__"'
            dst = qd(e["target"]) if e["target"] is not None else '"__end__"'
            label = f"{e['frequency']:,}"
            if e["mean_seconds"] is not None:
                label += f"\n{format_seconds(e['mean_seconds'])}"
            lines.append(f"  {src} -> {dst} [label={qd(label)}];")
        lines.append("}")
        return "\n".join(lines) + "\n"


@dataclass
class Variant:
    """One variant: its activities, its cases (and share of all cases), and case durations."""

    rank: int
    activities: tuple[str, ...]
    cases: int
    share: float
    total_seconds: int | None
    min_seconds: int | None
    max_seconds: int | None
    example_case: str

    @property
    def mean_seconds(self) -> float | None:
        return None if self.total_seconds is None or not self.cases else self.total_seconds / self.cases

    def to_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "activities": list(self.activities),
            "cases": self.cases,
            "share": self.share,
            "events": len(self.activities),
            "mean_seconds": self.mean_seconds,
            "min_seconds": self.min_seconds,
            "max_seconds": self.max_seconds,
            "example_case": self.example_case,
        }


@dataclass
class Variants:
    """The most common variants, with the number of variants and cases in the whole log."""

    spec: LogSpec
    items: list[Variant]
    variants: int
    cases: int

    def counts(self) -> dict[tuple[str, ...], int]:
        """``{activities: cases}`` (pm4py's ``get_variants`` with counts)."""
        return {v.activities: v.cases for v in self.items}

    def to_dict(self) -> dict[str, Any]:
        return {
            "case": self.spec.case,
            "level": self.spec.level,
            "variants": self.variants,
            "cases": self.cases,
            "items": [v.to_dict() for v in self.items],
        }


def format_seconds(s: float) -> str:
    """A duration for people: 45 s, 12 min, 3.5 h, 2.1 d."""
    if s < 90:
        return f"{s:.0f} s"
    if s < 90 * 60:
        return f"{s / 60:.0f} min"
    if s < 36 * 3600:
        return f"{s / 3600:.1f} h"
    return f"{s / 86400:.1f} d"


def _partitioned(engine: Engine) -> bool:
    return engine.dialect != "duckdb"


def dfg(
    engine: Engine,
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
    *,
    cases: bool = True,
    nodes: bool = True,
    use_prepared: bool = True,
) -> JourneyMap:
    """The directly-follows graph of a log (see the module docstring), computed by ``engine``.

    ``cases=False`` leaves out the count of distinct cases per edge (the costliest column), ``nodes=False``
    the per-activity counts (a second pass over the log). A current prepared log (:func:`prepare`) is
    read instead of the events unless ``use_prepared`` is False; the result is the same.
    """
    spec = LogSpec.of(case, level, activity, sources)
    check_case_notion(engine, case)
    prefix = fresh_prepared(engine, spec) if use_prepared else None
    if prefix:
        edges = engine.records(prepared_dfg_sql(prefix, cases=cases))
        node_rows = engine.records(prepared_nodes_sql(prefix)) if nodes else []
    else:
        sql = dfg_sql(case, level, activity, sources, cases=cases, partitioned=_partitioned(engine))
        edges = engine.records(sql)
        node_rows = engine.records(nodes_sql(case, level, activity, sources)) if nodes else []
    return JourneyMap(spec, edges, node_rows, prepared=prefix)


def _register_weights(engine: Engine, longest: int) -> None:
    n = max(longest, 1)
    w1, w2, a, b = [], [], 1, 1
    for _ in range(n):
        a, b = a * R1 % P1, b * R2 % P2
        w1.append(a)
        w2.append(b)
    table = pa.table(
        {
            "pos": pa.array(range(1, n + 1), pa.int64()),
            "w1": pa.array(w1, pa.int64()),
            "w2": pa.array(w2, pa.int64()),
        }
    )
    engine.register(WEIGHTS_TABLE, table)


def variants(
    engine: Engine,
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
    *,
    top: int | None = 20,
    verify: bool = False,
    use_prepared: bool = True,
) -> Variants:
    """The ``top`` most common variants (None: all), each with its activities, cases, share and case
    durations; ``verify`` checks every case against its variant's example (a second, heavier query).
    A current prepared log is read instead of the events unless ``use_prepared`` is False."""
    spec = LogSpec.of(case, level, activity, sources)
    check_case_notion(engine, case)
    limit = ALL if top is None else top
    prefix = fresh_prepared(engine, spec) if use_prepared and not verify else None
    if prefix:
        return _shape_variants(spec, engine.arrow(prepared_variants_sql(prefix), [limit, limit]))
    longest = engine.scalar(longest_case_sql(case, level, activity, sources))
    if longest is None:
        return Variants(spec, [], 0, 0)
    _register_weights(engine, int(longest))
    try:
        rows = engine.arrow(variants_sql(case, level, activity, sources), [limit, limit])
        if verify:
            bad = engine.scalar(variants_check_sql(case, level, activity, sources))
            if bad:
                raise OrditoError(
                    f"variant hashes grouped different sequences ({bad} events differ): report this log"
                )
    finally:
        engine.unregister(WEIGHTS_TABLE)
    return _shape_variants(spec, rows)


def _shape_variants(spec: LogSpec, table: pa.Table) -> Variants:
    """One Variant per rank from the rows of variants_sql (one per position of the example case)."""
    c = table.to_pydict()
    n = table.num_rows
    items: list[Variant] = []
    start = 0
    ranks, acts = c.get("rank", []), c.get("activity", [])
    for i in range(n):
        if i + 1 == n or ranks[i + 1] != ranks[i]:
            items.append(
                Variant(
                    rank=ranks[i],
                    activities=tuple(acts[start : i + 1]),
                    cases=c["cases"][i],
                    share=c["share"][i],
                    total_seconds=c["total_seconds"][i],
                    min_seconds=c["min_seconds"][i],
                    max_seconds=c["max_seconds"][i],
                    example_case=c["example_case"][i],
                )
            )
            start = i + 1
    n_variants = c["variants"][0] if n else 0
    n_cases = c["cases_total"][0] if n else 0
    return Variants(spec, items, n_variants, n_cases)


def sankey(
    engine: Engine,
    case: str = "episode",
    sources: Sequence[str] | None = None,
    *,
    max_steps: int = 5,
) -> dict[str, Any]:
    """Channel transitions inside cases as Sankey data.

    Returns ``nodes`` (``{"id", "step", "channel"}``; channel ``"(end)"`` where cases stop) and ``links``
    (``{"source", "target"}`` as indexes into nodes, ``cases``) for the first ``max_steps`` steps, plus
    the raw ``transitions`` rows of sankey_sql. Plotly's ``go.Sankey`` and d3-sankey take this shape.
    """
    check_case_notion(engine, case)
    if max_steps < 1:
        raise OrditoError("max_steps must be at least 1")
    rows = engine.records(sankey_sql(case, sources), [max_steps, max_steps])
    index: dict[tuple[int, str], int] = {}
    nodes: list[dict[str, Any]] = []

    def node(step: int, channel: str) -> int:
        key = (step, channel)
        if key not in index:
            index[key] = len(nodes)
            nodes.append({"id": f"{step}. {channel}", "step": step, "channel": channel})
        return index[key]

    links = []
    for r in rows:
        a = node(r["step"], r["source"])
        b = node(r["step"] + 1, r["target"] if r["target"] is not None else "(end)")
        links.append({"source": a, "target": b, "cases": r["cases"]})
    return {"case": case, "max_steps": max_steps, "nodes": nodes, "links": links, "transitions": rows}
