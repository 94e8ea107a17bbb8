"""Turn a chunk into file bytes (in its lane), and append those bytes to the files (in the main process).

Each chunk's rows are sorted by time (stably) and encoded: CSV and JSON Lines as bytes, the email
export as pieces of one JSON array, Parquet as one row group per chunk with fixed options so the bytes
are stable. Dirty records (~0.1% per silo, at least two in the first chunk) are chosen among records
that are not friction or fact evidence, and listed for ``expected_quarantine.csv``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path
from random import Random
from typing import IO, Any

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from .silos import SILOS, Chunk, Row, Silo, q, q_semi

DIRTY_RATE = 0.001
PROBLEMS = {
    "web": ("bad_timestamp", "missing_key", "extra_column", "bad_encoding"),
    "calls": ("missing_key", "bad_timestamp", "bad_encoding", "extra_column"),
    "crm": ("extra_column", "bad_timestamp", "missing_key", "bad_encoding"),
    "pos": ("bad_timestamp", "extra_column", "missing_key"),
    "surveys": ("bad_encoding", "missing_key", "bad_timestamp", "extra_column"),
    "app": ("malformed_json", "bad_timestamp", "missing_key", "bad_encoding"),
    "chat": ("bad_timestamp", "bad_encoding", "missing_key", "malformed_json"),
    "social": ("missing_key", "malformed_json", "bad_timestamp", "bad_encoding"),
    "email": ("bad_timestamp", "missing_key"),
    "shop": ("missing_key", "bad_timestamp"),
}
TRUNCATED_SOURCE = "chat"  # the one file whose last line is cut short
TS_FIELD = {
    "web": "ts",
    "calls": "start_time",
    "crm": "updated_at",
    "pos": "ts",
    "surveys": "answered_at",
    "app": "timestamp",
    "chat": "ts",
    "social": "ts",
    "email": "date",
}
BAD_TS = {
    "web": "2025-02-30 25:61:00",
    "calls": "31/02/2025 25:61:00",
    "crm": "2025-13-45T10:00:00+01:00",
    "pos": "2025-02-30 26:00:00",
    "surveys": "2025-02-30T25:61:00Z",
    "app": "2025-02-30T25:61:00.000Z",
    "chat": "2025-02-30T25:61:00Z",
    "social": "2025-02-30T25:61:00Z",
    "email": "Sun, 31 Feb 2025 25:61:00 +0100",
}
TEXT_FIELD = {
    "web": "page_title",
    "calls": "notes",
    "crm": "subject",
    "surveys": "comment",
    "app": "screen",
    "chat": "text",
    "social": "text",
}

# (source, file, record number inside the chunk (1-based), source_key or "", problem)
QuarantineRow = tuple[str, str, int, str, str]

SHOP_SCHEMA = pa.schema(
    [
        ("order_id", pa.string()),
        ("status", pa.string()),
        ("status_ts", pa.timestamp("us", tz="UTC")),
        ("shop_customer_id", pa.string()),
        ("email", pa.string()),
        ("phone", pa.string()),
        ("customer_name", pa.string()),
        ("total", pa.float64()),
        ("currency", pa.string()),
        (
            "items",
            pa.list_(
                pa.struct(
                    [
                        ("sku", pa.string()),
                        ("name", pa.string()),
                        ("qty", pa.int32()),
                        ("unit_price", pa.float64()),
                    ]
                )
            ),
        ),
        (
            "shipping_address",
            pa.struct(
                [
                    ("street", pa.string()),
                    ("city", pa.string()),
                    ("postcode", pa.string()),
                    ("country", pa.string()),
                ]
            ),
        ),
        ("channel", pa.string()),
        ("carrier", pa.string()),
        ("tracking_no", pa.string()),
    ]
)
PARQUET_OPTIONS: dict[str, Any] = {
    "compression": "zstd",
    "compression_level": 3,
    "write_statistics": True,
    "version": "2.6",
    "data_page_version": "1.0",
}


@dataclass
class Encoded:
    """One silo's part of one chunk, ready to append."""

    rows: int
    data: bytes = b""  # CSV / JSON Lines bytes, or the JSON array's elements joined by ",\n"
    table: pa.Table | None = None  # Parquet
    quarantine: list[QuarantineRow] = field(default_factory=list)


