"""The review queue, decisions, unmerge and the model over HTTP (/v1/identity/*)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import ordito
from ordito.api import create_app
from ordito.identity.fuzzy.stage import set_config
from tests.conftest import write
from tests.identity_fuzzy.test_stage import _keys, _silos

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, ordito.Workspace]]:
    maps = _silos(tmp_path / "maps")
    data = tmp_path / "data"
    write(
        data / "shop.csv",
        "order_id,ts,customer_id,email,name,address,postcode,city\n"
        "O1,2025-02-01T10:00:00Z,1001,giuseppe.russo71@gmail.com,Giuseppe Russo,Via Roma 12,10121,Torino\n",
    )
    write(
        data / "paper.csv",
        "card_id,ts,first_name,last_name,birth_date,street,postcode,city\n"
        "L1,2025-03-01T10:00:00Z,G.,Russo,1971-03-02,Via Roma,10121,Torino\n",
    )
    ws = ordito.Workspace(tmp_path / "ws.duckdb")
    ws.ingest(data, mapping=maps)
    set_config(ws.engine, link_threshold=0.9999999, review_threshold=0.05)
    ws.resolve()
    app = create_app(ws, interval=0.2, resolve=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordito.test") as c:
            yield c, ws
    ws.close()


async def test_review_queue_decision_and_unmerge(client: tuple[httpx.AsyncClient, ordito.Workspace]) -> None:
    c, ws = client
    r = await c.get("/v1/identity/review")
    assert r.status_code == 200
    items = r.json()["items"]
    assert len(items) == 1 and items[0]["customer_a"] != items[0]["customer_b"]
    pair = items[0]
    before = _keys(ws)
    r = await c.post(
        "/v1/identity/review",
        json={"node_a": pair["node_a"], "node_b": pair["node_b"], "decision": "same", "by": "ada"},
    )
    assert r.status_code == 200 and r.json()["merges"] == 1
    after = _keys(ws)
    assert after["paper:L1"] == after["shop:O1"] == before["shop:O1"]
    assert (await c.get("/v1/identity/review")).json()["items"] == []
    decisions = (await c.get("/v1/identity/decisions")).json()["items"]
    assert decisions[0]["decision"] == "same" and decisions[0]["decided_by"] == "ada"
    r = await c.post("/v1/identity/unmerge", json={"ref": before["shop:O1"]})
    assert r.status_code == 200, r.text
    assert r.json()["restored"] == before["paper:L1"] and r.json()["restored_key_active"]
    assert _keys(ws)["paper:L1"] == before["paper:L1"]
    bad = await c.post("/v1/identity/review", json={"node_a": 1, "node_b": 2, "decision": "maybe"})
    assert bad.status_code == 400 and bad.json()["ok"] is False
    model = (await c.get("/v1/identity/model")).json()
    assert "name" in model["weights"]
