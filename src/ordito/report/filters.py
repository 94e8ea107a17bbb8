"""What the report and the analyst pages count: the period and the filters (channel, department, need,
segment), turned into SQL conditions per unit (event, episode, friction, survey answer).

One rule for every view (docs/REPORT.md, "Filters"):

* a record that has a channel and a department of its own (an event, a customer's text, a friction, a
  survey answer: the contact it was about) matches a channel or department filter by its own;
* an episode matches when it *touched* the channel or department (``episodes.channels`` and
  ``episodes.departments`` list what it touched);
* the need (intent) is the episode's: a record matches through the episode it belongs to;
* the segment is the customer's: a record matches through its customer (:mod:`ordito.report.segments`).

The period applies to when a record happened (events, texts, frictions), when an episode started, and
when a survey was answered. Values are SQL literals (escaped), so statements stay portable and
placeholder-free.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import pyarrow as pa

from ..errors import RequestError
from ..model import Channel
from ..store.base import Engine, Params
from ..store.sqlutil import lit

__all__ = ["FILTER_KEYS", "NO_DEPARTMENT", "Filters", "Period", "RestrictedEngine", "Scope", "restrict"]

#: Query-string names of the filters (repeatable, except the dates).
FILTER_KEYS = ("since", "until", "channel", "department", "need", "segment")


@dataclass(frozen=True)
class Period:
    since: dt.datetime
    until: dt.datetime  # exclusive

    def sql(self, col: str) -> str:
        """A filter on ``col`` (TIMESTAMP) for the period, with literal bounds (portable)."""
        return (
            f"{col} >= TIMESTAMP '{self.since:%Y-%m-%d %H:%M:%S}' "
            f"AND {col} < TIMESTAMP '{self.until:%Y-%m-%d %H:%M:%S}'"
        )

    def label(self) -> str:
        last = self.until - dt.timedelta(seconds=1)
        return f"{self.since:%Y-%m-%d} to {last:%Y-%m-%d}"


def _date(name: str, value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value.strip())
    except ValueError:
        raise RequestError(f"{name}: {value!r} is not a date (YYYY-MM-DD)") from None


def _values(raw: Iterable[str] | str | None) -> tuple[str, ...]:
    if raw is None:
        return ()
    if isinstance(raw, str):
        raw = [raw]
    out: list[str] = []
    for v in raw:
        v = v.strip()
        if v and v not in out:
            out.append(v[:200])
    return tuple(out)


@dataclass(frozen=True)
class Filters:
    """The analyst's selection. Empty tuples and None dates mean "all"."""

    since: dt.date | None = None
    until: dt.date | None = None
    channel: tuple[str, ...] = ()
    department: tuple[str, ...] = ()
    need: tuple[str, ...] = ()
    segment: tuple[str, ...] = ()

    @classmethod
    def from_query(cls, q: Mapping[str, Sequence[str] | str]) -> Filters:
        """From a query string parsed into lists (``parse_qs``) or plain strings; bad dates raise."""

        def one(name: str) -> str | None:
            v = q.get(name)
            if v is None or isinstance(v, str):
                return v
            return v[0] if v else None

        f = cls(
            since=_date("since", one("since")),
            until=_date("until", one("until")),
            channel=_values(q.get("channel")),
            department=_values(q.get("department")),
            need=_values(q.get("need")),
            segment=_values(q.get("segment")),
        )
        if f.since and f.until and f.until < f.since:
            raise RequestError(f"until ({f.until}) is before since ({f.since})")
        return f

    @property
    def narrowed(self) -> bool:
        """True when anything but the period is selected."""
        return bool(self.channel or self.department or self.need or self.segment)

    @property
    def empty(self) -> bool:
        return not self.narrowed and self.since is None and self.until is None

    def query(self) -> list[tuple[str, str]]:
        """The filters as query-string pairs (what :meth:`from_query` reads back)."""
        out: list[tuple[str, str]] = []
        if self.since:
            out.append(("since", self.since.isoformat()))
        if self.until:
            out.append(("until", self.until.isoformat()))
        for name in ("channel", "department", "need", "segment"):
            out += [(name, v) for v in getattr(self, name)]
        return out

    def without_period(self) -> Filters:
        return replace(self, since=None, until=None)

    def describe(self, segment_labels: Mapping[str, str] | None = None) -> str:
        """ "channel voice · need repair · ..." (empty: no filter but the period)."""
        parts = []
        for name, label in (("channel", "channel"), ("department", "department"), ("need", "need")):
            vals = getattr(self, name)
            if vals:
                parts.append(f"{label} {' or '.join(vals)}")
        if self.segment:
            labels = segment_labels or {}
            parts.append("segment " + " or ".join(labels.get(s, s) for s in self.segment))
        return " · ".join(parts)


