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

import itertools

from ..model import Channel
from ..store.base import Engine
from .filters import Scope

__all__ = ["handover_pairs_sql", "paths_sql", "steps_sql", "steps_table"]

_names = itertools.count(1)


def steps_sql(scope: Scope, max_step: int | None = None) -> str:
    """``episode_id``, ``step`` (1-based), ``channel`` for the episodes in scope (steps up to ``max_step``).

    Most episodes never change channel. ``episodes.channels`` lists the distinct channels of an episode's
    events except ``other`` (journeys/derive.py), so an episode whose list has one channel and that has no
    ``other`` event is one step on that channel; only the rest go through the window over their events
    (on the 200k-customer demo: 145k of 1.7M episodes, a fifth of the time). The tests check the result
    against :func:`ordito.journeys.maps.sankey`, which orders every event.
    """
    cap = f"WHERE step <= {int(max_step)}" if max_step is not None else ""
    other = Channel.OTHER.value
    w = "OVER (PARTITION BY ee.episode_id ORDER BY e.occurred_at, e.seq)"
    return f"""
SELECT episode_id, step, channel FROM (
    WITH ep AS (SELECT sc.episode_id, sc.channels FROM episodes AS sc WHERE {scope.episodes("sc")}),
    multi AS (
        SELECT episode_id FROM ep WHERE channels IS NULL OR channels LIKE '%;%'
        UNION
        SELECT ee.episode_id FROM events AS e JOIN episode_events AS ee ON ee.seq = e.seq
        WHERE e.channel = '{other}' AND ee.episode_id IN (SELECT episode_id FROM ep)
    ),
    changes AS (
        SELECT ee.episode_id, e.channel, e.occurred_at, e.seq, lag(e.channel) {w} AS prev
        FROM episode_events AS ee JOIN events AS e ON e.seq = ee.seq
        WHERE ee.episode_id IN (SELECT episode_id FROM multi)
    )
    SELECT ep.episode_id, 1 AS step, ep.channels AS channel
    FROM ep LEFT JOIN multi AS m ON m.episode_id = ep.episode_id
    WHERE m.episode_id IS NULL
    UNION ALL
    SELECT episode_id, row_number() OVER (PARTITION BY episode_id ORDER BY occurred_at, seq) AS step, channel
    FROM changes WHERE prev IS NULL OR prev <> channel
) AS st {cap}
"""


def steps_table(engine: Engine, scope: Scope) -> str:
    """The scope's steps computed once, registered on ``engine`` under a name of their own, for the
    sections that read them (the Sankey and the paths of the journey map)."""
    name = scope.memo.get("steps")
    if name is None:
        name = f"_ordito_steps_{next(_names)}"
        engine.register(name, engine.arrow(steps_sql(scope)))
        scope.memo["steps"] = name
    return str(name)


def paths_sql(scope: Scope, steps: str | None = None, *, min_steps: int = 1) -> str:
    """``episode_id``, ``path`` (channels of its steps joined by " → "), ``n`` (steps), for the episodes
    with at least ``min_steps`` steps (the ordered aggregate runs on those only). ``steps``: a table of
    the scope's steps (:func:`steps_table`), else they are computed."""
    source = steps or f"({steps_sql(scope)})"
    keep = (
        f"WHERE episode_id IN (SELECT episode_id FROM {source} AS k WHERE step = {int(min_steps)})"
        if min_steps > 1
        else ""
    )
    return f"""
SELECT episode_id, string_agg(channel, ' → ' ORDER BY step) AS path, count(*) AS n
FROM {source} AS s {keep}
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
