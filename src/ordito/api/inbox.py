"""The durable inbox: accepted messages are appended to segment files and fsynced before the 200.

Layout under ``settings.sidecar_dir(workspace) / "inbox"``::

    000000000042~web~web.jsonl        messages of epoch 42 for source `web`, user namespace `web`
    000000000042.rejects.jsonl        messages refused in epoch 42, with reasons (for the quarantine)
    loaded/                           segments already folded into the workspace (kept for replay/audit)

One writer thread does every write (group commit): requests hand it their lines, it drains everything
queued, writes each file once, fsyncs each once, then completes all the waiting futures together. A
request is answered only after its lines are on disk. The loader *seals* the current epoch (the writer
moves to the next one between two commits) and loads every epoch below the current one.

Within one epoch the writer drops a message whose (file, messageId) it already wrote: SDK retries carry
the same messageId, so a retry landing in the same segment is not written twice (across segments the
events' ``event_id`` does the same job).
"""

from __future__ import annotations

import asyncio
import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from queue import SimpleQueue

import orjson

log = logging.getLogger("ordito.api.inbox")

_SEGMENT_RE = re.compile(r"^(?P<epoch>\d{12})(?:~(?P<source>[^~]+)~(?P<ns>[^~]+)|\.rejects)\.jsonl$")


@dataclass(frozen=True)
class SegmentFile:
    path: Path
    epoch: int
    source: str | None  # None: a rejects file
    namespace: str | None

    @property
    def is_rejects(self) -> bool:
        return self.source is None


def parse_name(path: Path) -> SegmentFile | None:
    m = _SEGMENT_RE.match(path.name)
    if not m:
        return None
    return SegmentFile(path, int(m["epoch"]), m["source"], m["ns"])


def segment_name(epoch: int, source: str, namespace: str) -> str:
    return f"{epoch:012d}~{source}~{namespace}.jsonl"


def rejects_name(epoch: int) -> str:
    return f"{epoch:012d}.rejects.jsonl"


@dataclass
class Append:
    """What one request hands the writer: lines for its source's file, refusals for the rejects file."""

    source: str
    namespace: str
    lines: list[tuple[str, bytes]]  # (messageId, JSON line)
    rejects: list[bytes]  # JSON lines for the rejects file
    done: Callable[[BaseException | None], None] | None = None  # called from the writer thread
    written: int = 0  # lines written (after dedup), set by the writer
    # an asyncio waiter instead of ``done``: the writer settles all waiters of a loop in one wake-up
    loop: asyncio.AbstractEventLoop | None = None
    future: asyncio.Future[None] | None = None

    def settle_now(self, exc: BaseException | None) -> None:
        if self.done is not None:
            self.done(exc)
        elif self.loop is not None and self.future is not None:
            self.loop.call_soon_threadsafe(_settle, self.future, exc)


class InboxUnavailable(RuntimeError):
    """The inbox could not write (disk full, I/O error): nothing more is acknowledged."""


@dataclass
class _Open:
    fd: int
    seen: set[str] = field(default_factory=set)


