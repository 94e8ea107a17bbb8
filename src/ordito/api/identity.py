"""Probabilistic identity over HTTP: the review queue, a person's decisions, unmerge (docs/IDENTITY.md).

``GET /v1/identity/review`` the pairs waiting for a person, most probable first; ``POST
/v1/identity/review`` records ``{"node_a", "node_b", "decision": "same"|"different", "by", "note"}`` and
re-clusters the customers involved at once; ``GET /v1/identity/decisions`` the decisions so far;
``POST /v1/identity/unmerge`` undoes one merge (``{"ref": change id or customer key}``); ``GET
/v1/identity/model`` the match weights in use.

Access: with access control installed (``ordito serve``: the agent app) every endpoint needs
``identifiers.unmasked`` (records are shown in clear) and is audited; a bare app (tests) has no checks.
Writes run on the workspace's connection under the app's identity lock, one at a time.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

_LOCK = threading.Lock()


class Decision(BaseModel):
    node_a: int = Field(description="identifier id of one side (from the queue)")
    node_b: int = Field(description="identifier id of the other side")
    decision: str = Field(description="same | different")
    by: str | None = None
    note: str | None = None


class Unmerge(BaseModel):
    ref: str = Field(description="a merge's change id, or a customer key (its latest merge)")
    by: str | None = None


def _guard(audit: str | None = None) -> Callable[[Request], None]:
    def dep(request: Request) -> None:
        if getattr(request.app.state, "agent", None) is None:
            return
        from ..agent.security import audit_api, require

        require("identifiers.unmasked")(request)
        if audit:
            audit_api(audit)(request)

    return dep


def router() -> APIRouter:
    r = APIRouter(prefix="/v1/identity", tags=["identity"])

    @r.get(
        "/review",
        summary="Pairs of records waiting for a person's decision",
        dependencies=[Depends(_guard())],
    )
    def get_review(
        request: Request, limit: int = Query(50, ge=1, le=500), offset: int = Query(0, ge=0)
    ) -> dict[str, Any]:
        from ..identity.fuzzy.review import queue

        eng = request.app.state.workspace.engine.cursor()
        try:
            return {"items": queue(eng, limit=limit, offset=offset), "limit": limit, "offset": offset}
        finally:
            eng.close()

    @r.post(
        "/review",
        summary="Decide: same person or different people",
        dependencies=[Depends(_guard("identity.review"))],
    )
    def post_review(request: Request, body: Decision) -> dict[str, Any]:
        from ..identity.fuzzy.review import decide

        with _LOCK:
            res = decide(
                request.app.state.workspace.engine,
                body.node_a,
                body.node_b,
                body.decision,
                body.by,
                body.note,
            )
        return {
            "ok": True,
            "status": 200,
            "merges": res.merges,
            "splits": res.splits,
            "refused": res.fuzzy_refused,
            "customers": res.customers,
        }

    @r.get("/decisions", summary="Decisions made by people", dependencies=[Depends(_guard())])
    def get_decisions(request: Request, limit: int = Query(100, ge=1, le=1000)) -> dict[str, Any]:
        from ..identity.fuzzy.review import decisions

        eng = request.app.state.workspace.engine.cursor()
        try:
            return {"items": decisions(eng, limit)}
        finally:
            eng.close()

    @r.post("/unmerge", summary="Undo one merge", dependencies=[Depends(_guard("identity.unmerge"))])
    def post_unmerge(request: Request, body: Unmerge) -> dict[str, Any]:
        from ..identity.fuzzy.review import unmerge

        with _LOCK:
            out = unmerge(request.app.state.workspace.engine, body.ref, by=body.by)
        return {"ok": True, "status": 200, **out}

    @r.get("/model", summary="Match weights of the model in use", dependencies=[Depends(_guard())])
    def get_model(request: Request) -> dict[str, Any]:
        from ..identity.fuzzy.model import Model
        from ..identity.fuzzy.stage import current_model, model_summary

        eng = request.app.state.workspace.engine.cursor()
        try:
            return model_summary(current_model(eng) or Model.default())
        finally:
            eng.close()

    return r
