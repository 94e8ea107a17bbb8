"""Format readers: turn one file into an SQL relation with known columns.

Every reader yields a relation with ``_recno`` (1-based record number in the file, header excluded,
counting records the parser rejected) and the file's columns, plus ``_raw`` (the record as text, for
quarantine). Structural errors (a column too many, invalid UTF-8, a broken JSON line) are collected as
:class:`Reject` rows with the exact bytes of the record, never dropped.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from ..errors import InputError
from ..store.duckdb import DuckDBEngine
from ..store.sqlutil import lit, q
from .mapping import Mapping

MAX_LINE = 64 * 1024 * 1024  # a record longer than this is rejected by the parser (then quarantined)


@dataclass
class Reject:
    record_no: int
    reason: str
    raw: str | None
    raw_bytes: bytes | None


@dataclass
class Relation:
    """What a reader gives the compiler."""

    sql: str  # a SELECT producing _recno, _raw and the columns
    columns: dict[str, str]  # column name -> DuckDB type
    rejects: list[Reject] = field(default_factory=list)
    json_paths: bool = False  # JSON: dotted names are paths into the record
    cleanup: list[str] = field(default_factory=list)  # statements to run afterwards
    temp_files: list[Path] = field(default_factory=list)
    records: int = 0  # records the relation yields (accepted by the parser)
    # SELECT _recno, _raw ... WHERE {where}: the raw record, computed only for the records asked for
    raw_sql: str = ""


def _line_bytes(fh: BinaryIO, position: int, limit: int = MAX_LINE) -> bytes:
    """The record starting at DuckDB's (1-based) line_byte_position, up to its newline.

    Reads in 64 KiB steps: a reject costs what its line costs, not ``limit`` bytes (reading 64 MiB per
    reject made a file with 10k rejects read 640 GB of page cache).
    """
    offset = max(0, position - 1)
    # make sure we start at a line start: step back to the previous newline if needed
    back = min(offset, 4096)
    fh.seek(offset - back)
    before = fh.read(back)
    nl = before.rfind(b"\n")
    if back and nl != len(before) - 1:
        offset = offset - back + nl + 1 if nl >= 0 else offset - back
    fh.seek(offset)
    parts: list[bytes] = []
    size = 0
    while size < limit:
        chunk = fh.read(min(65536, limit - size))
        if not chunk:
            break
        end = chunk.find(b"\n")
        if end >= 0:
            parts.append(chunk[:end])
            break
        parts.append(chunk)
        size += len(chunk)
    return b"".join(parts).rstrip(b"\r")


def _open_bytes(path: Path) -> BinaryIO:
    """The file's bytes, decompressed when it is gzip (``.gz``: DuckDB reads those itself, and its byte
    positions are positions in the decompressed stream)."""
    if path.name.lower().endswith(".gz"):
        return gzip.open(path, "rb")  # type: ignore[return-value]
    return path.open("rb")


def _decode(b: bytes) -> tuple[str, bytes | None]:
    try:
        return b.decode("utf-8"), None
    except UnicodeDecodeError:
        return b.decode("utf-8", errors="backslashreplace"), b


# --- CSV -----------------------------------------------------------------------------------------


def csv_header(path: Path, m: Mapping) -> list[str]:
    """Column names from the first line, read with the mapping's dialect."""
    opts = m.csv
    enc = opts.encoding.lower().replace("_", "-")
    pyenc = {"latin-1": "latin-1", "latin1": "latin-1", "utf-8": "utf-8", "utf8": "utf-8"}.get(enc, enc)
    with _open_bytes(path) as fh:
        first = fh.readline(MAX_LINE)
    if not first.strip():
        return []
    text = first.decode(pyenc, errors="replace").lstrip("\ufeff").rstrip("\r\n")
    row = next(csv.reader(io.StringIO(text), delimiter=opts.delimiter, quotechar=opts.quote or None))
    if not opts.header:
        return [f"column{i}" for i in range(len(row))]
    names = [c.strip() for c in row]
    seen: dict[str, int] = {}
    for i, n in enumerate(names):
        if not n:
            names[i] = n = f"column{i}"
        if n in seen:
            raise InputError(f"{path.name}: column {n!r} appears twice in the header")
        seen[n] = i
    return names


def _csv_options(m: Mapping, columns: list[str]) -> str:
    o = m.csv
    cols = "{" + ", ".join(f"{lit(c)}: 'VARCHAR'" for c in columns) + "}"
    enc = o.encoding.lower().replace("_", "-")
    enc = {"latin1": "latin-1", "utf8": "utf-8", "iso-8859-1": "latin-1"}.get(enc, enc)
    return (
        f"auto_detect = false, header = {str(o.header).lower()}, delim = {lit(o.delimiter)}, "
        f"quote = {lit(o.quote)}, escape = {lit(o.escape)}, encoding = {lit(enc)}, columns = {cols}, "
        f"max_line_size = {MAX_LINE}, buffer_size = {2 * MAX_LINE}, null_padding = false, "
        "strict_mode = true"
    )


