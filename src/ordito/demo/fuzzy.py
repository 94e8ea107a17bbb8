"""The fuzzy silos of the demo company (docs/DEMO_COMPANY.md, "Fuzzy silos"): systems that know a person
only by name, birth date and address, written by hand.

- ``warranty/warranty_registrations.csv`` (source ``warranty``): product registrations from paper cards
  and the installers' portal: first name, last name (sometimes swapped, in capitals, misspelt, only an
  initial), birth date (ISO or ``dd/mm/yyyy``, sometimes missing or with a wrong digit, day and month
  swapped), street with abbreviations (``V.``, ``V.le``, ``C.so``, ``P.zza``, ``St``, ``Rd``), civic
  numbers ``12``, ``12/A``, postcode and city (sometimes missing or misspelt).
- ``repairs/repair_jobs.csv`` (source ``repairs``, ``;``): the external repair centre's jobs: the
  customer as one string (``RUSSO GIUSEPPE``, ``G. Russo``, ``Sig. Giuseppe Russo``), the address as one
  string, postcode, city, and a contact that is at most partial: a masked phone (``333 *** 4567``) or the
  local part of an email (``giuseppe.russo71@``), sometimes the full phone number.

Neither carries an identifier that another silo knows (the full phone of a repair job aside), so exact
matching joins none of them to their owners. People in them are the company's customers (addresses as
their orders ship them, else their household's) plus **homonyms**: new people (``P9...``) with the name
of a customer, either in the same household (a son named after his father: same address, another birth
date) or elsewhere (same name, another city and birth date). They are in ``persons.csv`` and must never
merge with their namesake.

It runs after the main generator, from the ground truth it wrote (persons, identifiers, order
addresses), with its own random streams: the other silos' bytes do not change.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from pathlib import Path
from random import Random
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from .truth import RECORDS_SCHEMA, sha256
from .world import rng_for

FUZZY_VERSION = "1"
WARRANTY = "warranty/warranty_registrations.csv"
REPAIRS = "repairs/repair_jobs.csv"
WARRANTY_COLUMNS = (
    "registration_id",
    "registered_at",
    "first_name",
    "last_name",
    "birth_date",
    "street",
    "postcode",
    "city",
    "country",
    "product",
    "serial_no",
)
REPAIRS_COLUMNS = (
    "job_no",
    "opened_at",
    "customer",
    "address",
    "cap",
    "city",
    "country",
    "contact",
    "product",
)
_PRODUCTS = ("DW-514X", "WM-820", "FR-330N", "OV-610", "VC-200", "CM-45", "MW-25", "HB-12", "DR-700", "AF-90")
_IT_STREETS = (
    "Via Roma",
    "Via Garibaldi",
    "Corso Vittorio Emanuele",
    "Via Mazzini",
    "Viale Monza",
    "Piazza Dante",
    "Via Cavour",
    "Corso Italia",
    "Via Verdi",
    "Viale dei Mille",
    "Via Manzoni",
    "Via Dante Alighieri",
)
_UK_STREETS = (
    "High Street",
    "Station Road",
    "Church Lane",
    "Park Road",
    "Victoria Street",
    "Green Lane",
    "Manor Road",
    "Queen Street",
    "Mill Lane",
    "King Street",
    "London Road",
    "Albert Road",
)
_IT_ABBR = (
    ("Viale ", ("V.le ", "v.le ", "Viale ")),
    ("Via ", ("V. ", "v. ", "Via ", "via ")),
    ("Corso ", ("C.so ", "c.so ", "Corso ")),
    ("Piazza ", ("P.zza ", "P.za ", "Piazza ")),
)
_UK_ABBR = (
    (" Street", (" St", " St.", " Street")),
    (" Road", (" Rd", " Rd.", " Road")),
    (" Lane", (" Ln", " Lane")),
    (" Avenue", (" Ave", " Avenue")),
)


def _csv(rows: list[tuple[str, ...]], header: tuple[str, ...], delimiter: str) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def _typo(rng: Random, s: str) -> str:
    letters = [i for i, ch in enumerate(s) if ch.isalpha()]
    if len(letters) < 4:
        return s
    i = rng.choice(letters[1:-1])
    op = rng.random()
    if op < 0.35:
        return s[:i] + s[i + 1 :]  # a letter dropped
    if op < 0.6:
        return s[:i] + s[i] + s[i:]  # doubled
    if op < 0.85 and i + 1 < len(s):
        return s[:i] + s[i + 1] + s[i] + s[i + 2 :]  # swapped
    return s[:i] + rng.choice("aeiou") + s[i + 1 :]  # a vowel changed


def _case(rng: Random, s: str) -> str:
    r = rng.random()
    return s.upper() if r < 0.15 else s.lower() if r < 0.25 else s


def _street(rng: Random, street: str, country: str) -> str:
    """Street line written another way: abbreviations, civic letter, typos, a missing number."""
    out = street
    for full, options in _IT_ABBR if country == "IT" else _UK_ABBR:
        if full in out or (full.startswith(" ") and out.endswith(full)):
            out = out.replace(full, rng.choice(options), 1)
            break
    r = rng.random()
    parts = out.split(" ")
    num_i = next((i for i, p in enumerate(parts) if p.isdigit()), None)
    if num_i is not None:
        if r < 0.06:
            parts.pop(num_i)  # number missing
        elif r < 0.16:
            parts[num_i] += (
                rng.choice(("/A", "/B", "a", " bis")) if country == "IT" else rng.choice(("A", "B"))
            )
    out = " ".join(parts)
    if rng.random() < 0.06:
        words = out.split(" ")
        j = max(range(len(words)), key=lambda k: len(words[k]))
        words[j] = _typo(rng, words[j])
        out = " ".join(words)
    return _case(rng, out)


def _dob(rng: Random, iso: str, p_missing: float) -> str:
    if not iso or rng.random() < p_missing:
        return ""
    y, m, d = iso.split("-")
    r = rng.random()
    if r < 0.03:  # a wrong digit
        digits = list(y + m + d)
        k = rng.choice((3, 5, 7))
        digits[k] = str((int(digits[k]) + rng.choice((1, 2, 8, 9))) % 10)
        y, m, d = "".join(digits[:4]), "".join(digits[4:6]), "".join(digits[6:])
    elif r < 0.05 and int(d) <= 12:
        m, d = d, m  # day and month swapped
    return f"{y}-{m}-{d}" if rng.random() < 0.5 else f"{d}/{m}/{y}"


def _name_parts(rng: Random, first: str, last: str) -> tuple[str, str]:
    """(first_name, last_name) as a registration card gets them."""
    r = rng.random()
    if r < 0.08:
        first, last = last, first  # boxes swapped
    elif r < 0.14:
        first = first[0] + "."
    elif r < 0.17:
        first = ""
    if rng.random() < 0.06:
        last = _typo(rng, last)
    elif rng.random() < 0.05:
        first = _typo(rng, first)
    return _case(rng, first), _case(rng, last)


def _full_name(rng: Random, first: str, last: str, country: str) -> str:
    """One string, the way a repair desk writes a customer."""
    r = rng.random()
    if r < 0.3:
        s = f"{last} {first}"
    elif r < 0.45:
        s = f"{first[0]}. {last}"
    elif r < 0.52:
        s = f"{last} {first[0]}."
    elif r < 0.58:
        s = ("Sig. " if country == "IT" else "Mr ") + f"{first} {last}"
    else:
        s = f"{first} {last}"
    if rng.random() < 0.07:
        s = _typo(rng, s)
    return s.upper() if rng.random() < 0.3 else s


def _when(rng: Random) -> dt.datetime:
    start = dt.datetime(2025, 1, 2, 8)
    return start + dt.timedelta(days=rng.randrange(0, 540), minutes=rng.randrange(0, 600))


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def _addresses(root: Path) -> dict[str, tuple[str, str, str, str]]:
    """The most frequent shipping address of every person who ordered online: (street, postcode, city, country)."""
    import duckdb

    con = duckdb.connect()
    try:
        rows = con.execute(
            """SELECT g.person_id, o.shipping_address.street, o.shipping_address.postcode,
                      o.shipping_address.city, o.shipping_address.country, count(*) AS n
               FROM read_parquet(?) o JOIN read_parquet(?) g
                 ON g.source = 'shop' AND g.source_key = o.order_id || '|' || o.status
               WHERE o.shipping_address.street IS NOT NULL GROUP BY ALL ORDER BY 1, n DESC, 2""",
            [str(root / "shop" / "orders.parquet"), str(root / "ground_truth" / "records.parquet")],
        ).fetchall()
    finally:
        con.close()
    out: dict[str, tuple[str, str, str, str]] = {}
    for pid, street, pc, city, country, _ in rows:
        out.setdefault(str(pid), (str(street), str(pc), str(city), str(country)))
    return out


def _contacts(root: Path) -> tuple[dict[str, str], dict[str, str]]:
    """Each person's own phone and email (values nobody else has), as written in some silo."""
    phones: dict[str, str] = {}
    emails: dict[str, str] = {}
    for r in _read_csv(root / "ground_truth" / "identifiers.csv"):
        if ";" in r["person_ids"] or r["shared_reason"] or not r["person_ids"]:
            continue
        if r["kind"] == "phone" and r["normalized"].startswith(("+393", "+447")):
            phones.setdefault(r["person_ids"], r["normalized"])
        elif r["kind"] == "email" and "@" in r["normalized"]:
            emails.setdefault(r["person_ids"], r["normalized"])
    return phones, emails


