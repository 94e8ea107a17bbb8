"""What every section builder shares: the section dict, its drill-downs, number formats."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from ..store.base import Engine
from .filters import Scope

__all__ = ["Drill", "Section", "drill", "duration", "has_rows"]

Section = dict[str, Any]
Drill = dict[str, str]


def has_table(engine: Engine, table: str) -> bool:
    return bool(
        engine.scalar(
            "SELECT count(*) FROM information_schema.tables WHERE table_name = ? AND table_schema = 'main'",
            [table],
        )
    )


def has_rows(engine: Engine, table: str) -> bool:
    return has_table(engine, table) and bool(
        engine.scalar(f"SELECT count(*) FROM (SELECT 1 FROM {table} LIMIT 1) t")
    )


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


def _nps(engine: Engine, sc: Scope, where: str = "") -> dict[str, Any]:
    from ..voc.metrics import nps_figures

    r = engine.records(f"""
        SELECT count(*) AS n, count(CASE WHEN nps_class = 'promoter' THEN 1 END) AS promoters,
               count(CASE WHEN nps_class = 'detractor' THEN 1 END) AS detractors
        FROM surveys s WHERE s.kind = 'nps' AND {sc.surveys("s")} {where}""")[0]
    return nps_figures(int(r["n"]), int(r["promoters"]), int(r["detractors"]))
