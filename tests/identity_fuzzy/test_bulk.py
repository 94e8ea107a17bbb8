"""Bulk inserts inside the resolver's transaction (docs/IDENTITY.md, "Bulk inserts and DuckDB 2.0.0").

DuckDB 2.0.0 loses the rows of a parallel INSERT of more than about one row group per thread into a table
that already received an INSERT of zero rows in the same transaction: they are invisible to every later
query of the transaction (and, for a table that existed before, lost at COMMIT). In the 1M-record bench the
fuzzy links (1.07M rows after an empty insert of reviewed links) were invisible to the fuzzy union: it saw
0 edges. The hazard appears at ~120k rows with the default row groups (122,880 rows); a workspace attached
with ``ROW_GROUP_SIZE 2048`` shows it at ~2,000 rows, which is how these tests reach the large-scale path
on a small input.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import duckdb
import pytest
from bench.fuzzy_bench import build

import ordito
from ordito.identity.fuzzy.bulk import append
from ordito.store.duckdb import DuckDBEngine

_REAL_CONNECT = duckdb.connect


def _small_row_groups(path: str, read_only: bool = False, config: dict[str, Any] | None = None) -> Any:
    con = _REAL_CONNECT(":memory:", config=config or {})
    con.execute(f"ATTACH '{path}' AS ws ({'READ_ONLY, ' if read_only else ''}ROW_GROUP_SIZE 2048)")
    con.execute("USE ws")
    return con


@pytest.fixture
def small_groups(monkeypatch: pytest.MonkeyPatch) -> Callable[[], None]:
    def on() -> None:
        monkeypatch.setattr("ordito.store.duckdb.duckdb.connect", _small_row_groups)

    return on


def test_append_after_an_empty_insert(tmp_path: Path, small_groups: Callable[[], None]) -> None:
    small_groups()
    eng = DuckDBEngine(tmp_path / "w.duckdb")
    eng.execute("SET threads = 2")
    eng.execute("CREATE TABLE t (a BIGINT, rule VARCHAR)")
    eng.execute("CREATE TABLE src (a BIGINT)")
    eng.execute("INSERT INTO t VALUES (-1, 'old')")
    eng.execute("BEGIN TRANSACTION")
    eng.execute("CREATE TEMP TABLE big AS SELECT range AS a FROM range(20000)")
    assert append(eng, "t", "SELECT a, 'review' FROM src") == 0  # nothing: no INSERT at all
    assert append(eng, "t", "SELECT a, 'fuzzy' FROM big") == 20000
    assert eng.scalar("SELECT count(*) FROM t WHERE rule IN ('fuzzy', 'review') AND a >= 0") == 20000
    assert eng.scalar("SELECT sum(a) FROM t") == sum(range(20000)) - 1
    eng.execute("COMMIT")
    assert eng.scalar("SELECT count(*) FROM t WHERE rule = 'fuzzy'") == 20000
    eng.close()


def _resolve_full(path: Path) -> tuple[Any, dict[str, str]]:
    with ordito.Workspace(path) as ws:
        res = ws.resolve(full=True)
        keys = {
            f"{s}:{k}": str(c)
            for s, k, c in ws.sql(
                """SELECT e.source, e.source_key, c.customer_key FROM events e
                   JOIN event_customer c ON c.seq = e.seq"""
            )
        }
    return res, keys


def _partition(keys: dict[str, str]) -> set[frozenset[str]]:
    groups: dict[str, set[str]] = {}
    for rec, key in keys.items():
        groups.setdefault(key, set()).add(rec)
    return {frozenset(g) for g in groups.values()}


def test_full_run_with_bulk_fuzzy_links(tmp_path: Path, small_groups: Callable[[], None]) -> None:
    """A full run whose fuzzy links fill several row groups unites records along them (it saw 0 edges) and
    gives the same customers as a workspace with the default row groups."""
    data = build(4000, 10, 3, tmp_path)
    ref, big = tmp_path / "ref.duckdb", tmp_path / "small.duckdb"
    for p in (ref, big):
        with ordito.Workspace(p) as ws:
            ws.ingest(data / "base")
    res_ref, keys_ref = _resolve_full(ref)
    small_groups()
    res, keys = _resolve_full(big)
    assert res.fuzzy.links > 2500  # more than a row group (2048 rows) of fuzzy links
    assert res.fuzzy_edges > 1000 and res.fuzzy_merges > 1000
    assert (res.fuzzy_edges, res.fuzzy_merges) == (res_ref.fuzzy_edges, res_ref.fuzzy_merges)
    assert len(keys) == len(keys_ref) == 4000
    assert _partition(keys) == _partition(keys_ref)
