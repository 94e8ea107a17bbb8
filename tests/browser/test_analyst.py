"""The analyst pages in Debian's chromium (Playwright, never `playwright install`): every view renders with
no console error (the app's strict CSP included), a filter changes the numbers, and a click on the friction
heat map lands on the episodes SQL says are behind that cell. Screenshots: test-artifacts/analyst/."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

import ordito
from tests.analyst.demo import PASSWORD
from tests.analyst.demo import build as build_demo
from tests.browser.conftest import _free_port, browser_page, require_browser

pytestmark = pytest.mark.browser

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "analyst"
SECTIONS = ["summary", "journey-map", "sankey", "friction", "kpis", "voc", "funnels", "quality"]


@dataclass
class AnalystSite:
    base: str
    ws: ordito.Workspace


@pytest.fixture(scope="module")
def analyst_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[AnalystSite]:
    require_browser()
    import uvicorn

    from ordito.agent.app import create_agent_app

    ws = ordito.Workspace(build_demo(tmp_path_factory.mktemp("analyst_site")))
    app = create_agent_app(ws, resolve=False)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield AnalystSite(f"http://127.0.0.1:{port}", ws)
    server.should_exit = True
    thread.join(30)
    ws.close()


@pytest.fixture
def page(analyst_site: AnalystSite) -> Iterator[Any]:
    with browser_page(60_000) as pg:
        pg.goto(analyst_site.base + "/login")
        pg.fill("#name", "alan")
        pg.fill("#password", PASSWORD)
        pg.keyboard.press("Enter")
        pg.wait_for_url(analyst_site.base + "/")
        yield pg


def _wait_for_views(page: Any) -> None:
    # a function, not a string: the page's CSP forbids eval
    page.wait_for_function(
        "() => document.querySelectorAll('section.an-section[data-loaded]').length === 8"
        " && document.querySelectorAll('.fig').length === document.querySelectorAll('.fig[data-rendered=yes]').length"
    )


def _kpi(page: Any, section: str, label: str) -> str:
    card = page.locator(
        f"#{section} .kpi", has=page.locator(".l", has_text=re.compile(f"^{re.escape(label)}$"))
    )
    return str(card.locator(".v").inner_text()).strip()


def test_every_view_renders_and_a_filter_changes_the_numbers(page: Any, analyst_site: AnalystSite) -> None:
    ws = analyst_site.ws
    page.goto(analyst_site.base + "/analytics")
    _wait_for_views(page)
    assert [
        s for s in page.eval_on_selector_all("section.an-section", "els => els.map(e => e.id)")
    ] == SECTIONS
    for sid in SECTIONS:
        assert page.locator(f"#{sid}").get_attribute("data-loaded") == "yes", sid
        assert page.locator(f"#{sid} .missing").count() == 0, sid
        assert page.locator(f"#{sid} .meta").inner_text().startswith("Period: "), sid
    figures = page.locator(".fig[data-rendered=yes]").count()
    assert figures >= 9
    # the heat map has drawn its cells and the Sankey its links
    assert page.locator("#friction .heatmaplayer image").count() == 1
    assert page.locator("#sankey .sankey-link").count() > 10
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 1440
    page.screenshot(path=str(ARTIFACTS / "01-analytics.png"), full_page=True)
    events = ws.sql("SELECT count(*) FROM events")[0][0]
    assert _kpi(page, "summary", "Events") == f"{events:,}"

    # choose a channel: the page reloads with it and every number follows
    page.select_option("#f-channel", "voice")
    page.wait_for_url(re.compile(r"channel=voice"))
    _wait_for_views(page)
    voice = ws.sql("SELECT count(*) FROM events WHERE channel = 'voice'")[0][0]
    eps = ws.sql("SELECT count(*) FROM episodes WHERE ';' || channels || ';' LIKE '%;voice;%'")[0][0]
    assert _kpi(page, "summary", "Events") == f"{voice:,}" != f"{events:,}"
    assert _kpi(page, "summary", "Episodes (needs)") == f"{eps:,}"
    assert "Filters: channel voice" in page.locator("#funnels .meta").inner_text()
    page.screenshot(path=str(ARTIFACTS / "02-analytics-voice.png"), full_page=True)


def test_a_click_on_the_heat_map_lands_on_the_episodes_behind_the_cell(
    page: Any, analyst_site: AnalystSite
) -> None:
    ws = analyst_site.ws
    page.goto(analyst_site.base + "/analytics")
    _wait_for_views(page)
    # the busiest cell of the friction heat map, and where Plotly drew it
    cell = page.evaluate("""() => {
        const gd = document.getElementById('friction-fig-1');
        const t = gd.data[0];
        let best = null;
        t.z.forEach((row, i) => row.forEach((v, j) => {
            if (v !== null && (best === null || v > best.v)) best = {i: i, j: j, v: v};
        }));
        return {kind: t.x[best.j], dept: t.y[best.i], value: best.v};
    }""")
    page.locator("#friction-fig-1").scroll_into_view_if_needed()
    cell = page.evaluate(
        """(c) => { const gd = document.getElementById('friction-fig-1'), box = gd.getBoundingClientRect();
                    const xa = gd._fullLayout.xaxis, ya = gd._fullLayout.yaxis;
                    return Object.assign(c, {x: box.left + xa._offset + xa.d2p(c.kind),
                                             y: box.top + ya._offset + ya.d2p(c.dept)}); }""",
        cell,
    )
    page.mouse.click(cell["x"], cell["y"])
    page.wait_for_url(re.compile(r"/analytics/episodes\?"))
    q = parse_qs(urlsplit(page.url).query)
    assert q["drill"] == ["friction"] and q["fkind"] == [cell["kind"]]
    dept_sql = "department IS NULL" if q["fdept"] == ["(none)"] else "department = ?"
    params = [cell["kind"]] + ([] if q["fdept"] == ["(none)"] else [q["fdept"][0]])
    expected = [
        e
        for (e,) in ws.sql(
            "SELECT episode_id FROM episodes WHERE episode_id IN (SELECT episode_id FROM friction "
            f"WHERE kind = ? AND {dept_sql}) ORDER BY started_at DESC, episode_id",
            params,
        )
    ]
    n_frictions = ws.sql(f"SELECT count(*) FROM friction WHERE kind = ? AND {dept_sql}", params)[0][0]
    assert n_frictions == cell["value"]
    listed = page.eval_on_selector_all(
        "#drill-episodes tr[data-episode]", "els => els.map(e => e.dataset.episode)"
    )
    assert listed == expected[:50]
    count = page.locator("#drill-count").inner_text()
    assert f"{len(expected):,} episode" in count and f"{n_frictions:,} frictions" in count
    page.screenshot(path=str(ARTIFACTS / "03-drill-down.png"), full_page=True)

    # on to the episode, then to the customer's timeline (masked for an analyst)
    page.click(f"#drill-episodes tr[data-episode='{listed[0]}'] a[href^='/analytics/episodes/']")
    page.wait_for_url(re.compile(rf"/analytics/episodes/{listed[0]}$"))
    page.screenshot(path=str(ARTIFACTS / "04-episode.png"), full_page=True)
    key = ws.sql("SELECT customer_key FROM episodes WHERE episode_id = ?", [listed[0]])[0][0]
    page.click("#to-timeline")
    page.wait_for_url(re.compile(rf"/customers/{key}"))
    page.wait_for_selector("#timeline")
    ids = page.locator(".ids .id").all_inner_texts()
    assert ids and all("•••" in t for t in ids if "@" in t or t.startswith("phone")), ids
    page.screenshot(path=str(ARTIFACTS / "05-timeline.png"), full_page=False)


def test_a_table_link_lands_on_the_funnel_stage(page: Any, analyst_site: AnalystSite) -> None:
    ws = analyst_site.ws
    page.goto(analyst_site.base + "/analytics?need=repair")
    _wait_for_views(page)
    link = page.locator("#funnels table a.drill").nth(2)  # repair: resolved or converted
    shown = int(link.inner_text().replace(",", ""))
    link.click()
    page.wait_for_url(re.compile(r"drill=funnel"))
    expected = ws.sql(
        "SELECT count(*) FROM episodes WHERE intent = 'repair' AND outcome IN ('resolved', 'converted')"
    )[0][0]
    assert shown == expected
    assert page.locator("#drill-episodes tr[data-episode]").count() == min(expected, 50)
    assert f"{expected:,} episode" in page.locator("#drill-count").inner_text()
