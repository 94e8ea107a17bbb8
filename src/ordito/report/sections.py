"""The report's sections: each reads the workspace and returns what it shows, with its period and base.

A section is a dict: ``id``, ``title``, ``period`` (the dates its numbers cover), ``base`` (what they are
counted over), ``available`` (False with a ``note`` saying which stage to run when its tables are empty),
``kpis`` (headline figures: label, value, detail), ``figures`` (Plotly specs, see charts.py) and
``tables`` (``{"title", "columns", "rows"}``). Nothing is estimated here that the stages did not compute;
an observed gap is labelled as observed, never as an effect.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from ..store.base import Engine
from . import charts

Section = dict[str, Any]


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


def has_rows(engine: Engine, table: str) -> bool:
    exists = engine.scalar(
        "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'",
        [table],
    )
    return bool(exists) and bool(engine.scalar(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1) t"))


def _section(sid: str, title: str, period: Period, base: str) -> Section:
    return {
        "id": sid,
        "title": title,
        "period": period.label(),
        "base": base,
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


# --- 1. executive summary -----------------------------------------------------------------------------


def summary(engine: Engine, p: Period) -> Section:
    s = _section("summary", "Executive summary", p, "events that happened in the period")
    ev = engine.records(f"""
        SELECT count(*) AS events, count(DISTINCT e.source) AS sources, count(ec.customer_key) AS attributed,
               count(DISTINCT ec.customer_key) AS customers
        FROM events e LEFT JOIN event_customer ec ON ec.seq = e.seq WHERE {p.sql("e.occurred_at")}""")[0]
    if not ev["events"]:
        return _missing(s, "No events in the period.")
    conn = engine.records(f"""
        WITH per AS (
            SELECT ec.customer_key, count(DISTINCT e.source) AS silos, count(DISTINCT e.channel) AS channels
            FROM event_customer ec JOIN events e ON e.seq = ec.seq
            WHERE ec.customer_key IS NOT NULL AND {p.sql("ec.occurred_at")}
            GROUP BY ec.customer_key)
        SELECT count(*) AS customers, avg(CASE WHEN silos >= 2 THEN 1.0 ELSE 0.0 END) AS multi_silo,
               avg(CASE WHEN channels >= 2 THEN 1.0 ELSE 0.0 END) AS multi_channel
        FROM per""")[0]
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
            FROM episodes WHERE {p.sql("started_at")}""")[0]
        s["kpis"].append(
            {
                "label": "Episodes (needs)",
                "value": _n(ep["episodes"]),
                "detail": f"{_pct(ep['multi_contact'])} needed 2+ contacts",
            }
        )
        if has_rows(engine, "friction") and ep["n_multi"]:
            rep = engine.scalar(f"""
                SELECT count(DISTINCT f.episode_id) FROM friction f JOIN episodes e ON e.episode_id = f.episode_id
                WHERE f.kind = 'info_asked_twice' AND e.n_contacts >= 2 AND {p.sql("e.started_at")}""")
            s["kpis"].append(
                {
                    "label": "Repeat-yourself rate",
                    "value": _pct((rep or 0) / ep["n_multi"]),
                    "detail": f"of {_n(ep['n_multi'])} episodes with 2+ contacts, the customer re-stated "
                    "information already given",
                }
            )
            top = engine.records(f"""
                SELECT f.kind, count(*) AS frictions, count(DISTINCT f.episode_id) AS episodes
                FROM friction f JOIN episodes e ON e.episode_id = f.episode_id WHERE {p.sql("e.started_at")}
                GROUP BY f.kind ORDER BY episodes DESC, f.kind""")
            gaps = _friction_nps_gap(engine, p)
            rows = []
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
                }
            )
    if has_rows(engine, "surveys"):
        nps = _nps(engine, p)
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