class Inbox:
    """Segment files with group commit. Thread-safe: ``submit`` from any thread, one writer thread."""

    def __init__(self, root: Path, *, seal_every: int = 50_000) -> None:
        self.dir = root
        self.loaded_dir = root / "loaded"
        self.loaded_dir.mkdir(parents=True, exist_ok=True)
        _fsync_dir(root.parent)
        epochs = [f.epoch for f in self.files(self.dir) + self.files(self.loaded_dir)]
        self.epoch = max(epochs, default=0) + 1
        self.seal_every = seal_every
        self.pending = 0  # messages written in the current epoch
        self.failed: BaseException | None = None
        self.on_full: Callable[[], None] | None = None  # the loader's wake-up when pending >= seal_every
        self._open: dict[str, _Open] = {}
        self._lock = threading.Lock()
        self._queue: SimpleQueue[Append | None] = SimpleQueue()
        self._thread: threading.Thread | None = None

    # --- files ---------------------------------------------------------------------------------

    @staticmethod
    def files(folder: Path) -> list[SegmentFile]:
        out = [f for p in folder.glob("*.jsonl") if (f := parse_name(p)) is not None]
        return sorted(out, key=lambda f: (f.epoch, f.is_rejects, f.path.name))

    def sealed(self) -> list[SegmentFile]:
        """Files of epochs below the current one, oldest first: ready to load."""
        with self._lock:
            current = self.epoch
        return [f for f in self.files(self.dir) if f.epoch < current]

    def repair(self) -> list[tuple[str, bytes]]:
        """Before the writer starts: cut a torn last line (a write cut by a crash, never acknowledged).

        Returns (file name, fragment) pairs so the caller can quarantine them: nothing is dropped.
        """
        torn = []
        for f in self.files(self.dir):
            size = f.path.stat().st_size
            if size == 0:
                continue
            with f.path.open("rb+") as fh:
                back = min(size, 1 << 20)
                fh.seek(size - back)
                tail = fh.read()
                if tail.endswith(b"\n"):
                    continue
                cut = tail.rfind(b"\n")
                keep = size - back + cut + 1 if cut >= 0 else (0 if back == size else size - back)
                fh.seek(keep)
                fragment = fh.read()
                fh.truncate(keep)
                fh.flush()
                os.fsync(fh.fileno())
            log.warning(
                "%s: cut a torn last line of %d bytes (never acknowledged)", f.path.name, len(fragment)
            )
            torn.append((f.path.name, fragment))
        return torn

    # --- writer --------------------------------------------------------------------------------

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ordito-inbox-writer", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is not None:
            self._queue.put(None)
            self._thread.join()
            self._thread = None
        with self._lock:
            self._close_all()

    def submit(self, item: Append) -> None:
        if self.failed is not None:
            item.settle_now(InboxUnavailable(f"the inbox failed earlier: {self.failed}"))
            return
        self._queue.put(item)

    async def append(
        self, source: str, namespace: str, lines: list[tuple[str, bytes]], rejects: list[bytes]
    ) -> int:
        """Append and wait until durable. Returns how many lines were written (retries dropped)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        item = Append(source, namespace, lines, rejects, loop=loop, future=fut)
        self.submit(item)
        await fut
        return item.written

    def write_rejects_now(self, lines: list[bytes]) -> None:
        """Write refusals synchronously (used at startup, before the writer runs)."""
        with self._lock:
            o = self._file(rejects_name(self.epoch))
            _write_all(o.fd, b"".join(lines))
            os.fdatasync(o.fd)

    def has_open(self) -> bool:
        """Whether the current epoch has files (something to seal)."""
        with self._lock:
            return bool(self._open)

    def seal(self) -> int:
        """Close the current epoch (between two commits); returns the sealed epoch."""
        with self._lock:
            sealed = self.epoch
            self._close_all()
            self.epoch += 1
            self.pending = 0
        return sealed

    def _close_all(self) -> None:
        for o in self._open.values():
            os.close(o.fd)
        self._open.clear()

    def _file(self, name: str) -> _Open:
        o = self._open.get(name)
        if o is None:
            path = self.dir / name
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
            _fsync_dir(self.dir)  # the new name must survive a crash too
            o = self._open[name] = _Open(fd)
        return o

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            items = [first]
            stop = False
            while not self._queue.empty():
                nxt = self._queue.get_nowait()
                if nxt is None:
                    stop = True
                    break
                items.append(nxt)
            self._commit(items)
            if stop:
                return

    def _commit(self, items: list[Append]) -> None:
        error: BaseException | None = None
        try:
            with self._lock:
                if self.failed is not None:
                    raise InboxUnavailable(f"the inbox failed earlier: {self.failed}")
                buffers: dict[str, list[bytes]] = {}
                fresh: list[tuple[_Open, str]] = []
                n = 0
                for it in items:
                    if it.lines:
                        name = segment_name(self.epoch, it.source, it.namespace)
                        o = self._file(name)
                        buf = buffers.setdefault(name, [])
                        written = 0
                        for mid, line in it.lines:
                            if mid in o.seen:
                                continue
                            o.seen.add(mid)
                            fresh.append((o, mid))
                            buf.append(line)
                            written += 1
                        it.written = written
                        n += written
                    if it.rejects:
                        name = rejects_name(self.epoch)
                        self._file(name)
                        buffers.setdefault(name, []).extend(it.rejects)
                try:
                    dirty = []
                    for name, chunks in buffers.items():
                        if chunks:
                            fd = self._open[name].fd
                            _write_all(fd, b"".join(chunks))
                            dirty.append(fd)
                    for fd in dirty:
                        os.fdatasync(fd)
                except OSError as exc:
                    for o, mid in fresh:
                        o.seen.discard(mid)
                    self.failed = exc
                    log.error("inbox write failed, refusing further writes: %s", exc)
                    raise InboxUnavailable(f"could not write the inbox: {exc}") from exc
                self.pending += n
                full = self.pending >= self.seal_every
        except BaseException as exc:
            error = exc
            full = False
        by_loop: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
        for it in items:
            if it.loop is not None and it.future is not None and it.done is None:
                by_loop.setdefault(it.loop, []).append(it.future)
            else:
                it.settle_now(error)
        for loop, futures in by_loop.items():  # one wake-up per loop and commit, not one per request
            loop.call_soon_threadsafe(_settle_all, futures, error)
        if full and self.on_full is not None:
            self.on_full()


def _settle_all(futures: list[asyncio.Future[None]], exc: BaseException | None) -> None:
    for fut in futures:
        _settle(fut, exc)


def _settle(fut: asyncio.Future[None], exc: BaseException | None) -> None:
    if fut.done():
        return
    if exc is None:
        fut.set_result(None)
    else:
        fut.set_exception(exc)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def reject_line(source: str, key: str, reason: str, raw: str | None, at: str, detail: str = "") -> bytes:
    return orjson.dumps(
        {"source": source, "key": key, "reason": reason, "raw": raw, "at": at, "detail": detail},
        option=orjson.OPT_APPEND_NEWLINE,
    )
