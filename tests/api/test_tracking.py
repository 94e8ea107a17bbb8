"""The tracking endpoints in process (httpx over ASGI): every call type, auth, bad bodies, limits, retries."""

from __future__ import annotations

import copy
import datetime as dt
import gzip
import json

import httpx
import orjson
import pytest

from ordito.api import create_app, revoke_write_key
from ordito.workspace import Workspace

from .conftest import Api

pytestmark = pytest.mark.anyio

ENVELOPE = {"ok", "error", "errors", "status", "success", "code", "message"}


def _events(api: Api) -> dict[str, tuple]:
    rows = api.sql(
        "SELECT source_key, type, channel, identifiers, traits, properties, occurred_at FROM events"
    )
    return {r[0]: r[1:] for r in rows}


def _ids(identifiers: list[dict]) -> set[tuple[str, str, str]]:
    return {(i["kind"], i["namespace"], i["raw"]) for i in identifiers}


async def test_every_call_type_is_stored(api: Api) -> None:
    calls = {
        "track": {
            "userId": "u1",
            "event": "Order Completed",
            "properties": {"revenue": 99.5, "currency": "eur"},
        },
        "identify": {
            "userId": "u1",
            "traits": {"email": "Ann@Example.com", "phone": "+39 333 1234567", "firstName": "Ann"},
        },
        "page": {
            "anonymousId": "anon-1",
            "name": "Home",
            "context": {"page": {"url": "https://shop.example/"}},
        },
        "screen": {"userId": "u1", "name": "Cart", "context": {"os": {"name": "iOS"}}},
        "group": {"userId": "u1", "groupId": "acme", "traits": {"name": "Acme"}},
        "alias": {"previousId": "anon-1", "userId": "u1"},
    }
    for call, body in calls.items():
        r = await api.post(call, {**body, "messageId": f"m-{call}"})
        assert r.status_code == 200, r.text
        assert r.json() == {"success": True, "ok": True, "accepted": 1}
    await api.flush()
    ev = _events(api)
    assert {k: v[0] for k, v in ev.items()} == {
        "m-track": "order_placed",
        "m-identify": "identify",
        "m-page": "page_view",
        "m-screen": "screen_view",
        "m-group": "group",
        "m-alias": "alias",
    }
    assert ev["m-page"][1] == "web" and ev["m-screen"][1] == "app" and ev["m-track"][1] == "other"
    assert _ids(ev["m-identify"][2]) == {
        ("customer_id", "shop", "u1"),
        ("email", "", "Ann@Example.com"),
        ("phone", "", "+39 333 1234567"),
    }
    assert _ids(ev["m-page"][2]) == {("anonymous_id", "", "anon-1")}
    assert ("anonymous_id", "", "anon-1") in _ids(ev["m-alias"][2])
    assert ("customer_id", "shop", "u1") in _ids(ev["m-alias"][2])
    assert json.loads(ev["m-identify"][3])["first_name"] == "Ann"
    props = json.loads(ev["m-track"][4])
    assert props["event"] == "Order Completed" and props["properties"]["revenue"] == 99.5
    value = api.sql("SELECT value, currency FROM events WHERE source_key = 'm-track'")
    assert value == [(99.5, "EUR")]
    runs = api.sql("SELECT DISTINCT kind, source FROM ingest_runs")
    assert ("api", "web") in runs


async def test_batch_and_import(api: Api) -> None:
    batch = [
        {"type": "track", "userId": f"u{i}", "event": "Clicked", "messageId": f"b{i}"} for i in range(50)
    ]
    r = await api.post("batch", {"batch": batch})
    assert r.json()["accepted"] == 50
    r = await api.post("import", {"batch": [{"type": "identify", "userId": "x", "messageId": "i1"}]})
    assert r.status_code == 200
    await api.flush()
    assert api.sql("SELECT count(*) FROM events")[0][0] == 51


async def test_auth_failures_are_401_and_store_nothing(api: Api) -> None:
    body = {"userId": "u", "event": "e"}
    for kw in ({"auth": False}, {"auth": ("wrong-key", "")}):
        r = await api.post("track", body, **kw)  # type: ignore[arg-type]
        assert r.status_code == 401
        assert set(r.json()) == ENVELOPE
        assert r.json()["code"] == "unauthorized" and r.json()["ok"] is False
        assert r.headers["www-authenticate"].startswith("Basic")
    r = await api.post("track", body, headers={"Authorization": "Basic !!!"}, auth=False)
    assert r.status_code == 401
    await api.flush()
    assert api.sql("SELECT count(*) FROM quarantine")[0][0] == 0
    assert api.sql("SELECT count(*) FROM events")[0][0] == 0


