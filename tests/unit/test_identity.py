"""Identity resolution scenarios on small hand-made silos."""

from __future__ import annotations

import csv
import itertools
from pathlib import Path
from typing import Any

import pytest

import ordito
from ordito.identity import normalize as nz
from ordito.identity.explain import explain
from ordito.timeline import lookup, profile, timeline
from tests.conftest import write

MAPPING = """
source: {source}
format: csv
key: id
timestamp: {{column: ts}}
phone_region: IT
event:
  channel: {{const: web}}
  type: {{const: page_view}}
  text: note
identifiers:
  - {{kind: email, column: email}}
  - {{kind: phone, column: phone}}
  - {{kind: customer_id, namespace: crm, column: crm}}
  - {{kind: customer_id, namespace: shop, column: shop}}
  - {{kind: anonymous_id, namespace: web, column: cookie}}
traits:
  name: name
"""
COLS = ["id", "ts", "email", "phone", "crm", "shop", "cookie", "name", "note"]
_ids = itertools.count(1)


def rec(**kw: Any) -> dict[str, Any]:
    n = next(_ids)
    return {"id": f"r{n}", "ts": f"2025-01-{1 + n % 28:02d}T10:{n % 60:02d}:00Z", **kw}


def load(
    ws: ordito.Workspace, tmp: Path, rows: list[dict[str, Any]], source: str = "s", batch: int = 0
) -> None:
    f = tmp / f"{source}_{batch}.csv"
    with f.open("w", newline="") as fh:
        w = csv.DictWriter(fh, COLS)
        w.writeheader()
        for r in rows:
            w.writerow({c: r.get(c, "") for c in COLS})
    m = write(tmp / f"{source}.yaml", MAPPING.format(source=source))
    res = ws.ingest(f, mapping=m)
    assert res.files[0].quarantined == 0, ws.sql("SELECT reason FROM quarantine")
    ws.resolve()


def key_of(ws: ordito.Workspace, source_key: str) -> str | None:
    row = ws.sql(
        "SELECT c.customer_key FROM events e JOIN event_customer c USING (seq) WHERE e.source_key = ?",
        [source_key],
    )
    return row[0][0] if row else None


def status(ws: ordito.Workspace, kind: str, value: str) -> tuple[str, str | None]:
    row = ws.sql("SELECT status, status_reason FROM identifiers WHERE kind = ? AND value = ?", [kind, value])
    assert row, f"{kind} {value} not registered"
    return row[0][0], row[0][1]


def test_normalisation_examples() -> None:
    for raw in ["+39 333 123 4567", "0039 3331234567", "333 1234567", "333-123-4567", "(+39) 333.123.4567"]:
        assert nz.phone(raw, "IT").value == "+393331234567", raw
    for raw in ["+44 7700 900123", "07700 900123", "0044 7700900123", "+44 (0)7700 900123"]:
        assert nz.phone(raw, "GB").value == "+447700900123", raw
    assert nz.phone("333 1234567", None).reason == "not international and the source declares no phone region"
    assert not nz.phone("anonymous", "IT").valid
    assert nz.email("  Mario.Rossi@GMAIL.com ").value == "mariorossi@gmail.com"
    assert nz.email("mario.rossi+promo@googlemail.com").value == "mariorossi@gmail.com"
    assert nz.email("Mario.Rossi@Libero.it").value == "mario.rossi@libero.it"  # dots matter elsewhere
    assert not nz.email("mario.rossi(at)libero.it").valid
    assert nz.placeholder_reason("phone", "+390000000000")
    assert nz.placeholder_reason("phone", "+391234567890")
    assert nz.placeholder_reason("phone", "+393331234567") is None
    assert nz.placeholder_reason("email", "noemail@noemail.com")
    assert nz.role_reason("email", "info@acme.it") and nz.role_reason("email", "mario@acme.it") is None
    assert nz.loyalty("1234 5678-9012", "elettra").value == "elettra:123456789012"
    assert nz.handle("@Mario_R", "twitter").value == "twitter:@mario_r"


def test_one_person_across_writings_and_systems(ws: ordito.Workspace, tmp_path: Path) -> None:
    rows = [
        rec(email="Mario.Rossi@Gmail.com", crm="104233", name="Mario Rossi"),
        rec(email=" mariorossi@gmail.com", phone="333 1234567", shop="55"),
        rec(phone="0039 333 123 4567", note="call"),
        rec(shop="55", cookie="GA1.2.1"),
        rec(cookie="GA1.2.1", note="anonymous hit before login"),
    ]
    load(ws, tmp_path, rows)
    keys = {key_of(ws, r["id"]) for r in rows}
    assert len(keys) == 1 and None not in keys
    assert ws.sql("SELECT count(*) FROM customers WHERE status = 'active'")[0][0] == 1


