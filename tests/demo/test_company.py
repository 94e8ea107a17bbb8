"""The generated company honours docs/DEMO_COMPANY.md: files, columns, counts, identifiers, dirt."""

from __future__ import annotations

import csv
import hashlib
import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from ordito.demo import GenerateResult
from ordito.demo.silos import BY_SOURCE, SILOS
from ordito.demo.truth import CSV_FILES

from .helpers import clean_records, identifier_table, identifiers_of, quarantined, records

GROUND_TRUTH = ["manifest.json", "records.parquet", *(f for f, _ in CSV_FILES.values())]


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_every_file_of_the_spec_exists_with_its_columns(root: Path) -> None:
    for silo in SILOS:
        path = root / silo.path
        assert path.is_file(), silo.path
        if silo.fmt == "csv":
            header = path.read_bytes().split(b"\n", 1)[0].decode(silo.encoding).split(silo.delimiter)
            assert tuple(header) == silo.columns
        elif silo.fmt == "parquet":
            assert tuple(pq.read_schema(path).names) == silo.columns
        else:
            first = next(rec for _, rec in records(root, silo) if rec is not None)
            assert tuple(first) == silo.columns, silo.source
    for name in GROUND_TRUTH:
        assert (root / "ground_truth" / name).is_file(), name
    for _, (fname, header) in CSV_FILES.items():
        with (root / "ground_truth" / fname).open(encoding="utf-8") as fh:
            assert tuple(next(csv.reader(fh))) == header


def test_encodings_and_formats(root: Path) -> None:
    pos = (root / "stores" / "pos_transactions.csv").read_bytes()
    assert "à".encode("latin-1") in pos or "è".encode("latin-1") in pos  # single-byte accents
    assert "è".encode() not in pos
    emails = json.loads((root / "email" / "emails.json").read_text(encoding="utf-8"))
    assert isinstance(emails, list) and emails
    chat = (root / "chat" / "chat_transcripts.jsonl").read_bytes()
    assert not chat.endswith(b"\n")  # the truncated last line
    web = (root / "web" / "web_analytics.csv").read_text(encoding="utf-8", errors="replace")
    assert web.endswith("\n")


def test_manifest(root: Path, company: GenerateResult) -> None:
    m = json.loads((root / "ground_truth" / "manifest.json").read_text())
    assert m["seed"] == 7 and m["customers"] == 500
    assert m["period"] == {"start": "2025-01-01", "end": "2026-06-30"}
    assert m["rows"] == company.rows
    assert set(m["sha256"]) == {s.path for s in SILOS} | {
        f"ground_truth/{n}" for n in GROUND_TRUTH if n != "manifest.json"
    }
    for rel, digest in m["sha256"].items():
        assert hashlib.sha256((root / rel).read_bytes()).hexdigest() == digest, rel
    persons = read_csv(root / "ground_truth" / "persons.csv")
    assert sum(p["is_customer"] == "1" for p in persons) == 500
    assert 0.2 < m["prospects"] / 500 < 0.4
    # about 50 records per customer, web hits first
    total = sum(company.rows.values())
    assert 40 < total / 500 < 65
    assert company.rows["web"] == max(company.rows.values())


def test_records_parquet_has_one_row_per_readable_record(root: Path, company: GenerateResult) -> None:
    truth = pq.read_table(root / "ground_truth" / "records.parquet").to_pylist()
    by_source = Counter(r["source"] for r in truth)
    dirty = quarantined(root)
    for silo in SILOS:
        lost_keys = sum(1 for p in dirty[silo.source].values() if p == "missing_key")
        assert by_source[silo.source] == company.rows[silo.source] - lost_keys, silo.source
    keys = [(r["source"], r["source_key"]) for r in truth]
    assert len(keys) == len(set(keys))
    times = [r["occurred_at"] for r in truth]
    assert str(min(times)) >= "2025-01-01" and str(max(times)) < "2026-07-01"
    # the keys are the silo's key columns joined with |
    for silo in SILOS:
        want = {r["source_key"] for r in truth if r["source"] == silo.source}
        got = set()
        for rec in clean_records(root, silo):
            got.add("|".join(str(rec[k]) for k in silo.key))
        assert got <= want, silo.source
    persons = {p["person_id"] for p in read_csv(root / "ground_truth" / "persons.csv")}
    episodes = {e["episode_id"] for e in read_csv(root / "ground_truth" / "episodes.csv")}
    for r in truth:
        assert r["person_id"] in persons or (r["person_id"] is None and r["source"] == "social")
        assert r["episode_id"] is None or r["episode_id"] in episodes
        if r["sentiment"] is not None:
            assert r["sentiment"] in ("negative", "neutral", "positive") and -1 <= r["sentiment_score"] <= 1
            assert r["language"] in ("it", "en")


