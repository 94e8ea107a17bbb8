"""Inserts inside the resolver's transaction that DuckDB 2.0.0 does not lose.

DuckDB 2.0.0 (not 1.5.6) loses the rows of a parallel INSERT of more than about one row group per thread
(~120k rows with the default row groups of 122,880) into a table, temporary or not, that already received
an INSERT of **zero** rows in the same transaction: every later query of the transaction sees none of them
(filters, joins, sums; only ``count(*)`` from the metadata counts them), and a table that existed before
the transaction loses them at COMMIT. Reproduced in a few lines of SQL (docs/DECISIONS.md, D20: the engine now guards its own statements too).

The resolver runs in one transaction and some of its inserts are often empty (reviewed links, links of
records with several identifiers), so every insert of the fuzzy stage goes through :func:`append`: the rows
are materialised in a temporary table first (a CREATE, in parallel), nothing is inserted when there are
none, and the copy into the target runs on one thread (no parallel insert: the path that loses rows; a
copy of a million narrow rows takes about 0.15 s on one core).
"""

from __future__ import annotations

from ...store.base import Params
from ...store.duckdb import DuckDBEngine


def append(e: DuckDBEngine, table: str, select: str, params: Params = None) -> int:
    """INSERT INTO ``table`` the rows of ``select`` (columns in the table's order); returns their number."""
    e.execute(f"CREATE OR REPLACE TEMP TABLE _fz_app AS {select}", params)
    try:
        return copy(e, table, "_fz_app")
    finally:
        e.execute("DROP TABLE IF EXISTS _fz_app")


def copy(e: DuckDBEngine, table: str, source: str, columns: str = "*") -> int:
    """INSERT INTO ``table`` SELECT ``columns`` FROM the table ``source``: nothing when it is empty, else
    on one thread. Returns the number of rows."""
    n = int(e.scalar(f"SELECT count(*) FROM {source}") or 0)
    if not n:
        return 0
    with e.one_thread():
        e.execute(f"INSERT INTO {table} SELECT {columns} FROM {source}")
    return n
