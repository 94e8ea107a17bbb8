"""Friction in a process log: rework, ping-pong between resources, long waits between steps.

The contact-based frictions of :mod:`.friction` read what a customer did (calls, chats, web visits) and find
little in a back-office log (a helpdesk's ticket steps, a loan application's workflow): there, what hurts the
customer is the work going round in circles. These three kinds read any event log of :mod:`.log` (a case is a
ticket, a customer, an episode) and need no ``ordito analyze``:

``rework``
    the same activity more than once in a case; evidence: every occurrence (time, then seq).
``ping_pong``
    the case goes from resource A to B and back to A (a resource is the department or the agent; events
    without one are skipped, consecutive events of the same resource are one stay); evidence: the first
    event of each of the three stays.
``long_wait``
    the time from one event of a case to the next is above the ``wait_quantile`` of the times of that same
    step (activity a to activity b) over the whole log, and at least ``min_wait_hours``; evidence: the two
    events.

The statements are DuckDB's dialect (window functions and ``quantile_cont``), like the stage's.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from ..errors import ConfigError
from ..store.base import Engine
from .log import check_case_notion, log_sql

PROCESS_KINDS = ("rework", "ping_pong", "long_wait")
RESOURCES = ("department", "agent")


@dataclass(frozen=True)
class ProcessParams:
    """Parameters of the process-log frictions (docs/JOURNEYS.md, "Friction in process logs")."""

    resource: str = "department"  # what a hand-over is between: department or agent
    wait_quantile: float = 0.95  # a wait is long above this quantile of the same step's waits
    min_wait_hours: float = 24.0  # ... and above this many hours

    def check(self) -> None:
        problems = []
        if self.resource not in RESOURCES:
            problems.append(f"resource {self.resource!r} is not one of {', '.join(RESOURCES)}")
        if not 0 < self.wait_quantile < 1:
            problems.append(f"wait_quantile {self.wait_quantile} is not between 0 and 1")
        if self.min_wait_hours < 0:
            problems.append(f"min_wait_hours {self.min_wait_hours} is negative")
        if problems:
            raise ConfigError("Invalid process friction parameters", errors=problems)


def process_frictions_sql(
    case: str = "thread",
    activity: str = "type",
    sources: Sequence[str] | None = None,
    params: ProcessParams | None = None,
) -> str:
    """One statement: ``case_id, kind, occurred_at, evidence (seqs), detail``, unordered."""
    p = params or ProcessParams()
    p.check()
    log = log_sql(case, "activity", activity, sources)
    res = "department" if p.resource == "department" else "resource"
    min_s = float(p.min_wait_hours) * 3600.0
    return f"""
WITH log AS ({log}),
o AS (
    SELECT *, row_number() OVER (PARTITION BY case_id ORDER BY timestamp, seq) AS k FROM log
),
rework AS (
    SELECT case_id, 'rework' AS kind, (list(timestamp ORDER BY k))[2] AS occurred_at,
           list(seq ORDER BY k) AS evidence,
           activity || ' done ' || count(*) || ' times' AS detail
    FROM o GROUP BY case_id, activity HAVING count(*) >= 2
),
r AS (
    SELECT case_id, k, seq, timestamp, {res} AS who,
           lag({res}) OVER (PARTITION BY case_id ORDER BY k) AS prev_who
    FROM o WHERE {res} IS NOT NULL
),
stays AS (
    SELECT case_id, seq, timestamp, who,
           lead(who) OVER w AS who1, lead(who, 2) OVER w AS who2,
           lead(seq) OVER w AS seq1, lead(seq, 2) OVER w AS seq2, lead(timestamp, 2) OVER w AS t2
    FROM r WHERE prev_who IS NULL OR prev_who <> who
    WINDOW w AS (PARTITION BY case_id ORDER BY k)
),
ping_pong AS (
    SELECT case_id, 'ping_pong' AS kind, t2 AS occurred_at, [seq, seq1, seq2] AS evidence,
           who || ' -> ' || who1 || ' -> ' || who2 AS detail
    FROM stays WHERE who2 = who
),
steps AS (
    SELECT case_id, activity AS a, lead(activity) OVER w AS b, seq, lead(seq) OVER w AS next_seq,
           lead(timestamp) OVER w AS next_t,
           CAST(date_diff('second', timestamp, lead(timestamp) OVER w) AS DOUBLE) AS wait_s
    FROM o WINDOW w AS (PARTITION BY case_id ORDER BY k)
),
norm AS (
    SELECT a, b, quantile_cont(wait_s, {float(p.wait_quantile)}) AS q FROM steps WHERE b IS NOT NULL GROUP BY a, b
),
long_wait AS (
    SELECT s.case_id, 'long_wait' AS kind, s.next_t AS occurred_at, [s.seq, s.next_seq] AS evidence,
           s.a || ' -> ' || s.b || ' after ' || round(s.wait_s / 3600, 1) || ' h (usual at most '
               || round(n.q / 3600, 1) || ' h)' AS detail
    FROM steps s JOIN norm n ON n.a = s.a AND n.b = s.b
    WHERE s.b IS NOT NULL AND s.wait_s > n.q AND s.wait_s >= {min_s}
)
SELECT * FROM rework UNION ALL SELECT * FROM ping_pong UNION ALL SELECT * FROM long_wait
"""


def process_frictions(
    engine: Engine,
    case: str = "thread",
    activity: str = "type",
    sources: Sequence[str] | None = None,
    params: ProcessParams | None = None,
) -> pa.Table:
    """The process-log frictions as an Arrow table, ordered by case, time, kind."""
    check_case_notion(engine, case)
    sql = process_frictions_sql(case, activity, sources, params)
    return engine.arrow(
        f"SELECT * FROM ({sql}) AS f ORDER BY case_id, occurred_at, kind, list_extract(evidence, 1)"
    )
