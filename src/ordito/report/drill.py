"""Drill-down: from a number of the report to the episodes behind it.

Every number the analyst pages link carries a drill-down (``sections.drill(kind, ...)``): a kind and its
parameters, read together with the page's filters. :func:`episode_ids_sql` turns it into the set of
episodes the number counted, with the same conditions as the section that computed it; :func:`page`
lists them, newest first.

=================  ==========================================================================  ============
kind               episodes                                                                     parameters
=================  ==========================================================================  ============
episodes           in scope (started in the period, matching the filters)                       min_contacts
episode_friction   in scope with a friction of the kind (top-frictions table)                   fkind
repeat_yourself    in scope, 2+ contacts, information asked twice                               (none)
friction           with a friction in scope (its own date, channel, department)                 fkind, fdept
funnel             in scope, of the need, that reached the stage                                fneed, stage
kpi                in scope; ``episodes``: service needs whose first contact was the team's;    team, measure
                   ``contacts``: with a contact taken by the team (``all``: end to end)
handover           in scope where the department ``src`` was directly followed by ``dst``       src, dst
path               in scope whose channel steps are exactly the path                            path
sankey             in scope whose step ``step`` was on ``src`` and the next on ``dst``          step, src, dst
topic              holding a customer text in scope about the topic                              topic
texts              holding a customer text in scope on the channel, in the month, of the       tchannel,
                   sentiment                                                                    month,
                                                                                                sentiment
nps                holding an NPS answer in scope about a contact on the channel               nchannel
=================  ==========================================================================  ============
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from ..errors import RequestError
from ..journeys.params import SERVICE_INTENTS
from ..store.base import Engine
from ..store.sqlutil import lit
from .filters import NO_DEPARTMENT, Scope
from .flows import handover_pairs_sql, paths_sql, steps_sql
from .sections import FUNNEL_STAGES

__all__ = ["DRILL_KEYS", "KINDS", "counted", "describe", "episode_ids_sql", "number", "page", "parse"]

KINDS: dict[str, tuple[str, ...]] = {
    "episodes": ("min_contacts",),
    "episode_friction": ("fkind",),
    "repeat_yourself": (),
    "friction": ("fkind", "fdept"),
    "funnel": ("fneed", "stage"),
    "kpi": ("team", "measure"),
    "handover": ("src", "dst"),
    "path": ("path",),
    "sankey": ("step", "src", "dst"),
    "topic": ("topic",),
    "texts": ("tchannel", "month", "sentiment"),
    "nps": ("nchannel",),
}
#: every query parameter a drill-down may use (besides the filters)
DRILL_KEYS = ("drill", *sorted({k for ks in KINDS.values() for k in ks}))
_REQUIRED = {
    "episode_friction": ("fkind",),
    "funnel": ("fneed", "stage"),
    "kpi": ("team", "measure"),
    "handover": ("src", "dst"),
    "path": ("path",),
    "sankey": ("step", "src", "dst"),
    "topic": ("topic",),
}
PAGE_SIZE = 50


def parse(q: Mapping[str, Sequence[str] | str]) -> dict[str, str]:
    """The drill-down named in a query string (``drill=...`` and its parameters); raises RequestError."""

    def one(name: str) -> str | None:
        v = q.get(name)
        if v is None or isinstance(v, str):
            return v
        return v[0] if v else None

    kind = one("drill") or "episodes"
    if kind not in KINDS:
        raise RequestError(f"drill: {kind!r} is not one of {', '.join(KINDS)}")
    d = {"drill": kind}
    for k in KINDS[kind]:
        v = one(k)
        if v:
            d[k] = v[:300]
    missing = [k for k in _REQUIRED.get(kind, ()) if k not in d]
    if missing:
        raise RequestError(f"drill {kind} needs {', '.join(missing)}")
    if kind == "funnel" and d["stage"] not in FUNNEL_STAGES:
        raise RequestError(f"stage: {d['stage']!r} is not one of {', '.join(FUNNEL_STAGES)}")
    if kind == "kpi" and d["measure"] not in ("episodes", "contacts"):
        raise RequestError("measure must be episodes or contacts")
    for k in ("step", "min_contacts"):
        if k in d and not d[k].isdigit():
            raise RequestError(f"{k} must be a whole number")
    if "month" in d:
        try:
            dt.date.fromisoformat(d["month"])
        except ValueError:
            raise RequestError("month must be a date (YYYY-MM-DD)") from None
    if d.get("sentiment", "negative") not in ("negative", "neutral", "positive"):
        raise RequestError("sentiment must be negative, neutral or positive")
    return d


def _dept(col: str, value: str) -> str:
    return f"{col} IS NULL" if value == NO_DEPARTMENT else f"{col} = {lit(value)}"


def episode_ids_sql(sc: Scope, d: Mapping[str, str]) -> str:
    """``SELECT episode_id`` of the episodes behind the drill-down ``d`` (one row per episode)."""
    kind = d.get("drill", "episodes")
    scope = sc.episode_ids()
    if kind == "episodes":
        extra = f" AND sc.n_contacts >= {int(d['min_contacts'])}" if d.get("min_contacts") else ""
        return scope + extra
    if kind == "episode_friction":
        return (
            f"{scope} AND sc.episode_id IN "
            f"(SELECT f.episode_id FROM friction f WHERE f.kind = {lit(d['fkind'])})"
        )
    if kind == "repeat_yourself":
        return (
            f"{scope} AND sc.n_contacts >= 2 AND sc.episode_id IN "
            "(SELECT f.episode_id FROM friction f WHERE f.kind = 'info_asked_twice')"
        )
    if kind == "friction":
        conds = [sc.frictions("f")]
        if d.get("fkind"):
            conds.append(f"f.kind = {lit(d['fkind'])}")
        if d.get("fdept"):
            conds.append(_dept("f.department", d["fdept"]))
        return f"SELECT DISTINCT f.episode_id FROM friction f WHERE {' AND '.join(conds)}"
    if kind == "funnel":
        cond = FUNNEL_STAGES[d["stage"]][1].format(a="sc")
        return f"{scope} AND sc.intent = {lit(d['fneed'])} AND {cond}"
    if kind == "kpi":
        return _kpi_sql(sc, d["team"], d["measure"])
    if kind == "handover":
        return (
            f"SELECT DISTINCT episode_id FROM ({handover_pairs_sql(sc)}) AS h "
            f"WHERE source = {lit(d['src'])} AND target = {lit(d['dst'])}"
        )
    if kind == "path":
        return f"SELECT episode_id FROM ({paths_sql(sc, min_steps=2)}) AS p WHERE path = {lit(d['path'])}"
    if kind == "sankey":
        step = int(d["step"])
        nxt = "b.episode_id IS NULL" if d["dst"] == "(end)" else f"b.channel = {lit(d['dst'])}"
        return f"""
