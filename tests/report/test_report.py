"""`ordito report`: a self-contained HTML report whose numbers match the workspace."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ordito
from ordito.cli import app
from ordito.report import build, write_report


def _section(report: dict[str, object], sid: str) -> dict[str, object]:
    for s in report["sections"]:  # type: ignore[attr-defined]
        if s["id"] == sid:
            return s  # type: ignore[no-any-return]
    raise AssertionError(f"no section {sid}")


def test_report_is_self_contained_and_every_section_has_data(analyzed: Path, tmp_path: Path) -> None:
    out = tmp_path / "r" / "report.html"
    res = CliRunner().invoke(app, ["--workspace", str(analyzed), "report", str(out)])
    assert res.exit_code == 0, res.output
    html = out.read_text(encoding="utf-8")
    # opens offline: no script, style or image fetched from anywhere
    assert not re.search(r"""<(script|link|img|iframe)[^>]+(src|href)=["']?(https?:)?//""", html, re.I)
    assert "Plotly.newPlot" in html and len(html) > 1_000_000  # plotly.js is embedded
    with ordito.Workspace(analyzed, read_only=True) as ws:
        report = build(ws.engine)
    ids = [s["id"] for s in report["sections"]]
    assert ids == ["summary", "journey-map", "sankey", "friction", "kpis", "voc", "funnels", "quality"]
    for s in report["sections"]:
        assert s["available"], (s["id"], s["note"])
        assert s["period"] and s["base"], s["id"]
        assert s["figures"] or s["tables"] or s["kpis"], s["id"]
        assert f'id="{s["id"]}"' in html
        # every number states its period and its base, in the page too
        assert f"Period: {s['period']} · Base: " in html


def test_report_numbers_match_the_workspace(analyzed: Path) -> None:
    with ordito.Workspace(analyzed, read_only=True) as ws:
        report = build(ws.engine)
        events = ws.sql("SELECT count(*) FROM events")[0][0]
        episodes = ws.sql("SELECT count(*) FROM episodes")[0][0]
        frictions = ws.sql("SELECT count(*) FROM friction")[0][0]
        quarantined = ws.sql("SELECT count(*) FROM quarantine")[0][0]
    kpis = {k["label"]: k for k in _section(report, "summary")["kpis"]}  # type: ignore[attr-defined]
    assert kpis["Events"]["value"] == f"{events:,}"
    assert kpis["Episodes (needs)"]["value"] == f"{episodes:,}"
    assert _section(report, "friction")["base"] == f"{frictions:,} frictions detected in the period"
    quality = _section(report, "quality")
    per_source = quality["tables"][0]  # type: ignore[index]
    assert sum(int(r[4].replace(",", "")) for r in per_source["rows"]) == quarantined
    funnel = _section(report, "funnels")
    assert funnel["base"] == f"{episodes:,} episodes that started in the period"


def test_a_shorter_period_changes_the_numbers(analyzed: Path) -> None:
    with ordito.Workspace(analyzed, read_only=True) as ws:
        lo, hi = ws.sql("SELECT min(occurred_at), max(occurred_at) FROM events")[0]
        mid = (lo + (hi - lo) / 2).date()
        whole = build(ws.engine)
        first_half = build(ws.engine, until=mid)
        n_first = ws.sql("SELECT count(*) FROM events WHERE occurred_at < ?", [mid + dt.timedelta(days=1)])[
            0
        ][0]
    assert first_half["period"] == f"{lo:%Y-%m-%d} to {mid:%Y-%m-%d}"
    ev_whole = _section(whole, "summary")["kpis"][0]["value"]  # type: ignore[index]
    ev_half = _section(first_half, "summary")["kpis"][0]["value"]  # type: ignore[index]
    assert ev_half == f"{n_first:,}" and ev_half != ev_whole


def test_sections_say_which_stage_to_run_before_analyze(company: Path, tmp_path: Path) -> None:
    with ordito.Workspace(tmp_path / "ws.duckdb") as ws:
        ws.ingest(company / "web" / "web_analytics.csv")
        ws.resolve()
        res = write_report(ws.engine, tmp_path / "r.html")
    assert res["sections"]["summary"] and res["sections"]["quality"]
    for sid in ("journey-map", "sankey", "friction", "kpis", "funnels"):
        assert res["sections"][sid] is False
    html = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "run `ordito analyze`" in html


def test_report_refuses_a_name_that_is_not_html(analyzed: Path, tmp_path: Path) -> None:
    res = CliRunner().invoke(app, ["--workspace", str(analyzed), "report", str(tmp_path / "r.pdf")])
    assert res.exit_code == 1
    assert "HTML file" in res.output


@pytest.mark.browser
def test_report_renders_in_chromium_without_errors_and_prints_to_pdf(analyzed: Path) -> None:
    from playwright.sync_api import sync_playwright

    artifacts = Path("test-artifacts")
    artifacts.mkdir(exist_ok=True)
    out = artifacts / "report.html"
    with ordito.Workspace(analyzed, read_only=True) as ws:
        res = write_report(ws.engine, out, pdf=True)
    assert Path(res["pdf"]).read_bytes()[:5] == b"%PDF-"
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1366, "height": 900})
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(out.resolve().as_uri())
        page.wait_for_function(
            "document.querySelectorAll('.fig').length === document.querySelectorAll('[data-rendered=yes]').length"
        )
        figs = page.eval_on_selector_all(".fig", "els => els.length")
        width = page.evaluate("document.documentElement.scrollWidth")
        page.screenshot(path=str(artifacts / "report.png"), full_page=True)
        browser.close()
    assert not errors, errors
    assert figs >= 8
    assert width <= 1366  # nothing overflows a laptop screen
