"""Spark engine: run ordito's portable analytics on an existing distributed engine.

pyspark is optional (``pip install 'ordito[spark]'``) and imported only when a :class:`SparkEngine` is
made. Statements arrive in DuckDB's dialect and are transpiled (``ordito.store.dialect``); parameters are
bound as literals in the syntax tree. Tables live as Parquet folders in a *warehouse* folder
(``<warehouse>/<table>/``), written by DuckDB when publishing (``ordito.store.publish``) and registered
as temporary views when the engine opens, so a new session finds what an earlier one published.

Tested with pyspark 4.x in local mode on Java 17 (docs/ENGINES.md).
"""

from __future__ import annotations

import logging
import os
import shutil
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pyarrow as pa

from ..errors import ConfigError, StoreError
from .base import Engine, Params
from .dialect import compile_sql, spark_literals

__all__ = ["SparkEngine", "parse_url"]

#: Settings of sessions this engine starts (a session passed in is used as it is).
DEFAULT_CONF: dict[str, str] = {
    "spark.ui.enabled": "false",
    "spark.ui.showConsoleProgress": "false",
    "spark.sql.session.timeZone": "UTC",  # D4: timestamps are UTC
    "spark.sql.execution.arrow.pyspark.enabled": "true",
    "spark.sql.execution.arrow.pyspark.fallback.enabled": "false",
    "spark.sql.parquet.inferTimestampNTZ.enabled": "true",  # DuckDB's TIMESTAMP is Spark's TIMESTAMP_NTZ
}
#: Extra settings for local masters: a few shuffle partitions instead of 200 for a 2-core laptop.
LOCAL_CONF: dict[str, str] = {"spark.sql.shuffle.partitions": "4", "spark.driver.host": "127.0.0.1"}

_INSTALL_HINT = "The Spark engine needs pyspark: pip install 'ordito[spark]' (and Java 17 or later)."


def parse_url(url: str) -> dict[str, Any]:
    """Arguments of :class:`SparkEngine` from a URL.

    ``spark:///path/to/warehouse`` runs Spark in local mode (``local[2]``; ``?master=local[4]`` to
    change); ``spark://host:7077/path/to/warehouse`` uses that standalone master, whose executors must
    be able to read the warehouse path.
    """
    parts = urlsplit(url)
    if parts.scheme != "spark":
        raise ConfigError(f"not a Spark URL (spark:///path/to/warehouse): {url!r}")
    opts = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    master = opts.get("master") or (f"spark://{parts.netloc}" if parts.netloc else "local[2]")
    path = unquote(parts.path)
    if not path or path == "/":
        raise ConfigError(f"a Spark URL names a warehouse folder: spark:///path/to/warehouse (got {url!r})")
    return {"warehouse": path, "master": master}


