"""Reading episodes, friction and KPIs back (the Python API and the HTTP API share these)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import pyarrow as pa

from ..errors import InputError
from ..store.base import Engine
from .friction import KINDS
from .kpis import kpis

EPISODE_COLUMNS = (
    "episode_id, customer_key, intent, started_at, ended_at, outcome, n_events, n_contacts, channels, "
    "departments, intent_source, first_contact_at, resolved_at, n_assisted, n_self_service, n_transfers, "
    "n_frictions, effort"
)
FRICTION_COLUMNS = (
    "friction_id, episode_id, customer_key, kind, occurred_at, severity, CAST(evidence AS VARCHAR) AS evidence, "
    "detail, channel, department"
)


def _since(value: Any) -> datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        raise InputError(f"since must be an ISO date or time such as 2025-03-01, not {value!r}") from None


def episodes(engine: Engine, customer: str | None = None, intent: str | None = None) -> pa.Table:
    where: list[str] = []
    params: list[Any] = []
    if customer:
        where.append("customer_key = ?")
        params.append(customer)
    if intent:
        where.append("intent = ?")
        params.append(intent)
    sql = f"SELECT {EPISODE_COLUMNS} FROM episodes"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return engine.arrow(sql + " ORDER BY started_at DESC, episode_id", params or None)


def friction(
    engine: Engine,
    kind: str | None = None,
    since: Any = None,
    customer: str | None = None,
    episode: str | None = None,
    limit: int | None = None,
) -> pa.Table:
    where: list[str] = []
    params: list[Any] = []
    if kind:
        if kind not in KINDS:
            raise InputError(f"Unknown friction kind {kind!r}; kinds: {', '.join(KINDS)}")
        where.append("kind = ?")
        params.append(kind)
    t = _since(since)
    if t is not None:
        where.append("occurred_at >= ?")
        params.append(t)
    if customer:
        where.append("customer_key = ?")
        params.append(customer)
    if episode:
        where.append("episode_id = ?")
        params.append(episode)
    sql = f"SELECT {FRICTION_COLUMNS} FROM friction"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY occurred_at DESC, friction_id"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return engine.arrow(sql, params or None)


def kpis_table(engine: Engine, by: str = "overall") -> pa.Table:
    rows = kpis(engine, by)
    return pa.Table.from_pylist(rows) if rows else pa.table({"key": pa.array([], pa.string())})