WITH st AS ({steps_sql(sc, step + 1)})
SELECT a.episode_id FROM st AS a LEFT JOIN st AS b ON b.episode_id = a.episode_id AND b.step = a.step + 1
WHERE a.step = {step} AND a.channel = {lit(d["src"])} AND {nxt}"""
    if kind == "topic":
        return f"""
SELECT DISTINCT ee.episode_id FROM voc_topics t JOIN voc v ON v.seq = t.seq JOIN events e ON e.seq = t.seq
JOIN episode_events ee ON ee.seq = t.seq
WHERE v.author = 'customer' AND t.topic_id = {lit(d["topic"])} AND {sc.events("e")}"""
    if kind == "texts":
        conds = ["v.author = 'customer'", sc.events("e")]
        if d.get("tchannel"):
            conds.append(f"e.channel = {lit(d['tchannel'])}")
        if d.get("month"):
            conds.append(f"CAST(date_trunc('month', e.occurred_at) AS DATE) = DATE {lit(d['month'])}")
        if d.get("sentiment"):
            conds.append(f"v.sentiment = {lit(d['sentiment'])}")
        return f"""
SELECT DISTINCT ee.episode_id FROM voc v JOIN events e ON e.seq = v.seq JOIN episode_events ee ON ee.seq = v.seq
WHERE {" AND ".join(conds)}"""
    if kind == "nps":
        conds = ["s.kind = 'nps'", sc.surveys("s")]
        if d.get("nchannel"):
            conds.append(_dept("s.channel", d["nchannel"]))
        return f"""
SELECT DISTINCT ee.episode_id FROM surveys s JOIN episode_events ee ON ee.seq = coalesce(s.context_seq, s.seq)
WHERE {" AND ".join(conds)}"""
    raise RequestError(f"drill: {kind!r} is not one of {', '.join(KINDS)}")


def _kpi_sql(sc: Scope, team: str, measure: str) -> str:
    """The episodes a KPI row counts, as ordito.journeys.kpis groups them by department."""
    scope = sc.episode_ids()
    if measure == "contacts":
        team_cond = "" if team == "all" else f" AND coalesce(c.department, 'none') = {lit(team)}"
        return (
            f"SELECT DISTINCT c.episode_id FROM episode_contacts c WHERE c.episode_id IN ({scope}){team_cond}"
        )
    service = ", ".join(lit(i) for i in SERVICE_INTENTS)
    team_cond = "" if team == "all" else f" AND coalesce(fc.department, 'none') = {lit(team)}"
    return f"""
SELECT sc.episode_id FROM episodes AS sc
LEFT JOIN (SELECT episode_id, department FROM episode_contacts WHERE n_contact = 1) AS fc
    ON fc.episode_id = sc.episode_id
