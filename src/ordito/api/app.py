"""The FastAPI application: tracking endpoints, the error envelope, and the ingestion service lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, FastAPI, Request
from starlette.concurrency import run_in_threadpool

from .._version import __version__
from . import errors, tracking
from .service import IngestService

if TYPE_CHECKING:
    from ..workspace import Workspace

DESCRIPTION = """\
Live ingestion speaking the [Segment tracking spec](https://segment.com/docs/connections/spec/): point a
Segment or RudderStack SDK at this server with an ordito write key. A 200 means the events are on disk
(fsynced); they reach the workspace within about a second. See docs/API.md.
"""


def _mount_docs(app: FastAPI) -> None:
    """The OpenAPI page at /docs, with its JavaScript and CSS served from the package (works offline)."""
    import swagger_ui_bundle
    from fastapi.openapi.docs import get_swagger_ui_html
    from fastapi.responses import HTMLResponse
    from starlette.staticfiles import StaticFiles

    app.mount("/_docs", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="swagger-ui")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="ordito API",
            swagger_js_url="/_docs/swagger-ui-bundle.js",
            swagger_css_url="/_docs/swagger-ui.css",
            swagger_favicon_url="/_docs/favicon-32x32.png",
        )


def create_app(
    workspace: Workspace,
    *,
    routers: Sequence[APIRouter] = (),
    inbox_dir: Path | None = None,
    interval: float = 1.0,
    seal_every: int = 50_000,
    retention_days: float | None = 30.0,
    resolve: bool = True,
    resolve_every: float = 10.0,
) -> FastAPI:
    """The ordito API app for an open workspace.

    Args:
        workspace: the workspace, opened read-write by this process (the only writer).
        routers: extra routers to include (customers, timelines...).
        inbox_dir: where the durable inbox lives; default beside the workspace file.
        interval: seconds between loader cycles (events are queryable after at most about this long).
        seal_every: seal a segment early once this many messages are pending.
        retention_days: keep loaded segments this many days (None: forever).
        resolve: run identity resolution after loads that added events.
        resolve_every: ... at most every this many seconds (and at shutdown).
    """
    service = IngestService(
        workspace,
        inbox_dir=inbox_dir,
        interval=interval,
        seal_every=seal_every,
        retention_days=retention_days,
        resolve=resolve,
        resolve_every=resolve_every,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await run_in_threadpool(service.start)
        try:
            yield
        finally:
            await run_in_threadpool(service.stop)

    app = FastAPI(
        title="ordito",
        version=__version__,
        description=DESCRIPTION,
        lifespan=lifespan,
        docs_url=None,  # served below with Swagger UI's files from the swagger-ui-bundle wheel: no CDN
        redoc_url=None,
    )
    _mount_docs(app)
    app.state.ordito = service
    app.state.workspace = workspace
    errors.install(app)
    app.include_router(tracking.router())  # documented in OpenAPI ...
    app.router.routes[:0] = tracking.fast_routes()  # ... served by plain routes matched first
    from . import voc as voc_api  # voice of the customer (checks permissions when access control is on)

    app.include_router(voc_api.router())
    from . import identity as identity_api  # review queue, decisions, unmerge (identifiers.unmasked)

    app.include_router(identity_api.router())
    from . import journeys as journeys_api  # episodes, friction, KPIs

    app.include_router(journeys_api.router())

    @app.get("/health", tags=["service"], summary="Liveness and loader progress")
    async def health(request: Request) -> dict[str, Any]:
        s = service.loader.stats
        return {
            "ok": service.inbox.failed is None,
            "status": 200,
            "inbox_pending": service.inbox.pending,
            "loaded_events": s.events_new,
            "quarantined": s.quarantined,
            "load_cycles": s.cycles,
            "last_error": s.last_error,
        }

    for r in routers:
        app.include_router(r)
    return app
