"""The single loader: folds sealed inbox segments into the workspace, in one background thread.

The server process is the only one holding the DuckDB workspace for writing, and inside it this thread
is the only writer. Every ``interval`` seconds (sooner when the writer has ``seal_every`` messages
pending, or when someone calls :meth:`Loader.flush`) it seals the current epoch and loads every sealed
file, oldest first:

- a message file through the normal file ingestion (``Ingestor.ingest_file`` with the Segment mapping of
  its source and namespace), inside one transaction, so a crash mid-load leaves nothing half-done;
- a rejects file into ``quarantine`` (idempotent: the quarantine id hashes source, key and reason).

A loaded file moves to ``inbox/loaded/``; loading the same file again adds nothing (events are keyed by
``md5(source || chr(31) || messageId)``), so a crash between the commit and the move is harmless. After a
cycle that added events the identity hook runs (``Workspace.resolve``, when the workspace has it).
"""

from __future__ import annotations

import base64
import contextlib
import copy
import datetime as dt
import hashlib
import inspect
import logging
import os
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from ..errors import StoreError
from ..sources.ingest import Ingestor, Job
from ..store.duckdb import DuckDBEngine
from .inbox import Inbox, SegmentFile, _fsync_dir
from .keys import KeyRing
from .segment_mapping import segment_mapping

if TYPE_CHECKING:
    from ..workspace import Workspace

log = logging.getLogger("ordito.api.loader")


@dataclass
class LoadStats:
    cycles: int = 0
    files: int = 0
    events_new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    last_error: str | None = None
    last_load_at: float | None = None
    resolve_errors: int = 0
    timings: list[float] = field(default_factory=list)  # seconds per cycle (last 100)