def _masked(rng: Random, phone: str, email: str) -> str:
    r = rng.random()
    if phone and r < 0.3:
        national = phone[3:]
        return f"{national[:3]} *** {national[-4:]}"
    if phone and r < 0.4:
        return phone  # the full number
    if email and r < 0.5:
        return email.split("@")[0] + "@"
    return ""


def add_fuzzy_silos(root: Path, seed: int) -> dict[str, int]:
    """Write the fuzzy silos into a generated company and extend its ground truth. Returns rows per silo."""
    gt = root / "ground_truth"
    persons = _read_csv(gt / "persons.csv")
    addr = _addresses(root)
    phones, emails = _contacts(root)
    by_household: dict[str, list[dict[str, str]]] = {}
    for p in persons:
        by_household.setdefault(p["household_id"], []).append(p)
    postcodes: dict[str, str] = {}
    for _, pc, city, _ in addr.values():
        postcodes.setdefault(city, pc)
    home: dict[str, tuple[str, str, str, str]] = {}
    for hh, members in sorted(by_household.items()):
        known = [addr[m["person_id"]] for m in members if m["person_id"] in addr]
        rng = rng_for(seed, "fuzzy-home", hh)
        for m in members:
            if m["person_id"] in addr:
                home[m["person_id"]] = addr[m["person_id"]]
            elif known:
                home[m["person_id"]] = known[0]
            else:
                c = m["country"]
                street = rng.choice(_IT_STREETS if c == "IT" else _UK_STREETS)
                num = str(rng.randrange(1, 180))
                line = f"{street} {num}" if c == "IT" else f"{num} {street}"
                home[m["person_id"]] = (line, postcodes.get(m["city"], ""), m["city"], c)
    people: list[dict[str, str]] = [p for p in persons if p["is_customer"] == "1"]
    new_persons: list[dict[str, str]] = []
    cities_by_country: dict[str, list[str]] = {}
    for p in persons:
        cities_by_country.setdefault(p["country"], [])
        if p["city"] not in cities_by_country[p["country"]]:
            cities_by_country[p["country"]].append(p["city"])
    n_home = 0
    must_register: set[str] = set()
    for p in list(people):
        rng = rng_for(seed, "fuzzy-homonym", p["person_id"])
        if rng.random() >= 0.05 or not p["birth_date"]:
            continue
        twin = dict(p)
        twin["person_id"] = "P9" + p["person_id"][2:]
        twin["is_customer"] = "0"
        twin["segment"] = "homonym"
        twin["churned"], twin["churned_at"], twin["company_id"] = "0", "", ""
        year = int(p["birth_date"][:4])
        if rng.random() < 0.5 and year < 1985:  # a son named after his father, same address
            # (the father registers a product too, with his birth date: the evidence that tells them apart)
            must_register.add(p["person_id"])
            twin["birth_date"] = (
                f"{year + rng.randrange(24, 36)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            )
            home[twin["person_id"]] = home[p["person_id"]]
            n_home += 1
        else:  # a namesake in another city
            twin["household_id"] = "H9" + p["household_id"][2:]
            twin["birth_date"] = (
                f"{rng.randrange(1945, 2004)}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}"
            )
            others = [c for c in cities_by_country.get(p["country"], []) if c != p["city"]] or [p["city"]]
            twin["city"] = rng.choice(others)
            street = rng.choice(_IT_STREETS if p["country"] == "IT" else _UK_STREETS)
            num = str(rng.randrange(1, 180))
            line = f"{street} {num}" if p["country"] == "IT" else f"{num} {street}"
            home[twin["person_id"]] = (line, postcodes.get(twin["city"], ""), twin["city"], p["country"])
        new_persons.append(twin)
    warranty: list[tuple[str, ...]] = []
    repairs: list[tuple[str, ...]] = []
    truth: list[dict[str, Any]] = []
    homonyms = {t["person_id"] for t in new_persons}
    for p in people + new_persons:
        pid = p["person_id"]
        rng = rng_for(seed, "fuzzy", pid)
        street, pc, city, country = home[pid]
        is_twin = pid in homonyms
        n_w = (1 + (rng.random() < 0.3)) if is_twin or rng.random() < 0.3 or pid in must_register else 0
        n_r = (
            (1 if is_twin and rng.random() < 0.5 else 0)
            if is_twin
            else (1 + (rng.random() < 0.2)) * (rng.random() < 0.15)
        )
        for _ in range(n_w):
            when = _when(rng)
            first, last = _name_parts(rng, p["first_name"], p["last_name"])
            rid = f"WR{len(warranty) + 1:07d}"
            pcw = (
                ""
                if rng.random() < 0.08
                else (pc if rng.random() > 0.02 else _typo(rng, pc + "x")[:-1] or pc)
            )
            cityw = (
                "" if rng.random() < 0.04 else _case(rng, _typo(rng, city) if rng.random() < 0.03 else city)
            )
            prod = rng.choice(_PRODUCTS)
            p_no_dob = 0.0 if is_twin or pid in must_register else 0.12
            warranty.append(
                (
                    rid,
                    when.strftime("%Y-%m-%d %H:%M:%S"),
                    first,
                    last,
                    _dob(rng, p["birth_date"], p_no_dob),
                    _street(rng, street, country),
                    pcw,
                    cityw,
                    country,
                    prod,
                    f"{prod[:2]}{rng.randrange(10**7, 10**8)}",
                )
            )
            truth.append({"source": "warranty", "source_key": rid, "person_id": pid, "occurred_at": when})
        for _ in range(n_r):
            when = _when(rng)
            jid = f"J{len(repairs) + 1:06d}"
            repairs.append(
                (
                    jid,
                    when.strftime("%d/%m/%Y %H:%M"),
                    _full_name(rng, p["first_name"], p["last_name"], country),
                    _street(rng, street, country),
                    "" if rng.random() < 0.1 else pc,
                    _case(rng, city),
                    country,
                    "" if is_twin else _masked(rng, phones.get(pid, ""), emails.get(pid, "")),
                    rng.choice(_PRODUCTS),
                )
            )
            truth.append({"source": "repairs", "source_key": jid, "person_id": pid, "occurred_at": when})
    files = {WARRANTY: _csv(warranty, WARRANTY_COLUMNS, ","), REPAIRS: _csv(repairs, REPAIRS_COLUMNS, ";")}
    for rel, data in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_bytes(data)
    _extend_truth(root, truth, new_persons, {WARRANTY: len(warranty), REPAIRS: len(repairs)}, n_home)
    return {"warranty": len(warranty), "repairs": len(repairs)}


def _extend_truth(
    root: Path,
    truth: list[dict[str, Any]],
    new_persons: list[dict[str, str]],
    rows: dict[str, int],
    n_home: int,
) -> None:
    gt = root / "ground_truth"
    old = pq.read_table(gt / "records.parquet")
    add = pa.table(
        {
            "source": [t["source"] for t in truth],
            "source_key": [t["source_key"] for t in truth],
            "person_id": [t["person_id"] for t in truth],
            "episode_id": pa.nulls(len(truth), pa.string()),
            "intent": pa.nulls(len(truth), pa.string()),
            "sentiment": pa.nulls(len(truth), pa.string()),
            "sentiment_score": pa.nulls(len(truth), pa.float64()),
            "language": pa.nulls(len(truth), pa.string()),
            "occurred_at": pa.array([t["occurred_at"] for t in truth], pa.timestamp("us")),
        },
        schema=RECORDS_SCHEMA,
    )
    pq.write_table(pa.concat_tables([old, add]), gt / "records.parquet")
    with (gt / "persons.csv").open("a", encoding="utf-8", newline="") as fh:
        w = csv.writer(fh, lineterminator="\n")
        header = list(_read_csv(gt / "persons.csv")[0].keys())
        for p in new_persons:
            w.writerow([p[h] for h in header])
    m = json.loads((gt / "manifest.json").read_text())
    m["rows"].update({"warranty": rows[WARRANTY], "repairs": rows[REPAIRS]})
    m["ground_truth_rows"]["records"] = m["ground_truth_rows"].get("records", 0) + len(truth)
    m["ground_truth_rows"]["persons"] = m["ground_truth_rows"].get("persons", 0) + len(new_persons)
    m["persons"] = m.get("persons", 0) + len(new_persons)
    m["fuzzy"] = {
        "version": FUZZY_VERSION,
        "homonyms": len(new_persons),
        "homonyms_same_household": n_home,
        "records": dict(Counter(t["source"] for t in truth)),
    }
    for rel in (WARRANTY, REPAIRS, "ground_truth/records.parquet", "ground_truth/persons.csv"):
        m["sha256"][rel] = sha256(root / rel)
    (gt / "manifest.json").write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")