def test_identifiers_cover_every_value_written(root: Path) -> None:
    table = identifier_table(root)
    seen = set()
    for silo in SILOS:
        dirty = quarantined(root)[silo.source]
        for i, rec in records(root, silo):
            if rec is None:
                continue
            for ident in identifiers_of(silo.source, rec):
                seen.add(ident)
                assert ident in table or i in dirty, (silo.source, i, ident)
    # and (almost) nothing listed that no readable record carries
    assert len(set(table) - seen) <= 3 * sum(len(d) for d in quarantined(root).values())
    for row in table.values():
        owners = row["person_ids"].split(";")
        assert owners and all(o.startswith("P") for o in owners)
        if len(owners) > 1:
            assert row["shared_reason"] in (
                "family_phone",
                "office_switchboard",
                "generic_mailbox",
                "placeholder",
            )


def test_evidence_and_facts_point_to_records(root: Path) -> None:
    keys = {
        f"{r['source']}:{r['source_key']}"
        for r in pq.read_table(
            root / "ground_truth" / "records.parquet", columns=["source", "source_key"]
        ).to_pylist()
    }
    frictions = read_csv(root / "ground_truth" / "frictions.csv")
    assert frictions
    for f in frictions:
        for ev in f["evidence"].split(";"):
            assert ev in keys, (f["friction_id"], ev)
    for fact in read_csv(root / "ground_truth" / "facts.csv"):
        assert fact["given_in"] in keys
        for ev in filter(None, fact["restated_in"].split(";")):
            assert ev in keys


def test_dirty_records_are_listed_and_really_broken(root: Path) -> None:
    dirty = quarantined(root)
    for silo in SILOS:
        assert len(dirty[silo.source]) >= 2, silo.source
    assert Counter(p for d in dirty.values() for p in d.values())["truncated"] == 1
    for silo in SILOS:
        recs = dict(records(root, silo))
        for no, problem in dirty[silo.source].items():
            rec = recs[no]
            if problem in ("bad_encoding", "extra_column", "malformed_json", "truncated"):
                assert rec is None or (silo.fmt == "csv" and "\ufffd" in "".join(map(str, rec.values()))), (
                    silo.source,
                    no,
                    problem,
                )
            elif problem == "missing_key":
                assert rec is not None and not rec.get(silo.key[0]), (silo.source, no)
            else:
                assert rec is not None, (silo.source, no)
                ts = {
                    "calls": "start_time",
                    "crm": "updated_at",
                    "surveys": "answered_at",
                    "app": "timestamp",
                    "email": "date",
                    "shop": "status_ts",
                }.get(silo.source, "ts")
                assert rec[ts] is None or "25:61" in rec[ts] or "26:00" in rec[ts] or "-13-45" in rec[ts], (
                    silo.source,
                    no,
                    rec[ts],
                )


def test_every_silo_has_its_key_unique(root: Path) -> None:
    for silo in SILOS:
        keys = ["|".join(str(r[k]) for k in silo.key) for r in clean_records(root, silo)]
        assert len(keys) == len(set(keys)), silo.source


def test_episodes_and_persons(root: Path) -> None:
    episodes = read_csv(root / "ground_truth" / "episodes.csv")
    assert {e["intent"] for e in episodes} == {
        "purchase",
        "delivery_problem",
        "repair",
        "refund",
        "address_change",
        "subscription",
        "info",
        "browse",
    }
    assert {e["outcome"] for e in episodes} <= {"resolved", "converted", "abandoned", "open"}
    for e in episodes:
        assert "2025-01-01" <= e["started_at"] <= e["ended_at"] < "2026-07-01"
    persons = read_csv(root / "ground_truth" / "persons.csv")
    churned = {p["person_id"]: p["churned_at"] for p in persons if p["churned"] == "1"}
    assert churned and all(
        p["churned_at"] and p["is_customer"] == "1" for p in persons if p["churned"] == "1"
    )
    for e in episodes:  # churned customers start nothing new
        if e["person_id"] in churned:
            assert e["started_at"] <= churned[e["person_id"]], e
    assert {p["country"] for p in persons} == {"IT", "GB"}
    assert BY_SOURCE["web"].key == ("hit_id",)
