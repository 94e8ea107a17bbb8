"""``ordito serve``: one uvicorn process holding the workspace, serving the API."""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..workspace import Workspace
from .app import create_app
from .keys import create_write_key, list_write_keys, revoke_write_key

log = logging.getLogger("ordito.api")

DEMO_LABEL = "demo (ordito serve --demo)"


def demo_key(ws: Workspace, source: str = "web") -> str:
    """A fresh write key for trying the API (older demo keys are revoked)."""
    for k in list_write_keys(ws):
        if k.label == DEMO_LABEL:
            revoke_write_key(ws, k.key_sha)
    return create_write_key(ws, source, label=DEMO_LABEL)


def serve(
    workspace: Path | str | os.PathLike[str],
    host: str = "127.0.0.1",
    port: int = 8765,
    *,
    demo: bool = False,
    log_level: str = "info",
    access_log: bool = False,
    retention_days: float | None = 30.0,
    resolve: bool = True,
    inbox_dir: Path | str | None = None,
) -> None:
    """Serve the API on ``host:port`` until interrupted (SIGINT/SIGTERM load what is pending, then exit).

    Args:
        workspace: the workspace file; this process holds it for writing while it runs.
        host: interface to bind (``127.0.0.1``: this machine only).
        port: TCP port.
        demo: create a fresh write key for source ``web`` and log it.
        log_level: uvicorn's log level.
        access_log: log every request (costly at high rates).
        retention_days: keep loaded inbox segments this many days (None: forever).
        resolve: run identity resolution after loads (at most every 10 s).
        inbox_dir: where the durable inbox lives (default beside the workspace); a disk of its own
            keeps its fsyncs from waiting behind the engine's.
    """
    import uvicorn

    ws = Workspace(workspace)
    try:
        app = create_app(
            ws,
            retention_days=retention_days,
            resolve=resolve,
            inbox_dir=Path(inbox_dir) if inbox_dir is not None else None,
        )
        if demo:
            key = demo_key(ws)
            logging.basicConfig(level=logging.INFO)
            log.warning(
                "demo write key for source 'web': %s  (curl -u %s: http://%s:%d/v1/track ...)",
                key,
                key,
                host,
                port,
            )
        uvicorn.run(
            app,
            host=host,
            port=port,
            log_level=log_level,
            access_log=access_log,
            lifespan="on",
            ws="none",
            workers=1,
            timeout_graceful_shutdown=10,
        )
    finally:
        ws.close()
