from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from ordito.api import create_app, create_write_key
from ordito.api.service import IngestService
from ordito.workspace import Workspace


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[Workspace]:
    w = Workspace(tmp_path / "ordito.duckdb")
    yield w
    w.close()


@pytest.fixture
def key(ws: Workspace) -> str:
    return create_write_key(ws, "web", namespace="shop", label="tests")


@dataclass
class Api:
    client: httpx.AsyncClient
    app: FastAPI
    ws: Workspace
    key: str

    @property
    def service(self) -> IngestService:
        svc: IngestService = self.app.state.ordito
        return svc

    async def post(
        self, call: str, body: Any = None, *, auth: bool | tuple[str, str] = True, **kw: Any
    ) -> httpx.Response:
        """POST to /v1/{call}, authenticated with the fixture key unless ``auth`` says otherwise."""
        if body is not None:
            kw["json"] = body
        if isinstance(auth, tuple):
            kw["auth"] = auth
        elif auth:
            kw["auth"] = (self.key, "")
        return await self.client.post(f"/v1/{call}", **kw)

    async def flush(self) -> None:
        assert await run_in_threadpool(self.service.flush, 20.0)

    def sql(self, query: str, params: Any = None) -> list[tuple[Any, ...]]:
        return self.ws.sql(query, params)


@pytest.fixture
async def api(ws: Workspace, key: str) -> AsyncIterator[Api]:
    app = create_app(ws, interval=0.2, resolve=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordito.test") as client:
            yield Api(client, app, ws, key)
