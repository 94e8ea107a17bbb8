"""The report's sections: each reads the workspace and returns what it shows, with its period and base.

The report (``ordito report``) and the analyst pages (``ordito serve``, /analytics) share these builders;
the pages pass filters through a :class:`~ordito.report.filters.Scope` (docs/REPORT.md says what each
filter means for each view).

A section is a dict: ``id``, ``title``, ``period`` (the dates its numbers cover), ``base`` (what they are
counted over), ``filters`` (the filters applied, "" for none), ``available`` (False with a ``note``
saying which stage to run when its tables are empty), ``kpis`` (headline figures: label, value, detail,
``drill``), ``figures`` (Plotly specs, see charts.py; a trace's ``customdata`` holds the drill-down of
each point) and ``tables`` (``{"title", "columns", "rows", "drill"}``, ``drill`` a matrix like ``rows``
of drill-downs or None). A drill-down is a dict of query parameters naming the episodes behind a number
(:mod:`ordito.report.drill`). Nothing is estimated here that the stages did not compute; an observed gap
is labelled as observed, never as an effect.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from ..store.base import Engine
from ..store.sqlutil import lit
from . import charts
from .filters import NO_DEPARTMENT, Filters, Period, RestrictedEngine, Scope
from .flows import handover_pairs_sql, paths_sql, steps_table

__all__ = ["SECTIONS", "Period", "Scope", "build", "has_rows", "make_scope", "workspace_period"]

Section = dict[str, Any]
Drill = dict[str, str]


def workspace_period(engine: Engine, since: dt.date | None, until: dt.date | None) -> Period | None:
    """The report's period: the given dates, else from the first to the last event (None: no events)."""
    lo, hi = engine.one("SELECT min(occurred_at), max(occurred_at) FROM events") or (None, None)
    if lo is None:
        return None
    start = dt.datetime.combine(since, dt.time()) if since else dt.datetime.combine(lo.date(), dt.time())
    end = (
        dt.datetime.combine(until, dt.time()) + dt.timedelta(days=1)
        if until
        else dt.datetime.combine(hi.date(), dt.time()) + dt.timedelta(days=1)
    )
    return Period(start, end)


def make_scope(engine: Engine, filters: Filters | None = None) -> Scope | None:
    """The scope of ``filters`` on this workspace (None: no events). A segment filter registers its
    members on ``engine`` (:func:`ordito.report.segments.register_members`)."""
    f = filters or Filters()
    p = workspace_period(engine, f.since, f.until)
    if p is None:
        return None
    table = None
    if f.segment:
        from .segments import register_members, segmentation

        table = register_members(engine, segmentation(engine), f.segment)
    return Scope(p, f, table)