def encode_silo(
    silo: Silo,
    chunk: Chunk,
    rng: Random,
    first: bool,
    last: bool,
    drop: set[int],
    bad: set[int] | None = None,
) -> Encoded:
    """Sort, break a few records, encode. ``drop`` collects the truth rows (web: ``web_truth`` rows, as
    negative numbers ``-1 - index``) whose record lost its key; ``bad`` those of every broken record."""
    rows = chunk.rows[silo.source]
    rows.sort(key=itemgetter(0))
    n = len(rows)
    truncate = last and silo.source == TRUNCATED_SOURCE and n > 0
    dirty = _choose_dirty(silo, chunk, rows, rng, first, truncate)
    payloads: list[Any] = [r[1] for r in rows]
    quarantine: list[QuarantineRow] = []
    web = silo.source == "web"
    if bad is not None:
        bad.update(-1 - rows[i][2] if web else rows[i][2] for i in dirty)
        if truncate:
            bad.add(-1 - rows[-1][2] if web else rows[-1][2])
    for i, problem in dirty.items():
        key = chunk.key(silo.source, rows[i][2])
        payloads[i] = _corrupt(silo, payloads[i], problem)
        if problem == "missing_key":
            drop.add(rows[i][2] if silo.source != "web" else -1 - rows[i][2])
            key = ""
        quarantine.append((silo.source, silo.path, i + 1, key, problem))
    if truncate:
        payloads[-1] = _truncate(payloads[-1])
        quarantine.append((silo.source, silo.path, n, chunk.key(silo.source, rows[-1][2]), "truncated"))
    quarantine.sort(key=itemgetter(2))
    out = Encoded(n, quarantine=quarantine)
    if not payloads:
        return out
    if silo.fmt == "parquet":
        out.table = shop_table(payloads)
    elif silo.fmt == "csv":
        out.data = "".join(payloads).encode(silo.encoding, "surrogateescape")
    elif silo.fmt == "jsonl":
        body = b"\n".join(payloads)
        out.data = body if truncate else body + b"\n"
    else:
        out.data = b",\n".join(payloads)
    return out


def _choose_dirty(
    silo: Silo, chunk: Chunk, rows: list[Row], rng: Random, first: bool, truncate: bool
) -> dict[int, str]:
    n = len(rows)
    k = int(n * DIRTY_RATE)
    if rng.random() < n * DIRTY_RATE - k:
        k += 1
    if first and n >= 4:
        k = max(k, 2)
    if not k:
        return {}
    src = silo.source
    protect = chunk.protect
    limit = n - 1 if truncate else n
    picked: list[int] = []
    evidence: list[int] = []  # used only if there are too few other records
    seen: set[int] = set()
    tries = 0
    while len(picked) < k and tries < 50 * k:
        tries += 1
        i = int(rng.random() * limit)
        if i in seen:
            continue
        seen.add(i)
        (evidence if f"{src}:{chunk.key(src, rows[i][2])}" in protect else picked).append(i)
    problems = PROBLEMS[src]
    start = int(rng.random() * len(problems))
    out = {i: problems[(start + j) % len(problems)] for j, i in enumerate(sorted(picked))}
    keeps_key = [pr for pr in problems if pr != "missing_key"]
    for j, i in enumerate(evidence[: k - len(picked)]):
        out[i] = keeps_key[(start + j) % len(keeps_key)]  # evidence keeps its key
    return dict(sorted(out.items()))


