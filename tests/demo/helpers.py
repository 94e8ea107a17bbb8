"""Read a generated company back, record by record, the way a tolerant reader would."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from ordito.demo.silos import SILOS, Silo


def quarantined(root: Path) -> dict[str, dict[int, str]]:
    """source -> {record_no: problem} from expected_quarantine.csv."""
    out: dict[str, dict[int, str]] = {s.source: {} for s in SILOS}
    with (root / "ground_truth" / "expected_quarantine.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            out[row["source"]][int(row["record_no"])] = row["problem"]
    return out


def records(root: Path, silo: Silo) -> Iterator[tuple[int, dict[str, Any] | None]]:
    """(record number, record as a dict or None when unreadable) for every record of a silo."""
    path = root / silo.path
    if silo.fmt == "csv":
        text = path.read_bytes().decode(silo.encoding, errors="replace")
        lines = text.split("\n")
        header = next(csv.reader([lines[0]], delimiter=silo.delimiter))
        for i, line in enumerate(lines[1:], start=1):
            if not line:
                continue
            fields = next(csv.reader(io.StringIO(line), delimiter=silo.delimiter))
            yield i, dict(zip(header, fields, strict=False)) if len(fields) == len(header) else None
    elif silo.fmt == "jsonl":
        for i, line in enumerate(path.read_bytes().split(b"\n"), start=1):
            if not line:
                continue
            try:
                yield i, json.loads(line.decode("utf-8"))
            except (UnicodeDecodeError, json.JSONDecodeError):
                yield i, None
    elif silo.fmt == "json":
        for i, obj in enumerate(json.loads(path.read_text(encoding="utf-8")), start=1):
            yield i, obj
    else:
        for i, obj in enumerate(pq.read_table(path).to_pylist(), start=1):
            yield i, obj


def clean_records(root: Path, silo: Silo) -> Iterator[dict[str, Any]]:
    """The records that are not listed as dirty."""
    dirty = quarantined(root)[silo.source]
    for i, rec in records(root, silo):
        if i not in dirty:
            assert rec is not None, f"{silo.path} record {i} is unreadable but not listed as dirty"
            yield rec


_ADDRESS = re.compile(r'([^<>"\s]+@[^<>"\s]+)')


def identifiers_of(source: str, rec: dict[str, Any]) -> list[tuple[str, str, str]]:
    """(kind, namespace, raw) of every identifier a record carries, as the built-in mapping reads it."""
    out: list[tuple[str, str, str]] = []

    def add(kind: str, ns: str, value: Any) -> None:
        if value not in (None, ""):
            out.append((kind, ns, str(value)))

    if source == "web":
        add("anonymous_id", "", rec["cookie_id"])
        add("customer_id", "shop", rec["user_id"])
        add("anonymous_id", "eid", rec["email_id"])
    elif source == "app":
        add("anonymous_id", "", rec["device_id"])
        user = rec["user"] or {}
        add("customer_id", "shop", user.get("shop_customer_id"))
        add("email", "", user.get("email"))
    elif source == "calls":
        if rec["ani"] != "anonymous":
            add("phone", "", rec["ani"])
        add("customer_id", "crm", rec["crm_customer_id"])
    elif source == "chat":
        add("anonymous_id", "", rec["visitor_id"])
        add("email", "", rec["visitor_email"])
    elif source == "email":
        side = rec["to"] if rec["direction"] == "outbound" else rec["from"]
        m = _ADDRESS.search(side)
        add("email", "", m.group(1) if m else None)
    elif source == "crm":
        add("customer_id", "crm", rec["crm_customer_id"])
        add("email", "", rec["contact_email"])
        add("phone", "", rec["contact_phone"])
        add("handle", "social", rec["social_handle"])
    elif source == "shop":
        add("customer_id", "shop", rec["shop_customer_id"])
        add("email", "", rec["email"])
        add("phone", "", rec["phone"])
    elif source == "pos":
        add("loyalty_id", "elettra", rec["loyalty_card"])
        add("email", "", rec["email"])
    elif source == "surveys":
        add("email", "", rec["email"])
        add("customer_id", "crm", rec["crm_customer_id"])
    elif source == "social" and not rec["from_brand"]:
        add("handle", "social", f"{rec['platform']}:{rec['handle']}")
    return out


def identifier_table(root: Path) -> dict[tuple[str, str, str], dict[str, str]]:
    with (root / "ground_truth" / "identifiers.csv").open(encoding="utf-8", newline="") as fh:
        return {(r["kind"], r["namespace"], r["raw"]): r for r in csv.DictReader(fh)}