def has_rows(engine: Engine, table: str) -> bool:
    exists = engine.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'",
        [table],
    )
    return bool(exists) and bool(engine.scalar(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1) t"))


def _section(sid: str, title: str, sc: Scope, base: str) -> Section:
    return {
        "id": sid,
        "title": title,
        "period": sc.period.label(),
        "base": base,
        "filters": "",
        "available": True,
        "note": "",
        "kpis": [],
        "figures": [],
        "tables": [],
    }


def _missing(section: Section, note: str) -> Section:
    section["available"] = False
    section["note"] = note
    return section


def _pct(x: float | None, digits: int = 1) -> str:
    return "n/a" if x is None else f"{100 * x:.{digits}f}%"


def _n(x: Any) -> str:
    return "n/a" if x is None else f"{int(x):,}"


def drill(kind: str, **params: Any) -> Drill:
    """A drill-down: ``{"drill": kind, ...}`` (values as strings; None left out)."""
    d = {"drill": kind}
    d.update({k: str(v) for k, v in params.items() if v is not None})
    return d


def _custom(d: Drill) -> str:
    """A drill-down as a query string, for a Plotly point's ``customdata``."""
    return urlencode(d)


# --- 1. executive summary -----------------------------------------------------------------------------


def summary(engine: Engine, sc: Scope) -> Section:
    s = _section("summary", "Executive summary", sc, "events that happened in the period")
    ev = engine.records(f"""
        SELECT count(*) AS events, count(DISTINCT e.source) AS sources FROM events e WHERE {sc.events("e")}""")[
        0
    ]
    if not ev["events"]:
        return _missing(s, "No events in the period with these filters.")
    # one pass over the customers' events (event_customer copies time, channel and department): how many,
    # from 2+ silos, on 2+ channels. The source comes from the seq ranges of the ingest runs when they
    # are few, which spares a 12M-row join with the events (docs/REPORT.md, "Speed").
    source = source_of_seq(engine, "ec.seq")
    join = "" if source else "JOIN events e ON e.seq = ec.seq"
    conn = engine.records(f"""
        WITH per AS (
            SELECT ec.customer_key, count(*) AS events,
                   CASE WHEN min({source or "e.source"}) <> max({source or "e.source"}) THEN 1 ELSE 0 END
                       AS multi_silo,
                   CASE WHEN min(ec.channel) <> max(ec.channel) THEN 1 ELSE 0 END AS multi_channel
            FROM event_customer ec {join}
            WHERE ec.customer_key IS NOT NULL AND {sc.events("ec", customer="ec.customer_key")}
            GROUP BY ec.customer_key)
        SELECT count(*) AS customers, CAST(sum(events) AS BIGINT) AS attributed,
               avg(CAST(multi_silo AS DOUBLE)) AS multi_silo, avg(CAST(multi_channel AS DOUBLE)) AS multi_channel
        FROM per""")[0]
    ev["attributed"] = conn["attributed"] or 0
    s["kpis"] += [
        {"label": "Events", "value": _n(ev["events"]), "detail": f"from {ev['sources']} sources"},
        {
            "label": "Events tied to a customer",
            "value": _pct(ev["attributed"] / ev["events"]),
            "detail": f"{_n(ev['attributed'])} of {_n(ev['events'])} events",
        },
        {
            "label": "Customers connected across silos",
            "value": _pct(conn["multi_silo"]),
            "detail": f"of {_n(conn['customers'])} customers with events in the period: records from 2+ silos",
        },
        {
            "label": "Customers on 2+ channels",
            "value": _pct(conn["multi_channel"]),
            "detail": f"of {_n(conn['customers'])} customers",
        },
    ]
    if has_rows(engine, "episodes"):
        ep = engine.records(f"""
            SELECT count(*) AS episodes,
                   avg(CASE WHEN n_contacts >= 2 THEN 1.0 ELSE 0.0 END) AS multi_contact,
                   count(CASE WHEN n_contacts >= 2 THEN 1 END) AS n_multi
            FROM episodes e WHERE {sc.episodes("e")}""")[0]
        s["kpis"].append(
            {
                "label": "Episodes (needs)",
                "value": _n(ep["episodes"]),
                "detail": f"{_pct(ep['multi_contact'])} needed 2+ contacts",
                "drill": drill("episodes"),
            }
        )
        if ep["episodes"] and has_rows(engine, "friction") and ep["n_multi"]:
            rep = engine.scalar(f"""
                SELECT count(DISTINCT f.episode_id) FROM friction f JOIN episodes e ON e.episode_id = f.episode_id
                WHERE f.kind = 'info_asked_twice' AND e.n_contacts >= 2 AND {sc.episodes("e")}""")
            s["kpis"].append(
                {
                    "label": "Repeat-yourself rate",
                    "value": _pct((rep or 0) / ep["n_multi"]),
                    "detail": f"{_n(rep)} of {_n(ep['n_multi'])} episodes with 2+ contacts: the customer "
                    "re-stated information already given",
                    "drill": drill("repeat_yourself"),
                }
            )
        if ep["episodes"] and has_rows(engine, "friction"):
            top = engine.records(f"""
                SELECT f.kind, count(*) AS frictions, count(DISTINCT f.episode_id) AS episodes
                FROM friction f JOIN episodes e ON e.episode_id = f.episode_id WHERE {sc.episodes("e")}
                GROUP BY f.kind ORDER BY episodes DESC, f.kind""")
            gaps = _friction_nps_gap(engine, sc)
            rows, links = [], []
            for r in top:
                g = gaps.get(r["kind"])
                rows.append(
                    [
                        r["kind"],
                        _n(r["frictions"]),
                        _n(r["episodes"]),
                        _pct(r["episodes"] / ep["episodes"]),
                        "n/a" if g is None else f"{g['gap']:+.1f} (n={g['n_with']:,} / {g['n_without']:,})",
                    ]
                )
                links.append([None, None, drill("episode_friction", fkind=r["kind"]), None, None])
            s["tables"].append(
                {
                    "title": "Top frictions (episodes that started in the period)",
                    "columns": [
                        "friction",
                        "occurrences",
                        "episodes",
                        "share of episodes",
                        "NPS with minus without (observed, not causal)",
                    ],
                    "rows": rows,
                    "drill": links,
                }
            )
    if has_rows(engine, "surveys"):
        nps = _nps(engine, sc)
        if nps.get("n"):
            s["kpis"].append(
                {
                    "label": "NPS",
                    "value": f"{nps['nps']:+.0f}",
                    "detail": f"95% CI {nps['ci95'][0]:+.0f} to {nps['ci95'][1]:+.0f}, "
                    f"{nps['n']:,} answers in the period",
                }
            )
    return s


def source_of_seq(engine: Engine, col: str, limit: int = 256) -> str | None:
    """An expression giving the source of the event whose ``seq`` is ``col``, from the seq ranges of the
    ingest runs (every run numbers its events in a range of its own; D3), adjacent runs of one source
    merged. None when there are more than ``limit`` ranges (then join the events)."""
    runs = engine.execute(
        "SELECT source, first_seq, last_seq FROM ingest_runs WHERE first_seq IS NOT NULL ORDER BY first_seq"
    )
    ranges: list[list[Any]] = []
    for src, lo, hi in runs:
        if ranges and ranges[-1][0] == src:
            ranges[-1][2] = max(ranges[-1][2], hi)
        else:
            ranges.append([src, lo, hi])
    if not ranges or len(ranges) > limit:
        return None
    whens = " ".join(f"WHEN {col} BETWEEN {int(lo)} AND {int(hi)} THEN {lit(src)}" for src, lo, hi in ranges)
    return f"CASE {whens} END"


def _nps(engine: Engine, sc: Scope, where: str = "") -> dict[str, Any]:
    from ..voc.metrics import nps_figures

    r = engine.records(f"""
        SELECT count(*) AS n, count(CASE WHEN nps_class = 'promoter' THEN 1 END) AS promoters,
               count(CASE WHEN nps_class = 'detractor' THEN 1 END) AS detractors
        FROM surveys s WHERE s.kind = 'nps' AND {sc.surveys("s")} {where}""")[0]
    return nps_figures(int(r["n"]), int(r["promoters"]), int(r["detractors"]))


def _friction_nps_gap(engine: Engine, sc: Scope) -> dict[str, dict[str, Any]]:
    """NPS of answered episodes with each friction minus NPS of answered episodes without it (observed)."""
    if not has_rows(engine, "surveys"):
        return {}
    rows = engine.records(f"""
        WITH answered AS (
            SELECT ee.episode_id, max(CASE s.nps_class WHEN 'promoter' THEN 100 WHEN 'detractor' THEN -100
                                      ELSE 0 END) AS v
            FROM surveys s JOIN episode_events ee ON ee.seq = coalesce(s.context_seq, s.seq)
            WHERE s.kind = 'nps' AND {sc.surveys("s")} GROUP BY ee.episode_id),
        kinds AS (SELECT DISTINCT kind FROM friction),
        flags AS (
            SELECT k.kind, a.episode_id, a.v,
                   EXISTS (SELECT 1 FROM friction f WHERE f.episode_id = a.episode_id AND f.kind = k.kind) AS has
            FROM kinds k CROSS JOIN answered a)
        SELECT kind, avg(CASE WHEN has THEN v END) AS with_f, avg(CASE WHEN NOT has THEN v END) AS without_f,
               count(CASE WHEN has THEN 1 END) AS n_with, count(CASE WHEN NOT has THEN 1 END) AS n_without
        FROM flags GROUP BY kind""")
    return {
        r["kind"]: {"gap": r["with_f"] - r["without_f"], "n_with": r["n_with"], "n_without": r["n_without"]}
        for r in rows
        if r["with_f"] is not None and r["without_f"] is not None and r["n_with"] >= 10
    }


# --- 2. journey map and Sankey --------------------------------------------------------------------


def journey_map(engine: Engine, sc: Scope) -> Section:
    s = _section(
        "journey-map",
        "Journey map: who hands over to whom",
        sc,
        "episodes that started in the period (consecutive events with a department, and channel steps)",
    )
    if not has_rows(engine, "episodes"):
        return _missing(s, "No episodes yet: run `ordito analyze`.")
    # one pass: the edges, and (the empty grouping set) the episodes with any handover
    rows = engine.records(f"""
        SELECT source, target, count(*) AS frequency, count(DISTINCT episode_id) AS cases,
               avg(seconds) AS mean_seconds, grouping(source, target) AS total
        FROM ({handover_pairs_sql(sc)}) AS h GROUP BY GROUPING SETS ((source, target), ())""")
    edges = [r for r in rows if not r["total"]]
    cases = next((r["cases"] for r in rows if r["total"]), 0)
    if edges:
        labels = sorted({e["source"] for e in edges} | {e["target"] for e in edges})
        cell = {(e["source"], e["target"]): e for e in edges}
        z: list[list[float | None]] = [
            [cell[(a, b)]["frequency"] if (a, b) in cell else None for b in labels] for a in labels
        ]
        custom = [
            [_custom(drill("handover", src=a, dst=b)) if (a, b) in cell else "" for b in labels]
            for a in labels
        ]
        s["figures"].append(
            charts.heatmap(
                f"Directly-follows between departments ({cases or 0:,} episodes with a handover)",
                labels,
                labels,
                z,
                x="next department",
                y="department",
                colorbar="times",
                customdata=custom,
            )
        )
        top = sorted(
            (e for e in edges if e["source"] != e["target"]), key=lambda e: (-e["frequency"], e["source"])
        )[:15]
        s["tables"].append(
            {
                "title": "Biggest handovers between departments",
                "columns": ["from", "to", "times", "episodes", "mean time between"],
                "rows": [
                    [
                        e["source"],
                        e["target"],
                        _n(e["frequency"]),
                        _n(e["cases"]),
                        duration(e["mean_seconds"]),
                    ]
                    for e in top
                ],
                "drill": [
                    [None, None, drill("handover", src=e["source"], dst=e["target"]), None, None] for e in top
                ],
            }
        )
    paths = engine.records(f"""
        SELECT path, count(*) AS episodes, sum(count(*)) OVER () AS total
        FROM ({paths_sql(sc, steps_table(engine, sc), min_steps=2)}) AS p
        GROUP BY path ORDER BY episodes DESC, path LIMIT 12""")
    if paths:
        total = int(paths[0]["total"])
        s["tables"].append(
            {
                "title": f"Most common paths across channels ({total:,} episodes that changed channel; "
                "consecutive events on one channel are one step)",
                "columns": ["path", "episodes", "share of those episodes"],
                "rows": [[r["path"], _n(r["episodes"]), _pct(r["episodes"] / total)] for r in paths],
                "drill": [[None, drill("path", path=r["path"]), None] for r in paths],
            }
        )
    if not edges and not paths:
        return _missing(s, "No handovers or channel changes in the episodes of the period.")
    return s


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


SANKEY_STEPS = 5


def channel_sankey(engine: Engine, sc: Scope) -> Section:
    s = _section(
        "sankey",
        "Channel transitions inside episodes",
        sc,
        f"episodes that started in the period, their first {SANKEY_STEPS} channel steps",
    )
    if not has_rows(engine, "episodes"):
        return _missing(s, "No episodes yet: run `ordito analyze`.")
    rows = engine.records(f"""
        WITH st AS (SELECT * FROM {steps_table(engine, sc)} WHERE step <= {SANKEY_STEPS + 1})
        SELECT a.step, a.channel AS source, b.channel AS target, count(*) AS cases
        FROM st AS a LEFT JOIN st AS b ON b.episode_id = a.episode_id AND b.step = a.step + 1
        WHERE a.step <= {SANKEY_STEPS}
        GROUP BY a.step, a.channel, b.channel
        ORDER BY a.step, cases DESC, source, target NULLS LAST""")
    if not any(r["target"] is not None for r in rows):
        return _missing(s, "No channel transitions in the episodes of the period.")
    index: dict[tuple[int, str], int] = {}
    nodes: list[dict[str, Any]] = []

    def node(step: int, channel: str) -> int:
        if (step, channel) not in index:
            index[(step, channel)] = len(nodes)
            nodes.append({"step": step, "channel": channel})
        return index[(step, channel)]

    links = []
    for r in rows:
        a = node(r["step"], r["source"])
        b = node(r["step"] + 1, r["target"] if r["target"] is not None else "(end)")
        d = drill("sankey", step=r["step"], src=r["source"], dst=r["target"] or "(end)")
        links.append({"source": a, "target": b, "cases": r["cases"], "customdata": _custom(d)})
    s["base"] = (
        f"{sum(r['cases'] for r in rows if r['step'] == 1):,} episodes that started in the period, "
        f"their first {SANKEY_STEPS} channel steps"
    )
    s["figures"].append(charts.sankey("Where customers go next, step by step", nodes, links))
    return s


# --- 3. friction heat map and KPIs ------------------------------------------------------------------


def friction_heatmap(engine: Engine, sc: Scope) -> Section:
    s = _section("friction", "Friction by department and kind", sc, "frictions detected in the period")
    if not has_rows(engine, "friction"):
        return _missing(s, "No frictions yet: run `ordito analyze`.")
    rows = engine.records(f"""
        SELECT f.department, f.kind, count(*) AS n, count(DISTINCT f.episode_id) AS episodes
        FROM friction f WHERE {sc.frictions("f")} GROUP BY 1, 2""")
    if not rows:
        return _missing(s, "No frictions in the period with these filters.")
    for r in rows:
        r["label"] = r["department"] or "(no department)"
    depts = sorted(
        {r["label"] for r in rows}, key=lambda d: (-sum(r["n"] for r in rows if r["label"] == d), d)
    )
    kinds = sorted({r["kind"] for r in rows}, key=lambda k: (-sum(r["n"] for r in rows if r["kind"] == k), k))
    cell = {(r["label"], r["kind"]): r for r in rows}
    dept_value = {r["label"]: r["department"] or NO_DEPARTMENT for r in rows}
    z: list[list[float | None]] = [
        [cell[(d, k)]["n"] if (d, k) in cell else None for k in kinds] for d in depts
    ]
    custom = [
        [_custom(drill("friction", fkind=k, fdept=dept_value[d])) if (d, k) in cell else "" for k in kinds]
        for d in depts
    ]
    total = sum(r["n"] for r in rows)
    episodes = engine.scalar(f"SELECT count(DISTINCT f.episode_id) FROM friction f WHERE {sc.frictions('f')}")
    s["base"] = f"{total:,} frictions detected in the period"
    s["kpis"].append(
        {
            "label": "Frictions",
            "value": _n(total),
            "detail": f"in {_n(episodes)} episodes",
            "drill": drill("friction"),
        }
    )
    s["figures"].append(
        charts.heatmap(
            "Frictions by department (rows) and kind (columns)",
            depts,
            kinds,
            z,
            x="friction kind",
            y="department",
            colorbar="frictions",
            text=[[("" if v is None else f"{int(v):,}") for v in row] for row in z],
            customdata=custom,
        )
    )
    return s


#: (key of ordito.journeys.kpis.kpis, column title, format)
KPI_COLUMNS = [
    ("contacts", "contacts", "n"),
    ("episodes", "episodes (needs)", "n"),
    ("fcr", "first-contact resolution", "pct"),
    ("repeat_contact_rate", "repeat-contact rate", "pct"),
    ("transfer_rate", "transfer rate", "pct"),
    ("unanswered_rate", "unanswered", "pct"),
    ("service_level", "service level", "pct"),
    ("voice_wait_seconds", "mean wait, voice", "dur"),
    ("chat_wait_seconds", "mean wait, chat", "dur"),
    ("avg_handle_seconds", "mean handling", "dur"),
    ("self_service_containment", "self-service containment", "pct"),
    ("digital_to_assisted_leakage", "digital-to-assisted leakage", "pct"),
    ("avg_hours_to_resolution", "mean hours to resolution", "f1"),
    ("avg_effort", "customer effort", "f1"),
    ("own_view_resolution", "resolution, the department's own view", "pct"),
    ("lived_resolution", "resolution, as the customer lived it", "pct"),
    ("resolution_gap", "gap (own view minus lived)", "pp"),
]


def _fmt(v: Any, how: str) -> str:
    if v is None:
        return "n/a"
    if how == "n":
        return f"{int(v):,}"
    if how == "pct":
        return _pct(float(v))
    if how == "pp":
        return f"{100 * float(v):+.1f} pp"
    if how == "dur":
        return duration(float(v))
    return f"{float(v):.1f}"


def scoped_engine(engine: Engine, sc: Scope) -> Engine:
    """``engine`` with the journeys tables read through the scope's episodes (for ordito.journeys.kpis)."""
    if sc.everything:
        return engine
    ids = f"episode_id IN ({sc.episode_ids()})"
    return RestrictedEngine(
        engine, {"episodes": ids, "episode_contacts": ids, "episode_events": ids, "friction": ids}
    )


def kpi_table(engine: Engine, sc: Scope) -> Section:
    s = _section(
        "kpis",
        "KPIs per team next to end to end",
        sc,
        "the contacts and needs of the episodes that started in the period (docs/JOURNEYS.md defines "
        "each KPI; contacts by the team that took them, needs by the team of their first contact)",
    )
    if not has_rows(engine, "episodes"):
        return _missing(s, "No episodes yet: run `ordito analyze`.")
    from ..journeys.kpis import kpis

    scoped = scoped_engine(engine, sc)
    overall = [r for r in kpis(scoped, "overall") if r.get("contacts") or r.get("episodes")]
    by_dept = kpis(scoped, "department")
    if not overall and not by_dept:
        return _missing(s, "No contacts or service needs in the episodes of the period.")
    present = [c for c in KPI_COLUMNS if any(r.get(c[0]) is not None for r in overall + by_dept)]
    rows, links = [], []

    def row_links(team: str) -> list[Drill | None]:
        out: list[Drill | None] = [None]
        for k, _, _ in present:
            out.append(drill("kpi", team=team, measure=k) if k in ("contacts", "episodes") else None)
        return out

    for r in by_dept:
        rows.append([str(r.get("key"))] + [_fmt(r.get(k), how) for k, _, how in present])
        links.append(row_links(str(r.get("key"))))
    for r in overall:
        rows.append(["end to end (all departments)"] + [_fmt(r.get(k), how) for k, _, how in present])
        links.append(row_links("all"))
    s["tables"].append(
        {
            "title": "Per department, and end to end",
            "columns": ["team"] + [c[1] for c in present],
            "rows": rows,
            "drill": links,
        }
    )
    gaps = [(str(r["key"]), r["resolution_gap"]) for r in by_dept if r.get("resolution_gap") is not None]
    if gaps:
        gaps.sort(key=lambda g: (-g[1], g[0]))
        s["figures"].append(
            charts.bar(
                "Resolution a department credits itself with, minus what its customers lived end to end",
                [g[0] for g in gaps],
                [round(100 * g[1], 1) for g in gaps],
                x="percentage points",
                y="department",
                horizontal=True,
                customdata=[_custom(drill("kpi", team=g[0], measure="contacts")) for g in gaps],
            )
        )
    return s


# --- 4. voice of the customer ------------------------------------------------------------------------


def sentiment_topics(engine: Engine, sc: Scope) -> Section:
    s = _section("voc", "Sentiment and topics over time", sc, "texts written by customers in the period")
    if not has_rows(engine, "voc"):
        return _missing(s, "No analysed texts yet: run `ordito analyze` (voice-of-the-customer stage).")
    where = f"v.author = 'customer' AND {sc.events('e')}"
    rows = engine.records(f"""
        SELECT CAST(date_trunc('month', e.occurred_at) AS DATE) AS month, e.channel,
               count(*) AS texts, avg(CASE WHEN v.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative
        FROM voc v JOIN events e ON e.seq = v.seq
        WHERE {where}
        GROUP BY 1, 2 ORDER BY 1, 2""")
    if not rows:
        return _missing(s, "No customer texts in the period with these filters.")
    texts = sum(r["texts"] for r in rows)
    s["base"] = f"{texts:,} texts written by customers in the period"
    series: dict[str, tuple[list[Any], list[float]]] = {}
    custom: dict[str, list[str]] = {}
    for ch in sorted({r["channel"] for r in rows}):
        pts = [r for r in rows if r["channel"] == ch and r["texts"] >= 5]
        if pts:
            series[ch] = ([str(r["month"]) for r in pts], [round(100 * r["negative"], 1) for r in pts])
            custom[ch] = [
                _custom(drill("texts", tchannel=ch, month=str(r["month"]), sentiment="negative")) for r in pts
            ]
    if series:
        s["figures"].append(
            charts.stacked_lines(
                "Share of negative texts by channel and month (months with 5+ texts)",
                series,
                x="month",
                y="% negative",
                colors=charts.CHANNEL_COLORS,
                customdata=custom,
            )
        )
    if has_rows(engine, "voc_topics"):
        trows = engine.records(f"""
            SELECT t.topic_id, coalesce(min(l.label), t.topic_id) AS label, count(*) AS texts,
                   avg(CASE WHEN v.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative
            FROM voc_topics t JOIN voc v ON v.seq = t.seq JOIN events e ON e.seq = t.seq
            LEFT JOIN topic_labels l ON l.topic_id = t.topic_id AND l.language = 'en'
            WHERE {where}
            GROUP BY t.topic_id ORDER BY texts DESC, t.topic_id LIMIT 12""")
        if trows:
            s["figures"].append(
                charts.bar(
                    "Topics customers write about (texts), with the share negative",
                    [r["label"] for r in trows],
                    [r["texts"] for r in trows],
                    x="texts",
                    y="topic",
                    horizontal=True,
                    text=[_pct(r["negative"], 0) + " negative" for r in trows],
                    customdata=[_custom(drill("topic", topic=r["topic_id"])) for r in trows],
                )
            )
            top = [r["topic_id"] for r in trows[:6]]
            marks = ", ".join(lit(t) for t in top)
            mrows = engine.records(f"""
                SELECT CAST(date_trunc('month', e.occurred_at) AS DATE) AS month, t.topic_id, count(*) AS texts
                FROM voc_topics t JOIN voc v ON v.seq = t.seq JOIN events e ON e.seq = t.seq
                WHERE {where} AND t.topic_id IN ({marks})
                GROUP BY 1, 2 ORDER BY 1""")
            labels = {r["topic_id"]: r["label"] for r in trows}
            palette = ["#0072B2", "#E69F00", "#009E73", "#D55E00", "#CC79A7", "#56B4E9"]
            tseries: dict[str, tuple[list[Any], list[float]]] = {}
            for t in top:
                pts = [r for r in mrows if r["topic_id"] == t]
                tseries[labels[t]] = ([str(r["month"]) for r in pts], [r["texts"] for r in pts])
            s["figures"].append(
                charts.stacked_lines(
                    "The six biggest topics by month",
                    tseries,
                    x="month",
                    y="texts",
                    colors={labels[t]: palette[i] for i, t in enumerate(top)},
                )
            )
    if has_rows(engine, "surveys"):
        nps_rows, links = [], []
        channels = engine.execute(
            f"SELECT DISTINCT s.channel FROM surveys s WHERE s.kind = 'nps' AND {sc.surveys('s')} "
            "ORDER BY 1 NULLS LAST"
        )
        for (ch,) in channels:
            where_ch = "AND s.channel IS NULL" if ch is None else f"AND s.channel = {lit(ch)}"
            f = _nps(engine, sc, where_ch)
            if f.get("n"):
                nps_rows.append(
                    [
                        ch or "(unknown)",
                        f"{f['nps']:+.0f}",
                        f"{f['ci95'][0]:+.0f} to {f['ci95'][1]:+.0f}",
                        _n(f["n"]),
                    ]
                )
                links.append([None, None, None, drill("nps", nchannel=ch or NO_DEPARTMENT)])
        if nps_rows:
            s["tables"].append(
                {
                    "title": "NPS by the channel of the contact surveyed (95% confidence interval)",
                    "columns": ["channel", "NPS", "95% CI", "answers"],
                    "rows": nps_rows,
                    "drill": links,
                }
            )
    return s


# --- 5. funnels per need ----------------------------------------------------------------------------

#: stage -> (label, condition on an ``episodes`` row aliased ``{a}``)
FUNNEL_STAGES = {
    "started": ("episodes started", "TRUE"),
    "ended": ("ended (not open)", "{a}.outcome <> 'open'"),
    "done": ("resolved or converted", "{a}.outcome IN ('resolved', 'converted')"),
    "smooth": (
        "… and without any friction",
        "{a}.outcome IN ('resolved', 'converted') AND {a}.n_frictions = 0",
    ),
}


def funnels(engine: Engine, sc: Scope) -> Section:
    s = _section("funnels", "Funnels per need", sc, "episodes that started in the period")
    if not has_rows(engine, "episodes"):
        return _missing(s, "No episodes yet: run `ordito analyze`.")
    counts = ",\n".join(
        f"count(CASE WHEN {cond.format(a='e')} THEN 1 END) AS {k}" for k, (_, cond) in FUNNEL_STAGES.items()
    )
    rows = engine.records(f"""
        SELECT e.intent, {counts}
        FROM episodes e WHERE {sc.episodes("e")}
        GROUP BY e.intent ORDER BY started DESC, e.intent""")
    if not rows:
        return _missing(s, "No episodes in the period with these filters.")
    s["base"] = f"{sum(r['started'] for r in rows):,} episodes that started in the period"
    top = rows[:10]
    series = {
        label: [round(100 * r[k] / r["started"], 1) for r in top]
        for k, (label, _) in FUNNEL_STAGES.items()
        if k != "started"
    }
    custom = {
        label: [_custom(drill("funnel", fneed=r["intent"], stage=k)) for r in top]
        for k, (label, _) in FUNNEL_STAGES.items()
        if k != "started"
    }
    s["figures"].append(
        charts.grouped_bars(
            "How far episodes get, per need (10 largest needs; 100% = episodes started)",
            [f"{r['intent']} ({r['started']:,})" for r in top],
            series,
            x="need (episodes)",
            y="% of episodes",
            colors=["#9ECAE1", "#4292C6", "#08519C"],
            suffix="%",
            customdata=custom,
        )
    )
    s["tables"].append(
        {
            "title": "Per need",
            "columns": [
                "need",
                "episodes",
                "ended",
                "resolved or converted",
                "without friction",
                "share resolved",
            ],
            "rows": [
                [
                    r["intent"],
                    _n(r["started"]),
                    _n(r["ended"]),
                    _n(r["done"]),
                    _n(r["smooth"]),
                    _pct(r["done"] / r["started"]),
                ]
                for r in rows
            ],
            "drill": [
                [None] + [drill("funnel", fneed=r["intent"], stage=k) for k in FUNNEL_STAGES] + [None]
                for r in rows
            ],
        }
    )
    return s


# --- 6. data quality ----------------------------------------------------------------------------------


def data_quality(engine: Engine, sc: Scope) -> Section:
    from ..analytics import identifiers_by_kind_sql, quarantine_reasons_sql

    s = _section(
        "quality",
        "Data quality and identity",
        sc,
        "every ingest run and identifier in the workspace (not filtered: quarantined records have no "
        "customer, need or reliable date)",
    )
    s["period"] = "all time"
    # what the section shows of ordito.analytics.overview, without its per-source and per-channel scans;
    # coverage from event_customer alone (one row per resolved event), no join with the events
    o: dict[str, Any] = {
        "quarantine": engine.records(quarantine_reasons_sql()),
        "identifiers": engine.records(identifiers_by_kind_sql()),
        "coverage": engine.records("""
            SELECT (SELECT count(*) FROM events) AS events, count(customer_key) AS with_customer,
                   count(CASE WHEN ambiguous THEN 1 END) AS ambiguous FROM event_customer""")[0],
    }
    cov = o["coverage"]
    cov["share_with_customer"] = cov["with_customer"] / cov["events"] if cov["events"] else None
    runs = engine.records("""
        SELECT source, sum(rows_in) AS rows_in, sum(events_new) AS events, sum(duplicates) AS duplicates,
               sum(quarantined) AS quarantined FROM ingest_runs GROUP BY source ORDER BY source""")
    s["tables"].append(
        {
            "title": "Records read per source: rows in = new events + duplicates + quarantined",
            "columns": ["source", "rows in", "events", "duplicates", "quarantined", "quarantined share"],
            "rows": [
                [
                    r["source"],
                    _n(r["rows_in"]),
                    _n(r["events"]),
                    _n(r["duplicates"]),
                    _n(r["quarantined"]),
                    _pct((r["quarantined"] or 0) / r["rows_in"], 2) if r["rows_in"] else "n/a",
                ]
                for r in runs
            ],
        }
    )
    q = o["quarantine"]
    if q:
        agg: dict[str, int] = defaultdict(int)
        for r in q:
            agg[r["reason"]] += int(r["records"])
        top = sorted(agg.items(), key=lambda kv: (-kv[1], kv[0]))[:12]
        s["figures"].append(
            charts.bar(
                "Why records were quarantined (all sources)",
                [k for k, _ in top],
                [v for _, v in top],
                x="records",
                y="reason",
                horizontal=True,
            )
        )
    ids = o["identifiers"]
    if ids:
        kinds = sorted({r["kind"] for r in ids})
        statuses = sorted({r["status"] for r in ids})
        cell = {(r["kind"], r["status"]): r["identifiers"] for r in ids}
        s["tables"].append(
            {
                "title": "Identifiers by kind and status (shared and placeholder ones are kept out of merging)",
                "columns": ["kind", *statuses],
                "rows": [[k] + [_n(cell.get((k, st), 0)) for st in statuses] for k in kinds],
            }
        )
    s["kpis"] += [
        {
            "label": "Events with a customer",
            "value": _pct(cov["share_with_customer"]),
            "detail": f"{_n(cov['with_customer'])} of {_n(cov['events'])}; {_n(cov['ambiguous'])} only on shared identifiers",
        }
    ]
    merges = engine.records(
        "SELECT action, count(*) AS n FROM identity_changes GROUP BY action ORDER BY n DESC, action"
    )
    if merges:
        s["kpis"].append(
            {
                "label": "Identity changes recorded",
                "value": _n(sum(r["n"] for r in merges)),
                "detail": ", ".join(f"{r['action']} {r['n']:,}" for r in merges),
            }
        )
    return s


SectionBuilder = Callable[[Engine, Scope], Section]

SECTIONS: tuple[SectionBuilder, ...] = (
    summary,
    journey_map,
    channel_sankey,
    friction_heatmap,
    kpi_table,
    sentiment_topics,
    funnels,
    data_quality,
)
#: section id -> builder
BY_ID: dict[str, SectionBuilder] = {
    "summary": summary,
    "journey-map": journey_map,
    "sankey": channel_sankey,
    "friction": friction_heatmap,
    "kpis": kpi_table,
    "voc": sentiment_topics,
    "funnels": funnels,
    "quality": data_quality,
}
#: sections that ignore every filter but the period (or all of them)
UNFILTERED = {"quality"}


def build_section(
    engine: Engine, sc: Scope, sid: str, segment_labels: dict[str, str] | None = None
) -> Section:
    """One section by id, with the filters it applied stated."""
    sec = BY_ID[sid](engine, sc)
    if sid not in UNFILTERED:
        sec["filters"] = sc.filters.describe(segment_labels)
    return sec


def build(
    engine: Engine,
    since: dt.date | None = None,
    until: dt.date | None = None,
    filters: Filters | None = None,
) -> dict[str, Any]:
    """Every section of the report, in order, with the period and when it was generated.

    ``since``/``until`` are shorthands for the period of ``filters``.
    """
    f = filters or Filters()
    if since or until:
        f = Filters(since or f.since, until or f.until, f.channel, f.department, f.need, f.segment)
    sc = make_scope(engine, f)
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if sc is None:
        return {"period": None, "generated_at": generated.isoformat(), "filters": "", "sections": []}
    labels = None
    if f.segment:
        from .segments import segmentation

        labels = segmentation(engine).labels
    return {
        "period": sc.period.label(),
        "generated_at": generated.isoformat(),
        "filters": f.describe(labels),
        "sections": [build_section(engine, sc, sid, labels) for sid in BY_ID],
    }


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, default=str)
