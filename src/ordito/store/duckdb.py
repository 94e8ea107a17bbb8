"""DuckDB engine: the default embedded store and analytics engine."""

from __future__ import annotations

import re
import threading
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .. import settings
from ..errors import StoreError, WorkspaceLockedError
from .base import Engine, Params

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<prog>.*?) \(PID (?P<pid>\d+)\)")


class DuckDBEngine(Engine):
    """One DuckDB database (a file, or ``:memory:``).

    DuckDB allows one writing process per file. Opening a file that another process holds raises
    :class:`WorkspaceLockedError` with the holder's pid. Inside one process, use :meth:`cursor` to get an
    engine per thread (connections are not thread-safe; cursors of one database are).
    """

    dialect = "duckdb"

    def __init__(
        self,
        path: str | Path = ":memory:",
        *,
        read_only: bool = False,
        _con: duckdb.DuckDBPyConnection | None = None,
    ) -> None:
        self.path = str(path)
        self.read_only = read_only
        if _con is not None:
            self._con = _con
            return
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        config: dict[str, Any] = {}
        threads = settings.get_int("threads")
        if threads > 0:
            config["threads"] = threads
        mem = settings.get("memory_limit")
        if mem:
            config["memory_limit"] = mem
        try:
            self._con = duckdb.connect(self.path, read_only=read_only, config=config)
        except duckdb.IOException as exc:
            m = _LOCK_RE.search(str(exc))
            if m:
                raise WorkspaceLockedError(
                    f"The workspace {self.path} is in use by another process (pid {m['pid']}). "
                    "If `ordito serve` is running on it, send data through its API or stop it first; "
                    "DuckDB lets only one process open a workspace for writing.",
                ) from exc
            raise
        self._con.execute("SET enable_progress_bar = false")
        self._con.execute("SET TimeZone = 'UTC'")
        self._lock = threading.Lock()

    def cursor(self) -> DuckDBEngine:
        """An engine over the same database for use from another thread."""
        return DuckDBEngine(self.path, read_only=self.read_only, _con=self._con.cursor())

    @property
    def connection(self) -> duckdb.DuckDBPyConnection:
        return self._con

    def _run(self, sql: str, params: Params) -> list[tuple[Any, ...]] | None:
        cur = self._con.execute(sql, params) if params is not None else self._con.execute(sql)
        try:
            return cur.fetchall()
        except duckdb.InvalidInputException:
            return None

    def _arrow(self, sql: str, params: Params) -> pa.Table:
        rel = self._con.sql(sql, params=params) if params is not None else self._con.sql(sql)
        if rel is None:
            return pa.table({})
        return rel.to_arrow_table()

    def dicts(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Rows as dicts, fetched as Python tuples: for a few rows, faster than ``records`` (no Arrow)."""
        try:
            cur = self._con.execute(sql, params) if params is not None else self._con.execute(sql)
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        except Exception as exc:
            raise StoreError(
                f"{type(exc).__name__}: {exc}\n--- statement ---\n{sql.strip()}", sql=sql
            ) from exc

    def register(self, name: str, table: pa.Table) -> None:
        self._con.register(name, table)

    def unregister(self, name: str) -> None:
        self._con.unregister(name)

    def close(self) -> None:
        self._con.close()
