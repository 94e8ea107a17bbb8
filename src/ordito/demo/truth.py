"""The ``ground_truth/`` folder: what really happened, encoded per chunk (in a lane) and appended."""

from __future__ import annotations

import csv
import hashlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from .silos import Chunk
from .writers import PARQUET_OPTIONS, QuarantineRow

RECORDS_SCHEMA = pa.schema(
    [
        ("source", pa.string()),
        ("source_key", pa.string()),
        ("person_id", pa.string()),
        ("episode_id", pa.string()),
        ("intent", pa.string()),
        ("sentiment", pa.string()),
        ("sentiment_score", pa.float64()),
        ("language", pa.string()),
        ("occurred_at", pa.timestamp("us")),
    ]
)
CSV_FILES = {
    "persons": (
        "persons.csv",
        (
            "person_id",
            "household_id",
            "is_customer",
            "first_name",
            "last_name",
            "birth_date",
            "country",
            "language",
            "city",
            "company_id",
            "segment",
            "churned",
            "churned_at",
        ),
    ),
    "identifiers": (
        "identifiers.csv",
        ("kind", "namespace", "raw", "normalized", "person_ids", "shared_reason"),
    ),
    "episodes": (
        "episodes.csv",
        (
            "episode_id",
            "person_id",
            "intent",
            "started_at",
            "ended_at",
            "outcome",
            "channels",
            "departments",
            "n_contacts",
        ),
    ),
    "frictions": ("frictions.csv", ("friction_id", "episode_id", "kind", "evidence", "detail")),
    "facts": ("facts.csv", ("episode_id", "fact_kind", "value", "given_in", "restated_in")),
    "quarantine": ("expected_quarantine.csv", ("source", "file", "record_no", "source_key", "problem")),
    "hard_cases": ("identity_hard_cases.csv", ("source", "source_key", "person_id", "case", "island")),
}


def csv_bytes(rows: list[Any]) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    return buf.getvalue().encode("utf-8")


@dataclass
class TruthPart:
    """One chunk's ground truth, encoded."""

    csv: dict[str, bytes] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    records: pa.Table | None = None


def encode_truth(c: Chunk, drop: set[int]) -> TruthPart:
    part = TruthPart()
    for name, rows in (
        ("persons", c.persons),
        ("identifiers", c.identifiers),
        ("episodes", c.episodes),
        ("frictions", c.frictions),
        ("facts", c.facts),
        ("hard_cases", c.hard_cases),
    ):
        part.csv[name] = csv_bytes(rows)
        part.counts[name] = len(rows)
    tables = []
    n_web = len(c.web_truth)
    if n_web:  # web hits: source "web", no text, whole seconds
        cols = list(zip(*c.web_truth, strict=True))
        seconds = np.fromiter(cols[4], dtype=np.int64, count=n_web)
        table = pa.Table.from_arrays(
            [
                pa.array(["web"] * n_web, pa.string()),
                pa.array(cols[0], pa.string()),
                pa.array(cols[1], pa.string()),
                pa.array(cols[2], pa.string()),
                pa.array(cols[3], pa.string()),
                pa.nulls(n_web, pa.string()),
                pa.nulls(n_web, pa.float64()),
                pa.nulls(n_web, pa.string()),
                pa.array(seconds * 1_000_000, pa.timestamp("us")),
            ],
            schema=RECORDS_SCHEMA,
        )
        tables.append(_without(table, [-1 - i for i in drop if i < 0]))
    n = len(c.truth)
    if n:
        cols = list(zip(*c.truth, strict=True))
        arrays = [pa.array(cols[i], RECORDS_SCHEMA.field(i).type) for i in range(8)]
        seconds_f = np.fromiter(cols[8], dtype=np.float64, count=n)  # app events have milliseconds
        arrays.append(pa.array(np.rint(seconds_f * 1_000_000).astype(np.int64), pa.timestamp("us")))
        table = pa.Table.from_arrays(arrays, schema=RECORDS_SCHEMA)
        tables.append(_without(table, [i for i in drop if i >= 0]))
    if tables:
        part.records = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    part.counts["records"] = n + n_web - len(drop)
    return part


def _without(table: pa.Table, rows: list[int]) -> pa.Table:
    if not rows:
        return table
    keep = np.ones(table.num_rows, dtype=bool)
    keep[sorted(rows)] = False
    return table.filter(pa.array(keep))


class TruthFiles:
    """The ground-truth files, appended chunk after chunk (main process)."""

    def __init__(self, root: Path) -> None:
        self.dir = root / "ground_truth"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.files: dict[str, IO[bytes]] = {}
        self.counts: dict[str, int] = {}
        self.sha: dict[str, Any] = {}
        for name, (fname, header) in CSV_FILES.items():
            self.files[name] = (self.dir / fname).open("wb")
            self.sha[name] = hashlib.sha256()
            self.counts[name] = 0
            self._write(name, csv_bytes([header]))
        self.records = pq.ParquetWriter(
            str(self.dir / "records.parquet"),
            RECORDS_SCHEMA,
            use_dictionary=["source", "intent", "sentiment", "language"],
            **PARQUET_OPTIONS,
        )
        self.counts["records"] = 0

    def _write(self, name: str, data: bytes) -> None:
        self.files[name].write(data)
        self.sha[name].update(data)

    def digests(self) -> dict[str, str]:
        """SHA-256 of the CSV files by file name (records.parquet is hashed from disk)."""
        return {CSV_FILES[name][0]: h.hexdigest() for name, h in self.sha.items()}

    def rows(self, name: str, rows: list[Any]) -> None:
        self._write(name, csv_bytes(rows))
        self.counts[name] += len(rows)

    def append(self, part: TruthPart, quarantine: list[QuarantineRow]) -> None:
        for name, data in part.csv.items():
            self._write(name, data)
            self.counts[name] += part.counts[name]
        self.rows("quarantine", quarantine)
        if part.records is not None:
            self.records.write_table(part.records, row_group_size=part.records.num_rows)
        self.counts["records"] += part.counts["records"]

    def close(self) -> None:
        for fh in self.files.values():
            fh.close()
        self.records.close()


def sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_manifest(root: Path, files: list[Path], info: dict[str, Any], known: dict[Path, str]) -> None:
    """``known``: digests already computed while writing; the other files are read."""
    info = dict(info)
    info["sha256"] = {p.relative_to(root).as_posix(): known.get(p) or sha256(p) for p in files}
    (root / "ground_truth" / "manifest.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