def _materialise(
    eng: DuckDBEngine, path: Path, read_sql: str, header: bool, tag: str
) -> tuple[str, list[Reject]]:
    """Parse the file once into a temporary table, collecting the parser's rejects in the same pass.

    The table's ``rowid`` follows the file order (checked on 10M rows), so it numbers the records without a
    window function, and later passes scan the table instead of parsing the file again. Storing every
    column makes DuckDB decode every value, so no invalid byte goes unseen (a ``count(*)`` would parse none).
    Returns the table name and the rejects with their exact bytes.
    """
    rt, rs, table = f"_rej_{tag}", f"_rejscan_{tag}", f"_src_{tag}"
    sql = read_sql.replace(
        "__REJECTS__", f"store_rejects = true, rejects_table = {lit(rt)}, rejects_scan = {lit(rs)}"
    )
    eng.execute("SET preserve_insertion_order = true")
    eng.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM {sql}")
    rows = eng.execute(
        f"SELECT line, min(line_byte_position), string_agg(DISTINCT error_type || ': ' || "
        f"left(coalesce(error_message, ''), 300), '; ') FROM {rt} GROUP BY line ORDER BY line"
    )
    eng.execute(f"DROP TABLE IF EXISTS {rt}")
    eng.execute(f"DROP TABLE IF EXISTS {rs}")
    out = []
    with _open_bytes(path) as fh:
        for line, pos, msg in rows:
            raw, raw_bytes = _decode(_line_bytes(fh, int(pos)))
            out.append(Reject(int(line) - (1 if header else 0), _reject_reason(msg), raw, raw_bytes))
    return table, out


def _first_rowid(eng: DuckDBEngine, table: str) -> int:
    """The rowid of the table's first record: 0 normally, a large base inside an open transaction
    (DuckDB numbers transaction-local rows from its own offset), so records are numbered from here."""
    return int(eng.scalar(f"SELECT coalesce(min(rowid), 0) FROM {table}") or 0)


def _reject_reason(msg: str) -> str:
    m = msg.split(":", 1)[0]
    nice = {
        "TOO MANY COLUMNS": "malformed record: a column too many",
        "MISSING COLUMNS": "malformed record: columns missing (truncated?)",
        "INVALID ENCODING": "invalid bytes for the declared encoding",
        "UNQUOTED VALUE": "malformed record: quote in an unquoted value",
        "LINE SIZE OVER MAXIMUM": f"record longer than {MAX_LINE} bytes",
        "INVALID UNICODE": "invalid bytes for the declared encoding",
    }.get(m.strip(), "malformed record")
    return f"{nice} ({_short(msg, 240)})"


def _short(s: str, n: int) -> str:
    s = re.sub(r"\s+", " ", s)
    return s if len(s) <= n else s[: n - 1] + "…"


def _recno_sql(rn: str, rejects: list[Reject], eng: DuckDBEngine, tag: str) -> tuple[str, str, list[str]]:
    """SQL for the physical record number given row_number over accepted rows.

    For rejects at record numbers r_1 < r_2 < ..., good rows before the i-th reject number g_i = r_i - i.
    A good row with row number k has record number k + #{i : g_i < k}: an ASOF join on the largest g < k.
    """
    if not rejects:
        return rn, "", []
    name = f"_rejg_{tag}"
    vals = sorted(r.record_no for r in rejects)
    pairs: dict[int, int] = {}
    for i, r in enumerate(vals, start=1):
        pairs[r - i] = i
    values = ", ".join(f"({g}, {c})" for g, c in sorted(pairs.items()))
    eng.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM (VALUES {values}) t(g, c)")
    join = f"ASOF LEFT JOIN {name} rj ON _base._rn > rj.g"
    return "_base._rn + coalesce(rj.c, 0)", join, [f"DROP TABLE IF EXISTS {name}"]


def probe_csv(eng: DuckDBEngine, path: Path, m: Mapping) -> dict[str, str]:
    return {c: "VARCHAR" for c in csv_header(path, m)}


