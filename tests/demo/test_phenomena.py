"""The planted phenomena are there in a 500-customer company: shared values, fragments, frictions."""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from pathlib import Path

import phonenumbers
import pyarrow.parquet as pq

from ordito.demo.people import canon_email
from ordito.demo.silos import BY_SOURCE
from ordito.demo.world import PLACEHOLDER_EMAILS, PLACEHOLDER_PHONES

from .helpers import clean_records, identifier_table

FRICTIONS = (
    "repeat_contact",
    "transfer",
    "department_bounce",
    "channel_hop",
    "digital_dead_end",
    "abandonment",
    "long_wait",
    "info_asked_twice",
    "unresolved",
)


def rows(root: Path, name: str) -> list[dict[str, str]]:
    with (root / "ground_truth" / name).open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def test_shared_values(root: Path) -> None:
    ids = identifier_table(root).values()
    by_reason: dict[str, list[dict[str, str]]] = defaultdict(list)
    for r in ids:
        by_reason[r["shared_reason"]].append(r)
    family = [r for r in by_reason["family_phone"] if ";" in r["person_ids"]]
    assert family, "no family phone shared by two people"
    office = [r for r in by_reason["office_switchboard"] if ";" in r["person_ids"]]
    assert office, "no office switchboard shared by unrelated people"
    assert by_reason["generic_mailbox"], "no generic mailbox"
    assert all(
        r["raw"].split("@")[0]
        in (
            "info",
            "amministrazione",
            "ufficio",
            "segreteria",
            "contabilita",
            "commerciale",
            "office",
            "contact",
            "admin",
            "accounts",
            "hello",
        )
        for r in by_reason["generic_mailbox"]
    )
    placeholders = {r["raw"] for r in by_reason["placeholder"]}
    assert placeholders & set(PLACEHOLDER_PHONES) and placeholders & set(PLACEHOLDER_EMAILS)
    # the unrelated people on a switchboard live in different households
    households = {p["person_id"]: p["household_id"] for p in rows(root, "persons.csv")}
    assert any(len({households[o] for o in r["person_ids"].split(";")}) > 1 for r in office)


def test_email_fragments(root: Path) -> None:
    emails = [r for r in identifier_table(root).values() if r["kind"] == "email" and not r["shared_reason"]]
    raws = [r["raw"] for r in emails]
    assert any(x != x.strip() for x in raws), "no email with surrounding spaces"
    assert any(x != x.lower() for x in raws), "no case variant"
    typos = [r for r in emails if canon_email(r["raw"]) != r["normalized"]]
    assert typos, "no typo variant"
    gmail = [r for r in emails if r["raw"].strip().lower().endswith("@gmail.com")]
    assert any("." not in r["raw"].split("@")[0] for r in gmail) and any(
        "." in r["raw"].split("@")[0] for r in gmail
    )
    # several writings of one address
    by_norm: dict[str, set[str]] = defaultdict(set)
    for r in emails:
        by_norm[r["normalized"]].add(r["raw"])
    assert max(len(v) for v in by_norm.values()) >= 3


def test_phone_writings(root: Path) -> None:
    phones = [
        r
        for r in identifier_table(root).values()
        if r["kind"] == "phone" and r["shared_reason"] != "placeholder"
    ]
    shapes = {re.sub(r"\d", "9", r["raw"]) for r in phones}
    assert len(shapes) >= 10
    for r in phones:  # every writing is the true number (the region: +39 unless written otherwise)
        region = "GB" if r["normalized"].startswith("+44") else "IT"
        n = phonenumbers.parse(r["raw"], region)
        assert phonenumbers.format_number(n, phonenumbers.PhoneNumberFormat.E164) == r["normalized"], r
        assert phonenumbers.is_valid_number(n), r
    calls = list(clean_records(root, BY_SOURCE["calls"]))
    milano = [c["ani"] for c in calls if c["site"] == "MILANO" and c["ani"] != "anonymous"]
    london = [c["ani"] for c in calls if c["site"] == "LONDON" and c["ani"] != "anonymous"]
    assert any(a.startswith("3") for a in milano) and any(
        a.startswith("07") for a in london
    )  # national, no prefix
    assert any(a.startswith(("+", "00")) for a in milano + london)  # callers from the other country


def test_customer_id_spaces_overlap(root: Path) -> None:
    ids = identifier_table(root).values()
    crm = {r["raw"]: r["person_ids"] for r in ids if r["kind"] == "customer_id" and r["namespace"] == "crm"}
    shop = {r["raw"]: r["person_ids"] for r in ids if r["kind"] == "customer_id" and r["namespace"] == "shop"}
    assert all(re.fullmatch(r"\d{6}", x) for x in [*crm, *shop])
    both = set(crm) & set(shop)
    assert any(crm[x] != shop[x] for x in both), "no crm id that is also somebody else's shop id"


