"""What customers say (section 6 of the report): sentiment and topics over time, NPS by channel."""

from __future__ import annotations

from typing import Any

from ..store.base import Engine
from ..store.sqlutil import lit
from . import charts
from ._common import Section, _custom, _missing, _n, _nps, _pct, _section, drill, has_rows
from .filters import NO_DEPARTMENT, Scope

__all__ = ["sentiment_topics"]


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