class Loader:
    """Background loader. ``start()`` loads whatever an earlier run left unloaded before anything else."""

    def __init__(
        self,
        ws: Workspace,
        inbox: Inbox,
        keys: KeyRing | None = None,
        *,
        interval: float = 1.0,
        retention_days: float | None = 30.0,
        resolve: bool = True,
        resolve_every: float = 10.0,
        nice: int = 10,
        checkpoint_mb: int | None = 256,
    ) -> None:
        self.ws = ws
        self.nice = nice
        self.resolve_every = resolve_every
        self._last_resolve = 0.0
        self._resolve_from: int | None = None  # first seq loaded since the last resolution
        self.inbox = inbox
        self.keys = keys
        self.interval = interval
        self.retention_days = retention_days
        self.resolve = resolve
        self.stats = LoadStats()
        self.eng: DuckDBEngine = ws.engine.cursor()  # this thread's own connection
        self.eng.execute("SET TimeZone = 'UTC'")
        self.wal = Path(str(ws.path) + ".wal")
        if checkpoint_mb is not None:
            # A checkpoint flushes the WAL into the database file (~0.1 s and heavy fsyncs per 16 MB),
            # and every fsync of the inbox waits behind it on the same disk. DuckDB's default (16 MB)
            # checkpoints every few seconds under load; we raise the threshold and checkpoint when idle.
            self.eng.execute(f"SET checkpoint_threshold = '{int(checkpoint_mb)}MB'")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._cond = threading.Condition()
        self._generation = 0  # bumped after every completed cycle
        self._running = False
        self._thread: threading.Thread | None = None
        self._last_prune = 0.0
        inbox.on_full = self._wake.set

    # --- lifecycle ---------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ordito-loader", daemon=True)
        self._thread.start()

    def stop(self, timeout: float | None = None) -> None:
        """Stop after a last cycle that loads everything acknowledged so far."""
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self.eng.close()

    def flush(self, timeout: float = 30.0) -> bool:
        """Seal and load everything acknowledged before the call; True when done within ``timeout``."""
        with self._cond:
            # a running cycle may have sealed before this call: then wait for the one after it
            target = self._generation + (2 if self._running else 1)
        self._wake.set()
        deadline = time.monotonic() + timeout
        with self._cond:
            while self._generation < target:
                left = deadline - time.monotonic()
                if left <= 0 or self._thread is None:
                    return False
                self._cond.wait(left)
        return True

    def _run(self) -> None:
        if self.nice:
            # the loader catches up later; the request path must not wait for CPU behind it
            try:
                os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), self.nice)
            except OSError:
                log.debug("could not lower the loader thread's priority")
        while True:
            stopping = self._stop.is_set()
            with self._cond:
                self._running = True
            try:
                self.cycle(final=stopping)
            except Exception as exc:  # keep the thread alive: the files stay in the inbox for the next try
                self.stats.last_error = f"{type(exc).__name__}: {exc}"
                log.exception("load cycle failed; the segments stay in the inbox and are retried")
            with self._cond:
                self._running = False
                self._generation += 1
                self._cond.notify_all()
            if stopping:
                return
            self._wake.wait(self.interval)
            self._wake.clear()

    # --- one cycle -----------------------------------------------------------------------------

    def cycle(self, final: bool = False) -> int:
        """Seal (when something is pending) and load all sealed files. Returns events added.

        Identity resolution runs after loads at most every ``resolve_every`` seconds (and in the final
        cycle): it holds the GIL for long stretches, so running it every second would stall requests.
        """
        t0 = time.perf_counter()
        if self.keys is not None:
            self.keys.refresh()
        if self.inbox.has_open():
            self.inbox.seal()
        added, first_seq = 0, None
        for f in self.inbox.sealed():
            n, seq = self.load_file(f)
            added += n
            if seq is not None and first_seq is None:
                first_seq = seq
        if added and self._resolve_from is None:
            self._resolve_from = first_seq
        if (
            self.resolve
            and self._resolve_from is not None
            and (final or time.monotonic() - self._last_resolve >= self.resolve_every)
        ):
            self._resolve(self._resolve_from)
            self._resolve_from = None
            self._last_resolve = time.monotonic()
        if added == 0 and not self.inbox.pending:
            self._checkpoint_if_idle()
        self._prune()
        self.stats.cycles += 1
        self.stats.timings = [*self.stats.timings[-99:], time.perf_counter() - t0]
        return added

    def load_file(self, f: SegmentFile) -> tuple[int, int | None]:
        """Load one sealed file and move it to ``loaded/``. Returns (events added, first seq)."""
        added, first = 0, None
        if f.path.stat().st_size:
            if f.is_rejects:
                self.stats.quarantined += self._load_rejects(f)
            else:
                added, first = self._load_messages(f)
        dest = self.inbox.loaded_dir / f.path.name
        os.replace(f.path, dest)
        _fsync_dir(self.inbox.loaded_dir)
        self.stats.files += 1
        self.stats.last_load_at = time.time()
        return added, first

    def _load_messages(self, f: SegmentFile) -> tuple[int, int | None]:
        assert f.source is not None and f.namespace is not None
        mapping = segment_mapping(f.source, f.namespace)
        ing = Ingestor(self.eng)
        self.eng.execute("BEGIN TRANSACTION")
        try:
            res = ing.ingest_file(Job(f.path, mapping))
            self.eng.execute("UPDATE ingest_runs SET kind = 'api' WHERE run_id = ?", [res.run_id])
            first = self.eng.scalar("SELECT first_seq FROM ingest_runs WHERE run_id = ?", [res.run_id])
            self.eng.execute("COMMIT")
        except BaseException:
            self.eng.execute("ROLLBACK")
            raise
        self.stats.events_new += res.events_new
        self.stats.duplicates += res.duplicates
        self.stats.quarantined += res.quarantined
        log.debug(
            "%s: %d new, %d duplicates, %d quarantined",
            f.path.name,
            res.events_new,
            res.duplicates,
            res.quarantined,
        )
        return res.events_new, (int(first) if first is not None and res.events_new else None)

    def _load_rejects(self, f: SegmentFile) -> int:
        rows: list[dict[str, Any]] = []
        for line in f.path.read_bytes().splitlines():
            if not line.strip():
                continue
            try:
                r = orjson.loads(line)
            except orjson.JSONDecodeError:
                r = {
                    "source": "?",
                    "key": f"{f.path.name}:{len(rows) + 1}",
                    "reason": "unreadable reject line",
                    "raw": line.decode("utf-8", "backslashreplace"),
                    "at": None,
                }
            rows.append(r)
        if not rows:
            return 0
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        tbl = pa.table(
            {
                "quarantine_id": [_qid(r) for r in rows],
                "source": [str(r.get("source") or "?") for r in rows],
                "source_key": [str(r.get("key") or "?") for r in rows],
                "reason": [str(r.get("reason") or "?") for r in rows],
                "detail": [str(r.get("detail") or "") or None for r in rows],
                "raw": [r.get("raw") for r in rows],
                "raw_bytes": pa.array([_b64(r.get("raw_b64")) for r in rows], pa.binary()),
                "received": [_ts(r.get("at")) or now for r in rows],
            }
        )
        ing = Ingestor(self.eng)
        with self.eng.registered("_api_rejects", tbl):
            self.eng.execute("BEGIN TRANSACTION")
            try:
                run_id = ing._next("next_run_id")  # the run-id counter file ingestion uses
                self.eng.execute(
                    "INSERT INTO ingest_runs (run_id, source, kind, path, started_at, finished_at, rows_in, "
                    "events_new, duplicates, quarantined, status) "
                    "VALUES (?, 'api', 'api-rejects', ?, ?, ?, ?, 0, 0, ?, 'ok')",
                    [run_id, str(f.path.name), now, now, len(rows), len(rows)],
                )
                self.eng.execute(
                    f"INSERT INTO quarantine SELECT quarantine_id::UUID, {int(run_id)}, source, source_key, "
                    "reason, detail, raw, raw_bytes, received FROM _api_rejects r WHERE NOT EXISTS "
                    "(SELECT 1 FROM quarantine x WHERE x.quarantine_id = r.quarantine_id::UUID)"
                )
                self.eng.execute("COMMIT")
            except BaseException:
                self.eng.execute("ROLLBACK")
                raise
        return len(rows)

    # --- hooks -------------------------------------------------------------------------------------

    def _resolve(self, since_seq: int | None) -> None:
        """Identity hook: ``Workspace.resolve`` on this thread's connection, when the workspace has one."""
        fn = getattr(type(self.ws), "resolve", None)
        if fn is None:
            return
        view = copy.copy(self.ws)
        view.engine = self.eng
        try:
            params = inspect.signature(fn).parameters
            if "since_seq" in params:
                view.resolve(since_seq=since_seq)  # type: ignore[call-arg]
            else:
                view.resolve()  # incremental from its own watermark
        except Exception:
            self.stats.resolve_errors += 1
            with contextlib.suppress(Exception):  # leave the hook's failed transaction, if any
                self.eng.execute("ROLLBACK")
            log.exception(
                "identity resolution after the load failed; events are stored, rerun `ordito resolve`"
            )

    def _checkpoint_if_idle(self, min_bytes: int = 16 << 20) -> None:
        """Nothing came in since the last cycle: a good moment to fold the WAL into the database."""
        try:
            size = self.wal.stat().st_size
        except FileNotFoundError:
            return
        if size >= min_bytes:
            try:
                self.eng.execute("CHECKPOINT")
            except StoreError as exc:  # e.g. a reader's transaction is open: DuckDB checkpoints later
                log.debug("checkpoint skipped: %s", exc)

    def _prune(self) -> None:
        """Delete loaded segments older than ``retention_days`` (checked once a minute)."""
        if self.retention_days is None or time.monotonic() - self._last_prune < 60:
            return
        self._last_prune = time.monotonic()
        cutoff = time.time() - self.retention_days * 86400
        for f in Inbox.files(self.inbox.loaded_dir):
            try:
                if f.path.stat().st_mtime < cutoff:
                    f.path.unlink()
            except FileNotFoundError:
                continue


def _qid(r: dict[str, Any]) -> str:
    s = f"{r.get('source')}\x1f{r.get('key')}\x1f{r.get('reason')}"
    return str(uuid.UUID(hashlib.md5(s.encode("utf-8", "backslashreplace")).hexdigest()))


def _b64(v: Any) -> bytes | None:
    return base64.b64decode(v) if isinstance(v, str) else None


def _ts(v: Any) -> dt.datetime | None:
    if not isinstance(v, str):
        return None
    try:
        ts = dt.datetime.fromisoformat(v)
    except ValueError:
        return None
    return ts.astimezone(dt.UTC).replace(tzinfo=None) if ts.tzinfo else ts