def _in(col: str, values: Sequence[str]) -> str:
    return f"{col} IN ({', '.join(lit(v) for v in values)})"


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _touched(col: str, values: Sequence[str]) -> str:
    """``col`` is a ``;``-separated list (``episodes.channels``): it holds one of ``values``."""
    ors = [f"(';' || {col} || ';') LIKE {lit('%;' + _like_escape(v) + ';%')} ESCAPE '\\'" for v in values]
    return "(" + " OR ".join(ors) + ")"


#: the department filter value that selects records without a department
NO_DEPARTMENT = "(none)"


def _dept(col: str, values: Sequence[str]) -> str:
    named = [v for v in values if v != NO_DEPARTMENT]
    parts = [_in(col, named)] if named else []
    if NO_DEPARTMENT in values:
        parts.append(f"{col} IS NULL")
    return "(" + " OR ".join(parts) + ")"


@dataclass
class Scope:
    """The period and filters resolved for one workspace: SQL conditions per unit.

    ``segment_table`` names a registered table (``customer_key``) of the customers in the selected
    segments (:func:`ordito.report.segments.register_members`); None when no segment is selected.
    """

    period: Period
    filters: Filters = field(default_factory=Filters)
    segment_table: str | None = None
    #: results shared by the sections built over this scope (see flows.steps_table)
    memo: dict[str, Any] = field(default_factory=dict)

    def _segment(self, customer_col: str) -> list[str]:
        if not self.filters.segment:
            return []
        if self.segment_table is None:
            raise RequestError("a segment filter needs its members registered (segments.register_members)")
        return [f"{customer_col} IN (SELECT customer_key FROM {self.segment_table})"]

    def _need_by_seq(self, seq_col: str) -> list[str]:
        if not self.filters.need:
            return []
        return [
            f"{seq_col} IN (SELECT nee.seq FROM episode_events AS nee JOIN episodes AS nep "
            f"ON nep.episode_id = nee.episode_id WHERE {_in('nep.intent', self.filters.need)})"
        ]

    # --- units ---------------------------------------------------------------------------------------

    def episodes(self, a: str = "e", *, period: bool = True) -> str:
        """Conditions on an ``episodes`` row aliased ``a``: started in the period, touched the channel and
        department, of the need, of a customer in the segment."""
        f = self.filters
        c = [self.period.sql(f"{a}.started_at")] if period else []
        if f.channel:
            # episodes.channels leaves out `other` (journeys/derive.py): those episodes are found by event
            listed = [v for v in f.channel if v != Channel.OTHER.value]
            parts = [_touched(f"{a}.channels", listed)] if listed else []
            if Channel.OTHER.value in f.channel:
                parts.append(
                    f"{a}.episode_id IN (SELECT oee.episode_id FROM episode_events AS oee JOIN events AS oe "
                    f"ON oe.seq = oee.seq WHERE oe.channel = {lit(Channel.OTHER.value)})"
                )
            c.append("(" + " OR ".join(parts) + ")")
        if f.department:
            named = [v for v in f.department if v != NO_DEPARTMENT]
            parts = [_touched(f"{a}.departments", named)] if named else []
            if NO_DEPARTMENT in f.department:
                parts.append(f"{a}.departments IS NULL")
            c.append("(" + " OR ".join(parts) + ")")
        if f.need:
            c.append(_in(f"{a}.intent", f.need))
        c += self._segment(f"{a}.customer_key")
        return " AND ".join(c) or "TRUE"

    @property
    def everything(self) -> bool:
        """True when the scope holds every episode: no filter, and the period is the workspace's whole
        span (every episode starts at one of its events, so inside it). Lets the big statements skip a
        semi-join that keeps every row."""
        return self.filters.empty

    def in_episodes(self, col: str) -> str:
        """A condition: ``col`` (an episode id) is in scope (``TRUE`` when the scope holds everything)."""
        return "TRUE" if self.everything else f"{col} IN ({self.episode_ids()})"

    def episode_ids(self, *, period: bool = True) -> str:
        """``SELECT episode_id`` of the episodes in scope."""
        return f"SELECT sc.episode_id FROM episodes AS sc WHERE {self.episodes('sc', period=period)}"

    def events(self, e: str = "e", *, customer: str | None = None, period: bool = True) -> str:
        """Conditions on an ``events`` row ``e``; ``customer`` is the column holding its customer key
        (else looked up in ``event_customer``)."""
        f = self.filters
        c = [self.period.sql(f"{e}.occurred_at")] if period else []
        if f.channel:
            c.append(_in(f"{e}.channel", f.channel))
        if f.department:
            c.append(_dept(f"{e}.department", f.department))
        c += self._need_by_seq(f"{e}.seq")
        if f.segment and customer is None:
            cond = self._segment("sec.customer_key")[0]
            c.append(f"{e}.seq IN (SELECT sec.seq FROM event_customer AS sec WHERE {cond})")
        elif f.segment and customer is not None:
            c += self._segment(customer)
        return " AND ".join(c) or "TRUE"

    def frictions(self, fr: str = "f") -> str:
        """Conditions on a ``friction`` row ``fr``: detected in the period, on the channel and department
        (its own), in an episode of the need, of a customer in the segment."""
        f = self.filters
        c = [self.period.sql(f"{fr}.occurred_at")]
        if f.channel:
            c.append(_in(f"{fr}.channel", f.channel))
        if f.department:
            c.append(_dept(f"{fr}.department", f.department))
        if f.need:
            c.append(
                f"{fr}.episode_id IN (SELECT nep.episode_id FROM episodes AS nep "
                f"WHERE {_in('nep.intent', f.need)})"
            )
        c += self._segment(f"{fr}.customer_key")
        return " AND ".join(c)

    def surveys(self, s: str = "s") -> str:
        """Conditions on a ``surveys`` row ``s``: answered in the period, about a contact on the channel and
        department, in an episode of the need, by a customer in the segment."""
        f = self.filters
        c = [self.period.sql(f"{s}.answered_at")]
        if f.channel:
            c.append(_in(f"{s}.channel", f.channel))
        if f.department:
            c.append(_dept(f"{s}.department", f.department))
        if f.need:
            c += self._need_by_seq(f"coalesce({s}.context_seq, {s}.seq)")
        c += self._segment(f"{s}.customer_key")
        return " AND ".join(c)


