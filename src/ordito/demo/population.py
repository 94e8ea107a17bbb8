"""Make a household and its people: names, address, accounts and every identifier they own."""

from __future__ import annotations

from random import Random

from . import catalog as cat
from . import names as nm
from .clock import DAY, START
from .people import (
    Cookie,
    Household,
    Person,
    birth_date,
    canon_email,
    capitalised,
    cookie_times,
    email_id,
    new_email,
    new_handle,
    new_landline,
    new_mobile,
    new_postcode,
    pick_weighted,
)
from .systems import PAPER_RECEIPTS
from .texts import pick
from .world import World

_IT_CITY_W = tuple((c.name, c.weight) for c in nm.IT_CITIES)
_UK_CITY_W = tuple((c.name, c.weight) for c in nm.UK_CITIES)
_CITY = {c.name: c for c in nm.IT_CITIES + nm.UK_CITIES}
_COOKIES = (("1", 40), ("2", 35), ("3", 17), ("4", 8))
_PROSPECT_COOKIES = (("1", 70), ("2", 30))  # prospects: recent, lighter visitors
_DEVICES = (("desktop", 42), ("mobile", 48), ("tablet", 10))
# Accounts of a customer (docs/DEMO_COMPANY.md, "How identities connect"): a CRM record; an online account
# (the shop account: ordering, tracking orders, registering warranties, the loyalty points); a loyalty card.
CRM_ACCOUNT = 0.6
ONLINE_ACCOUNT = 0.92
LOYALTY_ONLINE = 0.25
LOYALTY_OFFLINE = 0.85
APP_USERS = 0.35  # of the customers with an online account
# the first cookie may predate 2025: most customers had signed in on that browser already
SIGNED_IN_BEFORE = 0.9
_COOKIE_A = 6_700_417


def new_city(rng: Random, country: str) -> nm.City:
    return _CITY[pick_weighted(rng, _IT_CITY_W if country == "IT" else _UK_CITY_W)]


def new_address(rng: Random, country: str, city: nm.City | None = None) -> tuple[nm.City, str, str, str]:
    city = city or new_city(rng, country)
    if country == "IT":
        street = pick(rng, nm.IT_STREETS)
        number = str(1 + int(rng.random() * 180))
    else:
        street = pick(rng, nm.UK_STREETS)
        number = str(1 + int(rng.random() * 220))
        if rng.random() < 0.15:
            number = f"{pick(rng, nm.UK_FLATS)}, {number}"
    return city, street, number, new_postcode(rng, city)


def make_household(w: World, h: int, flags: list[bool], rng: Random) -> Household:
    country = "IT" if rng.random() < 0.7 else "GB"
    city, street, number, postcode = new_address(rng, country)
    landline = (
        new_landline(rng, city, w.claim_own, w.lane, w.lanes)
        if rng.random() < (0.45 if country == "IT" else 0.35)
        else None
    )
    hh = Household(h, f"H{h + 1:07d}", country, city, street, number, postcode, landline)
    lasts = nm.IT_LAST if country == "IT" else nm.UK_LAST
    family = pick(rng, lasts)
    head_gender = "m" if rng.random() < 0.5 else "f"
    for k, is_customer in enumerate(flags):
        gender = (
            head_gender
            if k == 0
            else ("f" if head_gender == "m" else "m")
            if k == 1
            else ("m" if rng.random() < 0.5 else "f")
        )
        if k == 1 and rng.random() < (0.6 if country == "IT" else 0.3):
            last = pick(rng, lasts)
        else:
            last = family
        hh.members.append(make_person(w, hh, k, is_customer, gender, last, rng))
    if len(hh.members) > 1 and rng.random() < 0.08:
        hh.family_phone = (
            hh.landline if hh.landline is not None and rng.random() < 0.5 else hh.members[0].mobile
        )
    return hh


