"""The analyst pages over HTTP: who may see them, filters, drill-down, the episode and the audit log."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

import ordito
from ordito.analyst import plotly_assets
from tests.analyst.conftest import Client

pytestmark = pytest.mark.anyio


async def test_only_analysts_and_admins_see_the_pages(client: Client) -> None:
    http = client.http
    http.cookies.clear()
    r = await http.get("/analytics", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/analytics")
    await client.login("anna")  # agent
    home = await http.get("/")
    assert 'href="/analytics"' not in home.text
    for url in ("/analytics", "/analytics/section/summary", "/analytics/episodes"):
        r = await http.get(url)
        assert r.status_code == 403 and "may not see this page" in r.text, url
    for who in ("alan", "ada"):
        await client.login(who)
        home = await http.get("/")
        assert 'href="/analytics"' in home.text
        r = await http.get("/analytics")
        assert r.status_code == 200, r.text
        # the strict policy of the app, plus empty style attributes only (Plotly's colour bars)
        csp = r.headers["content-security-policy"]
        assert "script-src 'self';" in csp and "style-src 'self';" in csp and "unsafe-inline" not in csp


async def test_the_page_loads_every_view_and_nothing_from_elsewhere(client: Client) -> None:
    await client.login("alan")
    r = await client.get("/analytics")
    ids = re.findall(r'data-section="([a-z-]+)"', r.text)
    assert ids == ["summary", "journey-map", "sankey", "friction", "kpis", "voc", "funnels", "quality"]
    assert not re.search(r"""<(script|link|img)[^>]+(src|href)=["']?(https?:)?//""", r.text)
    for sid in ids:
        s = await client.get(f"/analytics/section/{sid}", headers={"HX-Request": "true"})
        assert s.status_code == 200 and "Period: " in s.text and "Base: " in s.text, sid
        assert "<html" not in s.text and 'class="missing"' not in s.text, sid
    js = await client.get("/analytics/static/plotly.min.js")
    assert js.status_code == 200 and js.headers["content-type"].startswith("text/javascript")
    assert js.content == plotly_assets.bundle_path().read_bytes()
    css = await client.get("/analytics/static/plotly.css")
    assert ".js-plotly-plot .plotly .main-svg" in css.text
    assert (await client.get("/analytics/static/secrets.txt")).status_code == 404


async def test_filters_change_the_numbers_and_bad_values_are_refused(
    client: Client, ws: ordito.Workspace
) -> None:
    await client.login("alan")
    events = ws.sql("SELECT count(*) FROM events")[0][0]
    chat = ws.sql("SELECT count(*) FROM events WHERE channel = 'chat'")[0][0]
    whole = await client.get("/analytics/section/summary")
    only = await client.get("/analytics/section/summary", params={"channel": "chat"})
    assert f"{events:,}" in whole.text and f"{chat:,}" in only.text and "Filters: channel chat" in only.text
    page = await client.get("/analytics", params={"channel": "chat", "segment": "high"})
    assert 'data-filters="channel=chat&amp;segment=high"' in page.text
    assert '<option value="chat" selected>' in page.text
    for bad in ({"channel": "telepathy"}, {"segment": "vip"}, {"since": "last week"}):
        r = await client.get("/analytics", params=bad)
        assert r.status_code == 400, bad


async def test_a_drill_down_lists_the_episodes_then_the_episode_links_the_timeline(
    client: Client, ws: ordito.Workspace
) -> None:
    await client.login("alan")
    s = await client.get("/analytics/section/friction", params={"channel": "voice"})
    figs = re.search(r'data-figs="([^"]*)"', s.text)
    assert figs and "drill=friction" in figs.group(1)
    kind, dept = ws.sql(
        "SELECT kind, department FROM friction WHERE channel = 'voice' AND department IS NOT NULL "
        "GROUP BY 1, 2 ORDER BY count(*) DESC, 1, 2 LIMIT 1"
    )[0]
    r = await client.get(
        "/analytics/episodes", params={"channel": "voice", "drill": "friction", "fkind": kind, "fdept": dept}
    )
    assert r.status_code == 200
    listed = re.findall(r'<tr data-episode="([^"]+)"', r.text)
    expected = [
        e
        for (e,) in ws.sql(
            "SELECT e.episode_id FROM episodes e WHERE e.episode_id IN (SELECT episode_id FROM friction "
            "WHERE channel = 'voice' AND kind = ? AND department = ?) ORDER BY e.started_at DESC, e.episode_id",
            [kind, dept],
        )
    ]
    assert listed == expected[:50] and listed
    n_fr = ws.sql(
        "SELECT count(*) FROM friction WHERE channel = 'voice' AND kind = ? AND department = ?", [kind, dept]
    )[0][0]
    assert (
        f"<strong>{len(expected):,}</strong> episode" in r.text
        and f"<strong>{n_fr:,}</strong> frictions" in r.text
    )
    # the episode, then the customer's timeline (the agent app's page: audited, identifiers masked)
    ep = await client.get(f"/analytics/episodes/{listed[0]}")
    key = ws.sql("SELECT customer_key FROM episodes WHERE episode_id = ?", [listed[0]])[0][0]
    assert ep.status_code == 200 and f'href="/customers/{key}#ev-' in ep.text
    timeline = await client.get(f"/customers/{key}")
    assert timeline.status_code == 200 and "•••" in timeline.text
    app_state = client.http._transport.app.state  # type: ignore[attr-defined]
    app_state.agent.audit.flush()
    actions = [
        (r[0], r[1])
        for r in ws.sql(
            "SELECT action, customer_key FROM audit_log WHERE user_name = 'alan' ORDER BY logged_at DESC LIMIT 3"
        )
    ]
    assert ("view_customer", key) in actions and ("view_episode", key) in actions
    assert (
        ws.sql("SELECT count(*) FROM audit_log WHERE action = 'view_episodes' AND user_name = 'alan'")[0][0]
        >= 1
    )
    missing = await client.get("/analytics/episodes/ep_nope")
    assert missing.status_code == 404


def test_the_package_ships_its_templates_and_static_files() -> None:
    import tomllib

    data = tomllib.loads((Path(__file__).resolve().parents[2] / "pyproject.toml").read_text())
    globs = data["tool"]["setuptools"]["package-data"]["ordito"]
    assert {"analyst/templates/*", "analyst/static/*", "report/templates/*"} <= set(globs)
    assert plotly_assets.maplibre_id() is not None  # the bundle still injects MapLibre's style by id


def test_the_demo_prints_an_analyst_log_in(ws: ordito.Workspace) -> None:
    from ordito.agent.auth import Authority, get_user, session_key
    from ordito.analyst import DEMO_ANALYST, demo_login

    name, first = demo_login(ws.engine)
    again = demo_login(ws.engine)[1]
    assert name == DEMO_ANALYST and first != again and get_user(ws.engine, name).role == "analyst"
    auth = Authority(ws.engine.cursor(), session_key(ws.path))
    auth.login(name, again, None)


async def test_the_filtered_views_download_as_the_report(client: Client) -> None:
    await client.login("alan")
    r = await client.get("/analytics/report.html", params={"channel": "voice"})
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment")
    assert "Filters: <strong>channel voice</strong>" in r.text and "Plotly.newPlot" in r.text
    await client.login("anna")
    assert (await client.get("/analytics/report.html")).status_code == 403
