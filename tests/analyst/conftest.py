from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

import ordito
from ordito.agent.app import create_agent_app
from tests.analyst.demo import PASSWORD, build


@pytest.fixture(scope="session")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build(tmp_path_factory.mktemp("analyst"))


@pytest.fixture(scope="module")
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="module")
def ws(analysed: Path) -> Iterator[ordito.Workspace]:
    w = ordito.Workspace(analysed)
    yield w
    w.close()


class Client:
    """The app over ASGI, signed in as one user at a time."""

    def __init__(self, client: httpx.AsyncClient) -> None:
        self.http = client

    async def login(self, name: str) -> None:
        self.http.cookies.clear()
        r = await self.http.post(
            "/login", data={"name": name, "password": PASSWORD, "next": "/"}, follow_redirects=False
        )
        assert r.status_code == 303, r.text

    async def get(self, url: str, **kw: object) -> httpx.Response:
        return await self.http.get(url, **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
async def client(ws: ordito.Workspace) -> AsyncIterator[Client]:
    app = create_agent_app(ws, resolve=False)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://ordito.test") as c:
            yield Client(c)