def _corrupt(silo: Silo, payload: Any, problem: str) -> Any:
    src = silo.source
    if silo.fmt == "csv":
        fields = next(csv.reader(io.StringIO(payload.rstrip("\n")), delimiter=silo.delimiter))
        cols = silo.columns
        if problem == "bad_timestamp":
            fields[cols.index(TS_FIELD[src])] = BAD_TS[src]
        elif problem == "missing_key":
            fields[cols.index(silo.key[0])] = ""
        elif problem == "bad_encoding":
            j = cols.index(TEXT_FIELD[src])
            fields[j] = fields[j][:3] + "\udce9" + fields[j][3:]  # a lone latin-1 byte once encoded
        quote = q_semi if silo.delimiter == ";" else q
        line = silo.delimiter.join(quote(f) for f in fields)
        if problem == "extra_column":
            line += silo.delimiter + "EXTRA"
        return line + "\n"
    if silo.fmt == "parquet":
        row = list(payload)
        if problem == "missing_key":
            row[0] = None
        else:
            row[2] = None
        return tuple(row)
    # JSON Lines and the JSON array: the payload is the orjson bytes of one object
    if problem == "malformed_json":
        return payload[:-1] + b',"'  # a record cut in the middle of a key
    if problem == "bad_encoding":
        tag = f'"{TEXT_FIELD[src]}":"'.encode()
        return payload.replace(tag, tag + b"\xe9", 1)
    obj = orjson.loads(payload)
    if problem == "bad_timestamp":
        obj[TS_FIELD[src]] = BAD_TS[src]
    elif problem == "missing_key":
        del obj[silo.key[0]]
    return orjson.dumps(obj)


def _truncate(payload: Any) -> Any:
    if isinstance(payload, bytes):
        return payload[: max(60, len(payload) // 2)]
    return payload[: max(30, len(payload) // 2)].rstrip("\n")


def shop_table(rows: list[tuple[Any, ...]]) -> pa.Table:
    cols = list(zip(*rows, strict=True))
    ts = [None if v is None else v * 1_000_000 for v in cols[2]]
    arrays = [
        pa.array(cols[0], pa.string()),
        pa.array(cols[1], pa.string()),
        pa.array(ts, pa.timestamp("us", tz="UTC")),
        *(pa.array(c, SHOP_SCHEMA.field(i + 3).type) for i, c in enumerate(cols[3:])),
    ]
    return pa.Table.from_arrays(arrays, schema=SHOP_SCHEMA)


class SiloFile:
    """A silo's file, appended chunk after chunk (main process)."""

    def __init__(self, root: Path, silo: Silo) -> None:
        self.silo = silo
        self.path = root / silo.path
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.count = 0
        self.fh: IO[bytes] | None = None
        self.pq: pq.ParquetWriter | None = None
        self.sha = hashlib.sha256()  # of what is written, so the manifest need not read the file again
        if silo.fmt == "parquet":
            self.pq = pq.ParquetWriter(
                str(self.path),
                SHOP_SCHEMA,
                use_dictionary=["status", "currency", "channel", "carrier"],
                **PARQUET_OPTIONS,
            )
            return
        self.fh = self.path.open("wb")
        if silo.fmt == "csv":
            self._write((silo.delimiter.join(silo.columns) + "\n").encode(silo.encoding))
        elif silo.fmt == "json":
            self._write(b"[\n")

    def _write(self, data: bytes) -> None:
        assert self.fh is not None
        self.fh.write(data)
        self.sha.update(data)

    def digest(self) -> str | None:
        """SHA-256 of a byte file (None for Parquet, whose bytes pyarrow writes)."""
        return self.sha.hexdigest() if self.fh is not None else None

    def append(self, enc: Encoded) -> list[QuarantineRow]:
        """Append one chunk's part; returns its quarantine rows with record numbers of the whole file."""
        if enc.table is not None:
            assert self.pq is not None
            self.pq.write_table(enc.table, row_group_size=enc.rows)
        elif enc.data:
            if self.silo.fmt == "json" and self.count:
                self._write(b",\n")
            self._write(enc.data)
        base = self.count
        self.count += enc.rows
        return [(s, f, base + r, k, pr) for s, f, r, k, pr in enc.quarantine]

    def close(self) -> None:
        if self.pq is not None:
            self.pq.close()
        if self.fh is not None:
            if self.silo.fmt == "json":
                self._write(b"\n]\n")
            self.fh.close()


def open_files(root: Path) -> dict[str, SiloFile]:
    return {s.source: SiloFile(root, s) for s in SILOS}