def restrict(sql: str, tables: Mapping[str, str]) -> str:
    """``sql`` with every reference to a table in ``tables`` read through a filter:
    ``FROM episodes AS e`` becomes ``FROM (SELECT * FROM episodes WHERE <condition>) AS e``.

    Lets the KPI definitions of :mod:`ordito.journeys.kpis` run, unchanged, over the episodes in scope
    (one implementation of each KPI). Parsed and written back with sqlglot in DuckDB's dialect.
    """
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    ctes = {c.alias_or_name for c in tree.find_all(exp.CTE)}
    targets: list[Any] = [
        t
        for t in tree.find_all(exp.Table)
        if t.name in tables and t.name not in ctes and not t.args.get("db")
    ]
    for t in targets:
        alias = t.alias_or_name
        inner = sqlglot.parse_one(f"SELECT * FROM {t.name} WHERE {tables[t.name]}", read="duckdb")
        t.replace(exp.Subquery(this=inner, alias=exp.TableAlias(this=exp.to_identifier(alias))))
    out: str = tree.sql(dialect="duckdb")
    return out


class RestrictedEngine(Engine):
    """An engine that reads the tables in ``tables`` through their filter (see :func:`restrict`).

    Code written against the whole workspace (``ordito.journeys.kpis.kpis``) runs unchanged over a
    scope. Writes and registration go to the inner engine; closing it is left to its owner.
    """

    def __init__(self, inner: Engine, tables: Mapping[str, str]) -> None:
        self.inner = inner
        self.tables = dict(tables)
        self.dialect = inner.dialect

    def _run(self, sql: str, params: Params) -> list[tuple[Any, ...]] | None:
        return self.inner.execute(restrict(sql, self.tables), params)

    def _arrow(self, sql: str, params: Params) -> pa.Table:
        return self.inner.arrow(restrict(sql, self.tables), params)

    def register(self, name: str, table: pa.Table) -> None:
        self.inner.register(name, table)

    def unregister(self, name: str) -> None:
        self.inner.unregister(name)

    def close(self) -> None:
        return None
