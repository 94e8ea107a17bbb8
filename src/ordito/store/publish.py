"""Publish a workspace's canonical tables to another engine, for analytics where the data must live.

Ingestion and identity resolution stay in DuckDB (fast, embedded). ``publish`` copies the tables an
analyst needs to PostgreSQL or Spark, replacing what an earlier publish wrote there, so the portable
analytics (``ordito.analytics``) run on that engine:

- ``events`` without its list column ``identifiers``, which becomes the table ``event_identifiers``
  (one row per identifier written on an event: ``seq, kind, namespace, raw, region``);
- ``identifiers``, ``identity_map``, ``customers``, ``event_customer``, ``quarantine``, ``ingest_runs``.

Types: JSON columns are text; UUIDs are ``uuid`` on PostgreSQL and text on Spark; timestamps stay UTC
without zone (``timestamp`` / ``TIMESTAMP_NTZ``); text columns are ``COLLATE "C"`` on PostgreSQL.

How:
- **PostgreSQL**: Arrow record batches from DuckDB are streamed into a staging table with one ``COPY``
  per table, then swapped in (drop + rename, in one transaction) with its indexes, and analyzed.
  Readers see the old table until the swap. Tables go to the engine's schema (``ordito`` by default).
- **Spark**: DuckDB writes each table as Parquet (``COPY ... TO ... (FORMAT parquet)``) into a staging
  folder of the warehouse, which is swapped in and registered as a view. No row crosses Python.

Examples:
    >>> from ordito.store.publish import publish, connect           # doctest: +SKIP
    >>> publish(ws.engine, connect("postgresql://me@db:5432/cx"))    # doctest: +SKIP
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from urllib.parse import urlsplit

import pyarrow as pa

from ..errors import ConfigError
from .base import Engine
from .duckdb import DuckDBEngine
from .postgres import PostgresEngine
from .schema import INDEXES
from .spark import SparkEngine
from .sqlutil import lit, q

__all__ = ["TABLES", "PublishResult", "PublishedTable", "connect", "publish"]

#: The tables :func:`publish` copies by default, in the order it copies them.
TABLES: tuple[str, ...] = (
    "events",
    "event_identifiers",
    "identifiers",
    "identity_map",
    "customers",
    "event_customer",
    "quarantine",
    "ingest_runs",
)

#: Indexes made on PostgreSQL after a load (the workspace's point-lookup indexes, see store/schema.py).
PG_INDEXES: tuple[tuple[str, str], ...] = (*INDEXES.values(), ("event_identifiers", "seq"))

#: ``progress(table, rows_done, rows_total)``, called as batches land (after each table on Spark).
Progress = Callable[[str, int, int], None]


@dataclass
class PublishedTable:
    """One table copied: its name, rows and seconds."""

    name: str
    rows: int
    seconds: float


@dataclass
class PublishResult:
    """What :func:`publish` did."""

    target: str
    tables: list[PublishedTable] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)


def connect(url: str) -> Engine:
    """An engine for a URL: ``postgresql://user@host:port/database`` or ``spark:///path/to/warehouse``."""
    scheme = urlsplit(url).scheme
    if scheme in ("postgresql", "postgres"):
        return PostgresEngine(url)
    if scheme == "spark":
        return SparkEngine.from_url(url)
    raise ConfigError(
        f"cannot publish to {url!r}: give postgresql://user@host:port/database or spark:///path/to/warehouse"
    )


def publish(
    workspace_engine: DuckDBEngine,
    target: Engine | str,
    tables: Sequence[str] | None = None,
    *,
    batch_rows: int = 100_000,
    progress: Progress | None = None,
) -> PublishResult:
    """Copy canonical tables from a workspace to ``target``, replacing the tables published before.

    Args:
        workspace_engine: the workspace's DuckDB engine (read through a cursor of its own).
        target: a :class:`PostgresEngine`, a :class:`SparkEngine` with a warehouse folder, or a URL
            for :func:`connect` (the engine is then closed at the end).
        tables: which tables (default :data:`TABLES`); any workspace table or view may be named.
        batch_rows: rows per Arrow record batch streamed to PostgreSQL.
        progress: ``progress(table, rows_done, rows_total)``.

    Returns:
        the tables copied, their rows and timings.
    """
    own = isinstance(target, str)
    engine = connect(target) if isinstance(target, str) else target
    names = list(tables) if tables is not None else list(TABLES)
    src = workspace_engine.cursor()
    t0 = time.perf_counter()
    result = PublishResult(target=repr(engine))
    try:
        existing = {r[0] for r in src.execute("SELECT table_name FROM information_schema.tables")}
        unknown = [n for n in names if n not in existing]
        if unknown:
            raise ConfigError(f"no such table in the workspace: {', '.join(unknown)}")
        if isinstance(engine, PostgresEngine):
            engine.run_native(f"CREATE SCHEMA IF NOT EXISTS {q(engine.schema)}")
        for name in names:
            t1 = time.perf_counter()
            total = int(src.scalar(f"SELECT count(*) FROM {q(name)}"))
            if isinstance(engine, PostgresEngine):
                rows = _to_postgres(src, engine, name, total, batch_rows, progress)
            elif isinstance(engine, SparkEngine):
                rows = _to_spark(src, engine, name, total, progress)
            else:
                raise ConfigError(f"publishing to {type(engine).__name__} is not supported")
            result.tables.append(PublishedTable(name, rows, time.perf_counter() - t1))
    finally:
        src.close()
        if own:
            engine.close()
    result.seconds = time.perf_counter() - t0
    return result