def read_csv_relation(eng: DuckDBEngine, path: Path, m: Mapping, tag: str) -> Relation:
    cols = csv_header(path, m)
    if not cols:
        return Relation(sql="", columns={})
    base = f"read_csv({lit(str(path))}, {_csv_options(m, cols)}, __REJECTS__)"
    table, rejects = _materialise(eng, path, base, m.csv.header, tag)
    accepted = int(eng.scalar(f"SELECT count(*) FROM {table}"))
    recno, join, cleanup = _recno_sql("_rn", rejects, eng, tag)
    raw = "json_object(" + ", ".join(f"{lit(c)}, {q(c)}" for c in cols) + ")"
    inner = f"SELECT rowid - {_first_rowid(eng, table)} + 1 AS _rn, * FROM {table}"
    sql = f"SELECT {recno} AS _recno, _base.* EXCLUDE (_rn) FROM ({inner}) _base {join}"
    raw_sql = f"SELECT _recno, {raw}::VARCHAR AS _raw FROM ({sql}) _r WHERE {{where}}"
    return Relation(
        sql=sql,
        columns={c: "VARCHAR" for c in cols},
        rejects=rejects,
        cleanup=[*cleanup, f"DROP TABLE IF EXISTS {table}"],
        records=accepted,
        raw_sql=raw_sql,
    )


# --- JSON Lines / JSON -----------------------------------------------------------------------------


def _lines_read(path: Path) -> str:
    return (
        f"read_csv({lit(str(path))}, auto_detect = false, header = false, delim = '\x1e', quote = '', "
        f"escape = '', columns = {{'line': 'VARCHAR'}}, max_line_size = {MAX_LINE}, "
        f"buffer_size = {2 * MAX_LINE}, strict_mode = false, __REJECTS__)"
    )


def _json_columns(eng: DuckDBEngine, lines_sql: str, sample: int = 20000) -> dict[str, str]:
    rows = eng.execute(
        f"SELECT DISTINCT unnest(json_keys(line)) FROM (SELECT line FROM {lines_sql} "
        f"WHERE json_valid(line) AND json_type(line) = 'OBJECT' LIMIT {sample})"
    )
    return {r[0]: "JSON" for r in rows}


def probe_jsonl(eng: DuckDBEngine, path: Path, m: Mapping) -> dict[str, str]:
    if path.stat().st_size == 0:
        return {}
    return _json_columns(eng, _lines_read(path).replace("__REJECTS__", "ignore_errors = true"))


def probe_json(eng: DuckDBEngine, path: Path, m: Mapping) -> dict[str, str]:
    if path.stat().st_size == 0:
        return {}
    tmp, _ = _salvage_json_array(path)
    try:
        return probe_jsonl(eng, tmp, m)
    finally:
        tmp.unlink(missing_ok=True)


def read_jsonl_relation(eng: DuckDBEngine, path: Path, m: Mapping, tag: str) -> Relation:
    if path.stat().st_size == 0:
        return Relation(sql="", columns={})
    table, rejects = _materialise(eng, path, _lines_read(path), False, tag)
    accepted = int(eng.scalar(f"SELECT count(*) FROM {table} WHERE trim(line) <> ''"))
    columns = _json_columns(eng, table)
    recno, join, cleanup = _recno_sql("_rn", rejects, eng, tag)
    inner = f"SELECT rowid - {_first_rowid(eng, table)} + 1 AS _rn, line FROM {table}"
    # Blank lines are not records; they keep their number so later records keep theirs.
    sql = (
        f"SELECT {recno} AS _recno, line AS _raw, "
        "CASE WHEN json_valid(line) AND json_type(line) = 'OBJECT' THEN line END AS _json, "
        "CASE WHEN NOT json_valid(line) THEN 'malformed JSON: ' || left(line, 60) "
        "WHEN json_type(line) <> 'OBJECT' THEN 'not a JSON object' END AS _parse_reason "
        f"FROM ({inner}) _base {join} WHERE trim(line) <> ''"
    )
    raw_sql = f"SELECT _recno, _raw FROM ({sql}) _r WHERE {{where}}"
    return Relation(
        sql=sql,
        columns=columns,
        rejects=rejects,
        json_paths=True,
        cleanup=[*cleanup, f"DROP TABLE IF EXISTS {table}"],
        records=accepted,
        raw_sql=raw_sql,
    )