WHERE sc.episode_id IN ({scope}) AND sc.intent IN ({service})
  AND (sc.n_contacts > 0 OR sc.episode_id IN (SELECT episode_id FROM episode_events WHERE role = 'self_service'))
  {team_cond}"""


def describe(d: Mapping[str, str]) -> str:
    """What the number counted, in words."""
    kind = d.get("drill", "episodes")
    if kind == "episodes":
        extra = f" with {d['min_contacts']}+ contacts" if d.get("min_contacts") else ""
        return f"Episodes{extra}"
    if kind == "episode_friction":
        return f"Episodes with a friction of kind {d['fkind']}"
    if kind == "repeat_yourself":
        return "Episodes with 2+ contacts where the customer re-stated information already given"
    if kind == "friction":
        what = f"kind {d['fkind']}" if d.get("fkind") else "any kind"
        where = ""
        if d.get("fdept"):
            where = " with no department" if d["fdept"] == NO_DEPARTMENT else f" in {d['fdept']}"
        return f"Episodes with a friction of {what}{where} detected in the period"
    if kind == "funnel":
        return f"Episodes of need {d['fneed']}: {FUNNEL_STAGES[d['stage']][0]}"
    if kind == "kpi":
        team = "all departments" if d["team"] == "all" else d["team"]
        if d["measure"] == "contacts":
            return f"Episodes with a contact taken by {team}"
        return f"Service needs whose first contact was taken by {team} (the KPI table's needs)"
    if kind == "handover":
        return f"Episodes where {d['src']} was directly followed by {d['dst']}"
    if kind == "path":
        return f"Episodes whose channel path was {d['path']}"
    if kind == "sankey":
        end = "the episode ended" if d["dst"] == "(end)" else f"step {int(d['step']) + 1} on {d['dst']}"
        return f"Episodes with step {d['step']} on {d['src']} and then {end}"
    if kind == "topic":
        return f"Episodes holding a customer text about {d['topic']}"
    if kind == "texts":
        bits = [d.get("sentiment", ""), "customer texts"]
        if d.get("tchannel"):
            bits.append(f"on {d['tchannel']}")
        if d.get("month"):
            bits.append(f"in the month of {d['month'][:7]}")
        return "Episodes holding " + " ".join(b for b in bits if b)
    if kind == "nps":
        ch = d.get("nchannel")
        about = (
            ""
            if not ch
            else (" about a contact of unknown channel" if ch == NO_DEPARTMENT else f" about a {ch} contact")
        )
        return f"Episodes holding an NPS answer{about}"
    return kind


def page(
    engine: Engine, sc: Scope, d: Mapping[str, str], page_no: int = 1, size: int = PAGE_SIZE
) -> dict[str, Any]:
    """One page of the episodes behind ``d``: ``total``, ``rows`` (newest first), ``page``, ``pages``."""
    ids = episode_ids_sql(sc, d)
    total = int(engine.scalar(f"SELECT count(DISTINCT episode_id) FROM ({ids}) AS d") or 0)
    pages = max(1, -(-total // size))
    page_no = min(max(1, page_no), pages)
    rows = engine.records(f"""
        SELECT e.episode_id, e.customer_key, e.intent, e.started_at, e.ended_at, e.outcome, e.n_events,
               e.n_contacts, e.n_frictions, e.channels, e.departments
        FROM episodes e WHERE e.episode_id IN ({ids})
        ORDER BY e.started_at DESC, e.episode_id
        LIMIT {int(size)} OFFSET {int((page_no - 1) * size)}""")
    return {
        "total": total,
        "page": page_no,
        "pages": pages,
        "size": size,
        "rows": rows,
        "counted": counted(engine, sc, d, total),
    }


def number(engine: Engine, sc: Scope, d: Mapping[str, str]) -> tuple[int, str]:
    """The number behind the drill-down ``d``, as its section counts it, and its unit."""
    kind = d.get("drill")
    if kind == "friction" or kind == "handover" or (kind == "kpi" and d.get("measure") == "contacts"):
        return counted(engine, sc, d, 0)
    n = engine.scalar(f"SELECT count(DISTINCT episode_id) FROM ({episode_ids_sql(sc, d)}) AS d")
    return int(n or 0), "episodes"


def counted(engine: Engine, sc: Scope, d: Mapping[str, str], episodes: int) -> tuple[int, str]:
    """The number the drill-down came from and its unit: frictions, contacts and handovers are counted as
    such, everything else in episodes."""
    kind = d.get("drill")
    if kind == "friction":
        cond = [sc.frictions("f")]
        if d.get("fkind"):
            cond.append(f"f.kind = {lit(d['fkind'])}")
        if d.get("fdept"):
            cond.append(_dept("f.department", d["fdept"]))
        n = engine.scalar(f"SELECT count(*) FROM friction f WHERE {' AND '.join(cond)}")
        return int(n or 0), "frictions"
    if kind == "kpi" and d.get("measure") == "contacts":
        team = d["team"]
        cond2 = "" if team == "all" else f" AND coalesce(c.department, 'none') = {lit(team)}"
        n = engine.scalar(
            f"SELECT count(*) FROM episode_contacts c WHERE {sc.in_episodes('c.episode_id')}{cond2}"
        )
        return int(n or 0), "contacts"
    if kind == "handover":
        n = engine.scalar(
            f"SELECT count(*) FROM ({handover_pairs_sql(sc)}) AS h "
            f"WHERE source = {lit(d['src'])} AND target = {lit(d['dst'])}"
        )
        return int(n or 0), "handovers"
    return episodes, "episodes"
