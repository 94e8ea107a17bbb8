"""How journeys go (sections 2-5 and 7 of the report): journey map, channel Sankey, friction heat map,
KPIs per team next to end to end, funnels per need."""

from __future__ import annotations

from typing import Any

from ..store.base import Engine
from . import charts
from ._common import Drill, Section, _custom, _fmt, _missing, _n, _pct, _section, drill, duration, has_rows
from .filters import NO_DEPARTMENT, RestrictedEngine, Scope
from .flows import handover_pairs_sql, paths_sql, steps_table

__all__ = [
    "FUNNEL_STAGES",
    "KPI_COLUMNS",
    "channel_sankey",
    "friction_heatmap",
    "funnels",
    "journey_map",
    "kpi_table",
    "scoped_engine",
]


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
