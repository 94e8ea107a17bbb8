"""The audit log: every read of a customer, every sign-in, by whom, how and what (table ``audit_log``).

Entries are queued in memory and written in one INSERT every ``interval`` seconds by a background
thread (and when the server stops), so a screen pop never waits on a commit; a crash can lose at most
the last ``interval`` seconds of entries. Entries never hold secrets: identifiers in ``detail`` are
masked by the caller and query strings are redacted.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pyarrow as pa

from .auth import redact

if TYPE_CHECKING:
    from ..store.duckdb import DuckDBEngine
    from .auth import Principal

log = logging.getLogger("ordito.agent.audit")


@dataclass(frozen=True)
class Entry:
    at: dt.datetime
    user_name: str | None
    role: str | None
    via: str
    action: str
    customer_key: str | None
    detail: str | None
    client: str | None
    path: str | None


class AuditLog:
    """Queue entries with :meth:`record`; :meth:`flush` writes them (the thread calls it every interval)."""

    def __init__(self, eng: DuckDBEngine, *, interval: float = 0.5) -> None:
        self._eng = eng
        self.interval = interval
        self._pending: list[Entry] = []
        self._lock = threading.Lock()
        self._flush_lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.written = 0

    def record(
        self,
        principal: Principal | None,
        action: str,
        customer_key: str | None = None,
        *,
        detail: str | None = None,
        client: str | None = None,
        path: str | None = None,
        via: str | None = None,
    ) -> None:
        e = Entry(
            dt.datetime.now(dt.UTC).replace(tzinfo=None),
            principal.name if principal else None,
            principal.role if principal else None,
            via or (principal.via if principal else "anonymous"),
            action,
            customer_key,
            redact(detail) if detail else None,
            client,
            redact(path) if path else None,
        )
        with self._lock:
            self._pending.append(e)

    def flush(self) -> int:
        """Write what is queued; returns when every entry recorded before the call is in the table."""
        with self._flush_lock:  # a flush running in the thread finishes before this one reads the queue
            return self._flush()

    def _flush(self) -> int:
        with self._lock:
            batch, self._pending = self._pending, []
        if not batch:
            return 0
        tbl = pa.table(
            {
                "logged_at": pa.array([e.at for e in batch], pa.timestamp("us")),
                "user_name": [e.user_name for e in batch],
                "role": [e.role for e in batch],
                "via": [e.via for e in batch],
                "action": [e.action for e in batch],
                "customer_key": [e.customer_key for e in batch],
                "detail": [e.detail for e in batch],
                "client": [e.client for e in batch],
                "path": [e.path for e in batch],
            }
        )
        name = f"_audit_{threading.get_ident()}"
        self._eng.register(name, tbl)
        try:
            self._eng.execute(
                "INSERT INTO audit_log (logged_at, user_name, role, via, action, customer_key, detail, client, path) "
                f"SELECT logged_at, user_name, role, via, action, customer_key, detail, client, path FROM {name}"
            )
        except Exception:
            with self._lock:  # keep them for the next try
                self._pending[:0] = batch
            raise
        finally:
            self._eng.unregister(name)
        self.written += len(batch)
        return len(batch)

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="ordito-audit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(10)
            self._thread = None
        self.flush()

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.flush()
            except Exception:
                log.exception("could not write the audit log; retrying")
