"""The fuzzy stage inside `resolve`: silos without identifiers join customers, homonyms and households stay
apart, new records are scored incrementally with stable keys, decisions win over the model, unmerge
restores a key, explain shows each attribute's weight."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import ordito
from ordito.errors import InputError
from ordito.identity.explain import explain
from ordito.identity.fuzzy import review
from ordito.identity.fuzzy.stage import set_config
from ordito.identity.resolve import Resolver
from tests.conftest import write

SHOP = """source: shop
format: csv
files: "shop*.csv"
key: [order_id]
timestamp: {column: ts}
event: {channel: {const: web}, type: {const: order_placed}}
identifiers:
  - {kind: customer_id, namespace: shop, column: customer_id}
  - {kind: email, column: email}
traits: {name: name, address: address, postcode: postcode, city: city}
"""
PAPER = """source: paper
format: csv
files: "paper*.csv"
key: [card_id]
timestamp: {column: ts}
event: {channel: {const: store}, type: {const: loyalty_card}}
identifiers: []
require_identifier: false
traits: {first_name: first_name, last_name: last_name, birth_date: birth_date, address: street, postcode: postcode, city: city}
"""
REPAIRS = """source: repairs
format: csv
files: "repairs*.csv"
csv: {delimiter: ";"}
key: [job]
timestamp: {column: ts}
event: {channel: {const: other}, type: {const: repair_job_opened}}
identifiers:
  - {kind: email, expr: "CASE WHEN contains(contact, '@') THEN contact END"}
