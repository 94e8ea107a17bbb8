"""The whole app ``ordito serve`` runs: the live tracking API (write keys, unchanged) plus access-controlled
reads: the web app for people, ``/v1/context`` for systems, ``/v1/customers`` for admins.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Depends, FastAPI
from starlette.concurrency import run_in_threadpool
from starlette.staticfiles import StaticFiles

from .security import CUSTOMERS_API, audit_api, install_log_redaction
from .shell import STATIC, install_error_pages
from .shell import router as shell_router
from .state import AgentState
from .views import router as views_router

if TYPE_CHECKING:
    from ..workspace import Workspace


def install(
    app: FastAPI,
    ws: Workspace,
    *,
    routers: Sequence[APIRouter] = (),
    audit_interval: float = 0.5,
    auth_ttl: float = 2.0,
) -> AgentState:
    """Add access control, the audit log, the read APIs and the web app to an ordito API app.

    The tracking endpoints are not touched: they keep authenticating with write keys.

    Args:
        app: the app from :func:`ordito.api.create_app`.
        ws: its workspace.
        routers: more page routers (the analyst view), protected by their own dependencies.
        audit_interval: seconds between two writes of the audit log.
        auth_ttl: seconds a token or session check is cached.
    """
    from ..api.context import router as context_router
    from ..api.customers import router as customers_router

    state = AgentState(ws, audit_interval=audit_interval, auth_ttl=auth_ttl)
    app.state.agent = state
    install_log_redaction()
    install_error_pages(app)

    # the raw customer API shows every identifier in clear: admins (people or systems) only
    app.include_router(
        customers_router(),
        dependencies=[Depends(CUSTOMERS_API), Depends(audit_api("api_customers"))],
    )
    app.include_router(context_router())
    app.mount("/static", StaticFiles(directory=str(STATIC)), name="static")
    app.include_router(shell_router())
    app.include_router(views_router())
    from ..analyst.routes import router as analyst_router  # the analyst pages (analytics.read)

    app.include_router(analyst_router())
    for r in routers:
        app.include_router(r)

    inner = app.router.lifespan_context

    @asynccontextmanager
    async def lifespan(a: Any) -> AsyncIterator[Any]:
        await run_in_threadpool(state.start)
        try:
            async with inner(a) as value:
                yield value
        finally:
            await run_in_threadpool(state.stop)

    app.router.lifespan_context = lifespan
    return state


def create_agent_app(ws: Workspace, *, routers: Sequence[APIRouter] = (), **kwargs: Any) -> FastAPI:
    """:func:`ordito.api.create_app` (keyword arguments passed on) with :func:`install` applied."""
    from ..api.app import create_app

    app = create_app(ws, **kwargs)
    install(app, ws, routers=routers)
    return app
