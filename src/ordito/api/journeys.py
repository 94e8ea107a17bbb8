"""Episodes, friction and KPIs over HTTP (docs/JOURNEYS.md).

``GET /v1/customers/{key}/episodes`` one customer's episodes (newest first) with their frictions and
evidence; ``GET /v1/friction?kind=&since=`` detected frictions, newest first; ``GET /v1/kpis?by=`` KPIs per
``overall``, ``channel``, ``department`` (with the department's own view next to what its customers
lived) or ``intent``. Reads run on a cursor of the workspace's connection per request, as the customer
endpoints do. With access control installed (``ordito serve``), the customer's episodes need
``customer.read`` and are audited; friction and KPIs need ``analytics.read``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from ..errors import NotFoundError
from ..journeys import query
from ..journeys.friction import KINDS
from ..journeys.kpis import BY
from ..timeline import current_key


def _engine(request: Request) -> Any:
    return request.app.state.workspace.engine.cursor()


def _guard(permission: str, audit: str | None = None) -> Callable[[Request], None]:
    def dep(request: Request) -> None:
        if getattr(request.app.state, "agent", None) is None:
            return
        from ..agent.security import audit_api, require

        require(permission)(request)
        if audit:
            audit_api(audit)(request)

    return dep


def _friction_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    for r in rows:
        r["evidence"] = json.loads(r["evidence"]) if isinstance(r.get("evidence"), str) else r.get("evidence")
    return rows


def router() -> APIRouter:
    r = APIRouter(tags=["journeys"])
    analytics = [Depends(_guard("analytics.read"))]
    one_customer = [Depends(_guard("customer.read", "api_customer_episodes"))]

    @r.get(
        "/v1/customers/{key}/episodes",
        summary="A customer's episodes (one per need), newest first, with their frictions",
        dependencies=one_customer,
    )
    def customer_episodes(
        request: Request,
        key: str,
        intent: str | None = Query(None, description="only episodes of this need"),
    ) -> dict[str, Any]:
        eng = _engine(request)
        try:
            cur = current_key(eng, key)
            if cur is None:
                raise NotFoundError(f"No customer {key}")
            eps = query.episodes(eng, customer=cur, intent=intent).to_pylist()
            frs = _friction_rows(query.friction(eng, customer=cur).to_pylist())
        finally:
            eng.close()
        by_ep: dict[str, list[dict[str, Any]]] = {}
        for f in frs:
            by_ep.setdefault(f["episode_id"], []).append(
                {k: f[k] for k in ("friction_id", "kind", "occurred_at", "severity", "evidence", "detail")}
            )
        for e in eps:
            e["frictions"] = by_ep.get(e["episode_id"], [])
        return {"customer_key": cur, "requested_key": key, "episodes": eps}

    @r.get(
        "/v1/friction", summary="Detected frictions with their evidence, newest first", dependencies=analytics
    )
    def list_friction(
        request: Request,
        kind: str | None = Query(None, description="one of: " + ", ".join(KINDS)),
        since: dt.datetime | None = Query(None, description="from this instant (UTC), inclusive"),
        customer: str | None = Query(None, description="only this customer key"),
        limit: int = Query(100, ge=1, le=10_000),
    ) -> dict[str, Any]:
        eng = _engine(request)
        try:
            rows = _friction_rows(
                query.friction(eng, kind=kind, since=since, customer=customer, limit=limit).to_pylist()
            )
        finally:
            eng.close()
        return {"kind": kind, "since": since, "count": len(rows), "friction": rows}

    @r.get("/v1/kpis", summary="KPIs per team and end to end, side by side", dependencies=analytics)
    def get_kpis(
        request: Request,
        by: str = Query("overall", description="one of: " + ", ".join(BY)),
    ) -> dict[str, Any]:
        eng = _engine(request)
        try:
            rows = query.kpis_table(eng, by).to_pylist()
        finally:
            eng.close()
        return {"by": by, "rows": rows}

    return r
