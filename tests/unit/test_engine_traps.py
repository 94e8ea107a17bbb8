"""Traps of the embedded engine that the DuckDB engine works around (docs/DECISIONS.md, D20)."""

from __future__ import annotations

import pytest

from ordito.store.duckdb import DuckDBEngine

ROWS = 1_000_000  # several row groups per thread: the size at which DuckDB 2.0.0 inserts in parallel
TOTAL = ROWS * (ROWS - 1) // 2


@pytest.fixture
def eng() -> DuckDBEngine:
    e = DuckDBEngine(":memory:")
    e.execute("SET threads = 2")
    e.execute(f"CREATE TABLE src AS SELECT range AS a, range * 2 AS b FROM range({ROWS})")
    return e


@pytest.mark.parametrize(
    "empty_write",
    [
        "INSERT INTO t SELECT a, b FROM src WHERE a < 0",
        "CREATE OR REPLACE TABLE t AS SELECT a, b FROM src WHERE a < 0",
        "INSERT INTO main.t SELECT a, b FROM src WHERE a < 0",
    ],
)
def test_a_big_insert_after_an_empty_one_in_a_transaction_keeps_its_rows(
    eng: DuckDBEngine, empty_write: str
) -> None:
    eng.execute("CREATE TABLE t (a BIGINT, b BIGINT)")
    eng.execute("BEGIN TRANSACTION")
    eng.execute(empty_write)
    eng.execute("INSERT INTO t SELECT a, b FROM src")
    # filters and aggregates read the table's statistics: DuckDB 2.0.0 answered (0, None) here
    assert eng.one("SELECT count(*), sum(a) FROM t") == (ROWS, TOTAL)
    assert eng.scalar("SELECT count(*) FROM t WHERE a = 5") == 1
    eng.execute("INSERT INTO t SELECT a, b FROM src")  # the table is healthy again: parallel is fine
    eng.execute("COMMIT")
    assert eng.one("SELECT count(*), sum(a) FROM t") == (2 * ROWS, 2 * TOTAL)
    assert eng.scalar("SELECT current_setting('threads')") == 2


def test_the_guard_is_per_transaction(eng: DuckDBEngine) -> None:
    eng.execute("CREATE TABLE t (a BIGINT, b BIGINT)")
    eng.execute("BEGIN")
    eng.execute("INSERT INTO t SELECT a, b FROM src WHERE a < 0")
    assert eng._empty == {"t"}
    eng.execute("ROLLBACK")
    assert not eng._txn and not eng._empty
    eng.execute("INSERT INTO t SELECT a, b FROM src WHERE a < 0")  # autocommit: not a trap
    assert not eng._empty