class SparkEngine(Engine):
    """A Spark session, and the warehouse folder where ordito's tables are Parquet folders.

    Args:
        warehouse: folder holding one Parquet folder per table; existing ones are registered as
            temporary views at start. Required to publish; None for a session-only engine.
        spark: an existing ``SparkSession`` to use (not stopped by :meth:`close`). Give it
            ``spark.sql.session.timeZone=UTC`` for timestamps to read as ordito writes them.
        master: the master of a session started here (``local[2]`` by default).
        conf: extra settings for a session started here.

    Examples:
        >>> eng = SparkEngine("/data/ordito-warehouse")           # doctest: +SKIP
        >>> eng.records("SELECT channel, count(*) AS n FROM events GROUP BY ALL")  # doctest: +SKIP
    """

    dialect = "spark"

    def __init__(
        self,
        warehouse: str | os.PathLike[str] | None = None,
        *,
        spark: Any = None,
        master: str = "local[2]",
        conf: Mapping[str, str] | None = None,
    ) -> None:
        self.warehouse = Path(warehouse) if warehouse is not None else None
        self._owns_session = spark is None
        self.spark: Any = spark if spark is not None else _start_session(master, dict(conf or {}))
        if self.warehouse is not None:
            self.warehouse.mkdir(parents=True, exist_ok=True)
            for folder in sorted(self.warehouse.iterdir()):
                if (
                    folder.is_dir()
                    and not folder.name.startswith((".", "_"))
                    and any(folder.glob("*.parquet"))
                ):
                    self.register_parquet(folder.name, folder)

    @classmethod
    def from_url(cls, url: str) -> SparkEngine:
        """An engine from ``spark:///path/to/warehouse`` (see :func:`parse_url`)."""
        return cls(**parse_url(url))

    def __repr__(self) -> str:
        return f"SparkEngine({str(self.warehouse) if self.warehouse else None!r})"

    # --- the Engine hooks ------------------------------------------------------------------------------

    def _run(self, sql: str, params: Params) -> list[tuple[Any, ...]] | None:
        df = self._sql(sql, params)
        if not df.columns:
            return None
        return [tuple(r.values()) for r in _to_arrow(df).to_pylist()]

    def _arrow(self, sql: str, params: Params) -> pa.Table:
        return _to_arrow(self._sql(sql, params))

    def register(self, name: str, table: pa.Table) -> None:
        """Make an Arrow table a temporary view (Arrow-enabled conversion; naive timestamps stay
        ``TIMESTAMP_NTZ``, as DuckDB's ``TIMESTAMP``)."""
        _from_arrow(self.spark, table).createOrReplaceTempView(name)

    def unregister(self, name: str) -> None:
        self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        if self._owns_session and self.spark is not None:
            self.spark.stop()
        self.spark = None

    # --- Spark specifics (used by publish) -------------------------------------------------------------

    def register_parquet(self, name: str, folder: str | os.PathLike[str]) -> None:
        """Register a folder of Parquet files as the temporary view ``name``."""
        self.spark.read.parquet(str(folder)).createOrReplaceTempView(name)

    def table_folder(self, name: str) -> Path:
        """Where table ``name`` lives in the warehouse."""
        if self.warehouse is None:
            raise ConfigError(
                "this SparkEngine has no warehouse folder: give one (SparkEngine(warehouse=...), or "
                "spark:///path/to/warehouse) that the driver and the executors can read"
            )
        return self.warehouse / name

    def replace_folder(self, name: str, staged: Path) -> None:
        """Swap a freshly written Parquet folder in as table ``name`` and register it.

        Readers of the old view keep their plan until they re-read; the old files are removed after the
        new folder is in place.
        """
        final = self.table_folder(name)
        old = final.with_name(f".{name}.old-{uuid.uuid4().hex[:8]}")
        if final.exists():
            final.rename(old)
        staged.rename(final)
        self.register_parquet(name, final)
        shutil.rmtree(old, ignore_errors=True)

    # --- internals -------------------------------------------------------------------------------------

    def _sql(self, sql: str, params: Params) -> Any:
        if self.spark is None:
            raise StoreError("this SparkEngine is closed")
        text = spark_literals(compile_sql(sql, "spark"), params)
        try:
            return self.spark.sql(text)
        except Exception as exc:  # pyspark's AnalysisException & co.: keep both statements
            raise StoreError(
                f"Spark: {_first_line(exc)}\n--- statement ---\n{sql.strip()}\n--- as Spark SQL ---\n{text}",
                sql=sql,
            ) from exc


def _start_session(master: str, conf: dict[str, str]) -> Any:
    try:
        from pyspark.sql import SparkSession
    except ImportError as exc:
        raise ImportError(_INSTALL_HINT) from exc
    local = master.startswith("local")
    if local:
        os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    settings = {**DEFAULT_CONF, **(LOCAL_CONF if local else {}), **conf}
    builder = SparkSession.builder.master(master).appName("ordito")
    for key, value in settings.items():
        builder = builder.config(key, value)
    try:
        session = builder.getOrCreate()
    except Exception as exc:  # no Java, wrong Java, port trouble: pyspark raises plain exceptions
        raise StoreError(f"cannot start Spark ({master}): {_first_line(exc)}. {_INSTALL_HINT}") from exc
    session.sparkContext.setLogLevel("ERROR")
    _quiet_query_errors()
    return session


def _quiet_query_errors() -> None:
    """pyspark 4 logs every SQL analysis error with its Java stack trace on stderr before raising it;
    ordito raises it as a StoreError with the statement, so the log is only noise."""
    try:
        from pyspark.logger import PySparkLogger
    except ImportError:  # pyspark 3.5 does not log them
        return
    for name in ("SQLQueryContextLogger", "DataFrameQueryContextLogger"):
        PySparkLogger.getLogger(name).setLevel(logging.CRITICAL)


def _to_arrow(df: Any) -> pa.Table:
    if hasattr(df, "toArrow"):  # pyspark 4
        table: pa.Table = df.toArrow()
        return table
    from pyspark.sql.pandas.types import to_arrow_schema  # pyspark 3.5

    batches = df._collect_as_arrow()
    return pa.Table.from_batches(batches, schema=to_arrow_schema(df.schema) if not batches else None)


def _from_arrow(spark: Any, table: pa.Table) -> Any:
    from pyspark.sql.pandas.types import from_arrow_schema

    try:
        schema = from_arrow_schema(table.schema, prefer_timestamp_ntz=True)
    except TypeError:  # pyspark 3.5: no prefer_timestamp_ntz
        schema = from_arrow_schema(table.schema)
    try:
        return spark.createDataFrame(table, schema=schema)
    except TypeError:  # pyspark 3.5 takes pandas, not Arrow
        return spark.createDataFrame(table.to_pandas(), schema=schema)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