def make_person(
    w: World, hh: Household, k: int, customer: bool, gender: str, last: str, rng: Random
) -> Person:
    country = hh.country
    if country == "IT":
        first = pick(rng, nm.IT_MALE if gender == "m" else nm.IT_FEMALE)
        lang = "it" if rng.random() > 0.03 else "en"
        domains = nm.IT_MAIL
    else:
        first = pick(rng, nm.UK_MALE if gender == "m" else nm.UK_FEMALE)
        lang = "en" if rng.random() > 0.03 else "it"
        domains = nm.UK_MAIL
    birth = birth_date(rng)
    if k >= 2:  # adult children
        birth = f"{1995 + int(rng.random() * 11)}{birth[4:]}"
    yy = birth[2:4]
    idx = (hh.idx + 1) * 10 + k + 1
    email = new_email(rng, first, last, yy, pick_weighted(rng, domains), w.claim, idx)
    p = Person(
        idx=idx,
        pid=f"P{idx:08d}",
        hh=hh,
        customer=customer,
        first=first,
        last=last,
        gender=gender,
        birth=birth,
        country=country,
        lang=lang,
        segment="prospect",
        activity=0.45,
        email=email,
        email_canon=canon_email(email),
        email_cap=capitalised(email),
        mobile=new_mobile(rng, country, w.claim_own, w.lane, w.lanes),
    )
    age = 2025 - int(birth[:4])
    p.voice_pref = min(1.0, max(0.0, (age - 20) / 55 + (rng.random() - 0.5) * 0.4))
    if rng.random() < 0.12:
        p.company = w.company(rng, country)
        p.work_email = new_email(rng, first, last, yy, p.company.domain, w.claim, idx)
    if customer:
        r = rng.random()
        p.segment, p.activity = (
            ("occasional", 0.6) if r < 0.5 else ("regular", 1.15) if r < 0.85 else ("frequent", 2.1)
        )
        if rng.random() < 0.04:
            p.office = True
            if p.company is None:
                p.company = w.company(rng, country)
        has_crm = rng.random() < CRM_ACCOUNT
        has_shop = rng.random() < ONLINE_ACCOUNT
        # customers without an online account shop in the stores: most of them carry the card
        has_loyalty = rng.random() < (LOYALTY_ONLINE if has_shop else LOYALTY_OFFLINE)
        if not (has_crm or has_shop or has_loyalty):
            has_loyalty = True
        if has_crm:
            p.crm_id = str(w.crm_next)
            w.crm_next += w.lanes * (1 + (rng.random() < 0.15))
        if has_shop:
            p.shop_id = str(w.shop_next)
            w.shop_next += w.lanes * (1 + (rng.random() < 0.05))
        if has_loyalty:
            p.loyalty = w.new_loyalty()
            p.paper_receipts = rng.random() < PAPER_RECEIPTS
        if p.shop_id and rng.random() < APP_USERS:
            p.device = _uuid(rng)
            p.app_since = START if rng.random() < 0.5 else 0
        n_owned = int(rng.random() * 3)
        for _ in range(n_owned):
            prod = pick(rng, cat.APPLIANCES)
            p.owned.append((prod.sku, None, START - int(rng.random() * 900) * DAY))
        p.newsletter = rng.random() < 0.45
    else:
        p.newsletter = rng.random() < 0.3
    if p.newsletter:
        p.eid = email_id(p.email_canon)
        p.eid_key = "ieid:" + p.eid
    if p.shop_id:
        p.shop_key = "sshop:" + p.shop_id
    n_cookies = int(pick_weighted(rng, _COOKIES if customer else _PROSPECT_COOKIES))
    for t0 in cookie_times(rng, n_cookies):
        r10 = 1_000_000_000 + (_COOKIE_A * w.next("cookie") + w.cookie_b) % 9_000_000_000
        value = f"GA1.2.{r10}.{t0}"
        ck = Cookie(value, t0, pick_weighted(rng, _DEVICES), key="a" + value)
        if t0 < START and p.shop_id and rng.random() < SIGNED_IN_BEFORE:
            ck.logged = True
        p.cookies.append(ck)
    if rng.random() < (0.25 if customer else 0.12):
        p.handles["twitter" if rng.random() < 0.4 else "instagram" if rng.random() < 0.5 else "facebook"] = (
            new_handle(rng, first, last, yy, w.claim, idx)
        )
    return p


def _uuid(rng: Random) -> str:
    h = f"{rng.getrandbits(128):032x}"
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) % 4]}{h[17:20]}-{h[20:32]}"
