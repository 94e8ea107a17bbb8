"""Customer lookups and timelines over HTTP, fed by the Segment endpoints."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.concurrency import run_in_threadpool

from ordito.api import create_app
from ordito.api.customers import router
from ordito.workspace import Workspace
from tests.api.conftest import Api

pytestmark = pytest.mark.anyio


@pytest.fixture
async def capi(ws: Workspace, key: str) -> AsyncIterator[Api]:
    app = create_app(ws, interval=0.2, resolve=False, routers=[router()])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordito.test") as client:
            yield Api(client, app, ws, key)


async def _seed(api: Api) -> None:
    msgs = [
        {
            "type": "identify",
            "messageId": "m1",
            "anonymousId": "anon-1",
            "userId": "100200",
            "traits": {"email": "Mario.Rossi@Gmail.com", "phone": "+39 333 123 4567", "name": "Mario Rossi"},
            "timestamp": "2025-03-05T10:00:00Z",
        },
        {
            "type": "track",
            "messageId": "m2",
            "anonymousId": "anon-1",
            "event": "Product Added",
            "timestamp": "2025-03-05T10:01:00Z",
            "properties": {"sku": "DW-450"},
        },
        {
            "type": "page",
            "messageId": "m3",
            "userId": "100200",
            "name": "Order tracking",
            "timestamp": "2025-03-06T09:00:00Z",
        },
        {
            "type": "track",
            "messageId": "m4",
            "userId": "999",
            "event": "Order Completed",
            "timestamp": "2025-03-07T09:00:00Z",
            "properties": {"revenue": 499},
        },
    ]
    r = await api.post("batch", {"batch": msgs})
    assert r.status_code == 200, r.text
    await api.flush()
    await run_in_threadpool(api.ws.resolve)


async def test_lookup_profile_and_timeline(capi: Api) -> None:
    await _seed(capi)
    r = await capi.client.get("/v1/customers/lookup", params={"phone": "0039 333 1234567"})
    assert r.status_code == 200, r.text
    (key,) = r.json()["customer_keys"]
    r2 = await capi.client.get("/v1/customers/lookup", params={"email": " mario.rossi@GMAIL.com"})
    assert r2.json()["customer_keys"] == [key]
    prof = (await capi.client.get(f"/v1/customers/{key}")).json()
    assert prof["display_name"] == "Mario Rossi"
    kinds = {i["kind"] for i in prof["identifiers"]}
    assert {"email", "phone", "customer_id", "anonymous_id"} <= kinds
    tl = (await capi.client.get(f"/v1/customers/{key}/timeline", params={"limit": 2})).json()
    assert [i["source_key"] for i in tl["items"]] == ["m3", "m2"]  # newest first
    assert tl["next_cursor"]
    more = (
        await capi.client.get(
            f"/v1/customers/{key}/timeline", params={"limit": 2, "cursor": tl["next_cursor"]}
        )
    ).json()
    assert [i["source_key"] for i in more["items"]] == ["m1"] and more["next_cursor"] is None
    web = (await capi.client.get(f"/v1/customers/{key}/timeline", params={"channel": "app"})).json()
    assert web["items"] == []


async def test_errors_use_the_envelope(capi: Api) -> None:
    await _seed(capi)
    r = await capi.client.get("/v1/customers/lookup", params={"email": "nobody@nowhere.it"})
    assert r.status_code == 404 and r.json()["ok"] is False
    r = await capi.client.get("/v1/customers/lookup")
    assert r.status_code == 400 and "exactly one" in r.json()["error"]
    r = await capi.client.get("/v1/customers/cus_doesnotexist/timeline")
    assert r.status_code == 404
    key = (await capi.client.get("/v1/customers/lookup", params={"id": "shop:999"})).json()["customer_keys"][
        0
    ]
    r = await capi.client.get(f"/v1/customers/{key}/timeline", params={"channel": "telepathy"})
    assert r.status_code == 400 and "unknown channel" in r.json()["error"]
    r = await capi.client.get(f"/v1/customers/{key}/timeline", params={"cursor": "garbage"})
    assert r.status_code == 400


async def test_docs_page_and_its_assets_are_served_locally(capi: Api) -> None:
    page = await capi.client.get("/docs")
    assert page.status_code == 200
    assert "cdn" not in page.text.lower() and "/_docs/swagger-ui-bundle.js" in page.text
    js = await capi.client.get("/_docs/swagger-ui-bundle.js")
    assert js.status_code == 200 and len(js.content) > 100_000
    spec = (await capi.client.get("/openapi.json")).json()
    assert "/v1/customers/{key}/timeline" in spec["paths"] and "/v1/track" in spec["paths"]
