"""The ingestion service behind the tracking endpoints: inbox writer, key ring and loader, started and
stopped with the app (its lifespan)."""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.concurrency import run_in_threadpool

from .. import settings
from ..errors import ConfigError
from .inbox import Inbox, reject_line
from .keys import KeyRing, WriteKey
from .loader import Loader

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger("ordito.api")


class IngestService:
    """Everything live ingestion needs. ``start`` before serving, ``stop`` after (it loads what is left).

    Args:
        ws: the workspace (opened read-write by this process).
        inbox_dir: where segments go; default ``settings.sidecar_dir(ws.path) / "inbox"``.
        interval: seconds between two loader cycles.
        seal_every: seal earlier once this many messages are pending.
        retention_days: delete loaded segments older than this; None keeps them forever.
        resolve: run the identity hook after each load that added events.
    """

    def __init__(
        self,
        ws: Workspace,
        *,
        inbox_dir: Path | None = None,
        interval: float = 1.0,
        seal_every: int = 50_000,
        retention_days: float | None = 30.0,
        resolve: bool = True,
    ) -> None:
        if str(ws.path) == ":memory:" and inbox_dir is None:
            raise ConfigError("Live ingestion needs a workspace file (its inbox lives beside it)")
        self.ws = ws
        self.inbox = Inbox(inbox_dir or settings.sidecar_dir(Path(ws.path)) / "inbox", seal_every=seal_every)
        self.keys = KeyRing(ws.engine.cursor())
        self.loader = Loader(
            ws, self.inbox, self.keys, interval=interval, retention_days=retention_days, resolve=resolve
        )
        self.started = False

    def start(self) -> None:
        torn = self.inbox.repair()
        if torn:
            at = dt.datetime.now(dt.UTC).isoformat()
            lines = [
                reject_line(
                    "api",
                    f"{name}:torn",
                    "torn write: a crash cut this line before it was acknowledged",
                    frag.decode("utf-8", "backslashreplace"),
                    at,
                    f"last bytes of {name}",
                )
                for name, frag in torn
            ]
            self.inbox.write_rejects_now(lines)
        self.keys.refresh()
        self.inbox.seal()  # whatever an earlier run left is loaded before anything new
        self.inbox.start()
        self.loader.start()
        self.started = True

    def stop(self) -> None:
        if not self.started:
            return
        self.inbox.stop()
        self.loader.stop()
        self.started = False

    async def lookup(self, key: str) -> WriteKey | None:
        found = self.keys.get(key)
        if found is None and self.keys.stale():
            found = await run_in_threadpool(self.keys.lookup, key)
        return found

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything acknowledged so far is loaded into the workspace."""
        return self.loader.flush(timeout)
