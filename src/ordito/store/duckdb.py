"""DuckDB engine: the default embedded store and analytics engine."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from .. import settings
from ..errors import WorkspaceLockedError
from .base import Engine, Params, store_error
from .sqlutil import lit

_LOCK_RE = re.compile(r"Conflicting lock is held in (?P<prog>.*?) \(PID (?P<pid>\d+)\)")

# DuckDB 2.0.0 trap (docs/DECISIONS.md, D20): inside a transaction, after a table received a write of zero
# rows (an INSERT, or a CREATE TABLE AS, that matched nothing), the next *parallel* INSERT into it leaves the
# table's statistics empty: every query that filters or aggregates on its columns sees no rows (and
# count(*) next to them says 0), in the transaction and after COMMIT until a checkpoint. The engine
# watches its own statements: the first INSERT into such a table runs on one thread, after which the
# table is healthy again. Statements sent to the connection directly are not watched.
_TXN_BEGIN = re.compile(r"^\s*BEGIN(\s+TRANSACTION)?\s*;?\s*$", re.I)
_TXN_END = re.compile(r"^\s*(COMMIT|ROLLBACK|END|ABORT)(\s+TRANSACTION)?\s*;?\s*$", re.I)
_WRITE = re.compile(
    r"^\s*(?:(?P<ins>INSERT)\s+(?:OR\s+\w+\s+)?INTO|CREATE\s+(?:OR\s+REPLACE\s+)?(?:TEMP(?:ORARY)?\s+)?TABLE"
    r"(?:\s+IF\s+NOT\s+EXISTS)?)\s+(?P<name>[\w.\"]+)",
    re.I,
)


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
        self._txn = False  # inside BEGIN ... COMMIT sent through this engine
        self._empty: set[str] = set()  # tables that got a write of zero rows in this transaction
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

    def _cursor(self, sql: str, params: Params) -> duckdb.DuckDBPyConnection:
        return self._con.execute(sql, params) if params is not None else self._con.execute(sql)

    def _run(self, sql: str, params: Params) -> list[tuple[Any, ...]] | None:
        write = _WRITE.match(sql) if self._txn else None
        name = write["name"].replace('"', "").lower().rpartition(".")[2] if write else ""
        with self.one_thread() if write and write["ins"] and name in self._empty else nullcontext():
            cur = self._cursor(sql, params)
            try:
                rows = cur.fetchall()
            except duckdb.InvalidInputException:
                rows = None
        if write:
            n = rows[0][0] if rows and len(rows[0]) == 1 and isinstance(rows[0][0], int) else None
            if n == 0:
                self._empty.add(name)
            elif n:
                self._empty.discard(name)
        elif _TXN_BEGIN.match(sql):
            self._txn, self._empty = True, set()
        elif _TXN_END.match(sql):
            self._txn, self._empty = False, set()
        return rows

    @contextmanager
    def setting(self, name: str, value: bool | int | str) -> Iterator[None]:
        """``SET name = value`` for the block, then the value it had (settings are the database's)."""
        before = self._con.execute("SELECT current_setting(?)", [name]).fetchall()[0][0]
        self._con.execute(f"SET {name} = {_setting_value(value)}")
        try:
            yield
        finally:
            self._con.execute(f"SET {name} = {_setting_value(before)}")

    def one_thread(self) -> AbstractContextManager[None]:
        """Run the block's statements on one engine thread, then restore."""
        return self.setting("threads", 1)

    def _arrow(self, sql: str, params: Params) -> pa.Table:
        rel = self._con.sql(sql, params=params) if params is not None else self._con.sql(sql)
        if rel is None:
            return pa.table({})
        return rel.to_arrow_table()

    def dicts(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        """Rows as dicts, fetched as Python tuples: for a few rows, faster than ``records`` (no Arrow)."""
        try:
            cur = self._cursor(sql, params)
            names = [d[0] for d in cur.description or []]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]
        except Exception as exc:
            raise store_error(exc, sql) from exc

    def register(self, name: str, table: pa.Table) -> None:
        self._con.register(name, table)

    def unregister(self, name: str) -> None:
        self._con.unregister(name)

    def close(self) -> None:
        self._con.close()


def _setting_value(value: object) -> str:
    """A setting's value as DuckDB's SET reads it."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return lit(str(value if value is not None else ""))
