"""PostgreSQL engine over pg8000 (BSD; psycopg is LGPL): the operational store and a publish target.

Statements arrive in DuckDB's dialect and are transpiled (``ordito.store.dialect``). Arrow tables are
loaded with ``COPY ... FROM STDIN (FORMAT csv)``, one COPY per table streaming one CSV chunk per record
batch (pyarrow writes the CSV in C++), never row by row.

Text columns this engine creates are ``COLLATE "C"``: comparisons, ``ORDER BY`` and ``min``/``max`` then
follow code points like DuckDB and Spark, whatever the database's default locale (``en_US`` sorts
``"b" < "B"``... differently).
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import itertools
import json
import os
import re
import ssl
import threading
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, suppress
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import pg8000.native
import pyarrow as pa
import pyarrow.csv as pacsv

from ..errors import ConfigError, StoreError
from .base import Engine, Params
from .dialect import bind_order, compile_sql
from .sqlutil import q

__all__ = ["PostgresEngine", "parse_url"]

DEFAULT_SCHEMA = "ordito"

# PostgreSQL type OIDs -> Arrow types for results (pg_type.oid, stable across versions).
_ARROW_OF_OID: dict[int, pa.DataType] = {
    16: pa.bool_(),
    20: pa.int64(),
    21: pa.int16(),
    23: pa.int32(),
    26: pa.int64(),  # oid
    700: pa.float32(),
    701: pa.float64(),
    18: pa.string(),  # "char"
    19: pa.string(),  # name
    25: pa.string(),  # text
    114: pa.string(),  # json, kept as text
    1042: pa.string(),  # bpchar
    1043: pa.string(),  # varchar
    2950: pa.string(),  # uuid, as its text form (DuckDB also gives UUIDs to Arrow as strings)
    3802: pa.string(),  # jsonb, kept as text
    17: pa.binary(),  # bytea
    1082: pa.date32(),
    1083: pa.time64("us"),
    1114: pa.timestamp("us"),
    1184: pa.timestamp("us", tz="UTC"),
    1186: pa.duration("us"),  # interval (without months)
}
_ARRAY_OIDS: dict[int, int] = {
    1000: 16,
    1005: 21,
    1007: 23,
    1016: 20,
    1021: 700,
    1022: 701,
    1009: 25,
    1015: 1043,
}
_NUMERIC = 1700
_TEXT_ADAPTERS = (114, 3802, 2950)  # json, jsonb and uuid come back as text, not parsed objects


def _pg_type(t: pa.DataType) -> str:
    """The PostgreSQL column type for an Arrow type (text is collated "C")."""
    if pa.types.is_dictionary(t):
        return _pg_type(t.value_type)
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t) or pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer"
    if pa.types.is_integer(t):
        return "bigint"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "real"
    if pa.types.is_floating(t):
        return "double precision"
    if pa.types.is_decimal(t):
        return f"numeric({t.precision}, {t.scale})"
    if pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_string_view(t):
        return 'text COLLATE "C"'
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "bytea"
    if pa.types.is_timestamp(t):
        return "timestamp with time zone" if t.tz else "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_time(t):
        return "time"
    if pa.types.is_duration(t):
        return "interval"
    if pa.types.is_nested(t):
        return "jsonb"  # lists, structs and maps are loaded as JSON
    raise StoreError(f"no PostgreSQL type for the Arrow type {t}")


def parse_url(url: str) -> dict[str, Any]:
    """Connection arguments for pg8000 from ``postgresql://user[:password]@host[:port]/database``.

    Query options: ``schema`` (where ordito's tables live, default ``ordito``), ``sslmode``
    (``disable``, the default; ``require``: encrypted; ``verify-full``: encrypted and verified; libpq's
    ``prefer`` and ``allow`` connect without TLS), ``host=/run/dir`` for
    a Unix socket, ``application_name``, ``connect_timeout`` (seconds). The password may also come from
    ``PGPASSWORD``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("postgresql", "postgres"):
        raise ConfigError(f"not a PostgreSQL URL (postgresql://user@host:port/database): {url!r}")
    opts = {k: v[-1] for k, v in parse_qs(parts.query).items()}
    args: dict[str, Any] = {
        "user": unquote(parts.username or "") or os.environ.get("PGUSER") or "postgres",
        "password": unquote(parts.password) if parts.password else os.environ.get("PGPASSWORD"),
        "database": unquote(parts.path.lstrip("/")) or None,
        "application_name": opts.get("application_name", "ordito"),
        "timeout": float(opts.get("connect_timeout", 30)),
    }
    host = opts.get("host") or unquote(parts.hostname or "") or "localhost"
    port = parts.port or int(opts.get("port", 5432))
    if host.startswith("/"):
        args["unix_sock"] = f"{host}/.s.PGSQL.{port}"
    else:
        args["host"], args["port"] = host, port
    sslmode = opts.get("sslmode", "disable")
    if sslmode in ("require", "verify-ca", "verify-full"):
        ctx = ssl.create_default_context()
        if sslmode == "require":
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        args["ssl_context"] = ctx
    elif sslmode not in ("disable", "allow", "prefer"):
        raise ConfigError(f"unknown sslmode {sslmode!r}")
    args["schema"] = opts.get("schema", DEFAULT_SCHEMA)
    return args


class PostgresEngine(Engine):
    """A PostgreSQL database reached with pg8000.

    Args:
        url: ``postgresql://user[:password]@host[:port]/database[?schema=...&sslmode=...]``
            (see :func:`parse_url`).
        schema: where ordito's tables are (created by ``publish``), first on the ``search_path``;
            default ``ordito`` so that publishing never touches an application's own ``public`` tables.

    The session runs in UTC and in autocommit; :meth:`transaction` groups statements.
    """

    dialect = "postgres"

    def __init__(self, url: str, *, schema: str | None = None) -> None:
        args = parse_url(url)
        self.schema: str = schema or args.pop("schema")
        args.pop("schema", None)
        self.url = url
        try:
            self._con = pg8000.native.Connection(**args)
        except pg8000.exceptions.InterfaceError as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {_safe(url)}: {exc}") from exc
        except pg8000.exceptions.DatabaseError as exc:
            raise StoreError(f"PostgreSQL at {_safe(url)} refused the connection: {_message(exc)}") from exc
        for oid in _TEXT_ADAPTERS:
            self._con.register_in_adapter(oid, str)
        self._lock = threading.RLock()
        self._in_tx = False
        self._con.run("SET TIME ZONE 'UTC'")
        self._con.run(f"SET search_path TO {q(self.schema)}, public")

    def __repr__(self) -> str:
        return f"PostgresEngine({_safe(self.url)!r}, schema={self.schema!r})"

    # --- the Engine hooks ------------------------------------------------------------------------------

    def _run(self, sql: str, params: Params) -> list[tuple[Any, ...]] | None:
        rows, _ = self._execute(sql, params)
        return None if rows is None else [tuple(r) for r in rows]

    def _arrow(self, sql: str, params: Params) -> pa.Table:
        rows, columns = self._execute(sql, params)
        if columns is None:
            return pa.table({})
        return _to_arrow(rows or [], columns)

    def register(self, name: str, table: pa.Table) -> None:
        """Load ``table`` into a session TEMP table ``name`` (replacing one of that name) with COPY."""
        with self.transaction():
            self.run_native(f"DROP TABLE IF EXISTS pg_temp.{q(name)}")
            self.create_table(name, table.schema, temp=True)
            self.copy_batches(name, table.to_batches(), in_schema="pg_temp")

    def unregister(self, name: str) -> None:
        self.run_native(f"DROP TABLE IF EXISTS pg_temp.{q(name)}")

    def close(self) -> None:
        # already closed, or the server went away: nothing left to release
        with suppress(pg8000.exceptions.InterfaceError, OSError):
            self._con.close()

    # --- PostgreSQL specifics (used by publish) --------------------------------------------------------

    def run_native(self, sql: str, **params: Any) -> list[list[Any]] | None:
        """Run one statement in PostgreSQL's own dialect (no transpiling; ``:name`` parameters)."""
        with self._lock:
            try:
                rows: list[list[Any]] | None = self._con.run(sql, **params)
                return rows
            except (pg8000.exceptions.DatabaseError, pg8000.exceptions.InterfaceError) as exc:
                raise StoreError(f"PostgreSQL: {_message(exc)}\n--- statement ---\n{sql}", sql=sql) from exc

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Run the statements of the block in one transaction (rolled back on error). Re-entrant."""
        with self._lock:
            if self._in_tx:
                yield
                return
            self._con.run("START TRANSACTION")
            self._in_tx = True
            try:
                yield
            except BaseException:
                self._in_tx = False
                self._con.run("ROLLBACK")
                raise
            self._in_tx = False
            self._con.run("COMMIT")

    def create_table(
        self,
        name: str,
        schema: pa.Schema,
        *,
        in_schema: str | None = None,
        temp: bool = False,
        types: dict[str, str] | None = None,
    ) -> None:
        """``CREATE TABLE`` with a column per field of an Arrow schema.

        Args:
            name: the table; ``in_schema`` the PostgreSQL schema to create it in (else the search path).
            temp: a session TEMP table.
            types: PostgreSQL types that override a column's (e.g. ``uuid`` for a string column).
        """
        types = types or {}
        cols = ", ".join(f"{q(f.name)} {types.get(f.name) or _pg_type(f.type)}" for f in schema)
        self.run_native(f"CREATE {'TEMP ' if temp else ''}TABLE {_qualified(name, in_schema)} ({cols})")

    def copy_batches(
        self,
        name: str,
        batches: Iterable[pa.RecordBatch],
        *,
        in_schema: str | None = None,
        progress: Callable[[int], None] | None = None,
    ) -> int:
        """Append record batches to a table with one ``COPY FROM STDIN``; returns the rows loaded.

        Each batch becomes one CSV chunk (pyarrow, C++) sent as one CopyData message.
        ``progress(rows_sent)`` is called after each chunk is sent. (Encoding in a helper thread while
        the previous chunk is sent was measured: no gain on 2 cores, where PostgreSQL's parsing is the
        bottleneck.)
        """
        it = iter(batches)
        first = next(it, None)
        if first is None:
            return 0
        options = pacsv.WriteOptions(include_header=False)

        def encode() -> Iterator[tuple[bytes, int]]:
            for batch in itertools.chain([first], it):
                if batch.num_rows:
                    buf = io.BytesIO()
                    pacsv.write_csv(_csv_ready(batch), buf, options)
                    yield buf.getvalue(), batch.num_rows

        sent = 0
        failure: list[Exception] = []

        def stream() -> Iterator[bytes]:
            nonlocal sent
            try:
                for data, rows in encode():
                    yield data
                    sent += rows
                    if progress is not None:
                        progress(sent)
            except Exception as exc:
                # pg8000 cannot send CopyFail: end the data with an unterminated quoted field so that the
                # server refuses the whole COPY (nothing is loaded, the connection stays usable).
                failure.append(exc)
                yield b'\n"ordito: the source of this COPY failed'

        cols = ", ".join(q(c) for c in first.schema.names)
        try:
            self.run_native(
                f"COPY {_qualified(name, in_schema)} ({cols}) FROM STDIN WITH (FORMAT csv)", stream=stream()
            )
        except StoreError:
            if failure:
                raise failure[0] from None
            raise
        if failure:  # not expected: the server accepted the poisoned data
            raise failure[0]
        return sent

    # --- internals -------------------------------------------------------------------------------------

    def _execute(
        self, sql: str, params: Params
    ) -> tuple[list[list[Any]] | None, list[dict[str, Any]] | None]:
        compiled = compile_sql(sql, "postgres")
        values = bind_order(compiled, params)
        kwargs = {f"p{i}": v for i, v in enumerate(values, 1)}
        types = {k: _param_oid(v) for k, v in kwargs.items()}
        with self._lock:
            try:
                rows = self._con.run(compiled.sql, types=types or None, **kwargs)
            except (pg8000.exceptions.DatabaseError, pg8000.exceptions.InterfaceError) as exc:
                raise StoreError(
                    f"PostgreSQL: {_message(exc)}\n--- statement ---\n{sql.strip()}\n"
                    f"--- as PostgreSQL ---\n{compiled.sql}",
                    sql=sql,
                ) from exc
            return rows, self._con.columns


def _qualified(name: str, schema: str | None) -> str:
    return f"{q(schema)}.{q(name)}" if schema else q(name)


def _param_oid(value: Any) -> int:
    """The type to send a parameter as, as DuckDB would type it; strings stay ``unknown`` so that the
    server types them from their use (a uuid, a json, a timestamp compared with a string); so do NULLs."""
    if isinstance(value, bool):
        return 16
    if isinstance(value, int):
        return 20
    if isinstance(value, float):
        return 701
    if isinstance(value, decimal.Decimal):
        return _NUMERIC
    if isinstance(value, dt.datetime):
        return 1184 if value.tzinfo is not None else 1114
    if isinstance(value, dt.date):
        return 1082
    return -1  # unspecified


def _to_arrow(rows: list[list[Any]], columns: list[dict[str, Any]]) -> pa.Table:
    arrays = []
    names = []
    for i, col in enumerate(columns):
        values = [r[i] for r in rows]
        arrays.append(_column(values, int(col["type_oid"]), int(col.get("type_modifier", -1))))
        names.append(str(col["name"]))
    return pa.Table.from_arrays(arrays, names=_unique(names))


def _column(values: list[Any], oid: int, typmod: int) -> pa.Array:
    if oid == _NUMERIC:
        if typmod >= 4:  # numeric(p, s): exact
            precision, scale = (typmod - 4) >> 16, (typmod - 4) & 0xFFFF
            return pa.array(values, pa.decimal128(precision, scale))
        # numeric without declared precision (avg(), sum() of integers): float64. Portable SQL casts
        # such aggregates to BIGINT or DOUBLE itself (docs/ENGINES.md).
        return pa.array([None if v is None else float(v) for v in values], pa.float64())
    if oid in _ARRAY_OIDS:
        return pa.array(values, pa.list_(_ARROW_OF_OID[_ARRAY_OIDS[oid]]))
    t = _ARROW_OF_OID.get(oid)
    if t is not None:
        if oid == 1186 and any(v is not None and not hasattr(v, "total_seconds") for v in values):
            return pa.array([None if v is None else str(v) for v in values], pa.string())
        return pa.array(values, t)
    try:  # a type without a mapping (ranges, geometry...): let Arrow infer, else text
        return pa.array(values)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return pa.array([None if v is None else str(v) for v in values], pa.string())


def _csv_ready(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Columns PostgreSQL's CSV reader takes as they are, or converted: bytea as ``\\x`` hex, nested
    values as JSON, dictionary-encoded columns decoded."""
    arrays: list[pa.Array] = []
    changed = False
    for col in batch.columns:
        t = col.type
        if pa.types.is_dictionary(t):
            col, changed = col.dictionary_decode(), True
            t = col.type
        if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
            col = pa.array([None if v is None else "\\x" + v.hex() for v in col.to_pylist()], pa.string())
            changed = True
        elif pa.types.is_nested(t):
            col = pa.array(
                [None if v is None else json.dumps(v, default=str) for v in col.to_pylist()], pa.string()
            )
            changed = True
        arrays.append(col)
    return pa.RecordBatch.from_arrays(arrays, names=batch.schema.names) if changed else batch


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        k = seen.get(n, 0)
        seen[n] = k + 1
        out.append(n if k == 0 else f"{n}_{k}")
    return out


def _message(exc: Exception) -> str:
    """The readable part of a pg8000 error (its argument is PostgreSQL's error fields as a dict)."""
    info = exc.args[0] if exc.args and isinstance(exc.args[0], dict) else None
    if info is None:
        return str(exc)
    msg = str(info.get("M", exc))
    for key, label in (("D", "detail"), ("H", "hint")):
        if info.get(key):
            msg += f" ({label}: {info[key]})"
    return msg


def _safe(url: str) -> str:
    """The URL without its password, for messages."""
    return re.sub(r"(//[^:/@]+):[^@]*@", r"\1:***@", url)