def _salvage_json_array(path: Path) -> tuple[Path, list[Reject]]:
    """Split a JSON array file into JSON Lines, keeping every readable object; the rest is rejected.

    Used for every JSON array: DuckDB reads a whole array or nothing, and a truncated export must still
    give its complete records.
    """
    data = path.read_bytes()
    text = data.decode("utf-8", errors="surrogateescape")
    dec = json.JSONDecoder()
    rejects: list[Reject] = []
    fd, tmp = tempfile.mkstemp(prefix="ordito-", suffix=".jsonl")
    out = os.fdopen(fd, "w", encoding="utf-8", errors="surrogateescape")
    i = 0
    n = len(text)

    def skip_ws(j: int) -> int:
        while j < n and text[j] in " \t\r\n":
            j += 1
        return j

    i = skip_ws(i)
    if text.startswith("\ufeff", i):
        i = skip_ws(i + 1)
    if i >= n:
        out.close()
        return Path(tmp), []
    if text[i] != "[":
        # not an array: one object, or JSON Lines saved with a .json name
        out.close()
        os.unlink(tmp)
        raise InputError(
            f"{path.name}: expected a JSON array ('[' ...); for one record per line use format: jsonl"
        )
    i += 1
    rec = 0
    while True:
        i = skip_ws(i)
        if i >= n:
            rejects.append(Reject(rec + 1, "truncated JSON array: the file ends before ']'", None, None))
            break
        if text[i] == "]":
            break
        rec += 1
        try:
            obj, end = dec.raw_decode(text, i)
        except json.JSONDecodeError as exc:
            tail = text[i:]
            raw_b = tail.encode("utf-8", errors="surrogateescape")
            raw_s, rb = _decode(raw_b[:MAX_LINE])
            rejects.append(Reject(rec, f"malformed JSON object: {exc.msg} (truncated file?)", raw_s, rb))
            break
        chunk = text[i:end]
        try:
            chunk.encode("utf-8")
            out.write(json.dumps(obj, ensure_ascii=False) + "\n")
        except UnicodeEncodeError:
            b = chunk.encode("utf-8", errors="surrogateescape")
            rejects.append(Reject(rec, "invalid bytes for the declared encoding (not UTF-8)", *_decode(b)))
            out.write("\n")  # keep record numbering: a blank line is not a record but keeps its number
        i = skip_ws(end)
        if i < n and text[i] == ",":
            i += 1
    out.close()
    return Path(tmp), rejects


def read_json_relation(eng: DuckDBEngine, path: Path, m: Mapping, tag: str) -> Relation:
    if path.stat().st_size == 0:
        return Relation(sql="", columns={})
    tmp, rejects = _salvage_json_array(path)
    rel = read_jsonl_relation(eng, tmp, m, tag)
    rel.rejects = rejects + rel.rejects
    rel.temp_files.append(tmp)
    return rel


# --- Parquet ---------------------------------------------------------------------------------------


def probe_parquet(eng: DuckDBEngine, path: Path, m: Mapping) -> dict[str, str]:
    if path.stat().st_size == 0:
        return {}
    return read_parquet_relation(eng, path, m, "probe").columns


def read_parquet_relation(eng: DuckDBEngine, path: Path, m: Mapping, tag: str) -> Relation:
    if path.stat().st_size == 0:
        return Relation(sql="", columns={})
    src = f"read_parquet({lit(str(path))}, file_row_number = true)"
    try:
        desc = eng.execute(f"DESCRIBE SELECT * FROM {src}")
    except Exception as exc:
        raise InputError(f"{path.name}: not a readable Parquet file ({_short(str(exc), 200)})") from exc
    columns = {r[0]: str(r[1]) for r in desc if r[0] != "file_row_number"}
    sql = f"SELECT file_row_number + 1 AS _recno, _p.* EXCLUDE (file_row_number) FROM {src} _p"
    # DuckDB evaluates the projection after the filter: to_json runs only for the records asked for
    raw_sql = (
        f"SELECT file_row_number + 1 AS _recno, to_json(_p)::VARCHAR AS _raw FROM {src} _p WHERE {{where}}"
    )
    n = int(eng.execute(f"SELECT count(*) FROM read_parquet({lit(str(path))})")[0][0])
    return Relation(sql=sql, columns=columns, records=n, raw_sql=raw_sql)


PROBES = {
    "csv": probe_csv,
    "jsonl": probe_jsonl,
    "json": probe_json,
    "parquet": probe_parquet,
}

READERS = {
    "csv": read_csv_relation,
    "jsonl": read_jsonl_relation,
    "json": read_json_relation,
    "parquet": read_parquet_relation,
}


def json_path_sql(name: str) -> str:
    """A JSON path for a dotted column name: a.b -> $."a"."b"."""
    parts = name.split(".")
    return "$" + "".join('."' + p.replace('"', '\\"') + '"' for p in parts)


def iter_files(root: Path, pattern: str) -> Iterator[Path]:
    yield from sorted(p for p in root.glob(pattern) if p.is_file())


def describe_type(eng: DuckDBEngine, rel: Relation, expr: str) -> str:
    row = eng.one(f"DESCRIBE SELECT {expr} AS x FROM ({rel.sql}) _s LIMIT 0")
    return str(row[1]) if row else "VARCHAR"
