"""Customer lookups and timelines over HTTP.

``GET /v1/customers/lookup?email=|phone=|id=`` finds customers from an identifier written any way;
``GET /v1/customers/{key}`` is the profile; ``GET /v1/customers/{key}/timeline`` the cross-channel
timeline, newest first, paginated with an opaque cursor. Reads run on a cursor of the workspace's
connection per request (DuckDB cursors are safe across threads; connections are not).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query, Request

from ..errors import NotFoundError, RequestError
from ..timeline import lookup, profile, timeline


def _engine(request: Request) -> Any:
    return request.app.state.workspace.engine.cursor()


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/customers", tags=["customers"])

    @r.get("/lookup", summary="Find customers from an email, phone or id written any way")
    def lookup_customer(
        request: Request,
        email: str | None = None,
        phone: str | None = None,
        id: str | None = Query(None, description="crm:104233, 104233 (any system), a cookie, a handle..."),
    ) -> dict[str, Any]:
        given = [(k, v) for k, v in (("email", email), ("phone", phone), ("id", id)) if v]
        if len(given) != 1:
            raise RequestError("give exactly one of email, phone, id")
        kind, value = given[0]
        eng = _engine(request)
        try:
            matches = lookup(eng, value, kind=kind)
        finally:
            eng.close()
        keys = sorted({m.customer_key for m in matches if m.customer_key})
        if not matches:
            raise NotFoundError(f"no customer for {kind} {value!r}")
        return {
            "query": {kind: value},
            "customer_keys": keys,
            "matches": [
                {
                    "customer_key": m.customer_key,
                    "kind": m.kind,
                    "value": m.value,
                    "status": m.status,
                    "read_as": m.how,
                    "candidates": m.candidates,
                }
                for m in matches
            ],
        }

    @r.get("/{key}", summary="A customer's profile: identifiers, channels, merges")
    def get_customer(request: Request, key: str) -> dict[str, Any]:
        eng = _engine(request)
        try:
            return profile(eng, key)
        finally:
            eng.close()

    @r.get("/{key}/timeline", summary="Cross-channel timeline, newest first")
    def get_timeline(
        request: Request,
        key: str,
        limit: int = Query(50, ge=1, le=500),
        cursor: str | None = None,
        channel: list[str] | None = Query(None, description="repeat to allow several channels"),
        department: list[str] | None = Query(None),
        include_shared: bool = Query(False, description="also events only a shared identifier links here"),
    ) -> dict[str, Any]:
        eng = _engine(request)
        try:
            return timeline(
                eng,
                key,
                limit=limit,
                cursor=cursor,
                channels=channel,
                departments=department,
                include_shared=include_shared,
            )
        finally:
            eng.close()

    return r
