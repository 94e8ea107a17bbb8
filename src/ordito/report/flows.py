"""How episodes move: channel steps (the Sankey and the common paths) and handovers between departments
(the journey map), over the episodes in a scope. Shared by the sections and their drill-downs, so a number
and the episodes behind it come from the same statement.

* A **step** is a run of consecutive events of an episode on one channel (events ordered by time, then
  ``seq``), as in :func:`ordito.journeys.maps.sankey`.
* A **handover** ``a → b`` is an event of department ``b`` directly following one of department ``a`` in
  the same episode, among the episode's events that have a department (the department-level
  directly-follows graph of :func:`ordito.journeys.maps.dfg`); ``a → a`` is the same team again.
"""

from __future__ import annotations

from .filters import Scope

__all__ = ["handover_pairs_sql", "paths_sql", "steps_sql"]


def steps_sql(scope: Scope, max_step: int | None = None) -> str:
    """``episode_id``, ``step`` (1-based), ``channel`` for the episodes in scope (steps up to ``max_step``)."""
    cap = f"WHERE step <= {int(max_step)}" if max_step is not None else ""
    return f"""
SELECT episode_id, step, channel FROM (
    SELECT episode_id, channel,
           row_number() OVER (PARTITION BY episode_id ORDER BY occurred_at, seq) AS step
    FROM (
        SELECT ee.episode_id, e.channel, e.occurred_at, e.seq,
               lag(e.channel) OVER (PARTITION BY ee.episode_id ORDER BY e.occurred_at, e.seq) AS prev
        FROM episode_events AS ee JOIN events AS e ON e.seq = ee.seq
        WHERE {scope.in_episodes("ee.episode_id")}
    ) AS ev
    WHERE prev IS NULL OR prev <> channel
) AS st {cap}
"""


def paths_sql(scope: Scope) -> str:
    """``episode_id``, ``path`` (channels of its steps joined by " → "), ``n`` (steps)."""
    return f"""
SELECT episode_id, string_agg(channel, ' → ' ORDER BY step) AS path, count(*) AS n
FROM ({steps_sql(scope)}) AS s
GROUP BY episode_id
"""


def handover_pairs_sql(scope: Scope) -> str:
    """Every handover: ``episode_id``, ``source``, ``target``, ``seconds`` between the two events."""
    w = "OVER (PARTITION BY ee.episode_id ORDER BY e.occurred_at, e.seq)"
    return f"""
SELECT episode_id, prev AS source, department AS target, date_diff('second', prev_at, occurred_at) AS seconds
FROM (
    SELECT ee.episode_id, e.department, e.occurred_at,
           lag(e.department) {w} AS prev, lag(e.occurred_at) {w} AS prev_at
    FROM episode_events AS ee JOIN events AS e ON e.seq = ee.seq
    WHERE e.department IS NOT NULL AND {scope.in_episodes("ee.episode_id")}
) AS d
WHERE prev IS NOT NULL
"""
