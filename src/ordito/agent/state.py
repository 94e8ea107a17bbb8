"""What the web app and the agent API share inside one server process."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ..store.duckdb import DuckDBEngine
from .audit import AuditLog
from .auth import Authority, session_key

if TYPE_CHECKING:
    from ..workspace import Workspace
    from .knowledge import KnowledgeBase


class AgentState:
    """Access control, audit log, knowledge base and caches of one app.

    Args:
        ws: the workspace the server holds.
        audit_interval: seconds between two writes of the audit log.
        auth_ttl: seconds a token or session check is cached (a revocation takes at most this long).
    """

    def __init__(self, ws: Workspace, *, audit_interval: float = 0.5, auth_ttl: float = 2.0) -> None:
        self.ws = ws
        self.authority = Authority(ws.engine.cursor(), session_key(ws.path), ttl=auth_ttl)
        self.audit = AuditLog(ws.engine.cursor(), interval=audit_interval)
        self._kb: KnowledgeBase | None = None
        self._kb_loaded = False
        self._kb_lock = threading.Lock()
        self._briefs: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._briefs_lock = threading.Lock()

    @contextmanager
    def engine(self) -> Iterator[DuckDBEngine]:
        """A cursor of the workspace for this thread (closed afterwards)."""
        eng = self.ws.engine.cursor()
        try:
            yield eng
        finally:
            eng.close()

    def start(self) -> None:
        # identifiers by id (the profile header reads a customer's identifiers through identity_map) is one
        # of the store's INDEXES, kept by every resolve
        with self.engine() as eng:
            eng.execute("DROP INDEX IF EXISTS agent_identifiers_id")  # built by earlier versions
            # the brief's open episode of a customer (the journeys stage keeps it on incremental runs)
            if eng.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = 'episodes'"):
                eng.execute("CREATE INDEX IF NOT EXISTS agent_episodes_customer ON episodes (customer_key)")
        self.audit.start()

    def stop(self) -> None:
        self.audit.stop()

    # knowledge ------------------------------------------------------------------------------------

    def knowledge(self) -> KnowledgeBase | None:
        """The knowledge base indexed in the workspace (``ordito knowledge index``), loaded once."""
        with self._kb_lock:
            if not self._kb_loaded:
                from .knowledge import KnowledgeBase

                with self.engine() as eng:
                    self._kb = KnowledgeBase.load(eng)
                self._kb_loaded = True
            return self._kb

    # briefs -----------------------------------------------------------------------------------------

    def cached(self, key: tuple[Any, ...], make: Any, size: int = 512) -> Any:
        with self._briefs_lock:
            if key in self._briefs:
                self._briefs.move_to_end(key)
                return self._briefs[key]
        value = make()
        with self._briefs_lock:
            self._briefs[key] = value
            while len(self._briefs) > size:
                self._briefs.popitem(last=False)
        return value
