"""Drivers stored by `ordito analyze` and shown in the executive summary ("top frictions by cost", "what to
fix first"). The drivers model itself is tested in tests/voc; here: what is stored is what the report shows,
and a workspace where drivers cannot be estimated says why."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ordito
from ordito.cli import app
from ordito.report import build
from ordito.report import drivers as store
from ordito.voc import drivers as model

from .test_report import _section


def _summary_table(report: dict[str, Any], title_start: str) -> dict[str, Any] | None:
    for t in _section(report, "summary")["tables"]:  # type: ignore[attr-defined]
        if t["title"].startswith(title_start):
            return t  # type: ignore[no-any-return]
    return None


def test_analyze_records_why_drivers_could_not_be_estimated(analyzed: Path) -> None:
    with ordito.Workspace(analyzed, read_only=True) as ws:
        info, rows = store.load(ws.engine)
        report = build(ws.engine)
        respondents = ws.sql("SELECT count(DISTINCT customer_key) FROM surveys WHERE kind = 'nps'")[0][0]
    assert info is not None, "ordito analyze stores the drivers (or why there are none)"
    if respondents >= 50:  # a generator change could give this small company enough answers
        pytest.skip("the company has enough NPS answers: the stored drivers are checked below")
    assert rows == [] and "Too few" in info["reason"]
    table = _summary_table(report, "What to fix first")
    assert table is not None and table["rows"] == [[info["reason"]]]
    # without drivers the frictions are listed by episodes, with the observed NPS gap
    assert _summary_table(report, "Top frictions (episodes")["columns"][-1].startswith(
        "NPS with minus without"
    )


def test_stored_drivers_are_what_the_summary_shows(
    analyzed: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "ws.duckdb"
    shutil.copy(analyzed, path)
    with ordito.Workspace(path) as ws:
        kinds = [r[0] for r in ws.sql("SELECT DISTINCT kind FROM friction ORDER BY 1")]
        assert len(kinds) >= 3
        # a fitted result (the model's own tests check the estimates); the friction kinds of the workspace,
        # with the last kind the most costly, so the cost order differs from the order by episodes
        fitted = model.DriverResult(customers=900, respondents=240, lapse_base=500, notes=["adjusted"])
        for i, kind in enumerate([*kinds[-1:], *kinds[:2], "topic:delivery"]):
            name = kind if kind.startswith("topic:") else f"friction:{kind}"
            gain = 9.0 - 2 * i
            fitted.drivers.append(
                {
                    "driver": name,
                    "rank": i + 1,
                    "customers_exposed": 100 + i,
                    "respondents_exposed": 30 + i,
                    "nps_points_among_exposed": 3 * gain,
                    "nps_points_among_exposed_ci95": [gain, 4 * gain],
                    "detractor_share_change": -0.1,
                    "lapse_probability_change": -0.02,
                    "lapse_probability_change_ci95": [-0.05, 0.01],
                    "nps_gain_if_removed": gain,
                    "nps_gain_if_removed_ci95": [gain - 1, gain + 1],
                    "revenue_kept_per_year_eur": 1000.0 * (i + 1),
                    "revenue_kept_per_year_eur_ci95": [-500.0, 3000.0 * (i + 1)],
                }
            )
        monkeypatch.setattr(model, "run", lambda engine, **kw: fitted)
        info = store.refresh(ws.engine)
        assert info["drivers"] == 4 and info["reason"] is None
        stored = store.load(ws.engine)[1]
        assert [d["driver"] for d in stored] == [d["driver"] for d in fitted.drivers]
        assert stored[0]["nps_gain_if_removed_lo"] == 8.0 and stored[3]["kind"] == "topic"
        report = build(ws.engine)
    fix = _summary_table(report, "What to fix first")
    assert fix is not None and len(fix["rows"]) == 4
    assert fix["rows"][0][:2] == ["1", f"friction: {kinds[-1]}"]
    assert fix["rows"][0][4] == "+9.0 (+8.0 to +10.0)"
    assert fix["rows"][3][6] == "4,000 (-500 to 12,000)"
    assert "900" in fix["note"] and "240" in fix["note"] and "adjusted" in fix["note"]
    top = _summary_table(report, "Top frictions by cost")
    assert top is not None and top["columns"][4] == "NPS points if removed (95% CI)"
    # by cost: the kinds the model weighed first, most costly first; the others after, marked
    assert [r[0] for r in top["rows"][:3]] == [kinds[-1], kinds[0], kinds[1]]
    assert all(r[4] == "too few answers" for r in top["rows"][3:])


def test_analyze_no_drivers_leaves_them_alone(analyzed: Path, tmp_path: Path) -> None:
    path = tmp_path / "ws.duckdb"
    shutil.copy(analyzed, path)
    with ordito.Workspace(path) as ws:
        ws.engine.execute("DELETE FROM meta WHERE key = 'drivers'")
    res = CliRunner().invoke(app, ["--workspace", str(path), "analyze", "--no-drivers"])
    assert res.exit_code == 0, res.output
    with ordito.Workspace(path, read_only=True) as ws:
        assert store.load(ws.engine) == (None, [])