def test_namespaces_keep_crm_and_shop_ids_apart(ws: ordito.Workspace, tmp_path: Path) -> None:
    a, b = rec(crm="123", email="a@x.it"), rec(shop="123", email="b@y.it")
    load(ws, tmp_path, [a, b])
    assert key_of(ws, a["id"]) != key_of(ws, b["id"])
    ms = lookup(ws.engine, "123")
    assert {m.value for m in ms} == {"crm:123", "shop:123"} and len({m.customer_key for m in ms}) == 2


def test_masked_phone_numbers_are_not_identifiers(ws: ordito.Workspace, tmp_path: Path) -> None:
    # two people whose masked numbers show the same digits (333 ... 4567): phonenumbers would read both as
    # +393334567, an identifier they would share
    a = rec(email="anna@x.it", phone="333 *** 4567", name="Anna Verdi")
    b = rec(email="bruno@y.it", phone="333 xxx 4567", name="Bruno Neri")
    load(ws, tmp_path, [a, b])
    assert key_of(ws, a["id"]) != key_of(ws, b["id"])
    rows = ws.sql("SELECT valid, reason FROM identifier_norm WHERE kind = 'phone' ORDER BY raw")
    assert rows and all(not v and "masked" in (r or "") for v, r in rows), rows
    assert not ws.sql("SELECT 1 FROM identifiers WHERE kind = 'phone'")


def test_family_phone_is_shared_not_merged(ws: ordito.Workspace, tmp_path: Path) -> None:
    mum = [rec(crm="1", email="giulia@x.it", phone="011 555 1234", name="Giulia Rossi")]
    dad = [rec(crm="2", email="paolo@y.it", phone="+39 011 5551234", name="Paolo Rossi")]
    call = rec(phone="0115551234", note="who called?")
    load(ws, tmp_path, mum + dad + [call])
    assert key_of(ws, mum[0]["id"]) != key_of(ws, dad[0]["id"])
    st, why = status(ws, "phone", "+390115551234")
    assert st == "shared" and "customer_id (crm)" in (why or "")
    assert key_of(ws, call["id"]) is None
    amb = ws.sql(
        "SELECT ambiguous FROM event_customer c JOIN events e USING (seq) WHERE e.source_key = ?",
        [call["id"]],
    )
    assert amb == [(True,)]
    m = [x for x in lookup(ws.engine, "011 555 1234") if x.kind == "phone"][0]
    assert m.customer_key is None and len(m.candidates) == 2


def test_family_phone_two_hops_away_is_split_by_the_constrained_clustering(
    ws: ordito.Workspace, tmp_path: Path
) -> None:
    # mum's CRM record has the phone; dad's CRM record has only his email; dad once ordered with email + phone
    mum = rec(crm="1", email="giulia@x.it", phone="011 555 1234")
    dad = rec(crm="2", email="paolo@y.it")
    bridge = rec(email="paolo@y.it", phone="011 555 1234")
    load(ws, tmp_path, [mum, dad, bridge])
    assert key_of(ws, mum["id"]) != key_of(ws, dad["id"])
    assert key_of(ws, bridge["id"]) == key_of(ws, dad["id"])  # the email outranks the shared phone
    st, why = status(ws, "phone", "+390115551234")
    assert st == "shared" and "crm:1" in (why or "") and "crm:2" in (why or "")


def test_office_switchboard_and_role_mailbox(ws: ordito.Workspace, tmp_path: Path) -> None:
    rows = [rec(email=f"person{i}@corp{i}.it", phone="02 8888 0000") for i in range(7)]
    rows += [rec(email="info@acme.it", crm="11"), rec(email="info@acme.it", crm="12")]
    load(ws, tmp_path, rows)
    assert status(ws, "phone", "+390288880000")[0] == "shared"
    assert len({key_of(ws, r["id"]) for r in rows[:7]}) == 7
    st, why = status(ws, "email", "info@acme.it")
    assert st == "shared" and "role mailbox" in (why or "")
    assert key_of(ws, rows[7]["id"]) != key_of(ws, rows[8]["id"])


def test_placeholders_identify_nobody(ws: ordito.Workspace, tmp_path: Path) -> None:
    rows = [
        rec(phone="0000000000", email="a@x.it"),
        rec(phone="0000000000", email="b@x.it"),
        rec(email="noemail@noemail.com", crm="7"),
        rec(email="noemail@noemail.com", crm="8"),
    ]
    load(ws, tmp_path, rows)
    assert status(ws, "phone", "+390000000000")[0] == "placeholder"
    assert status(ws, "email", "noemail@noemail.com")[0] == "placeholder"
    assert len({key_of(ws, r["id"]) for r in rows}) == 4


