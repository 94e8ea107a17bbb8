"""The engine interface. Orchestration is shared; backends implement a few hooks."""

from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Any, final

import pyarrow as pa

from ..errors import OrditoError, StoreError

log = logging.getLogger("ordito.sql")

Params = Sequence[Any] | dict[str, Any] | None


def store_error(exc: Exception, sql: str) -> StoreError:
    """The error a failed statement raises: the engine's message and the statement."""
    return StoreError(f"{type(exc).__name__}: {exc}\n--- statement ---\n{sql.strip()}", sql=sql)


class Engine(ABC):
    """Handles all interaction with a database engine.

    Subclasses implement ``_run`` (execute one statement, return rows or None), ``_arrow`` (execute and
    return an Arrow table) and ``register``. Statements are written in DuckDB's dialect; engines that
    speak another dialect transpile them in ``_run`` with sqlglot.
    """

    dialect: str = "duckdb"

    @abstractmethod
    def _run(self, sql: str, params: Params) -> list[tuple[Any, ...]] | None: ...

    @abstractmethod
    def _arrow(self, sql: str, params: Params) -> pa.Table: ...

    @abstractmethod
    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table queryable under ``name`` for the next statements."""

    @abstractmethod
    def unregister(self, name: str) -> None: ...

    @contextmanager
    def registered(self, name: str, table: pa.Table) -> Iterator[None]:
        """``table`` queryable under ``name`` for the block, unregistered after it (also on an error)."""
        self.register(name, table)
        try:
            yield
        finally:
            self.unregister(name)

    @abstractmethod
    def close(self) -> None: ...

    @final
    def execute(self, sql: str, params: Params = None) -> list[tuple[Any, ...]]:
        t0 = time.perf_counter()
        try:
            rows = self._run(sql, params)
        except OrditoError:
            raise
        except Exception as exc:
            raise store_error(exc, sql) from exc
        if log.isEnabledFor(logging.DEBUG):
            log.debug("%.1f ms\n%s", (time.perf_counter() - t0) * 1000, sql.strip())
        return rows or []

    @final
    def arrow(self, sql: str, params: Params = None) -> pa.Table:
        try:
            return self._arrow(sql, params)
        except OrditoError:
            raise
        except Exception as exc:
            raise store_error(exc, sql) from exc

    def one(self, sql: str, params: Params = None) -> tuple[Any, ...] | None:
        rows = self.execute(sql, params)
        return rows[0] if rows else None

    def scalar(self, sql: str, params: Params = None) -> Any:
        row = self.one(sql, params)
        return row[0] if row else None

    def records(self, sql: str, params: Params = None) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = self.arrow(sql, params).to_pylist()
        return rows

    def setting(self, name: str, value: bool | int | str) -> AbstractContextManager[None]:
        """The engine's setting ``name`` set to ``value`` for the block, then restored. Settings are tuning
        (threads, insertion order, optimizers), never results: an engine without it ignores the block."""
        return nullcontext()

    def script(self, statements: Sequence[str]) -> None:
        for s in statements:
            self.execute(s)
