"""An agent app over a small live workspace: events sent through the tracking API, users of every role."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from ordito.agent.app import create_agent_app
from ordito.agent.auth import add_user, create_token
from ordito.agent.state import AgentState
from ordito.api import create_write_key
from ordito.workspace import Workspace

PASSWORD = "correct horse battery"

MESSAGES: list[dict[str, Any]] = [
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
        "userId": "100200",
        "event": "Chat Message",
        "context": {"channel": "chat"},
        "properties": {
            "text": "Buongiorno, aspetto ancora l'ordine IT-2025-0012345: nessuno mi ha avvisato del ritardo. "
            "Scrivetemi pure a mario.rossi@gmail.com o al 347 765 4321."
        },
        "timestamp": "2025-03-06T09:00:00Z",
    },
    {
        "type": "track",
        "messageId": "m3",
        "userId": "999",
        "event": "Order Completed",
        "timestamp": "2025-03-07T09:00:00Z",
        "properties": {"revenue": 499, "currency": "EUR"},
    },
]


@dataclass
class AgentApi:
    client: httpx.AsyncClient
    app: FastAPI
    ws: Workspace
    write_key: str
    tokens: dict[str, str] = field(default_factory=dict)

    @property
    def state(self) -> AgentState:
        st: AgentState = self.app.state.agent
        return st

    def bearer(self, who: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    async def login(self, name: str, password: str = PASSWORD) -> httpx.Response:
        return await self.client.post(
            "/login", data={"name": name, "password": password, "next": "/"}, follow_redirects=False
        )

    async def send(self, msgs: list[dict[str, Any]]) -> None:
        r = await self.client.post("/v1/batch", json={"batch": msgs}, auth=(self.write_key, ""))
        assert r.status_code == 200, r.text
        assert await run_in_threadpool(self.app.state.ordito.flush, 20.0)
        await run_in_threadpool(self.ws.resolve)

    def audit(self) -> list[dict[str, Any]]:
        self.state.audit.flush()
        return self.ws.engine.records("SELECT * FROM audit_log ORDER BY logged_at")

    def customer_key(self) -> str:
        return str(self.ws.sql("SELECT customer_key FROM customers WHERE display_name = 'Mario Rossi'")[0][0])


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def aws(tmp_path: Path) -> Iterator[Workspace]:
    w = Workspace(tmp_path / "ordito.duckdb")
    yield w
    w.close()


@pytest.fixture
async def agent_api(aws: Workspace) -> AsyncIterator[AgentApi]:
    key = create_write_key(aws, "web", namespace="shop", label="tests")
    add_user(aws.engine, "anna", "agent", password=PASSWORD)
    add_user(aws.engine, "alan", "analyst", password=PASSWORD)
    add_user(aws.engine, "ada", "admin", password=PASSWORD)
    add_user(aws.engine, "pbx", "agent", kind="system")
    add_user(aws.engine, "root-sys", "admin", kind="system")
    tokens = {
        "pbx": create_token(aws.engine, "pbx", label="tests"),
        "root": create_token(aws.engine, "root-sys"),
    }
    app = create_agent_app(aws, interval=0.2, resolve=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordito.test") as client:
            api = AgentApi(client, app, aws, key, tokens)
            await api.send(MESSAGES)
            yield api


# --- the demo company, ingested and resolved once for the brief and knowledge tests ---------------------

DEMO_CUSTOMERS = 400
DEMO_SEED = 2024


@dataclass
class Demo:
    company: Path
    ws: Workspace


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    from ordito.demo import generate

    company = tmp_path_factory.mktemp("company")
    generate(company, customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
    w = Workspace(tmp_path_factory.mktemp("demo_ws") / "ws.duckdb")
    w.ingest(company)
    w.resolve()
    yield Demo(company, w)
    w.close()
