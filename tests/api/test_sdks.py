"""The real Segment and RudderStack Python SDKs, from PyPI, against a real uvicorn server on loopback."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import uvicorn

from ordito.api import create_app, create_write_key
from ordito.api.service import IngestService
from ordito.workspace import Workspace


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(ws: Workspace) -> Iterator[tuple[str, IngestService]]:
    app = create_app(ws, interval=0.2, resolve=False)
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", ws="none", lifespan="on")
    srv = uvicorn.Server(config)
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}", app.state.ordito
    finally:
        srv.should_exit = True
        thread.join(10)


def send_three(client: Any, prefix: str) -> None:
    client.identify(
        f"{prefix}-user", {"email": f"{prefix}@example.com", "firstName": "Ada"}, message_id=f"{prefix}-1"
    )
    client.track(
        f"{prefix}-user", "Order Completed", {"revenue": 42.0, "currency": "EUR"}, message_id=f"{prefix}-2"
    )
    client.page(f"{prefix}-user", "Docs", "Home", {"url": "https://example.com/"}, message_id=f"{prefix}-3")
    client.flush()


def check(ws: Workspace, svc: IngestService, source: str, prefix: str, errors: list[Any]) -> None:
    assert not errors, errors
    assert svc.flush(20)
    rows = ws.sql(
        "SELECT source_key, type, identifiers FROM events WHERE source = ? ORDER BY source_key", [source]
    )
    assert [(r[0], r[1]) for r in rows] == [
        (f"{prefix}-1", "identify"),
        (f"{prefix}-2", "order_placed"),
        (f"{prefix}-3", "page_view"),
    ]
    for _, _, ids in rows:
        assert {"kind": "customer_id", "namespace": source, "raw": f"{prefix}-user", "region": ""} in ids
    emails = [i["raw"] for i in rows[0][2] if i["kind"] == "email"]
    assert emails == [f"{prefix}@example.com"]


def test_segment_analytics_python(ws: Workspace, server: tuple[str, IngestService]) -> None:
    from segment.analytics import Client

    host, svc = server
    key = create_write_key(ws, "segment_sdk")
    errors: list[Any] = []
    client = Client(key, host=host, on_error=lambda e, batch: errors.append(e), gzip=True, max_retries=1)
    try:
        send_three(client, "seg")
    finally:
        client.shutdown()
    check(ws, svc, "segment_sdk", "seg", errors)


def test_rudder_sdk_python(ws: Workspace, server: tuple[str, IngestService]) -> None:
    from rudderstack.analytics import Client

    host, svc = server
    key = create_write_key(ws, "rudder_sdk")
    errors: list[Any] = []
    client = Client(key, host=host, on_error=lambda e, batch: errors.append(e), max_retries=1)
    try:
        send_three(client, "rud")
    finally:
        client.shutdown()
    check(ws, svc, "rudder_sdk", "rud", errors)


def test_sdk_sees_a_bad_key_as_non_retryable(ws: Workspace, server: tuple[str, IngestService]) -> None:
    from segment.analytics import Client

    host, _ = server
    errors: list[Any] = []
    client = Client("not-a-key", host=host, on_error=lambda e, batch: errors.append(e), max_retries=3)
    try:
        client.track("u", "Nope")
        client.flush()
    finally:
        client.shutdown()
    assert len(errors) == 1
    assert errors[0].status == 401 and errors[0].code == "unauthorized"
