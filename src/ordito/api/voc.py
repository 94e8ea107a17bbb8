"""Voice of the customer over HTTP (docs/VOC.md).

``GET /v1/voc/summary`` customer sentiment, NPS/CSAT/CES with 95% intervals by channel, department,
intent, outcome and month, response rates and who answers; ``GET /v1/voc/topics`` themes with labels in
the asked language; ``GET /v1/customers/{key}/voc`` what one customer wrote and answered. Reads run on a
cursor of the workspace's connection per request, as the customer endpoints do.

Access: when the app has access control installed (``ordito serve``: the agent app), the summary and
topics need ``analytics.read`` and the customer's voice needs ``customer.read`` and is audited, like the
other reads of one customer; a bare :func:`ordito.api.create_app` (tests) has no users and no checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from ..voc import report


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


def router() -> APIRouter:
    r = APIRouter(tags=["voice of the customer"])
    analytics = [Depends(_guard("analytics.read"))]
    one_customer = [Depends(_guard("customer.read", "api_customer_voc"))]

    @r.get(
        "/v1/voc/summary",
        summary="Customer sentiment, survey metrics with intervals, response rates",
        dependencies=analytics,
    )
    def voc_summary(
        request: Request,
        since: dt.datetime | None = Query(None, description="from this instant (UTC), inclusive"),
        until: dt.datetime | None = Query(None, description="up to this instant (UTC), exclusive"),
    ) -> dict[str, Any]:
        eng = _engine(request)
        try:
            return report.summary(eng, since=since, until=until)
        finally:
            eng.close()

    @r.get(
        "/v1/voc/topics",
        summary="Themes of what customers write, labelled in a language",
        dependencies=analytics,
    )
    def voc_topics(
        request: Request,
        language: str = Query("en", min_length=2, max_length=8, description="language of the labels"),
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        examples: int = Query(3, ge=0, le=20),
        discover: bool = Query(False, description="also cluster customer texts no theme covers"),
    ) -> dict[str, Any]:
        eng = _engine(request)
        try:
            out: dict[str, Any] = {
                "language": language,
                "topics": report.topic_report(
                    eng, language=language, since=since, until=until, examples=examples
                ),
            }
            if discover:
                out["discovered"] = report.discovered(eng, language=language)
            return out
        finally:
            eng.close()

    @r.get(
        "/v1/customers/{key}/voc",
        summary="What one customer wrote and answered",
        tags=["customers"],
        dependencies=one_customer,
    )
    def customer_voc(request: Request, key: str, limit: int = Query(50, ge=1, le=500)) -> dict[str, Any]:
        eng = _engine(request)
        try:
            return report.customer_voc(eng, key, limit=limit)
        finally:
            eng.close()

    return r
