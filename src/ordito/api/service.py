"""The ingestion service behind the tracking endpoints: inbox writer, key ring and loader, started and
stopped with the app (its lifespan)."""

from __future__ import annotations

import datetime as dt
import logging
import os
import threading
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


def deprioritise_engine_threads(nice: int = 10) -> int:
    """Lower the priority of the engine's worker threads (Linux): the loader can wait, requests cannot.

    DuckDB's worker threads are not Python threads; every thread of this process that Python does not
    know is one of them. On a small machine a load cycle otherwise takes every core for a moment, and the
    request path (event loop, inbox writer) queues behind it. Returns how many threads were changed.
    """
    tasks = Path("/proc/self/task")
    if not tasks.is_dir():
        return 0
    python_threads = {t.native_id for t in threading.enumerate()}
    changed = 0
    for entry in tasks.iterdir():
        tid = int(entry.name)
        if tid in python_threads:
            continue
        try:
            os.setpriority(os.PRIO_PROCESS, tid, max(nice, os.getpriority(os.PRIO_PROCESS, tid)))
            changed += 1
        except OSError:
            continue
    return changed


class IngestService:
    """Everything live ingestion needs. ``start`` before serving, ``stop`` after (it loads what is left).

    Args:
        ws: the workspace (opened read-write by this process).
        inbox_dir: where segments go; default ``settings.sidecar_dir(ws.path) / "inbox"``.
        interval: seconds between two loader cycles.
        seal_every: seal earlier once this many messages are pending.
        retention_days: delete loaded segments older than this; None keeps them forever.
        resolve: run the identity hook after loads that added events.
        resolve_every: ... at most every this many seconds (and when stopping).
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
        resolve_every: float = 10.0,
    ) -> None:
        if str(ws.path) == ":memory:" and inbox_dir is None:
            raise ConfigError("Live ingestion needs a workspace file (its inbox lives beside it)")
        self.ws = ws
        self.inbox = Inbox(inbox_dir or settings.sidecar_dir(Path(ws.path)) / "inbox", seal_every=seal_every)
        self.keys = KeyRing(ws.engine.cursor())
        self.loader = Loader(
            ws,
            self.inbox,
            self.keys,
            interval=interval,
            retention_days=retention_days,
            resolve=resolve,
            resolve_every=resolve_every,
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
        deprioritise_engine_threads()

    def stop(self) -> None:
        if not self.started:
            return
        self.inbox.stop()
        self.loader.stop()
        self.keys.close()
        self.started = False

    async def lookup(self, key: str) -> WriteKey | None:
        found = self.keys.get(key)
        if found is None and self.keys.stale():
            found = await run_in_threadpool(self.keys.lookup, key)
        return found

    def flush(self, timeout: float = 30.0) -> bool:
        """Block until everything acknowledged so far is loaded into the workspace."""
        return self.loader.flush(timeout)
