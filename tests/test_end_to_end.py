"""The spine end to end on a small demo company: generate, ingest, resolve, score against ground truth."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest

import ordito
from ordito.demo import generate
from ordito.score import score
from ordito.timeline import lookup, timeline

CUSTOMERS = 400
SEED = 2024


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("company")
    generate(out, customers=CUSTOMERS, seed=SEED)
    return out


@pytest.fixture(scope="module")
def resolved(
    company: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[ordito.Workspace, object]]:
    ws = ordito.Workspace(tmp_path_factory.mktemp("ws") / "ws.duckdb")
    res = ws.ingest(company)
    ws.resolve()
    yield ws, res
    ws.close()


def test_every_row_is_an_event_or_in_quarantine(
    company: Path, resolved: tuple[ordito.Workspace, object]
) -> None:
    ws, res = resolved
    for f in res.files:  # type: ignore[attr-defined]
        assert f.balanced, f
        assert f.duplicates == 0, f
    assert not res.skipped  # type: ignore[attr-defined]
    with (company / "ground_truth" / "expected_quarantine.csv").open() as fh:
        expected = list(csv.DictReader(fh))
    n_quarantined = ws.sql("SELECT count(*) FROM quarantine")[0][0]
    assert n_quarantined == len(expected)
    # each planted dirty record is in the quarantine of its source, under its key or its record number
    got = {(r[0], r[1]) for r in ws.sql("SELECT source, source_key FROM quarantine")}
    for row in expected:
        fname = Path(row["file"]).name
        keys = {(row["source"], row["source_key"]), (row["source"], f"{fname}:{row['record_no']}")}
        assert keys & got, row


def test_identity_accuracy_against_ground_truth(
    company: Path, resolved: tuple[ordito.Workspace, object]
) -> None:
    ws, _ = resolved
    s = score(ws.engine, company / "ground_truth")["identity"]
    assert s["records_scored"] >= 0.99 * s["records_in_ground_truth"]
    assert s["precision"] >= 0.99, s
    assert s["recall"] >= 0.97, s


def test_reingest_and_rerun_change_nothing(company: Path, resolved: tuple[ordito.Workspace, object]) -> None:
    ws, _ = resolved
    before = ws.sql(
        "SELECT count(*), (SELECT count(*) FROM quarantine), (SELECT count(*) FROM customers) FROM events"
    )
    keys = dict(ws.sql("SELECT seq, customer_key FROM event_customer"))
    again = ws.ingest(company)
    assert again.total("events_new") == 0
    ws.resolve()
    assert (
        ws.sql(
            "SELECT count(*), (SELECT count(*) FROM quarantine), (SELECT count(*) FROM customers) FROM events"
        )
        == before
    )
    assert dict(ws.sql("SELECT seq, customer_key FROM event_customer")) == keys


def test_incremental_by_silo_equals_all_at_once(
    company: Path, resolved: tuple[ordito.Workspace, object], tmp_path: Path
) -> None:
    ws, _ = resolved
    with ordito.Workspace(tmp_path / "inc.duckdb") as inc:
        for silo in ["crm", "web", "shop", "calls", "chat", "email", "app", "pos", "surveys", "social"]:
            inc.ingest(company, source=silo)
            inc.resolve()

        def partition(w: ordito.Workspace) -> set[frozenset[str]]:
            groups: dict[str, set[str]] = {}
            for src, key, cust in w.sql("""SELECT e.source, e.source_key, c.customer_key FROM events e
                                           LEFT JOIN event_customer c USING (seq)"""):
                groups.setdefault(cust or f"{src}:{key}", set()).add(f"{src}:{key}")
            return {frozenset(g) for g in groups.values()}

        assert partition(inc) == partition(ws)


def test_a_customer_is_found_from_a_phone_written_another_way(
    resolved: tuple[ordito.Workspace, object],
) -> None:
    ws, _ = resolved
    # a customer whose phone was written in at least two ways in the silos
    key, raws = ws.sql("""SELECT m.customer_key, list(DISTINCT n.raw) FROM identity_map m
                          JOIN identifiers i USING (identifier_id) JOIN identifier_norm n ON n.identifier_id = i.identifier_id
                          WHERE i.kind = 'phone' AND i.status = 'active' GROUP BY ALL
                          HAVING count(DISTINCT n.raw) >= 2 LIMIT 1""")[0]
    for raw in raws:
        assert key in {m.customer_key for m in lookup(ws.engine, raw)}
    tl = timeline(ws.engine, key, limit=500)
    assert len({i["source"] for i in tl["items"]}) >= 2  # one customer, several silos