def source_sql(engine: DuckDBEngine, table: str, target: str) -> tuple[str, dict[str, str]]:
    """The DuckDB query that reads ``table`` for a ``target`` dialect, and PostgreSQL column types to
    override (UUID and BLOB columns). Nested columns (lists, structs) are left out: ``events.identifiers`` is
    published as the table ``event_identifiers``."""
    cols = engine.execute(
        "SELECT column_name, data_type FROM information_schema.columns WHERE table_name = ? "
        "ORDER BY ordinal_position",
        [table],
    )
    items: list[str] = []
    pg_types: dict[str, str] = {}
    for name, dtype in cols:
        t = str(dtype).upper()
        if t.endswith("[]") or t.startswith(("STRUCT", "MAP", "UNION")):
            continue
        if t == "UUID":
            items.append(f"CAST({q(name)} AS VARCHAR) AS {q(name)}")
            pg_types[name] = "uuid"
        elif t == "BLOB" and target == "postgres":  # bytea's text form, made by DuckDB rather than Python
            items.append(f"'\\x' || hex({q(name)}) AS {q(name)}")
            pg_types[name] = "bytea"
        elif t == "JSON":
            items.append(f"CAST({q(name)} AS VARCHAR) AS {q(name)}")
        elif t == "HUGEINT":
            items.append(f"CAST({q(name)} AS DECIMAL(38, 0)) AS {q(name)}")
        else:
            items.append(q(name))
    return f"SELECT {', '.join(items)} FROM {q(table)}", (pg_types if target == "postgres" else {})


def _to_postgres(
    src: DuckDBEngine,
    engine: PostgresEngine,
    name: str,
    total: int,
    batch_rows: int,
    progress: Progress | None,
) -> int:
    sql, types = source_sql(src, name, "postgres")
    reader = _arrow_reader(src, sql, batch_rows)
    schema = engine.schema
    staging = f"_ordito_new_{name}"
    engine.run_native(f"DROP TABLE IF EXISTS {q(schema)}.{q(staging)}")
    engine.create_table(staging, reader.schema, in_schema=schema, types=types)
    if progress is not None:
        progress(name, 0, total)
    cb = (lambda n: progress(name, n, total)) if progress is not None else None
    rows = engine.copy_batches(staging, reader, in_schema=schema, progress=cb)
    final = f"{q(schema)}.{q(name)}"
    with engine.transaction():
        engine.run_native(f"DROP TABLE IF EXISTS {final}")
        engine.run_native(f"ALTER TABLE {q(schema)}.{q(staging)} RENAME TO {q(name)}")
        for table, col in PG_INDEXES:
            if table == name and col in reader.schema.names:
                engine.run_native(f"CREATE INDEX {q(f'{name}_{col}_idx')} ON {final} ({q(col)})")
    engine.run_native(f"ANALYZE {final}")
    return rows


def _to_spark(
    src: DuckDBEngine, engine: SparkEngine, name: str, total: int, progress: Progress | None
) -> int:
    sql, _ = source_sql(src, name, "spark")
    folder = engine.table_folder(name)
    staged = folder.with_name(f".{name}.new-{uuid.uuid4().hex[:8]}")
    try:
        src.execute(f"COPY ({sql}) TO {lit(str(staged))} (FORMAT parquet, FILE_SIZE_BYTES '128MB')")
        engine.replace_folder(name, staged)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    if progress is not None:
        progress(name, total, total)
    return total


def _arrow_reader(src: DuckDBEngine, sql: str, batch_rows: int) -> pa.RecordBatchReader:
    rel = src.connection.sql(sql)
    to_reader = getattr(rel, "to_arrow_reader", None) or rel.fetch_arrow_reader  # duckdb 2 / 1.x
    reader: pa.RecordBatchReader = to_reader(batch_rows)
    return reader
