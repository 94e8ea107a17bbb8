"""The agent pages over HTTP: search any writing, filters, live updates, the brief with its evidence."""

from __future__ import annotations

import pytest

from tests.agent.conftest import AgentApi

pytestmark = pytest.mark.anyio


async def test_search_any_writing_lands_on_the_customer(agent_api: AgentApi) -> None:
    await agent_api.login("anna")
    key = agent_api.customer_key()
    for q in ("+39 333 123 4567", "0039-333-1234567", " MARIO.ROSSI@gmail.com ", "shop:100200", "100200"):
        r = await agent_api.client.get("/search", params={"q": q}, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith(f"/customers/{key}"), q
    r = await agent_api.client.get("/search", params={"q": "333 1234567"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "Mario Rossi" in r.text and "<html" not in r.text  # a fragment
    r = await agent_api.client.get("/search", params={"q": "nobody@nowhere.example"})
    assert "No customer" in r.text


async def test_timeline_filters_and_pages(agent_api: AgentApi) -> None:
    await agent_api.login("anna")
    key = agent_api.customer_key()
    r = await agent_api.client.get(f"/customers/{key}/timeline", params={"channel": "chat"})
    assert r.status_code == 200 and "chat message" in r.text and "identify" not in r.text
    r = await agent_api.client.get(f"/customers/{key}/timeline", params={"channel": "store"})
    assert "No events with these filters" in r.text
    r = await agent_api.client.get(f"/customers/{key}/timeline", params={"channel": "telepathy"})
    assert r.status_code == 400


async def test_new_events_arrive_live_and_refresh_the_brief(agent_api: AgentApi) -> None:
    await agent_api.login("anna")
    key = agent_api.customer_key()
    page = await agent_api.client.get(f"/customers/{key}")
    last = int(page.text.split('id="last-seq" name="after" value="')[1].split('"')[0])
    r = await agent_api.client.get(f"/customers/{key}/new", params={"after": last})
    assert r.status_code == 204  # nothing new: htmx leaves the page alone
    await agent_api.send(
        [
            {
                "type": "track",
                "messageId": "live-1",
                "userId": "100200",
                "event": "Chat Message",
                "context": {"channel": "chat"},
                "properties": {"text": "Il modello è DW524W, l'indirizzo è Via Roma 12, 20121 Milano (MI)."},
                "timestamp": "2025-03-08T09:00:00Z",
            }
        ]
    )
    r = await agent_api.client.get(f"/customers/{key}/new", params={"after": last})
    assert r.status_code == 200 and "ordito:new-events" in r.headers["hx-trigger"]
    assert "DW524W" in r.text and 'class="item ch-chat new"' in r.text and 'hx-swap-oob="true"' in r.text
    brief = await agent_api.client.get(f"/customers/{key}/brief")
    assert "DW524W" in brief.text and "Via Roma 12, 20121 Milano (MI)" in brief.text
    # filtered out: the new event does not show, but the high-water mark moves
    r = await agent_api.client.get(f"/customers/{key}/new", params={"after": last, "channel": "voice"})
    assert r.status_code == 200 and "DW524W" not in r.text


async def test_evidence_of_a_brief_line_opens_its_event(agent_api: AgentApi) -> None:
    await agent_api.login("anna")
    key = agent_api.customer_key()
    page = await agent_api.client.get(f"/customers/{key}")
    assert "IT-2025-0012345" in page.text.split('id="brief-facts"')[1].split("</ul>")[0]
    url = page.text.split('id="brief-facts"')[1].split('data-url="')[1].split('"')[0]
    ev = await agent_api.client.get(url)
    assert ev.status_code == 200 and "IT-2025-0012345" in ev.text
    other = agent_api.ws.sql("SELECT max(seq) FROM event_customer WHERE customer_key <> ?", [key])[0][0]
    assert (await agent_api.client.get(f"/customers/{key}/event/{other}")).status_code == 404
