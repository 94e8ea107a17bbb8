"""The seeded parts of the company that every household shares: companies, agents, placeholders, counters.

Derived from the seed alone (and N, which sizes the pools), never from the order households are made
in, except for the counters, which advance as households are generated one after the other.
"""

from __future__ import annotations

import hashlib
import itertools
from collections.abc import Iterator
from dataclasses import dataclass
from random import Random

from . import catalog as cat
from . import names as nm
from .people import Company, Phone, Uniq, new_landline, pick_weighted, slug
from .silos import KEY_LETTER
from .texts import pick


def stable_int(*parts: object) -> int:
    """A 64-bit integer from the parts, the same in every process (never Python's ``hash``)."""
    return int.from_bytes(
        hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest(), "big"
    )


def rng_for(*parts: object) -> Random:
    return Random(stable_int(*parts))


@dataclass(frozen=True, slots=True)
class Agent:
    agent_id: str
    first: str
    country: str
    dept: str


_LOYALTY_A = 7_777_777_777
PLACEHOLDER_PHONES = ("0000000000", "1234567890", "+390000000000")
PLACEHOLDER_EMAILS = ("noemail@noemail.com", "nessuna@email.it", "test@test.com", "no@no.it")
# Kind, namespace, normalised value -> why the value is shared by several people.
SharedKey = tuple[str, str, str]


