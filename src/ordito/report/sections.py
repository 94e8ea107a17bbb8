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
from collections.abc import Callable
from typing import Any

from ..store.base import Engine
from ._common import Drill, Section, drill, duration, has_rows
from .filters import Filters, Period, Scope
from .views_journeys import (
    FUNNEL_STAGES,
    KPI_COLUMNS,
    channel_sankey,
    friction_heatmap,
    funnels,
    journey_map,
    kpi_table,
    scoped_engine,
)
from .views_summary import data_quality, source_of_seq, summary
from .views_voc import sentiment_topics

__all__ = [
    "BY_ID",
    "FUNNEL_STAGES",
    "KPI_COLUMNS",
    "SECTIONS",
    "Drill",
    "Period",
    "Scope",
    "Section",
    "build",
    "build_section",
    "drill",
    "duration",
    "has_rows",
    "make_scope",
    "scoped_engine",
    "source_of_seq",
    "workspace_period",
]


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
