"""The durable inbox: recovery at start, torn writes, a failing disk, retention."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import orjson
import pytest

from ordito import settings
from ordito.api import create_app
from ordito.api.inbox import Inbox, segment_name
from ordito.api.segment import process
from ordito.workspace import Workspace

from .conftest import Api

pytestmark = pytest.mark.anyio


def _lines(*ids: str) -> bytes:
    now = dt.datetime.now(dt.UTC)
    res = process(
        "batch",
        {"batch": [{"type": "track", "userId": "u", "event": "Left", "messageId": i} for i in ids]},
        now,
    )
    return b"".join(a.line for a in res.accepted)


async def test_unloaded_segments_and_torn_lines_are_recovered_at_start(ws: Workspace, key: str) -> None:
    inbox = settings.sidecar_dir(Path(ws.path)) / "inbox"
    inbox.mkdir(parents=True)
    # what a crashed run leaves: two acknowledged lines and half a line it never acknowledged
    (inbox / segment_name(7, "web", "shop")).write_bytes(
        _lines("left-1", "left-2") + b'{"type":"track","mess'
    )
    app = create_app(ws, interval=0.1, resolve=False)
    async with app.router.lifespan_context(app):
        assert app.state.ordito.flush(20)
    assert sorted(r[0] for r in ws.sql("SELECT source_key FROM events")) == ["left-1", "left-2"]
    reason, raw = ws.sql("SELECT reason, raw FROM quarantine")[0]
    assert reason.startswith("torn write") and raw == '{"type":"track","mess'
    assert not list(inbox.glob("*.jsonl"))  # all moved to loaded/
    assert len(list((inbox / "loaded").glob("*.jsonl"))) == 2


async def test_loading_a_segment_twice_adds_nothing(ws: Workspace, key: str) -> None:
    inbox = settings.sidecar_dir(Path(ws.path)) / "inbox"
    inbox.mkdir(parents=True)
    data = _lines("twice-1", "twice-2")
    (inbox / segment_name(3, "web", "shop")).write_bytes(data)
    (inbox / segment_name(4, "web", "shop")).write_bytes(data)  # crash between load and move, then reload
    app = create_app(ws, interval=0.1, resolve=False)
    async with app.router.lifespan_context(app):
        assert app.state.ordito.flush(20)
    assert ws.sql("SELECT count(*), count(DISTINCT event_id) FROM events") == [(2, 2)]
    assert ws.sql("SELECT count(*) FROM quarantine")[0][0] == 0


async def test_a_failing_disk_answers_503_and_acknowledges_nothing(api: Api) -> None:
    api.service.inbox.failed = OSError(28, "No space left on device")
    r = await api.post("track", {"userId": "u", "event": "e"})
    assert r.status_code == 503
    body = r.json()
    assert body["ok"] is False and body["code"] == "unavailable" and r.headers["retry-after"] == "1"
    api.service.inbox.failed = None


def test_group_commit_writes_once_per_file(tmp_path: Path) -> None:
    import asyncio

    inbox = Inbox(tmp_path / "inbox")
    inbox.start()
    try:

        async def many() -> list[int]:
            return await asyncio.gather(
                *(inbox.append("web", "web", [(f"m{i}", b'{"x":%d}\n' % i)], []) for i in range(200)),
                inbox.append("web", "web", [("m0", b'{"x":0}\n')], []),  # a retry: not written again
            )

        written = asyncio.run(many())
    finally:
        inbox.stop()
    assert sum(written) == 200
    (seg,) = list((tmp_path / "inbox").glob("*.jsonl"))
    assert len(seg.read_bytes().splitlines()) == 200


def test_retention_prunes_old_loaded_segments(ws: Workspace) -> None:
    from ordito.api.loader import Loader

    inbox = Inbox(settings.sidecar_dir(Path(ws.path)) / "inbox")
    old = inbox.loaded_dir / segment_name(1, "web", "web")
    new = inbox.loaded_dir / segment_name(2, "web", "web")
    for p in (old, new):
        p.write_bytes(b"{}\n")
    forty_days_ago = time.time() - 40 * 86400
    os.utime(old, (forty_days_ago, forty_days_ago))
    loader = Loader(ws, inbox, retention_days=30)
    loader.cycle()
    loader.eng.close()
    assert not old.exists() and new.exists()


async def test_write_key_in_header_wins_and_key_is_never_stored(api: Api) -> None:
    r = await api.post(
        "track", {"userId": "u", "event": "e", "messageId": "k1", "writeKey": "something-else"}
    )
    assert r.status_code == 200
    await api.flush()
    inbox = api.service.inbox.loaded_dir
    text = b"".join(p.read_bytes() for p in inbox.glob("*.jsonl"))
    assert api.key.encode() not in text and b"something-else" not in text
    assert orjson.loads(text.splitlines()[0])["messageId"] == "k1"