class World:
    """Pools and counters of one lane.

    Households are generated in chunks; chunk ``c`` belongs to lane ``c % lanes``. Lanes can run in
    parallel processes because they never hand out the same value: sequences interleave (lane 0 gives
    1, 3, 5..., lane 1 gives 2, 4, 6...) and every unique value (an email, a phone) is owned by the lane
    its hash says. The pools (companies, agents) are the same in every lane.
    """

    def __init__(self, seed: int, customers: int, lane: int = 0, lanes: int = 1) -> None:
        self.seed = seed
        self.customers = customers
        self.lane = lane
        self.lanes = lanes
        self.uniq = Uniq()
        rng = rng_for(seed, "world")
        self.counters: dict[str, int] = {}
        self.shared_reason: dict[SharedKey, str] = {}
        self.shared_raw: dict[tuple[str, str, str], str] = {}  # (kind, ns, raw) -> normalised
        self.shared_owners: dict[SharedKey, set[str]] = {}
        for ph in PLACEHOLDER_PHONES:
            self.shared_reason[("phone", "", placeholder_phone_norm(ph))] = "placeholder"
        for em in PLACEHOLDER_EMAILS:
            self.shared_reason[("email", "", em)] = "placeholder"
        self.companies = [self._company(rng, i) for i in range(max(3, -(-customers // 300)))]
        # the identifier keys (see ordito.demo.silos.KEY_LETTER) of the values shared on purpose
        self.shared_keys = frozenset(KEY_LETTER[(k, ns)] + norm for k, ns, norm in self.shared_reason)
        self.agents: dict[tuple[str, str], list[Agent]] = {}
        n_agents = min(2000, max(30, customers // 150))
        weights = {
            "customer_service": 35,
            "technical_support": 20,
            "logistics": 20,
            "billing": 10,
            "sales": 15,
        }
        for country, share, site in (("IT", 0.7, "MI"), ("GB", 0.3, "LN")):
            k = 0
            firsts = nm.IT_MALE + nm.IT_FEMALE if country == "IT" else nm.UK_MALE + nm.UK_FEMALE
            for dept in cat.DEPARTMENTS:
                n = max(3, round(n_agents * share * weights[dept] / 100))
                pool = []
                for _ in range(n):
                    k += 1
                    pool.append(Agent(f"{site}{1000 + k * 7}", pick(rng, firsts), country, dept))
                self.agents[(country, dept)] = pool
        self.order_serial = 10000 + int(rng.random() * 5000)
        # Account numbers: the CRM and the shop both count from about 100001 (same digits, other people).
        self.crm_next = 100001 + stable_int(seed, "crm") % 200 + lane
        self.shop_next = 100001 + stable_int(seed, "shop") % 200 + lane
        self.loyalty_b = stable_int(seed, "loyalty") % 10**10
        self.cookie_b = stable_int(seed, "cookie") % 9_000_000_000
        self.hit_seq = lane + 1 - lanes  # web_session steps by ``lanes``
        self.session_seq = lane + 1 - lanes

    def _company(self, rng: Random, i: int) -> Company:
        if rng.random() < 0.7:
            last, word, form = (
                pick(rng, nm.IT_LAST),
                pick(rng, nm.IT_COMPANY_WORDS),
                pick(rng, nm.IT_COMPANY_FORMS),
            )
            city, tld, box = pick(rng, nm.IT_CITIES), "it", pick(rng, nm.IT_MAILBOXES)
        else:
            last, word, form = (
                pick(rng, nm.UK_LAST),
                pick(rng, nm.UK_COMPANY_WORDS),
                pick(rng, nm.UK_COMPANY_FORMS),
            )
            city, tld, box = pick(rng, nm.UK_CITIES), "co.uk", pick(rng, nm.UK_MAILBOXES)
        # names repeat in a large pool: then the domain says the city, or a number
        for k in itertools.count():
            suffix = "" if k == 0 else slug(city.name) if k == 1 else f"{slug(city.name)}{k}"
            domain = f"{slug(last)}{slug(word)}{suffix}.{tld}"
            if self.uniq.add_if_new("dom:" + domain):
                break
        mailbox = f"{box}@{domain}"
        self.uniq.add_if_new("em:" + mailbox)  # a new domain: nobody has this address
        sw = new_landline(rng, city, self.uniq.add_if_new)
        c = Company(i, f"C{i + 1:05d}", f"{last} {word} {form}", city.country, city, domain, mailbox, sw)
        self.shared_reason[("phone", "", sw.e164)] = "office_switchboard"
        self.shared_reason[("email", "", mailbox)] = "generic_mailbox"
        return c

    def new_loyalty(self) -> str:
        """A new loyalty card number (12 digits, ``80`` first)."""
        return "80" + f"{(_LOYALTY_A * self.next('loyalty') + self.loyalty_b) % 10**10:010d}"

    def next(self, name: str) -> int:
        """The next number of sequence ``name`` (1-based, interleaved between lanes)."""
        k = self.counters.get(name, 0)
        self.counters[name] = k + 1
        return k * self.lanes + self.lane + 1

    def claim(self, key: str) -> bool:
        """True (and the value is now taken) when ``key`` is new and this lane may hand it out."""
        return self.uniq.add_if_new(key, self.lane, self.lanes)

    def claim_own(self, key: str) -> bool:
        """Like :meth:`claim` for values the caller already made this lane's own (phone numbers)."""
        return self.uniq.add_if_new(key)

    def agent(self, rng: Random, country: str, dept: str) -> Agent:
        pool = self.agents[(country, dept)]
        return pool[int(rng.random() * len(pool))]

    def company(self, rng: Random, country: str) -> Company:
        # mostly a company of the person's country
        for _ in range(6):
            c = self.companies[int(rng.random() * len(self.companies))]
            if c.country == country:
                return c
        return c


def placeholder_phone_norm(raw: str) -> str:
    digits = raw.lstrip("+")
    return "+" + digits if raw.startswith("+") else "+39" + digits


def household_shapes(seed: int, customers: int) -> Iterator[list[bool]]:
    """Households in order, each as its members' is-customer flags, until exactly N customers."""
    rng = rng_for(seed, "households")
    made = 0
    sizes = (("1", 36), ("2", 34), ("3", 17), ("4", 13))
    while made < customers:
        if rng.random() < 0.12:
            flags = [False] * (1 + (rng.random() < 0.35))
        else:
            size = int(pick_weighted(rng, sizes))
            flags = [k == 0 or rng.random() < 0.72 for k in range(size)]
        for k, f in enumerate(flags):
            if f:
                if made >= customers:
                    flags[k] = False
                else:
                    made += 1
        yield flags


def count_households(seed: int, customers: int) -> int:
    return sum(1 for _ in household_shapes(seed, customers))


__all__ = ["Agent", "Phone", "World", "count_households", "household_shapes", "rng_for", "stable_int"]