def _nps(engine: Engine, p: Period, where: str = "") -> dict[str, Any]:
    from ..voc.metrics import nps_figures

    r = engine.records(f"""
        SELECT count(*) AS n, count(CASE WHEN nps_class = 'promoter' THEN 1 END) AS promoters,
               count(CASE WHEN nps_class = 'detractor' THEN 1 END) AS detractors
        FROM surveys WHERE kind = 'nps' AND {p.sql("answered_at")} {where}""")[0]
    return nps_figures(int(r["n"]), int(r["promoters"]), int(r["detractors"]))


def _friction_nps_gap(engine: Engine, p: Period) -> dict[str, dict[str, Any]]:
    """NPS of answered episodes with each friction minus NPS of answered episodes without it (observed)."""
    if not has_rows(engine, "surveys"):
        return {}
    rows = engine.records(f"""
        WITH answered AS (
            SELECT ee.episode_id, max(CASE s.nps_class WHEN 'promoter' THEN 100 WHEN 'detractor' THEN -100
                                      ELSE 0 END) AS v
            FROM surveys s JOIN episode_events ee ON ee.seq = coalesce(s.context_seq, s.seq)
            WHERE s.kind = 'nps' AND {p.sql("s.answered_at")} GROUP BY ee.episode_id),
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


def journey_map(engine: Engine, p: Period) -> Section:
    s = _section(
        "journey-map",
        "Journey map: who hands over to whom",
        p,
        "every episode in the workspace (directly-follows steps between departments, channels and activities)",
    )
    if not has_rows(engine, "episodes"):
        return _missing(s, "No episodes yet: run `ordito analyze`.")
    from ..journeys.maps import dfg

    m = dfg(engine, "episode", "department")
    follows = m.follows()
    labels = sorted({a for a, _ in follows} | {b for _, b in follows})
    if labels:
        z: list[list[float | None]] = [[follows.get((a, b)) for b in labels] for a in labels]
        s["figures"].append(
            charts.heatmap(
                f"Directly-follows between departments ({m.cases:,} episodes)",
                labels,
                labels,
                z,
                x="next step",
                y="step",
                colorbar="times",
            )
        )
        edges = sorted(
            (
                e
                for e in m.edges
                if e["source"] is not None and e["target"] is not None and e["source"] != e["target"]
            ),
            key=lambda e: -e["frequency"],
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
                        _n(e.get("cases")),
                        _dur(e.get("mean_seconds")),
                    ]
                    for e in edges
                ],
            }
        )
    paths = engine.records("""
        WITH ev AS (
            SELECT ee.episode_id, e.channel, e.occurred_at, e.seq,
                   lag(e.channel) OVER (PARTITION BY ee.episode_id ORDER BY e.occurred_at, e.seq) AS prev
            FROM episode_events ee JOIN events e ON e.seq = ee.seq),
        steps AS (SELECT episode_id, channel, occurred_at, seq FROM ev WHERE prev IS NULL OR prev <> channel),
        paths AS (
            SELECT episode_id, string_agg(channel, ' → ' ORDER BY occurred_at, seq) AS path, count(*) AS n
            FROM steps GROUP BY episode_id)
        SELECT path, count(*) AS episodes, sum(count(*)) OVER () AS total FROM paths WHERE n >= 2
        GROUP BY path ORDER BY episodes DESC, path LIMIT 12""")
    if paths:
        total = int(paths[0]["total"])
        s["tables"].append(
            {
                "title": f"Most common paths across channels ({total:,} episodes that changed channel; "
                "consecutive events on one channel are one step)",
                "columns": ["path", "episodes", "share of those episodes"],
                "rows": [[r["path"], _n(r["episodes"]), _pct(r["episodes"] / total)] for r in paths],
            }
        )
    return s


def _dur(seconds: float | None) -> str:
    if seconds is None:
        return "n/a"
    if seconds < 3600:
        return f"{seconds / 60:.0f} min"
    if seconds < 86400 * 2:
        return f"{seconds / 3600:.1f} h"
    return f"{seconds / 86400:.1f} days"


def channel_sankey(engine: Engine, p: Period) -> Section:
    s = _section(
        "sankey",
        "Channel transitions inside episodes",
        p,
        "every episode in the workspace, its first five channel steps",
    )
    if not has_rows(engine, "episodes"):
        return _missing(s, "No episodes yet: run `ordito analyze`.")
    from ..journeys.maps import sankey

    data = sankey(engine, "episode", max_steps=5)
    if not data.get("links"):
        return _missing(s, "No channel transitions.")
    s["figures"].append(charts.sankey("Where customers go next, step by step", data["nodes"], data["links"]))
    return s


# --- 3. friction heat map and KPIs ------------------------------------------------------------------


def friction_heatmap(engine: Engine, p: Period) -> Section:
    s = _section("friction", "Friction by department and kind", p, "frictions detected in the period")
    if not has_rows(engine, "friction"):
        return _missing(s, "No frictions yet: run `ordito analyze`.")
    rows = engine.records(f"""
        SELECT coalesce(department, '(no department)') AS department, kind, count(*) AS n
        FROM friction WHERE {p.sql("occurred_at")} GROUP BY 1, 2""")
    if not rows:
        return _missing(s, "No frictions in the period.")
    depts = sorted(
        {r["department"] for r in rows}, key=lambda d: -sum(r["n"] for r in rows if r["department"] == d)
    )
    kinds = sorted({r["kind"] for r in rows}, key=lambda k: -sum(r["n"] for r in rows if r["kind"] == k))
    cell = {(r["department"], r["kind"]): r["n"] for r in rows}
    z: list[list[float | None]] = [[cell.get((d, k)) for k in kinds] for d in depts]
    total = sum(r["n"] for r in rows)
    s["base"] = f"{total:,} frictions detected in the period"
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
        )
    )
    return s


_KPI_COLUMNS = [
    ("contacts", "contacts", "n"),
    ("episodes", "episodes", "n"),
    ("fcr", "first-contact resolution", "pct"),
    ("repeat_contact_rate", "repeat-contact rate", "pct"),
    ("transfer_rate", "transfer rate", "pct"),
    ("containment", "self-service containment", "pct"),
    ("leakage", "digital-to-assisted leakage", "pct"),
    ("mean_wait_seconds", "mean wait", "dur"),
    ("mean_handle_seconds", "mean handling", "dur"),
    ("median_resolution_hours", "median time to resolution (h)", "f1"),
    ("mean_effort", "customer effort", "f1"),
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
        return _dur(float(v))
    return f"{float(v):.1f}"


def kpi_table(engine: Engine, p: Period) -> Section:
    s = _section(
        "kpis",
        "KPIs per team next to end to end",
        p,
        "every contact and episode in the workspace (docs/JOURNEYS.md defines each KPI)",
    )
    if not has_rows(engine, "episodes"):
        return _missing(s, "No episodes yet: run `ordito analyze`.")
    from ..journeys.kpis import kpis

    overall = kpis(engine, "overall")
    by_dept = kpis(engine, "department")
    present = [c for c in _KPI_COLUMNS if any(c[0] in r for r in overall + by_dept)]
    rows = []
    for r in by_dept:
        rows.append([str(r.get("key"))] + [_fmt(r.get(k), how) for k, _, how in present])
    for r in overall:
        rows.append(["end to end (all departments)"] + [_fmt(r.get(k), how) for k, _, how in present])
    s["tables"].append(
        {
            "title": "Per department, and end to end",
            "columns": ["team"] + [c[1] for c in present],
            "rows": rows,
        }
    )
    gaps = [(str(r["key"]), r["resolution_gap"]) for r in by_dept if r.get("resolution_gap") is not None]
    if gaps:
        gaps.sort(key=lambda g: -g[1])
        s["figures"].append(
            charts.bar(
                "Resolution a department credits itself with, minus what its customers lived end to end",
                [g[0] for g in gaps],
                [round(100 * g[1], 1) for g in gaps],
                x="percentage points",
                y="department",
                horizontal=True,
            )
        )
    return s


# --- 4. voice of the customer ------------------------------------------------------------------------


def sentiment_topics(engine: Engine, p: Period) -> Section:
    s = _section("voc", "Sentiment and topics over time", p, "texts written by customers in the period")
    if not has_rows(engine, "voc"):
        return _missing(s, "No analysed texts yet: run `ordito analyze` (voice-of-the-customer stage).")
    rows = engine.records(f"""
        SELECT CAST(date_trunc('month', e.occurred_at) AS DATE) AS month, e.channel,
               count(*) AS texts, avg(CASE WHEN v.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative
        FROM voc v JOIN events e ON e.seq = v.seq
        WHERE v.author = 'customer' AND {p.sql("e.occurred_at")}
        GROUP BY 1, 2 ORDER BY 1, 2""")
    if not rows:
        return _missing(s, "No customer texts in the period.")
    texts = sum(r["texts"] for r in rows)
    s["base"] = f"{texts:,} texts written by customers in the period"
    series: dict[str, tuple[list[Any], list[float]]] = {}
    for ch in sorted({r["channel"] for r in rows}):
        pts = [r for r in rows if r["channel"] == ch and r["texts"] >= 5]
        if pts:
            series[ch] = ([str(r["month"]) for r in pts], [round(100 * r["negative"], 1) for r in pts])
    s["figures"].append(
        charts.stacked_lines(
            "Share of negative texts by channel and month (months with 5+ texts)",
            series,
            x="month",
            y="% negative",
            colors=charts.CHANNEL_COLORS,
        )
    )
    if has_rows(engine, "voc_topics"):
        trows = engine.records(f"""
            SELECT t.topic_id, coalesce(min(l.label), t.topic_id) AS label, count(*) AS texts,
                   avg(CASE WHEN v.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative
            FROM voc_topics t JOIN voc v ON v.seq = t.seq JOIN events e ON e.seq = t.seq
            LEFT JOIN topic_labels l ON l.topic_id = t.topic_id AND l.language = 'en'
            WHERE v.author = 'customer' AND {p.sql("e.occurred_at")}
            GROUP BY t.topic_id ORDER BY texts DESC LIMIT 12""")
        if trows:
            s["figures"].append(
                charts.bar(
                    "Topics customers write about (texts), coloured by share negative",
                    [r["label"] for r in trows],
                    [r["texts"] for r in trows],
                    x="texts",
                    y="topic",
                    horizontal=True,
                    text=[_pct(r["negative"], 0) + " negative" for r in trows],
                )
            )
            top = [r["topic_id"] for r in trows[:6]]
            marks = ", ".join(f"'{t}'" for t in top)
            mrows = engine.records(f"""
                SELECT CAST(date_trunc('month', e.occurred_at) AS DATE) AS month, t.topic_id, count(*) AS texts
                FROM voc_topics t JOIN voc v ON v.seq = t.seq JOIN events e ON e.seq = t.seq
                WHERE v.author = 'customer' AND t.topic_id IN ({marks}) AND {p.sql("e.occurred_at")}
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
        nps_rows = []
        for ch in [
            r[0]
            for r in engine.execute(
                f"SELECT DISTINCT channel FROM surveys WHERE kind = 'nps' AND {p.sql('answered_at')} ORDER BY 1"
            )
        ]:
            where = "AND channel IS NULL" if ch is None else f"AND channel = '{ch}'"
            f = _nps(engine, p, where)
            if f.get("n"):
                nps_rows.append(
                    [
                        ch or "(unknown)",
                        f"{f['nps']:+.0f}",
                        f"{f['ci95'][0]:+.0f} to {f['ci95'][1]:+.0f}",
                        _n(f["n"]),
                    ]
                )
        if nps_rows:
            s["tables"].append(
                {
                    "title": "NPS by the channel of the contact surveyed (95% confidence interval)",
                    "columns": ["channel", "NPS", "95% CI", "answers"],
                    "rows": nps_rows,
                }
            )
    return s


# --- 5. funnels per need ----------------------------------------------------------------------------


def funnels(engine: Engine, p: Period) -> Section:
    s = _section("funnels", "Funnels per need", p, "episodes that started in the period")
    if not has_rows(engine, "episodes"):
        return _missing(s, "No episodes yet: run `ordito analyze`.")
    rows = engine.records(f"""
        SELECT e.intent, count(*) AS episodes,
               count(CASE WHEN e.outcome <> 'open' THEN 1 END) AS ended,
               count(CASE WHEN e.outcome IN ('resolved', 'converted') THEN 1 END) AS done,
               count(CASE WHEN e.outcome IN ('resolved', 'converted') AND e.n_frictions = 0 THEN 1 END) AS smooth
        FROM episodes e WHERE {p.sql("e.started_at")}
        GROUP BY e.intent ORDER BY episodes DESC""")
    if not rows:
        return _missing(s, "No episodes in the period.")
    s["base"] = f"{sum(r['episodes'] for r in rows):,} episodes that started in the period"
    top = rows[:10]
    series = {
        "ended (not open)": [round(100 * r["ended"] / r["episodes"], 1) for r in top],
        "resolved or converted": [round(100 * r["done"] / r["episodes"], 1) for r in top],
        "… and without any friction": [round(100 * r["smooth"] / r["episodes"], 1) for r in top],
    }
    s["figures"].append(
        charts.grouped_bars(
            "How far episodes get, per need (10 largest needs; 100% = episodes started)",
            [f"{r['intent']} ({r['episodes']:,})" for r in top],
            series,
            x="need (episodes)",
            y="% of episodes",
            colors=["#9ECAE1", "#4292C6", "#08519C"],
            suffix="%",
        )
    )
    s["tables"].append(
        {
            "title": "Per need",
            "columns": ["need", "episodes", "resolved or converted", "without friction"],
            "rows": [
                [
                    r["intent"],
                    _n(r["episodes"]),
                    _pct(r["done"] / r["episodes"]),
                    _pct(r["smooth"] / r["episodes"]),
                ]
                for r in rows
            ],
        }
    )
    return s


# --- 6. data quality ----------------------------------------------------------------------------------


def data_quality(engine: Engine, p: Period) -> Section:
    from ..analytics import overview

    s = _section(
        "quality", "Data quality and identity", p, "every ingest run and identifier in the workspace"
    )
    o = overview(engine)
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
        top = sorted(agg.items(), key=lambda kv: -kv[1])[:12]
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
    cov = o["coverage"]
    s["kpis"] += [
        {
            "label": "Events with a customer",
            "value": _pct(cov["share_with_customer"]),
            "detail": f"{_n(cov['with_customer'])} of {_n(cov['events'])}; {_n(cov['ambiguous'])} only on shared identifiers",
        }
    ]
    merges = engine.records(
        "SELECT action, count(*) AS n FROM identity_changes GROUP BY action ORDER BY n DESC"
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


SECTIONS = (
    summary,
    journey_map,
    channel_sankey,
    friction_heatmap,
    kpi_table,
    sentiment_topics,
    funnels,
    data_quality,
)


def build(engine: Engine, since: dt.date | None = None, until: dt.date | None = None) -> dict[str, Any]:
    """Every section of the report, in order, with the period and when it was generated."""
    p = workspace_period(engine, since, until)
    generated = dt.datetime.now(dt.UTC).replace(microsecond=0)
    if p is None:
        return {"period": None, "generated_at": generated.isoformat(), "sections": []}
    return {
        "period": p.label(),
        "generated_at": generated.isoformat(),
        "sections": [fn(engine, p) for fn in SECTIONS],
    }


def to_json(report: dict[str, Any]) -> str:
    return json.dumps(report, default=str)