def test_keys_are_stable_merge_keeps_the_oldest_and_is_recorded(ws: ordito.Workspace, tmp_path: Path) -> None:
    a = rec(crm="1", email="a@x.it", ts="2025-01-01T10:00:00Z")
    b = rec(shop="9", phone="333 1112222", ts="2025-02-01T10:00:00Z")
    load(ws, tmp_path, [a, b], batch=1)
    ka, kb = key_of(ws, a["id"]), key_of(ws, b["id"])
    assert ka != kb
    other = rec(email="zzz@x.it")
    load(ws, tmp_path, [other], batch=2)
    assert (key_of(ws, a["id"]), key_of(ws, b["id"])) == (ka, kb)  # new data changed nothing
    link = rec(email="a@x.it", phone="+39 333 111 2222", ts="2025-03-01T10:00:00Z")
    load(ws, tmp_path, [link], batch=3)
    assert key_of(ws, a["id"]) == key_of(ws, b["id"]) == key_of(ws, link["id"]) == ka
    assert ws.sql("SELECT status, merged_into FROM customers WHERE customer_key = ?", [kb]) == [
        ("merged", ka)
    ]
    ch = ws.sql("SELECT action, customer_key, other_key FROM identity_changes WHERE action = 'merge'")
    assert ch == [("merge", ka, kb)]
    assert profile(ws.engine, str(kb))["customer_key"] == ka  # old key still finds the person
    assert len(timeline(ws.engine, str(kb))["items"]) == 3


def test_split_when_an_identifier_turns_out_shared(ws: ordito.Workspace, tmp_path: Path) -> None:
    a = rec(crm="1", phone="011 555 1234", ts="2025-01-01T10:00:00Z")
    p_only = rec(phone="011 555 1234", ts="2025-01-02T10:00:00Z")
    load(ws, tmp_path, [a, p_only], batch=1)
    ka = key_of(ws, a["id"])
    assert key_of(ws, p_only["id"]) == ka
    b = rec(crm="2", phone="011 555 1234", ts="2025-02-01T10:00:00Z")
    load(ws, tmp_path, [b], batch=2)
    assert key_of(ws, a["id"]) == ka  # crm:1 keeps its key
    assert key_of(ws, b["id"]) not in (None, ka)
    assert key_of(ws, p_only["id"]) is None  # the phone alone no longer says who
    assert ws.sql("SELECT count(*) FROM identity_changes WHERE action = 'shared'")[0][0] == 1


def test_incremental_equals_full_rebuild(ws: ordito.Workspace, tmp_path: Path) -> None:
    people = []
    for i in range(30):
        crm, email, phone, cookie = str(1000 + i), f"p{i}@mail.it", f"333 {i:07d}", f"GA1.2.{i}"
        people.append(
            [
                rec(crm=crm, email=email.upper()),
                rec(email=email, phone=phone),
                rec(phone=phone.replace(" ", "-")),
                rec(cookie=cookie),
                rec(cookie=cookie, shop=str(500 + i)),
                rec(shop=str(500 + i), email=email),
            ]
        )
    # families: every 5th pair shares a phone
    for i in range(0, 30, 5):
        people[i].append(rec(crm=str(1000 + i + 1), phone=f"333 {i:07d}"))
    rows = [r for p in people for r in p]
    for b in range(3):
        load(ws, tmp_path, rows[b::3], batch=b)
    inc = {
        r[0]: r[1]
        for r in ws.sql("SELECT e.source_key, c.customer_key FROM events e JOIN event_customer c USING (seq)")
    }
    ws.resolve(full=True)
    full = {
        r[0]: r[1]
        for r in ws.sql("SELECT e.source_key, c.customer_key FROM events e JOIN event_customer c USING (seq)")
    }
    assert inc == full

    def partition(m: dict[str, str | None]) -> set[frozenset[str]]:
        groups: dict[str | None, set[str]] = {}
        for k, v in m.items():
            groups.setdefault(v if v else k, set()).add(k)
        return {frozenset(g) for g in groups.values()}

    # and a fresh workspace resolving everything at once finds the same people
    with ordito.Workspace(tmp_path / "fresh.duckdb") as fresh:
        load(fresh, tmp_path, rows, batch=9)
        once = {
            r[0]: r[1]
            for r in fresh.sql(
                "SELECT e.source_key, c.customer_key FROM events e JOIN event_customer c USING (seq)"
            )
        }
    assert partition(once) == partition(inc)


