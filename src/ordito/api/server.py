"""``ordito serve``: one uvicorn process holding the workspace, serving the API."""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path

from ..settings import sidecar_dir
from ..workspace import Workspace
from .keys import create_write_key, list_write_keys, revoke_write_key

log = logging.getLogger("ordito.api")

DEMO_LABEL = "demo (ordito serve --demo)"


def demo_key(ws: Workspace, source: str = "web") -> str:
    """A fresh write key for trying the API (older demo keys are revoked)."""
    for k in list_write_keys(ws):
        if k.label == DEMO_LABEL:
            revoke_write_key(ws, k.key_sha)
    return create_write_key(ws, source, label=DEMO_LABEL)


def _print_demo(ws: Workspace, key: str, host: str, port: int) -> None:
    """What a person trying the demo needs: the address, a write key, and customers worth a look."""
    from ..agent.auth import demo_login
    from ..summary import worth_a_look

    base = f"http://{host}:{port}"
    user, password = demo_login(ws.engine)
    from ..analyst import demo_login as analyst_login

    analyst, analyst_pw = analyst_login(ws.engine)
    lines = [
        "",
        f"ordito is serving {ws.path} at {base}",
        f"  web app:            {base}/   demo log-in: {user} / {password} (role agent)",
        f"  analytics:          {base}/analytics   demo log-in: {analyst} / {analyst_pw} (role analyst)",
        f"  API reference:      {base}/docs",
        f"  screen pop (JSON):  {base}/v1/context?phone=...   (needs an API token: `ordito user token`)",
        f"  demo write key (source 'web'): {key}",
        f"  send an event:      curl -u {key}: -H 'Content-Type: application/json' "
        f'-d \'{{"userId": "100200", "event": "Order Completed"}}\' {base}/v1/track',
        "  customers worth a look:",
    ]
    for c in worth_a_look(ws.engine):
        lines.append(f"    {base}/customers/{c['customer_key']}   (search {c['identifier']})   # {c['why']}")
    lines.append("Stop with Ctrl-C.")
    print("\n".join(lines), flush=True)  # noqa: T201 - the one place the demo talks to the person


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
        from ..agent.app import create_agent_app  # the API plus access control and the web app

        app = create_agent_app(
            ws,
            retention_days=retention_days,
            resolve=resolve,
            inbox_dir=Path(inbox_dir) if inbox_dir is not None else None,
        )
        if demo:
            key = demo_key(ws)
            _print_demo(ws, key, host, port)
        state = sidecar_dir(ws.path) / "serve.json"
        state.parent.mkdir(parents=True, exist_ok=True)
        state.write_text(json.dumps({"pid": os.getpid(), "url": f"http://{host}:{port}"}))
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
        (sidecar_dir(ws.path) / "serve.json").unlink(missing_ok=True)
        ws.close()