async def test_write_key_in_body_and_revocation(api: Api) -> None:
    r = await api.post("track", {"writeKey": api.key, "userId": "u", "event": "e"}, auth=False)
    assert r.status_code == 200
    revoke_write_key(api.ws, api.key)
    api.service.keys.refresh()
    r = await api.post("track", {"userId": "u", "event": "e"})
    assert r.status_code == 401


async def test_malformed_bodies_are_400_and_quarantined(api: Api) -> None:
    r = await api.post(
        "track", content=b'{"userId": "u", "event": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_request"
    assert "not valid JSON" in r.json()["error"]
    r = await api.post("batch", {"batch": "nope"})
    assert r.status_code == 400
    r = await api.post("track", content=b"[1, 2]")
    assert r.status_code == 400
    r = await api.post("track", content=b"\xff\xfe{bad")
    assert r.status_code == 400
    await api.flush()
    reasons = [row[0] for row in api.sql("SELECT reason FROM quarantine ORDER BY reason")]
    assert len(reasons) == 4
    assert any("batch" in x for x in reasons) and any("JSON object" in x for x in reasons)
    raw = api.sql("SELECT raw_bytes FROM quarantine WHERE raw_bytes IS NOT NULL")
    assert raw == [(b"\xff\xfe{bad",)]


async def test_bad_messages_in_a_batch_are_refused_good_ones_stored(api: Api) -> None:
    batch = [
        {"type": "track", "userId": "u1", "event": "Good", "messageId": "g1"},
        {"type": "track", "userId": "u1", "messageId": "bad-no-event"},
        {"type": "teleport", "userId": "u1", "messageId": "bad-type"},
        {"type": "identify", "messageId": "bad-no-id"},
        {"type": "page", "anonymousId": "a1", "messageId": "g2"},
    ]
    r = await api.post("batch", {"batch": batch})
    assert r.status_code == 200
    body = r.json()
    assert body["accepted"] == 2
    assert [x["messageId"] for x in body["rejected"]] == ["bad-no-event", "bad-type", "bad-no-id"]
    assert all(x["reason"] for x in body["rejected"])
    await api.flush()
    assert sorted(_events(api)) == ["g1", "g2"]
    q = dict(api.sql("SELECT source_key, reason FROM quarantine"))
    assert set(q) == {"bad-no-event", "bad-type", "bad-no-id"}
    assert "event name" in q["bad-no-event"] and "type must be one of" in q["bad-type"]
    raw = api.sql("SELECT raw FROM quarantine WHERE source_key = 'bad-no-id'")[0][0]
    assert json.loads(raw)["messageId"] == "bad-no-id"


async def test_all_messages_refused_is_400_with_reasons(api: Api) -> None:
    r = await api.post("track", {"userId": "u", "messageId": "x1"})
    assert r.status_code == 400
    assert set(r.json()) == ENVELOPE
    assert r.json()["errors"][0]["messageId"] == "x1"
    await api.flush()
    assert api.sql("SELECT source_key FROM quarantine") == [("x1",)]


async def test_gzip_bodies(api: Api) -> None:
    body = gzip.compress(
        orjson.dumps({"batch": [{"type": "track", "userId": "u", "event": "Zipped", "messageId": "z1"}]})
    )
    r = await api.post(
        "batch", content=body, headers={"Content-Encoding": "gzip", "Content-Type": "application/json"}
    )
    assert r.status_code == 200, r.text
    r = await api.post("batch", content=b"not gzip", headers={"Content-Encoding": "gzip"})
    assert r.status_code == 400 and "gzip" in r.json()["error"]
    bomb = gzip.compress(b" " * 2_000_000)
    r = await api.post("batch", content=bomb, headers={"Content-Encoding": "gzip"})
    assert r.status_code == 400 and r.json()["code"] == "payload_too_large"
    await api.flush()
    assert "z1" in _events(api)


async def test_size_limits(api: Api) -> None:
    big = {
        "type": "track",
        "userId": "u",
        "event": "Big",
        "messageId": "big",
        "properties": {"blob": "x" * 33_000},
    }
    ok = {"type": "track", "userId": "u", "event": "Small", "messageId": "small"}
    r = await api.post("batch", {"batch": [big, ok]})
    assert r.status_code == 200
    assert r.json()["rejected"][0]["messageId"] == "big"
    assert "32 KB" in r.json()["rejected"][0]["reason"]
    r = await api.post("track", big)
    assert r.status_code == 400
    huge = {"batch": [{**ok, "messageId": f"h{i}", "properties": {"p": "y" * 20_000}} for i in range(30)]}
    r = await api.post("batch", huge)
    assert r.status_code == 400 and r.json()["code"] == "payload_too_large"
    await api.flush()
    assert sorted(_events(api)) == ["small"]
    assert api.sql("SELECT DISTINCT source_key FROM quarantine") == [("big",)]
    raw = api.sql("SELECT length(raw) FROM quarantine")[0][0]
    assert raw > 33_000  # the whole refused message is kept


async def test_retries_with_the_same_message_id_are_stored_once(api: Api) -> None:
    msg = {
        "type": "track",
        "userId": "u",
        "event": "Paid",
        "messageId": "retry-1",
        "timestamp": "2024-05-01T10:00:00Z",
    }
    for i in range(3):  # same segment: the SDK's retries carry a new sentAt each time
        r = await api.post("batch", {"batch": [msg], "sentAt": f"2024-05-01T10:00:0{i}Z"})
        assert r.status_code == 200 and r.json()["accepted"] == 1
    await api.flush()
    r = await api.post("batch", {"batch": [msg, {**msg, "messageId": "retry-2"}]})  # a later segment
    await api.flush()
    assert api.sql("SELECT source_key, count(*) FROM events GROUP BY 1 ORDER BY 1") == [
        ("retry-1", 1),
        ("retry-2", 1),
    ]
    assert api.sql("SELECT count(*) FROM quarantine")[0][0] == 0


async def test_sent_at_corrects_the_client_clock(api: Api) -> None:
    now = dt.datetime.now(dt.UTC)
    skew = dt.timedelta(hours=3)  # the device clock runs 3 h ahead
    happened = now - dt.timedelta(minutes=10)
    r = await api.post(
        "track",
        {
            "userId": "u",
            "event": "Skewed",
            "messageId": "s1",
            "timestamp": (happened + skew).isoformat(),
            "sentAt": (now + skew).isoformat(),
        },
    )
    assert r.status_code == 200
    await api.flush()
    occurred, props = api.sql("SELECT occurred_at, properties FROM events WHERE source_key = 's1'")[0]
    assert abs(occurred - happened.replace(tzinfo=None)) < dt.timedelta(seconds=5)
    assert json.loads(props)["originalTimestamp"] == (happened + skew).isoformat()


async def test_error_envelope_everywhere(api: Api) -> None:
    for r in (
        await api.client.get("/v1/nowhere"),
        await api.client.get("/v1/track"),
        await api.post("track", {"userId": "u"}),
        await api.post("track", {"userId": "u", "event": "e"}, auth=False),
    ):
        assert r.status_code >= 400
        body = r.json()
        assert set(body) == ENVELOPE, body
        assert body["ok"] is False and body["status"] == r.status_code


async def test_openapi_documents_the_endpoints(api: Api) -> None:
    spec = (await api.client.get("/openapi.json")).json()
    for call in ("track", "identify", "page", "screen", "group", "alias", "batch", "import"):
        assert f"/v1/{call}" in spec["paths"]
    assert (
        "event"
        in spec["paths"]["/v1/track"]["post"]["requestBody"]["content"]["application/json"]["schema"][
            "properties"
        ]
    )
    assert (await api.client.get("/docs")).status_code == 200
    health = (await api.client.get("/health")).json()
    assert health["ok"] is True


class _Recorder:
    """A stand-in for Workspace.resolve: records its calls, fails on demand."""

    def __init__(self) -> None:
        self.calls: list[int | None] = []
        self.fail = False


async def test_identity_hook_runs_after_loads_and_survives_failures(ws: Workspace, key: str) -> None:
    rec = _Recorder()

    class HookedWorkspace(Workspace):
        def resolve(self, *, since_seq: int | None = None) -> None:  # type: ignore[override]
            rec.calls.append(since_seq)
            if rec.fail:
                self.engine.execute("BEGIN TRANSACTION")
                raise RuntimeError("identity broke")

    hooked = copy.copy(ws)
    hooked.__class__ = HookedWorkspace
    app = create_app(hooked, interval=0.1, resolve_every=0.0)
    transport = httpx.ASGITransport(app=app)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(transport=transport, base_url="http://t") as c,
    ):
        api = Api(c, app, ws, key)
        await api.post("track", {"userId": "u", "event": "e", "messageId": "h1"})
        await api.flush()
        assert rec.calls and rec.calls[0] is not None
        first = ws.sql("SELECT seq FROM events WHERE source_key = 'h1'")[0][0]
        assert rec.calls[0] == first
        rec.fail = True
        await api.post("track", {"userId": "u", "event": "e", "messageId": "h2"})
        await api.flush()
        rec.fail = False
        await api.post("track", {"userId": "u", "event": "e", "messageId": "h3"})
        await api.flush()  # the loader still works after the hook failed mid-transaction
    assert api.service.loader.stats.resolve_errors == 1
    assert sorted(r[0] for r in ws.sql("SELECT source_key FROM events")) == ["h1", "h2", "h3"]
