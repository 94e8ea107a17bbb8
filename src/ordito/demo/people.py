"""People, households and companies, with their identifiers and the ways they get written.

Every identifier value a person owns is unique across the whole company: candidate values are checked
against :class:`Uniq`, a fixed-size bit set (constant memory whatever N). A bit set can only err by
saying "seen" for a new value, which just makes the generator pick another candidate, so uniqueness
holds exactly. Shared values (family phones, office switchboards, generic mailboxes, placeholders) are
shared on purpose and say so in the ground truth.
"""

from __future__ import annotations

import functools
import hashlib
import unicodedata
from bisect import bisect_right
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from random import Random

from . import names as nm
from .clock import DAY, END, START
from .texts import pick

Claim = Callable[[str], bool]  # takes a value if nobody has it yet


class Uniq:
    """A Bloom filter with three probes over 2**bits bits: never a false "new"."""

    def __init__(self, bits: int = 27) -> None:
        self.bits = bits
        self.mask = (1 << bits) - 1
        self.buf = bytearray(1 << (bits - 3))

    def add_if_new(self, key: str, lane: int = 0, lanes: int = 1) -> bool:
        """True when ``key`` was not seen (it is now); with lanes, only for keys owned by ``lane``."""
        h = int.from_bytes(hashlib.blake2b(key.encode(), digest_size=13).digest(), "little")
        if lanes > 1 and (h >> 96) % lanes != lane:
            return False
        m, buf = self.mask, self.buf
        i1, i2, i3 = h & m, (h >> 32) & m, (h >> 64) & m
        if buf[i1 >> 3] >> (i1 & 7) & 1 and buf[i2 >> 3] >> (i2 & 7) & 1 and buf[i3 >> 3] >> (i3 & 7) & 1:
            return False
        for i in (i1, i2, i3):
            buf[i >> 3] |= 1 << (i & 7)
        return True


@functools.lru_cache(maxsize=4096)
def slug(s: str) -> str:
    """Lower-case ASCII letters and digits only: ``D'Angelo`` -> ``dangelo``."""
    s = unicodedata.normalize("NFKD", s).encode("ascii", "ignore").decode().lower()
    return "".join(c for c in s if c.isalnum())


def canon_email(addr: str) -> str:
    """The canonical form of an address: lower-cased; Gmail local part without dots."""
    a = addr.strip().lower()
    local, _, domain = a.rpartition("@")
    if domain in ("gmail.com", "googlemail.com"):
        return local.split("+", 1)[0].replace(".", "") + "@gmail.com"
    return a


def email_id(canonical: str) -> str:
    """The newsletter ``eid``: first 16 hex digits of SHA-256 of the canonical address."""
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


# --- phones --------------------------------------------------------------------------------------

IT_MOBILE = (
    "320",
    "324",
    "327",
    "328",
    "329",
    "330",
    "331",
    "333",
    "334",
    "335",
    "338",
    "339",
    "340",
    "342",
    "345",
    "346",
    "347",
    "348",
    "349",
    "350",
    "351",
    "366",
    "380",
    "388",
    "389",
    "391",
    "392",
    "393",
)
GB_MOBILE = (
    "740",
    "741",
    "742",
    "743",
    "745",
    "746",
    "747",
    "748",
    "749",
    "750",
    "751",
    "752",
    "753",
    "754",
    "756",
    "757",
    "758",
    "759",
    "771",
    "772",
    "773",
    "774",
    "775",
    "776",
    "777",
    "778",
    "779",
    "780",
    "781",
    "782",
    "783",
    "784",
    "785",
    "786",
    "787",
    "788",
    "789",
    "790",
    "792",
    "793",
    "794",
    "795",
    "796",
    "797",
    "798",
    "799",
)


@dataclass(frozen=True, slots=True)
class Phone:
    country: str  # IT | GB
    nsn: str  # national significant number: IT landlines keep their 0, GB numbers have no trunk 0
    groups: tuple[int, ...]  # how the national number is grouped when written nicely

    @property
    def cc(self) -> str:
        return "39" if self.country == "IT" else "44"

    @property
    def e164(self) -> str:
        return f"+{self.cc}{self.nsn}"

    def grouped(self, sep: str) -> str:
        out, i = [], 0
        for g in self.groups:
            out.append(self.nsn[i : i + g])
            i += g
        return sep.join(out)

    @property
    def national(self) -> str:
        return self.nsn if self.country == "IT" else "0" + self.nsn