def test_explain_gives_evidence(ws: ordito.Workspace, tmp_path: Path) -> None:
    rows = [rec(crm="1", email="a@x.it"), rec(email="A@X.IT", phone="333 9998887")]
    load(ws, tmp_path, rows)
    ex = explain(ws.engine, str(key_of(ws, rows[0]["id"])))
    text = " ".join(s["identifier"] + " " + s["because"] for s in ex["identifiers"])
    assert "customer_id crm:1" in text and "phone +393339998887" in text and "s record r" in text
    assert ex["history"][0]["action"] == "create"


@pytest.mark.parametrize("query", ["+39 333 999 8887", "3339998887", "a@x.it", " A@X.IT ", "crm:1"])
def test_lookup_any_writing(ws: ordito.Workspace, tmp_path: Path, query: str) -> None:
    rows = [rec(crm="1", email="a@x.it"), rec(email="A@X.IT", phone="333 9998887")]
    load(ws, tmp_path, rows)
    keys = {m.customer_key for m in lookup(ws.engine, query)}
    assert keys == {key_of(ws, rows[0]["id"])}


def test_constrained_union_find_counts_follow_the_surviving_root() -> None:
    from ordito.identity.cluster import Edge, Node, constrained

    def node(i: int, kind: str, ns: str, value: str) -> Node:
        return Node(i, kind, ns, value, (i, value))

    nodes = {
        1: node(1, "customer_id", "crm", "crm:1"),
        2: node(2, "email", "", "a@x.it"),
        3: node(3, "phone", "", "+39011"),
        4: node(4, "email", "", "b@x.it"),
        5: node(5, "customer_id", "crm", "crm:2"),
        6: node(6, "customer_id", "shop", "shop:2"),
    }
    # the big group {crm:2, b, shop:2} absorbs the small one via the phone: union by size swaps roots
    edges = [Edge(5, 4, 3, 1), Edge(6, 4, 3, 2), Edge(1, 2, 1, 3), Edge(2, 3, 1, 4), Edge(3, 4, 1, 5)]
    groups, shared, refused = constrained(nodes, edges)
    assert shared == {3: "joins crm:1 with crm:2: a person has at most 1 customer_id (crm)"}
    assert sorted(map(sorted, groups)) == [[1, 2], [4, 5, 6]]
    assert not refused


def test_family_phone_with_accounts_in_different_systems_is_split_by_names(
    ws: ordito.Workspace, tmp_path: Path
) -> None:
    # Marta has a CRM account, Samuele a shop account: no per-system limit is broken, their names differ
    marta = [
        rec(crm="100397", phone="345 774 5214", name="DE ROSA MARTA"),
        rec(crm="100397", email="marta.derosa@hotmail.it", phone="3457745214", name="Marta De Rosa"),
    ]
    samuele = [
        rec(shop="100351", phone="+39 345 774 5214", email="samuele@gmail.com", name="Samuele Pellegrini")
    ]
    load(ws, tmp_path, marta + samuele)
    assert key_of(ws, marta[0]["id"]) == key_of(ws, marta[1]["id"])
    assert key_of(ws, marta[0]["id"]) != key_of(ws, samuele[0]["id"])
    st, why = status(ws, "phone", "+393457745214")
    assert st == "shared" and "different people" in (why or "")


def test_the_same_person_written_differently_is_not_a_name_conflict(
    ws: ordito.Workspace, tmp_path: Path
) -> None:
    rows = [
        rec(crm="7", phone="333 1112223", name="BARONE FEDERICO"),
        rec(phone="3331112223", email="fb@x.it", name="Federico Barone"),
        rec(email="fb@x.it", name="Sig. F. Barone"),
        rec(email="fb@x.it", name="federico"),
    ]
    load(ws, tmp_path, rows)
    assert len({key_of(ws, r["id"]) for r in rows}) == 1
    assert status(ws, "phone", "+393331112223")[0] == "active"


@pytest.mark.parametrize(
    ("a", "b", "conflict"),
    [
        ("Marta De Rosa", "Samuele Pellegrini", True),
        ("Giulia Rossi", "Paolo Rossi", True),
        ("BARONE FEDERICO", "Federico Barone", False),
        ("M. Rossi", "Mario Rossi", False),
        ("patrizia", "Patrizia Rossi", False),
        ("Sig.ra Anna Bianchi", "ANNA BIANCHI", False),
        ("Mario Rossi", "Mario Rosi", False),
        ("Ale Verdi", "Alessandro Verdi", False),
        ("Niccolò Conti", "Niccolo Conti", False),
        ("Sig. F. Barone", "federico", False),
    ],
)
def test_name_conflicts(a: str, b: str, conflict: bool) -> None:
    from ordito.identity.names import conflict as c
    from ordito.identity.names import tokens

    assert c(tokens(a), tokens(b)) is conflict
