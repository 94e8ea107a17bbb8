"""Store and read the drivers of detractors and lapsing (``ordito.voc.drivers``) for the report.

``ordito analyze`` refreshes the table ``drivers`` after the journeys stage (``--no-drivers`` skips it);
what the fit needed and why it could not run (too few answers) goes to ``meta`` under ``drivers``, so the
report says why a workspace has no drivers instead of showing an empty table.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import orjson

from ..errors import ConfigError
from ..store.base import Engine
from ._common import has_table

COLUMNS = (
    "rank",
    "driver",
    "kind",
    "name",
    "customers_exposed",
    "respondents_exposed",
    "nps_points_among_exposed",
    "nps_points_among_exposed_lo",
    "nps_points_among_exposed_hi",
    "detractor_share_change",
    "lapse_probability_change",
    "lapse_probability_change_lo",
    "lapse_probability_change_hi",
    "nps_gain_if_removed",
    "nps_gain_if_removed_lo",
    "nps_gain_if_removed_hi",
    "revenue_kept_per_year_eur",
    "revenue_kept_per_year_eur_lo",
    "revenue_kept_per_year_eur_hi",
    "computed_at",
)


def _row(d: dict[str, Any], at: dt.datetime) -> list[Any]:
    kind, _, name = str(d["driver"]).partition(":")

    def ci(k: str) -> list[Any]:
        v = d.get(k + "_ci95") or [None, None]
        return [v[0], v[1]]

    return [
        d["rank"],
        d["driver"],
        kind,
        name,
        d["customers_exposed"],
        d["respondents_exposed"],
        d["nps_points_among_exposed"],
        *ci("nps_points_among_exposed"),
        d["detractor_share_change"],
        d["lapse_probability_change"],
        *ci("lapse_probability_change"),
        d["nps_gain_if_removed"],
        *ci("nps_gain_if_removed"),
        d["revenue_kept_per_year_eur"],
        *ci("revenue_kept_per_year_eur"),
        at,
    ]


def _nan_to_none(v: Any) -> Any:
    return None if isinstance(v, float) and v != v else v


def refresh(engine: Engine, *, boots: int = 40, seed: int = 0) -> dict[str, Any]:
    """Fit the drivers and replace the table; returns what ``meta['drivers']`` now holds. A workspace with
    too few answers or no episodes gets an empty table and the reason (never an error: the report says it)."""
    from ..voc.drivers import run

    at = dt.datetime.now(dt.UTC).replace(tzinfo=None, microsecond=0)
    try:
        res = run(engine, boots=boots, seed=seed)
        info: dict[str, Any] = {
            "computed_at": at.isoformat(sep=" "),
            "customers": res.customers,
            "respondents": res.respondents,
            "lapse_base": res.lapse_base,
            "notes": res.notes,
            "reason": None,
        }
        rows = [[_nan_to_none(v) for v in _row(d, at)] for d in res.drivers]
    except ConfigError as exc:
        info = {"computed_at": at.isoformat(sep=" "), "reason": str(exc), "notes": []}
        rows = []
    engine.execute("BEGIN TRANSACTION")
    try:
        engine.execute("DELETE FROM drivers")
        if rows:
            marks = ", ".join("?" for _ in COLUMNS)
            for r in rows:
                engine.execute(f"INSERT INTO drivers ({', '.join(COLUMNS)}) VALUES ({marks})", r)
        engine.execute("DELETE FROM meta WHERE key = 'drivers'")
        engine.execute("INSERT INTO meta (key, value) VALUES ('drivers', ?)", [orjson.dumps(info).decode()])
        engine.execute("COMMIT")
    except Exception:
        engine.execute("ROLLBACK")
        raise
    info["drivers"] = len(rows)
    return info


def load(engine: Engine) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """(what ``refresh`` recorded, the drivers by rank); (None, []) when drivers were never computed, or on
    a workspace older than the table."""
    if not has_table(engine, "drivers"):
        return None, []
    row = engine.one("SELECT value FROM meta WHERE key = 'drivers'")
    if row is None:
        return None, []
    info: dict[str, Any] = orjson.loads(row[0])
    return info, engine.records(f"SELECT {', '.join(COLUMNS)} FROM drivers ORDER BY rank")
