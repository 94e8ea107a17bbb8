"""The Segment-compatible tracking endpoints: ``POST /v1/{track,identify,page,screen,group,alias,batch,import}``.

These are plain request handlers (no pydantic on the hot path): read the body (gzip or not, 500 KB at
most), authenticate the write key (HTTP Basic username with an empty password, or ``writeKey`` in the
body), check each message (``segment.process``), append the good ones and the refusals to the durable
inbox, and answer once they are on disk::

    200 {"success": true, "ok": true, "accepted": 2}
    200 {"success": true, "ok": true, "accepted": 1, "rejected": [{"index": 1, "messageId": "m2", "reason": "..."}]}
    400 {"ok": false, "error": "...", "errors": [...], "status": 400, "success": false, "code": ..., "message": ...}

A request whose messages are all refused gets 400 (the refusals are quarantined all the same).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import zlib
from typing import TYPE_CHECKING, Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.routing import Route

from ..errors import AuthError, RequestError
from . import schemas
from .errors import PayloadTooLarge, ServiceUnavailable
from .inbox import InboxUnavailable, reject_line
from .keys import WriteKey
from .segment import MAX_BODY_BYTES, BadBody, process

if TYPE_CHECKING:
    from .service import IngestService

CALLS = ("track", "identify", "page", "screen", "group", "alias", "batch", "import")


def basic_key(header: str | None) -> str | None:
    """The write key of an ``Authorization: Basic base64(key:)`` header (None when absent or not Basic)."""
    if not header or header[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise AuthError("Authorization header is not valid Basic credentials") from None
    key = decoded.split(":", 1)[0]
    return key or None


async def read_body(request: Request, limit: int = MAX_BODY_BYTES) -> bytes:
    """The request body, gunzipped when ``Content-Encoding: gzip``; PayloadTooLarge past ``limit`` bytes."""
    too_big = f"body exceeds the limit of {limit} bytes (500 KB per request, 32 KB per message)"
    cl = request.headers.get("content-length")
    if cl is not None and cl.isdigit() and int(cl) > limit:
        raise PayloadTooLarge(too_big)
    if cl is not None:
        body = await request.body()
    else:
        chunks, n = [], 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > limit:
                raise PayloadTooLarge(too_big)
            chunks.append(chunk)
        body = b"".join(chunks)
    if len(body) > limit:
        raise PayloadTooLarge(too_big)
    enc = request.headers.get("content-encoding", "").strip().lower()
    if enc in ("", "identity"):
        return body
    if enc not in ("gzip", "x-gzip"):
        raise RequestError(f"Content-Encoding {enc!r} is not supported (use gzip or none)")
    d = zlib.decompressobj(wbits=47)  # gzip or zlib header, auto-detected
    try:
        out = d.decompress(body, limit + 1)
    except zlib.error as exc:
        raise RequestError(f"body is not valid gzip: {exc}") from None
    if len(out) > limit or d.unconsumed_tail:
        raise PayloadTooLarge(too_big)
    if not d.eof:
        raise RequestError("gzip body is truncated")
    return out


def _body_reject(key: WriteKey, body: bytes, reason: str, at: str) -> bytes:
    key_id = "body:" + hashlib.md5(body).hexdigest()
    try:
        return reject_line(key.source, key_id, reason, body.decode("utf-8"), at, "request body")
    except UnicodeDecodeError:
        line = orjson.loads(reject_line(key.source, key_id, reason, None, at, "request body (not UTF-8)"))
        line["raw"] = body.decode("utf-8", "backslashreplace")
        line["raw_b64"] = base64.b64encode(body).decode()
        return orjson.dumps(line, option=orjson.OPT_APPEND_NEWLINE)


async def ingest(request: Request, call: str) -> Response:
    svc: IngestService = request.app.state.ordito
    received = dt.datetime.now(dt.UTC)
    at = received.isoformat()
    header_key = basic_key(request.headers.get("authorization"))
    key: WriteKey | None = None
    if header_key is not None:
        key = await svc.lookup(header_key)
        if key is None:
            raise AuthError("Unknown or revoked write key")
    body = await read_body(request)
    problem: str | None = None
    payload: Any = None
    try:
        payload = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        problem = f"body is not valid JSON: {exc}"
    if problem is None and type(payload) is not dict:
        problem = "body must be a JSON object"
    if key is None:
        wk = payload.get("writeKey") if type(payload) is dict else None
        if isinstance(wk, str) and wk:
            key = await svc.lookup(wk)
        if key is None:
            raise AuthError(
                "Missing or unknown write key: send it as the HTTP Basic username with an empty password, "
                "or as `writeKey` in the body"
            )
    if problem is None:
        try:
            res = process(call, payload, received)
        except BadBody as exc:
            problem = str(exc)
    if problem is not None:
        await _append(svc, key, [], [_body_reject(key, body, problem, at)])
        raise RequestError(problem)
    rejects = [
        reject_line(
            key.source,
            r.message_id or "raw:" + hashlib.md5(r.raw.encode()).hexdigest(),
            r.reason,
            r.raw,
            at,
            f"/v1/{call} message {r.index}",
        )
        for r in res.rejected
    ]
    await _append(svc, key, [(a.message_id, a.line) for a in res.accepted], rejects)
    if res.rejected and not res.accepted:
        err = RequestError(
            res.rejected[0].reason
            if len(res.rejected) == 1
            else f"all {len(res.rejected)} messages were refused"
        )
        err.rejected = [r.as_reply() for r in res.rejected]  # type: ignore[attr-defined]
        raise err
    reply: dict[str, Any] = {"success": True, "ok": True, "accepted": len(res.accepted)}
    if res.rejected:
        reply["rejected"] = [r.as_reply() for r in res.rejected]
    return Response(orjson.dumps(reply), media_type="application/json")


async def _append(
    svc: IngestService, key: WriteKey, lines: list[tuple[str, bytes]], rejects: list[bytes]
) -> None:
    try:
        await svc.inbox.append(key.source, key.namespace, lines, rejects)
    except InboxUnavailable as exc:
        raise ServiceUnavailable(f"events cannot be stored durably right now; retry later ({exc})") from exc


def _endpoint(call: str) -> Any:
    async def endpoint(request: Request) -> Response:
        return await ingest(request, call)

    endpoint.__name__ = f"segment_{call}"
    return endpoint


_SUMMARY = {
    "track": "Record an action a user performed (Segment `track`)",
    "identify": "Tie a user to their traits (Segment `identify`)",
    "page": "Record a page view (Segment `page`)",
    "screen": "Record a mobile screen view (Segment `screen`)",
    "group": "Associate a user with a group / account (Segment `group`)",
    "alias": "Merge two user identities (Segment `alias`)",
    "batch": "Send up to 500 KB of messages of any type (Segment `batch`)",
    "import": "Same as /v1/batch (Segment's historical import endpoint)",
}


def router() -> APIRouter:
    r = APIRouter(prefix="/v1", tags=["tracking (Segment spec)"])
    responses: dict[int | str, dict[str, Any]] = {
        200: {"model": schemas.Accepted, "description": "Stored durably (fsynced) before this reply"},
        400: {
            "model": schemas.ErrorBody,
            "description": "Malformed body, too large, or every message refused",
        },
        401: {"model": schemas.ErrorBody, "description": "Missing, unknown or revoked write key"},
        503: {"model": schemas.ErrorBody, "description": "The inbox cannot write: retry later"},
    }
    for call in CALLS:
        r.add_api_route(
            f"/{call}",
            _endpoint(call),
            methods=["POST"],
            summary=_SUMMARY[call],
            responses=responses,
            response_class=Response,
            openapi_extra=schemas.request_body(call),
        )
    return r


def fast_routes() -> list[Route]:
    """The same endpoints as plain Starlette routes, matched before the documented ones.

    FastAPI's per-request machinery (dependency solving, body-limit middleware, exit stacks) costs more
    than the handler itself at a few hundred requests per second; these routes skip it. The APIRoutes of
    :func:`router` stay in the app for the OpenAPI schema (``/docs``) and are never reached.
    """
    return [Route(f"/v1/{call}", _endpoint(call), methods=["POST"]) for call in CALLS]
