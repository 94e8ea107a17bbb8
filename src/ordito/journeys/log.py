"""The event log of process mining, cut from the workspace: one row per event of a case.

A *case notion* says what one case (one trace) is:

* ``thread``: the source's own conversation, ticket or call (``events.thread_id``; the case id is
  ``source:thread_id`` so that two silos numbering their tickets alike stay apart);
* ``customer``: everything a resolved customer did (``event_customer.customer_key``);
* ``episode``: one journey for one need (``episode_events.episode_id``; needs ``ordito analyze``).

A *level* says what an activity is: ``activity`` (the event ``type``, or a property of the event with
``activity="property:NAME"``), ``channel``, or ``department`` (events without a department are left out
at that level, so that a department map shows handoffs between teams, not page views between them).

Every log has the same columns: ``case_id``, ``activity``, ``timestamp``, ``resource`` (the agent),
``channel``, ``department``, ``seq``. Events of a case are ordered by ``timestamp`` and then ``seq`` (the
ingest order), the tie-break every map, variant and export uses, so results are deterministic.

The SQL is DuckDB's dialect inside the portable subset (docs/ENGINES.md), so it runs on PostgreSQL and
Spark after ``publish`` too.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pyarrow as pa

from ..errors import ConfigError, StoreError
from ..store.base import Engine
from ..store.sqlutil import lit

__all__ = [
    "CASE_NOTIONS",
    "LEVELS",
    "LOG_COLUMNS",
    "LogSpec",
    "case_id_sql",
    "event_log",
    "keyed_log_sql",
    "log_sql",
]

CASE_NOTIONS = ("thread", "customer", "episode")
LEVELS = ("activity", "channel", "department")
LOG_COLUMNS = ("case_id", "activity", "timestamp", "resource", "channel", "department", "seq")

_PROPERTY = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class LogSpec:
    """Which log: the case notion, the level of an activity, and optional filters.

    Args:
        case: ``thread``, ``customer`` or ``episode``.
        level: ``activity``, ``channel`` or ``department``.
        activity: at level ``activity``, ``type`` (default) or ``property:NAME`` (a top-level key of the
            event's ``properties``; events without it fall back to their type).
        sources: only events of these sources (empty: all).
    """

    case: str = "thread"
    level: str = "activity"
    activity: str = "type"
    sources: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        problems = []
        if self.case not in CASE_NOTIONS:
            problems.append(f"case notion {self.case!r} is not one of {', '.join(CASE_NOTIONS)}")
        if self.level not in LEVELS:
            problems.append(f"level {self.level!r} is not one of {', '.join(LEVELS)}")
        if self.activity != "type":
            name = self.activity.removeprefix("property:")
            if not self.activity.startswith("property:") or not _PROPERTY.match(name):
                problems.append(
                    f"activity {self.activity!r}: use 'type' or 'property:NAME' (NAME: letters, digits, _)"
                )
        if problems:
            raise ConfigError("Invalid event log", errors=problems)

    @classmethod
    def of(
        cls,
        case: str = "thread",
        level: str = "activity",
        activity: str = "type",
        sources: Sequence[str] | None = None,
    ) -> LogSpec:
        return cls(case=case, level=level, activity=activity, sources=tuple(sources or ()))


def _activity_expr(spec: LogSpec) -> str:
    if spec.level == "channel":
        return "e.channel"
    if spec.level == "department":
        return "e.department"
    if spec.activity == "type":
        return "e.type"
    name = spec.activity.removeprefix("property:")
    return f"coalesce(json_extract_string(e.properties, {lit('$.' + name)}), e.type)"


def _parts(spec: LogSpec) -> tuple[str, str, str, str, str]:
    """The case key as two parts (namespace, key), the activity, the joins and the WHERE clause."""
    act = _activity_expr(spec)
    where = [f"{act} IS NOT NULL"]
    if spec.case == "thread":
        ns, key, joins = "e.source", "e.thread_id", ""
        where.append("e.thread_id IS NOT NULL")
    elif spec.case == "customer":
        ns, key, joins = "''", "ec.customer_key", "JOIN event_customer AS ec ON ec.seq = e.seq"
        where.append("ec.customer_key IS NOT NULL")
    else:
        ns, key, joins = "''", "CAST(ee.episode_id AS VARCHAR)", "JOIN episode_events AS ee ON ee.seq = e.seq"
    if spec.sources:
        where.append("e.source IN (" + ", ".join(lit(s) for s in spec.sources) + ")")
    return ns, key, act, joins, " AND ".join(where)


def case_id_sql(ns: str = "case_ns", key: str = "case_key") -> str:
    """The case id from its two parts: ``source:thread_id`` for threads, the key alone otherwise."""
    return f"CASE WHEN {ns} = '' THEN {key} ELSE {ns} || ':' || {key} END"


def keyed_log_sql(
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
) -> str:
    """The log with the case id in two parts, ``case_ns`` and ``case_key`` (for threads: the source and
    its thread id; otherwise ``''`` and the key), then ``activity``, ``timestamp``, ``seq``.

    The maps group and join on the two parts, which is cheaper than building a string per event.
    """
    spec = LogSpec.of(case, level, activity, sources)
    ns, key, act, joins, where = _parts(spec)
    return f"""
SELECT
    {ns} AS case_ns,
    {key} AS case_key,
    {act} AS activity,
    e.occurred_at AS timestamp,
    e.seq AS seq
FROM events AS e
{joins}
WHERE {where}
"""


def log_sql(
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
) -> str:
    """One statement returning the event log (``LOG_COLUMNS``), unordered.

    Order by ``case_id, timestamp, seq`` to read the traces; the maps do it inside the engine.
    """
    spec = LogSpec.of(case, level, activity, sources)
    ns, key, act, joins, where = _parts(spec)
    return f"""
SELECT
    CAST({case_id_sql(ns, key)} AS VARCHAR) AS case_id,
    {act} AS activity,
    e.occurred_at AS timestamp,
    e.agent_id AS resource,
    e.channel AS channel,
    e.department AS department,
    e.seq AS seq
FROM events AS e
{joins}
WHERE {where}
"""


def check_case_notion(engine: Engine, case: str) -> None:
    """Raise a clear error when the tables a case notion needs are not in the workspace."""
    table = {"episode": "episode_events", "customer": "event_customer"}.get(case)
    if table is None:
        return
    try:
        engine.execute(f"SELECT seq FROM {table} WHERE 1 = 0")
    except StoreError:
        how = "run `ordito analyze` first" if case == "episode" else "run `ordito resolve` first"
        raise ConfigError(f"Case notion {case!r} needs the table {table}: {how}") from None


def event_log(
    engine: Engine,
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
) -> pa.Table:
    """The event log as an Arrow table (``.to_pandas()`` for pandas), ordered by case, time, seq."""
    check_case_notion(engine, case)
    sql = log_sql(case, level, activity, sources)
    return engine.arrow(f"SELECT * FROM ({sql}) AS log ORDER BY case_id, timestamp, seq")