def _digits(rng: Random, n: int) -> str:
    return str(int(rng.random() * 10**n)).zfill(n)


def _last_digit(rng: Random, lane: int, lanes: int) -> str:
    """A last digit of this lane's numbers: lanes own disjoint numbers by construction (lanes divides 10)."""
    return str(lane + lanes * int(rng.random() * (10 // lanes)))


def new_mobile(rng: Random, country: str, claim: Claim, lane: int = 0, lanes: int = 1) -> Phone:
    while True:
        tail = _digits(rng, 6) + _last_digit(rng, lane, lanes)
        if country == "IT":
            ph = Phone("IT", pick(rng, IT_MOBILE) + tail, (3, 3, 4))
        else:
            ph = Phone("GB", pick(rng, GB_MOBILE) + tail, (4, 6))
        if claim("tel:" + ph.e164):
            return ph


def new_landline(rng: Random, city: nm.City, claim: Claim, lane: int = 0, lanes: int = 1) -> Phone:
    while True:
        sub = pick(rng, city.first_digits) + _digits(rng, city.sub_len - 2) + _last_digit(rng, lane, lanes)
        if city.country == "IT":
            a = len(city.area)
            ph = Phone("IT", city.area + sub, (a, 4, len(sub) - 4) if len(sub) > 6 else (a, len(sub)))
        else:
            a = len(city.area)
            ph = Phone("GB", city.area + sub, (a, 4, 4) if a == 2 else (a, 3, 4))
        if claim("tel:" + ph.e164):
            return ph


def phone_writing(rng: Random, ph: Phone, national_ok: bool) -> str:
    """One of the ways people write a number. National writings only where the reader knows the country."""
    r = rng.random()
    if national_ok and r < 0.5:
        k = int(r * 10)  # 0..4
        if ph.country == "IT":
            if k == 0:
                return ph.nsn
            if k == 1:
                g = ph.groups[0]
                return f"{ph.nsn[:g]} {ph.nsn[g:]}"
            if k == 2:
                return ph.grouped("-")
            if k == 3:
                return ph.grouped(".")
            return ph.grouped(" ")
        if k == 0:
            return "0" + ph.nsn
        if k == 1 and len(ph.groups) == 3:
            g = ph.groups[0]
            return f"(0{ph.nsn[:g]}) {ph.nsn[g : g + ph.groups[1]]} {ph.nsn[g + ph.groups[1] :]}"
        if k == 3:
            return "0" + ph.grouped("-")
        return "0" + ph.grouped(" ")
    k = int(rng.random() * 6)
    cc = ph.cc
    if k == 0:
        return f"+{cc} " + ph.grouped(" ")
    if k == 1:
        return f"00{cc} {ph.nsn}"
    if k == 2:
        return f"+{cc}{ph.nsn}"
    if k == 3:
        return f"(+{cc}) " + ph.grouped(".") if ph.country == "IT" else f"+{cc} (0)" + ph.grouped(" ")
    if k == 4:
        return f"+{cc} {ph.nsn}"
    return f"00{cc}{ph.nsn}"


def ani_writing(rng: Random, ph: Phone, site_country: str) -> str:
    """The caller's number as the switch logs it: national digits for the site's own country."""
    if ph.country == site_country:
        return ph.national
    return f"+{ph.cc}{ph.nsn}" if rng.random() < 0.6 else f"00{ph.cc}{ph.nsn}"


# --- people --------------------------------------------------------------------------------------


@dataclass(slots=True)
class Company:
    idx: int
    company_id: str
    name: str
    country: str
    city: nm.City
    domain: str
    mailbox: str
    switchboard: Phone


@dataclass(slots=True)
class Cookie:
    value: str
    start: int  # first seen
    device: str  # desktop | mobile | tablet
    logged: bool = False  # has its owner logged in on it yet
    visits: int = 0  # web sessions on it so far
    key: str = ""  # its identifier key (see ordito.demo.silos.KEY_LETTER)
    written: bool = False  # already in the household's identifier registry


@dataclass(slots=True)
class Household:
    idx: int
    hid: str
    country: str
    city: nm.City
    street: str
    number: str
    postcode: str
    landline: Phone | None
    family_phone: Phone | None = None
    members: list[Person] = field(default_factory=list)

    def address(self, lang: str = "") -> str:
        return format_address(self.country, self.street, self.number, self.postcode, self.city)


def format_address(country: str, street: str, number: str, postcode: str, city: nm.City) -> str:
    if country == "IT":
        return f"{street} {number}, {postcode} {city.name} ({city.province})"
    return f"{number} {street}, {city.name} {postcode}"


def new_postcode(rng: Random, city: nm.City) -> str:
    if city.country == "IT":
        if city.postcode.endswith("0") and len(city.postcode) == 3 and city.name == "Monza":
            return "20900"
        return city.postcode + _digits(rng, 2)
    district = pick(rng, city.postcode.split())
    letters = "ABDEFGHJLNPQRSTUWXYZ"
    return f"{district} {int(rng.random() * 9) + 1}{pick(rng, letters)}{pick(rng, letters)}"


@dataclass(slots=True)
class Person:
    idx: int
    pid: str
    hh: Household
    customer: bool
    first: str
    last: str
    gender: str
    birth: str
    country: str
    lang: str
    segment: str
    activity: float
    email: str  # as registered (lower case)
    email_canon: str
    email_cap: str
    mobile: Phone
    work_email: str | None = None
    company: Company | None = None
    office: bool = False  # gives the office switchboard / generic mailbox on some records
    crm_id: str | None = None
    shop_id: str | None = None
    loyalty: str | None = None
    paper_receipts: bool = False  # a loyalty member who does not get receipts by email
    cookies: list[Cookie] = field(default_factory=list)
    device: str | None = None
    app_since: int = 0
    handles: dict[str, str] = field(default_factory=dict)
    newsletter: bool = False
    eid: str | None = None
    churned_at: int | None = None
    last_t: int = 0
    voice_pref: float = 0.5  # 0: digital native .. 1: prefers the phone
    owned: list[tuple[str, str | None, int]] = field(default_factory=list)  # (sku, order id, bought at)
    sat: float = 0.3  # how the person feels about the brand: -1.5 (furious) .. 1 (delighted)
    typos: list[str] | None = None  # misspellings of the email, made the first time one is typed
    shop_key: str = ""  # identifier keys of the shop id and the newsletter eid
    eid_key: str = ""
    written: int = 0  # bits: values already given to the household's identifier registry (see WRITTEN_*)

    @property
    def full(self) -> str:
        return f"{self.first} {self.last}"

    def cookie_at(self, t: int) -> Cookie:
        c = self.cookies[0]
        for k in self.cookies:
            if k.start <= t:
                c = k
        return c


_EMAIL_PATTERNS = (
    "{f}.{ln}", "{f}{ln}", "{f}.{ln}{yy}", "{f0}{ln}", "{f}_{ln}", "{f}{ln}{yy}", "{ln}.{f}", "{f0}.{ln}{d2}",
    "{f}.{ln}{d2}", "{f}{l0}{yy}", "{ln}{f0}{d2}", "{f}.{ln}.{d2}{yy}",
)  # fmt: skip


def _email_candidates(rng: Random, first: str, last: str, yy: str, domain: str) -> Iterator[str]:
    f, ln = slug(first), slug(last)
    slots = {"f": f, "ln": ln, "yy": yy, "d2": _digits(rng, 2), "f0": f[:1], "l0": ln[:1]}
    for pattern in _EMAIL_PATTERNS[int(rng.random() * 5) :]:
        yield pattern.format_map(slots) + "@" + domain


_CUMULATIVE: dict[int, tuple[tuple[tuple[str, int], ...], tuple[str, ...], list[float]]] = {}


def pick_weighted(rng: Random, items: tuple[tuple[str, int], ...]) -> str:
    """A value drawn with its weight (the cumulative sums of each table are computed once)."""
    table = _CUMULATIVE.get(id(items))
    if table is None or table[0] is not items:
        acc, cum = 0.0, []
        for _, w in items:
            acc += w
            cum.append(acc)
        table = _CUMULATIVE[id(items)] = (items, tuple(v for v, _ in items), cum)
    _, values, cum = table
    return values[bisect_right(cum, rng.random() * cum[-1])]


def new_email(rng: Random, first: str, last: str, yy: str, domain: str, claim: Claim, idx: int) -> str:
    for cand in _email_candidates(rng, first, last, yy, domain):
        if claim("em:" + canon_email(cand)):
            return cand
    k = 0
    while True:
        cand = f"{slug(first)}.{slug(last)}{idx}{k}@{domain}"
        if claim("em:" + canon_email(cand)):
            return cand
        k += 1


def capitalised(addr: str) -> str:
    local, _, domain = addr.partition("@")
    return ".".join(p[:1].upper() + p[1:] for p in local.split(".")) + "@" + domain[:1].upper() + domain[1:]


def make_typos(rng: Random, addr: str, claim: Claim) -> list[str]:
    """One or two misspellings of an address, none of which is anybody's real address."""
    local, _, domain = addr.partition("@")
    out: list[str] = []
    cands: list[str] = []
    if domain in nm.DOMAIN_TYPOS:
        cands.append(f"{local}@{pick(rng, nm.DOMAIN_TYPOS[domain])}")
    letters = [i for i, c in enumerate(local) if c.isalpha()]
    if len(letters) > 3:
        i = letters[1 + int(rng.random() * (len(letters) - 1))]
        kind = int(rng.random() * 3)
        if kind == 0:
            cands.append(local[:i] + local[i + 1 :] + "@" + domain)  # a letter missing
        elif kind == 1 and i + 1 < len(local) and local[i + 1].isalpha() and local[i + 1] != local[i]:
            cands.append(local[:i] + local[i + 1] + local[i] + local[i + 2 :] + "@" + domain)  # swapped
        else:
            cands.append(local[:i] + local[i] + local[i:] + "@" + domain)  # doubled
    own = canon_email(addr)
    for c in cands:
        cc = canon_email(c)
        if cc != own and claim("em:" + cc):
            out.append(c)
    return out


def typos_of(rng: Random, p: Person, claim: Claim) -> list[str]:
    if p.typos is None:
        p.typos = make_typos(rng, p.email, claim)
    return p.typos


def email_writing(rng: Random, p: Person, claim: Claim, spaces_ok: bool = True) -> str:
    """How a person's email gets typed on one record: case, spaces, Gmail dots, or a typo (~2%)."""
    r = rng.random()
    if r < 0.72:
        return p.email
    if r < 0.83:
        return p.email_cap
    if r < 0.86:
        return p.email.upper()
    if r < 0.93:
        if p.email.endswith("@gmail.com") and "." in p.email.partition("@")[0]:
            return p.email.partition("@")[0].replace(".", "") + "@gmail.com"
        return p.email_cap
    if r < 0.98:
        return f" {p.email} " if spaces_ok else p.email
    typos = typos_of(rng, p, claim)
    return pick(rng, typos) if typos else p.email


_HANDLE_PLATFORMS = ("twitter", "instagram", "facebook", "trustpilot")


def new_handle(rng: Random, first: str, last: str, yy: str, claim: Claim, idx: int) -> str:
    f, ln = slug(first), slug(last)
    d = _digits(rng, 2)
    pats = [
        f"{f}{ln}",
        f"{f}_{ln}",
        f"{f}.{ln}{yy}",
        f"{f[0]}{ln}{d}",
        f"{ln}_{f}",
        f"{f}{ln}{yy}",
        f"{f}_{ln[0]}{d}",
    ]
    start = int(rng.random() * 4)
    for cand in pats[start:]:
        if claim("h:" + cand):
            return "@" + (cand if rng.random() < 0.85 else cand[:1].upper() + cand[1:])
    k = 0
    while not claim(f"h:{f}{ln}{idx}{k}"):
        k += 1
    return f"@{f}{ln}{idx}{k}"


def birth_date(rng: Random) -> str:
    y = 1942 + int(rng.random() * 64)
    m = 1 + int(rng.random() * 12)
    d = 1 + int(rng.random() * 28)
    return f"{y}-{m:02d}-{d:02d}"


def cookie_times(rng: Random, n: int) -> list[int]:
    """Start times of a person's successive cookies: the first may predate the period."""
    first = START - int(rng.random() * 400 * DAY)
    rest = sorted(START + int(rng.random() * (END - START)) for _ in range(n - 1))
    return [first, *rest]