require_identifier: false
traits: {name: customer, address: address, postcode: cap, city: city}
"""


def _silos(root: Path) -> list[str | os.PathLike[str]]:
    return [
        write(root / "shop.yaml", SHOP),
        write(root / "paper.yaml", PAPER),
        write(root / "repairs.yaml", REPAIRS),
    ]


def _keys(ws: ordito.Workspace) -> dict[str, str]:
    """source:source_key -> customer key."""
    return {
        f"{s}:{k}": c
        for s, k, c in ws.sql(
            """SELECT e.source, e.source_key, c.customer_key FROM events e
               LEFT JOIN event_customer c ON c.seq = e.seq"""
        )
    }


@pytest.fixture
def russo(tmp_path: Path) -> Iterator[tuple[ordito.Workspace, Path, list[str | os.PathLike[str]]]]:
    maps = _silos(tmp_path / "maps")
    data = tmp_path / "data"
    write(
        data / "shop.csv",
        "order_id,ts,customer_id,email,name,address,postcode,city\n"
        "O1,2025-02-01T10:00:00Z,1001,giuseppe.russo71@gmail.com,Giuseppe Russo,Via Roma 12,10121,Torino\n"
        "O2,2025-02-03T10:00:00Z,1002,paolo.russo@libero.it,Paolo Russo,Via Roma 12,10121,Torino\n"
        "O3,2025-02-05T10:00:00Z,1003,g.russo@tin.it,Giuseppe Russo,Corso Francia 3,20121,Milano\n",
    )
    write(
        data / "paper.csv",
        "card_id,ts,first_name,last_name,birth_date,street,postcode,city\n"
        "L1,2025-03-01T10:00:00Z,Giuseppe,Russo,1971-03-02,V. Roma 12,10121,Torino\n"
        "L2,2025-03-02T10:00:00Z,RUSSO,GIUSEPPE,02/03/1971,via roma 12,,TORINO\n"
        "L3,2025-03-03T10:00:00Z,Paolo,Russo,1973-05-10,Via Roma 12,10121,Torino\n"
        "L4,2025-03-04T10:00:00Z,Giuseppe,Russo,1980-01-01,C.so Francia 3,20121,Milano\n",
    )
    ws = ordito.Workspace(tmp_path / "ws.duckdb")
    yield ws, data, maps
    ws.close()


def test_records_without_identifiers_join_their_person_and_homonyms_stay_apart(
    russo: tuple[ordito.Workspace, Path, list[str | os.PathLike[str]]],
) -> None:
    ws, data, maps = russo
    ws.ingest(data, mapping=maps)
    res = ws.resolve()
    assert res.fuzzy.record_nodes == 4 and res.fuzzy.links > 0
    k = _keys(ws)
    # Giuseppe of Torino: the order, the card written given-first and the one written surname-first
    assert k["shop:O1"] == k["paper:L1"] == k["paper:L2"]
    # Paolo (same household, same address) and Giuseppe of Milano (another birth date) are other people
    assert k["shop:O2"] == k["paper:L3"] != k["shop:O1"]
    assert k["shop:O3"] == k["paper:L4"] != k["shop:O1"]
    assert len({k["shop:O1"], k["shop:O2"], k["shop:O3"]}) == 3
    # the household link was refused by merge protection, and the refusal is recorded
    reasons = [r for (r,) in ws.sql("SELECT reason FROM identity_changes WHERE action = 'refused_link'")]
    assert not reasons or all("refused" in r for r in reasons)


def test_incremental_new_records_keep_existing_keys(
    russo: tuple[ordito.Workspace, Path, list[str | os.PathLike[str]]],
) -> None:
    ws, data, maps = russo
    ws.ingest(data, mapping=maps)
    ws.resolve()
    before = _keys(ws)
    write(
        data / "repairs.csv",
        "job;ts;customer;address;cap;city;contact\n"
        "J1;2025-04-01T10:00:00Z;Russo Giuseppe;via Roma 12/A;10121;Torino;giuseppe.russo71@\n"
        "J2;2025-04-02T10:00:00Z;G. Russo;Corso Francia 3;20121;Milano;\n",
    )
    ws.ingest(data, mapping=maps)
    res = ws.resolve()
    assert res.events == 2 and res.fuzzy.records == 2
    after = _keys(ws)
    assert all(after[r] == key for r, key in before.items())  # no existing key changed
    assert after["repairs:J1"] == after["shop:O1"]
    assert after["repairs:J2"] == after["shop:O3"]
    # a full rebuild gives the same customers
    Resolver(ws.engine).run(full=True)
    assert _keys(ws) == after


def test_decisions_win_over_the_model_and_unmerge_restores_the_key(
    russo: tuple[ordito.Workspace, Path, list[str | os.PathLike[str]]],
) -> None:
    ws, data, maps = russo
    ws.ingest(data, mapping=maps)
    set_config(ws.engine, link_threshold=0.999999999999, review_threshold=0.1)
    ws.resolve()
    k = _keys(ws)
    assert k["paper:L1"] != k["shop:O1"]  # nothing links at this threshold: the pairs wait for review
    queue = review.queue(ws.engine, limit=100)
    assert queue and all(q["customer_a"] != q["customer_b"] for q in queue)
    # the threshold comes back down: a full run merges the card into the order's customer, recorded
    set_config(ws.engine, link_threshold=0.9)
    Resolver(ws.engine).run(full=True)
    k2 = _keys(ws)
    assert k2["paper:L1"] == k2["shop:O1"] == k["shop:O1"]  # the older customer survives
    merge = ws.sql(
        "SELECT change_id, customer_key, other_key FROM identity_changes WHERE action = 'merge' AND other_key = ?",
        [k["paper:L1"]],
    )
    assert merge and merge[0][1] == k["shop:O1"]
    ex = explain(ws.engine, k["shop:O1"])
    fuzzy = [s for s in ex["identifiers"] if s.get("rule") == "fuzzy" and s.get("fuzzy")]
    assert fuzzy
    parts = {c["attribute"]: c["weight"] for c in fuzzy[0]["fuzzy"]["contributions"]}
    assert parts["name"] > 0 and parts["address"] > 0
    # undo it: the card's customer is back under its old key, and stays apart on later runs
    out = review.unmerge(ws.engine, str(merge[0][0]))
    assert out["restored"] == k["paper:L1"] and out["restored_key_active"]
    k3 = _keys(ws)
    assert k3["paper:L1"] == k["paper:L1"] != k3["shop:O1"]
    status = ws.sql("SELECT status FROM customers WHERE customer_key = ?", [k["paper:L1"]])[0][0]
    assert status == "active"
    Resolver(ws.engine).run(full=True)
    assert _keys(ws)["paper:L1"] != _keys(ws)["shop:O1"]
    # a person says they are the same after all: merged again
    a = ws.sql("SELECT identifier_id FROM identifiers WHERE kind = 'record' AND value = 'paper:L1'")[0][0]
    b = ws.sql("SELECT identifier_id FROM identifiers WHERE kind = 'customer_id' AND value = 'shop:1001'")[0][
        0
    ]
    review.decide(ws.engine, a, b, "same", by="tester")
    k4 = _keys(ws)
    assert k4["paper:L1"] == k4["shop:O1"]
    # and "different" splits them again
    review.decide(ws.engine, a, b, "different", by="tester")
    k5 = _keys(ws)
    assert k5["paper:L1"] != k5["shop:O1"]


def test_a_deterministic_merge_cannot_be_unmerged(tmp_path: Path) -> None:
    maps = _silos(tmp_path / "maps")
    data = tmp_path / "data"
    write(
        data / "shop.csv",
        "order_id,ts,customer_id,email,name,address,postcode,city\n"
        "O1,2025-02-01T10:00:00Z,1001,,Anna Neri,Via Po 1,10121,Torino\n"
        "O2,2025-02-02T10:00:00Z,,anna.neri@gmail.com,Anna Neri,Via Po 1,10121,Torino\n",
    )
    with ordito.Workspace(tmp_path / "ws.duckdb") as ws:
        ws.ingest(data, mapping=maps)
        set_config(ws.engine, enabled=False)
        ws.resolve()
        write(
            data / "shop2.csv",
            "order_id,ts,customer_id,email,name,address,postcode,city\n"
            "O3,2025-02-03T10:00:00Z,1001,anna.neri@gmail.com,Anna Neri,Via Po 1,10121,Torino\n",
        )
        ws.ingest(data, mapping=maps)
        ws.resolve()
        merges = ws.sql("SELECT change_id FROM identity_changes WHERE action = 'merge'")
        assert merges
        with pytest.raises(InputError, match="same records"):
            review.unmerge(ws.engine, str(merges[0][0]))


def test_no_person_attributes_no_fuzzy_work(ws: ordito.Workspace, tmp_path: Path) -> None:
    m = write(
        tmp_path / "web.yaml",
        """source: web
format: csv
files: "web*.csv"
key: [hit]
timestamp: {column: ts}
event: {channel: {const: web}, type: {const: page_view}}
identifiers: [{kind: anonymous_id, namespace: ga, column: cookie}]
""",
    )
    write(
        tmp_path / "d" / "web.csv", "hit,ts,cookie\nh1,2025-01-01T00:00:00Z,c1\nh2,2025-01-01T00:01:00Z,c2\n"
    )
    ws.ingest(tmp_path / "d", mapping=[m])
    res = ws.resolve()
    assert res.fuzzy.records == 0 and res.fuzzy.pairs == 0
    assert ws.sql("SELECT count(*) FROM fuzzy_records")[0][0] == 0
