"""A real ordito server (uvicorn in a thread) over a small demo company, and Debian's chromium driven by
Playwright (never `playwright install`). Screenshots go to test-artifacts/browser/."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from ordito.workspace import Workspace

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
PASSWORD = "browser tests only"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]


def require_browser() -> None:
    """Skip without Debian's chromium or playwright; in CI (which installs both) fail instead."""
    if not CHROMIUM.exists():
        why = "Debian's chromium is not installed (/usr/bin/chromium): `apt-get install chromium`"
        if os.environ.get("CI"):
            pytest.fail(why + " (.ci/run installs it)")
        pytest.skip(why)
    pytest.importorskip(
        "playwright.sync_api", reason="playwright (Python) is not installed: pip install -e .[dev]"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Site:
    base: str
    ws: Workspace
    write_key: str
    customer: dict[str, Any] = field(default_factory=dict)

    def send(self, msgs: list[dict[str, Any]]) -> None:
        r = httpx.post(f"{self.base}/v1/batch", json={"batch": msgs}, auth=(self.write_key, ""), timeout=30)
        assert r.status_code == 200, r.text


def _pick_customer(ws: Workspace) -> dict[str, Any]:
    """A customer seen in several silos, with a phone only they use, a shop account and an order."""
    row = ws.engine.records(
        """WITH c AS (
             SELECT m.customer_key,
                    max(CASE WHEN i.kind = 'phone' THEN i.value END) AS phone,
                    max(CASE WHEN i.kind = 'customer_id' AND i.value LIKE 'shop:%' THEN i.value END) AS shop,
                    count(DISTINCT i.kind) AS kinds
             FROM identity_map m JOIN identifiers i USING (identifier_id)
             WHERE i.status = 'active' GROUP BY 1)
           SELECT c.customer_key, c.phone, c.shop, cu.display_name,
                  (SELECT count(DISTINCT e.source) FROM event_customer x JOIN events e ON e.seq = x.seq
                   WHERE x.customer_key = c.customer_key) AS sources,
                  (SELECT max(e.thread_id) FROM event_customer x JOIN events e ON e.seq = x.seq
                   WHERE x.customer_key = c.customer_key AND e.source = 'shop') AS order_id
           FROM c JOIN customers cu USING (customer_key)
           WHERE c.phone LIKE '+39%' AND c.shop IS NOT NULL AND cu.display_name IS NOT NULL
             AND (SELECT count(*) FROM identifiers WHERE value = c.phone AND kind = 'phone') = 1
           ORDER BY sources DESC, kinds DESC, c.customer_key LIMIT 1"""
    )
    assert row and row[0]["order_id"], "the demo company has no customer fit for the browser scenario"
    return row[0]


@pytest.fixture(scope="session")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    require_browser()
    import uvicorn

    from ordito.agent.app import create_agent_app
    from ordito.agent.auth import add_user
    from ordito.api import create_write_key
    from ordito.demo import generate

    company = tmp_path_factory.mktemp("company")
    generate(company, customers=200, seed=7)
    ws = Workspace(tmp_path_factory.mktemp("ws") / "ws.duckdb")
    ws.ingest(company)
    ws.resolve()
    add_user(ws.engine, "anna", "agent", password=PASSWORD, display_name="Anna")
    key = create_write_key(ws, "chat-widget", namespace="shop", label="browser tests")
    customer = _pick_customer(ws)
    app = create_agent_app(ws, interval=0.2, resolve_every=1.0)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on", ws="none")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "the server did not start"
        time.sleep(0.1)
    s = Site(base, ws, key, customer)
    # yesterday the customer chatted about their order (through the live API, as a chat widget would send it)
    yesterday = (dt.datetime.now(dt.UTC) - dt.timedelta(days=1)).replace(microsecond=0)
    s.send(
        [
            {
                "type": "track",
                "messageId": "browser-chat-1",
                "userId": customer["shop"].split(":", 1)[1],
                "event": "Chat Message",
                "context": {"channel": "chat"},
                "properties": {
                    "text": f"Buongiorno, aspetto ancora l'ordine {customer['order_id']}: nessuno mi ha avvisato "
                    "del ritardo."
                },
                "timestamp": yesterday.isoformat().replace("+00:00", "Z"),
            }
        ]
    )
    assert app.state.ordito.flush(30)
    t0 = time.monotonic()
    while not ws.sql(
        "SELECT 1 FROM events e JOIN event_customer c USING (seq) WHERE e.source_key = 'browser-chat-1' "
        "AND c.customer_key IS NOT NULL"
    ):
        assert time.monotonic() - t0 < 30, "yesterday's chat was not resolved to the customer"
        time.sleep(0.3)
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    yield s
    server.should_exit = True
    thread.join(30)
    ws.close()


@contextmanager
def browser_page(timeout_ms: int, **context: Any) -> Iterator[Any]:
    """A page of Debian's chromium (``context``: options of the browser context) that records console
    errors and page errors in ``page.console_errors``; the test fails on any at the end."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        ctx = browser.new_context(viewport={"width": 1440, "height": 900}, **context)
        pg = ctx.new_page()
        errors: list[str] = []
        pg.on(
            "console", lambda m: errors.append(f"console.{m.type}: {m.text}") if m.type == "error" else None
        )
        pg.on("pageerror", lambda e: errors.append(f"pageerror: {e}"))
        pg.set_default_timeout(timeout_ms)
        pg.console_errors = errors
        yield pg
        ctx.close()
        browser.close()
    assert not errors, errors


@pytest.fixture
def page(site: Site) -> Iterator[Any]:
    with browser_page(20_000, locale="it-IT") as pg:
        yield pg