def test_cookies_log_in_later_and_newsletter_links(root: Path) -> None:
    hits = sorted(clean_records(root, BY_SOURCE["web"]), key=lambda r: r["ts"])
    anonymous_first: set[str] = set()
    later_logged = set()
    for h in hits:
        if not h["user_id"]:
            anonymous_first.add(h["cookie_id"])
        elif h["cookie_id"] in anonymous_first:
            later_logged.add(h["cookie_id"])
    assert len(later_logged) > 20
    assert any(h["email_id"] for h in hits) and any(h["referrer"] == "newsletter" for h in hits)
    # a person has several cookies
    owners: dict[str, set[str]] = defaultdict(set)
    for r in identifier_table(root).values():
        if r["kind"] == "anonymous_id" and r["raw"].startswith("GA1.2."):
            owners[r["person_ids"]].add(r["raw"])
    assert max(len(v) for v in owners.values()) >= 3


def test_every_friction_kind_and_both_languages(root: Path) -> None:
    kinds = {f["kind"] for f in rows(root, "frictions.csv")}
    assert kinds == set(FRICTIONS)
    truth = pq.read_table(
        root / "ground_truth" / "records.parquet", columns=["language", "sentiment"]
    ).to_pylist()
    assert {r["language"] for r in truth} >= {"it", "en"}
    assert {r["sentiment"] for r in truth} >= {"positive", "neutral", "negative"}
    facts = rows(root, "facts.csv")
    assert {f["fact_kind"] for f in facts} == {"order_number", "product", "address", "problem"}
    assert any(f["restated_in"] for f in facts)


def test_restated_facts_are_in_the_texts(root: Path) -> None:
    texts: dict[str, str] = {}
    for source, field in (
        ("chat", "text"),
        ("calls", "notes"),
        ("email", "body"),
        ("crm", "comment"),
        ("social", "text"),
        ("pos", "note"),
    ):
        silo = BY_SOURCE[source]
        for r in clean_records(root, silo):
            texts[f"{source}:" + "|".join(str(r[k]) for k in silo.key)] = r[field] or ""
    checked = 0
    for f in rows(root, "facts.csv"):
        for ref in [f["given_in"], *filter(None, f["restated_in"].split(";"))]:
            if ref in texts:
                assert f["value"] in texts[ref], (f, texts[ref])
                checked += 1
    assert checked > 50


def test_surveys_follow_experience(root: Path) -> None:
    truth = {
        r["source_key"]: r
        for r in pq.read_table(root / "ground_truth" / "records.parquet").to_pylist()
        if r["source"] == "surveys"
    }
    answers = list(clean_records(root, BY_SOURCE["surveys"]))
    assert {a["survey"] for a in answers} == {"nps_relationship", "csat_after_contact", "ces_after_contact"}
    bad = [
        int(a["csat"]) for a in answers if a["csat"] and truth[a["response_id"]]["sentiment"] == "negative"
    ]
    good = [
        int(a["csat"]) for a in answers if a["csat"] and truth[a["response_id"]]["sentiment"] == "positive"
    ]
    if bad and good:
        assert sum(bad) / len(bad) < sum(good) / len(good)


def test_every_value_of_the_spec_occurs(root: Path) -> None:
    def values(source: str, field: str) -> set[str]:
        return {str(r[field]) for r in clean_records(root, BY_SOURCE[source])}

    assert values("shop", "status") == {
        "placed",
        "paid",
        "shipped",
        "delivered",
        "delivery_failed",
        "cancelled",
        "returned",
        "refunded",
    }
    assert values("pos", "type") == {"sale", "return", "service_desk", "visit"}
    assert values("calls", "disposition") == {
        "resolved",
        "transferred",
        "callback_promised",
        "escalated",
        "abandoned",
        "ivr_hangup",
        "info_given",
    }
    assert values("calls", "site") == {"MILANO", "LONDON"}
    assert values("crm", "action") == {
        "created",
        "assigned",
        "comment",
        "transferred",
        "pending_customer",
        "solved",
        "reopened",
        "closed",
    }
    assert values("chat", "sender") == {"customer", "agent", "bot", "system"}
    assert values("chat", "status") == {"None", "resolved", "transferred", "abandoned"}
    assert values("social", "kind") == {"mention", "dm", "reply", "review"}
    assert values("social", "platform") == {"twitter", "instagram", "facebook", "trustpilot"}
    assert values("email", "direction") == {"inbound", "outbound"}
    assert values("web", "event") == {
        "page_view",
        "search",
        "login",
        "login_failed",
        "form_submitted",
        "form_error",
        "contact_page",
        "add_to_cart",
        "cart_abandoned",
        "checkout_started",
    }
    assert values("app", "name") >= {
        "app_open",
        "screen_view",
        "login",
        "add_to_cart",
        "order_placed",
        "contact_tap",
        "push_open",
    }
    assert values("surveys", "survey") == {"nps_relationship", "csat_after_contact", "ces_after_contact"}
