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
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..errors import OrditoError
from ..store.base import Engine
from .log import LogSpec, case_id_sql, check_case_notion, keyed_log_sql

__all__ = [
    "JourneyMap",
    "Variant",
    "dfg",
    "dfg_sql",
    "nodes_sql",
    "sankey",
    "sankey_sql",
    "variants",
    "variants_sql",
]

# Two primes below 2^31 and a base for each: products of a code (< 2^31) and a weight stay below 2^62.
P1, R1 = 2147483647, 1_000_003
P2, R2 = 2147483629, 998_244_353 % 2147483629
WEIGHTS_TABLE = "_ordito_variant_weights"
#: A number of variants larger than any log: "no limit" as a query parameter.
ALL = 1 << 62


def _coded(spec: LogSpec) -> str:
    """CTEs shared by the maps: the log, integer codes for cases and activities, the coded log."""
    return f"""
WITH log AS ({keyed_log_sql(spec.case, spec.level, spec.activity, spec.sources)}),
case_codes AS (
    SELECT case_ns, case_key, row_number() OVER (ORDER BY case_ns, case_key) AS cid
    FROM (SELECT DISTINCT case_ns, case_key FROM log) AS c
),
activity_codes AS (
    SELECT activity, row_number() OVER (ORDER BY activity) AS aid
    FROM (SELECT DISTINCT activity FROM log) AS a
),
coded AS (
    SELECT c.cid, a.aid, l.timestamp, l.seq
    FROM log AS l
    JOIN case_codes AS c ON c.case_ns = l.case_ns AND c.case_key = l.case_key
    JOIN activity_codes AS a ON a.activity = l.activity
)"""


def _steps(partitioned: bool) -> str:
    """Each event with the previous event of its case (NULLs at a case's start) and whether it is last."""
    if partitioned:
        w = "OVER (PARTITION BY cid ORDER BY timestamp, seq)"
        return f"""
steps AS (
    SELECT
        cid,
        aid,
        timestamp,
        lag(aid) {w} AS prev_aid,
        lag(timestamp) {w} AS prev_ts,
        CASE WHEN lead(aid) {w} IS NULL THEN 1 ELSE 0 END AS is_last
    FROM coded
)"""
    w = "OVER (ORDER BY cid, timestamp, seq)"
    return f"""
steps AS (
    SELECT
        cid,
        aid,
        timestamp,
        CASE WHEN lag(cid) {w} = cid THEN lag(aid) {w} END AS prev_aid,
        CASE WHEN lag(cid) {w} = cid THEN lag(timestamp) {w} END AS prev_ts,
        CASE WHEN lead(cid) {w} = cid THEN 0 ELSE 1 END AS is_last
    FROM coded
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
    """
    spec = LogSpec.of(case, level, activity, sources)
    n_cases = "count(DISTINCT cid) AS cases," if cases else "CAST(NULL AS BIGINT) AS cases,"
    return f"""{_coded(spec)},{_steps(partitioned)},
follows AS (
    -- one pass over the steps: each event with its predecessor (NULL: the case starts here), and how
    -- many of those events end their case
    SELECT
        prev_aid AS src,
        aid AS dst,
        count(*) AS frequency,
        {n_cases}
        count(CASE WHEN is_last = 1 THEN 1 END) AS ends,
        CAST(sum(date_diff('second', prev_ts, timestamp)) AS BIGINT) AS total_seconds,
        min(date_diff('second', prev_ts, timestamp)) AS min_seconds,
        max(date_diff('second', prev_ts, timestamp)) AS max_seconds
    FROM steps
    GROUP BY prev_aid, aid
),
edges AS (
    SELECT src, dst, frequency, cases, total_seconds, min_seconds, max_seconds FROM follows
    UNION ALL
    SELECT
        dst AS src,
        CAST(NULL AS BIGINT) AS dst,
        CAST(sum(ends) AS BIGINT) AS frequency,
        CAST(sum(ends) AS BIGINT) AS cases,
        CAST(NULL AS BIGINT) AS total_seconds,
        CAST(NULL AS BIGINT) AS min_seconds,
        CAST(NULL AS BIGINT) AS max_seconds
    FROM follows
    GROUP BY dst
    HAVING sum(ends) > 0
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
),
grouped AS (
    SELECT
        events,
        h1,
        h2,
        count(*) AS cases,
        min(cid) AS example_cid,
        CAST(sum(seconds) AS BIGINT) AS total_seconds,
        min(seconds) AS min_seconds,
        max(seconds) AS max_seconds
    FROM traces
    GROUP BY events, h1, h2
),
ranked AS (
    SELECT
        g.*,
        row_number() OVER (ORDER BY g.cases DESC, g.example_cid) AS rank,
        count(*) OVER () AS variants,
        sum(g.cases) OVER () AS cases_total
    FROM grouped AS g
),
example_steps AS (
    -- the steps of the example cases only (the window again, on a few cases)
    SELECT cid, aid, row_number() OVER (PARTITION BY cid ORDER BY timestamp, seq) AS pos
    FROM coded
    WHERE cid IN (SELECT example_cid FROM ranked WHERE rank <= ?)
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


# --- runners ----------------------------------------------------------------------------------------


@dataclass
class JourneyMap:
    """A directly-follows graph: ``nodes`` (activity, events, cases) and ``edges`` (see dfg_sql)."""

    spec: LogSpec
    edges: list[dict[str, Any]]
    nodes: list[dict[str, Any]] = field(default_factory=list)

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
) -> JourneyMap:
    """The directly-follows graph of a log (see the module docstring), computed by ``engine``.

    ``cases=False`` leaves out the count of distinct cases per edge (the costliest column), ``nodes=False``
    the per-activity counts (a second pass over the log).
    """
    spec = LogSpec.of(case, level, activity, sources)
    check_case_notion(engine, case)
    sql = dfg_sql(case, level, activity, sources, cases=cases, partitioned=_partitioned(engine))
    edges = engine.records(sql)
    node_rows = engine.records(nodes_sql(case, level, activity, sources)) if nodes else []
    return JourneyMap(spec, edges, node_rows)


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
) -> Variants:
    """The ``top`` most common variants (None: all), each with its activities, cases, share and case
    durations; ``verify`` checks every case against its variant's example (a second, heavier query)."""
    spec = LogSpec.of(case, level, activity, sources)
    check_case_notion(engine, case)
    longest = engine.scalar(longest_case_sql(case, level, activity, sources))
    if longest is None:
        return Variants(spec, [], 0, 0)
    _register_weights(engine, int(longest))
    try:
        limit = ALL if top is None else top
        rows = engine.records(variants_sql(case, level, activity, sources), [limit, limit])
        if verify:
            bad = engine.scalar(variants_check_sql(case, level, activity, sources))
            if bad:
                raise OrditoError(
                    f"variant hashes grouped different sequences ({bad} events differ): report this log"
                )
    finally:
        engine.unregister(WEIGHTS_TABLE)
    items: list[Variant] = []
    acts: list[str] = []
    for i, r in enumerate(rows):
        acts.append(r["activity"])
        if i + 1 == len(rows) or rows[i + 1]["rank"] != r["rank"]:
            items.append(
                Variant(
                    rank=r["rank"],
                    activities=tuple(acts),
                    cases=r["cases"],
                    share=r["share"],
                    total_seconds=r["total_seconds"],
                    min_seconds=r["min_seconds"],
                    max_seconds=r["max_seconds"],
                    example_case=r["example_case"],
                )
            )
            acts = []
    n_variants = rows[0]["variants"] if rows else 0
    n_cases = rows[0]["cases_total"] if rows else 0
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
