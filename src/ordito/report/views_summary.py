"""The executive summary and the data-quality view (sections 1 and 8 of the report)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from ..store.base import Engine
from ..store.sqlutil import lit
from . import charts
from ._common import Section, _missing, _n, _nps, _pct, _section, drill, has_rows
from .drivers import load as load_drivers
from .filters import Scope

__all__ = ["data_quality", "source_of_seq", "summary"]


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
    info, drv = load_drivers(engine)
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
            cost = {d["name"]: d for d in drv if d["kind"] == "friction"}
            if cost:
                # "by cost": the frictions the drivers model could weigh first, by the NPS points removing them
                # would give the whole respondent base
                top.sort(
                    key=lambda r: (
                        r["kind"] not in cost,
                        -(cost.get(r["kind"], {}).get("nps_gain_if_removed") or 0),
                    )
                )
            gaps = {} if cost else _friction_nps_gap(engine, sc)
            rows, links = [], []
            for r in top:
                c = cost.get(r["kind"])
                g = gaps.get(r["kind"])
                last: list[Any]
                if cost:
                    last = (
                        [
                            _ci(c, "nps_gain_if_removed", "+.1f"),
                            _ci(c, "revenue_kept_per_year_eur", ",.0f"),
                        ]
                        if c
                        else ["too few answers", ""]
                    )
                else:
                    last = [
                        "n/a" if g is None else f"{g['gap']:+.1f} (n={g['n_with']:,} / {g['n_without']:,})"
                    ]
                rows.append(
                    [
                        r["kind"],
                        _n(r["frictions"]),
                        _n(r["episodes"]),
                        _pct(r["episodes"] / ep["episodes"]),
                        *last,
                    ]
                )
                links.append(
                    [None, None, drill("episode_friction", fkind=r["kind"]), None, *[None] * len(last)]
                )
            columns = ["friction", "occurrences", "episodes", "share of episodes"]
            if cost:
                columns += ["NPS points if removed (95% CI)", "revenue kept per year, EUR (95% CI)"]
            else:
                columns += ["NPS with minus without (observed, not causal)"]
            s["tables"].append(
                {
                    "title": "Top frictions by cost (episodes that started in the period)"
                    if cost
                    else "Top frictions (episodes that started in the period)",
                    "columns": columns,
                    "rows": rows,
                    "drill": links,
                    "note": "Cost: the drivers' estimates (the table below says how they are made)."
                    if cost
                    else "",
                }
            )
    if drv:
        s["tables"].append(
            {
                "title": "What to fix first: drivers of detractors and lapsing",
                "columns": [
                    "#",
                    "driver",
                    "customers exposed",
                    "NPS points among the exposed (95% CI)",
                    "NPS points for all respondents (95% CI)",
                    "lapse probability if removed (95% CI)",
                    "revenue kept per year, EUR (95% CI)",
                ],
                "rows": [
                    [
                        str(d["rank"]),
                        f"{d['kind']}: {d['name']}",
                        _n(d["customers_exposed"]),
                        _ci(d, "nps_points_among_exposed", "+.1f"),
                        _ci(d, "nps_gain_if_removed", "+.1f"),
                        _ci(d, "lapse_probability_change", "+.3f"),
                        _ci(d, "revenue_kept_per_year_eur", ",.0f"),
                    ]
                    for d in drv[:10]
                ],
                "note": _drivers_note(info),
            }
        )
    elif info is not None and info.get("reason"):
        s["tables"].append(
            {"title": "What to fix first", "columns": ["why there is no list"], "rows": [[info["reason"]]]}
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


def _ci(row: dict[str, Any], col: str, fmt: str) -> str:
    """``row[col]`` with its 95% interval (``col_lo``, ``col_hi``), formatted with ``fmt``."""
    v, lo, hi = row[col], row[col + "_lo"], row[col + "_hi"]
    if v is None:
        return "n/a"
    out = format(v, fmt)
    return out if lo is None or hi is None else f"{out} ({format(lo, fmt)} to {format(hi, fmt)})"


def _drivers_note(info: dict[str, Any] | None) -> str:
    if not info:
        return ""
    base = (
        f"Base: all customers with an episode with a contact or a friction ({info.get('customers', 0):,}), "
        f"{info.get('respondents', 0):,} of them with an NPS answer; computed by `ordito analyze` at "
        f"{info.get('computed_at')} over the whole workspace (not filtered). "
    )
    return base + "; ".join(info.get("notes") or []) + "."


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
