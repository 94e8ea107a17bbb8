"""Touchpoints: each method writes the records of one interaction into the silos of a chunk.

This module has the plumbing and the self-service touchpoints (web, app); conversations (calls, chats,
emails) are in :mod:`ordito.demo.conversations`, the back-office systems (CRM, shop, stores, surveys,
social) in :mod:`ordito.demo.systems`, whose :class:`~ordito.demo.systems.Actor` has them all. An actor works for one household at a time (its random stream and identifier registry are
swapped per household). Every record is appended with its ground-truth row and returns its reference
``source:source_key``; records that would fall after the period are not written (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from . import catalog as cat
from .clock import (
    DAY0,
    END,
    HMS,
    ISO_DATE,
    iso_ms_z,
    next_dst_change,
    rome_offset,
)
from .episodes import Episode
from .people import Person, Phone, canon_email, email_writing, typos_of
from .silos import KEY_LETTER, Chunk, dumps
from .texts import sentiment
from .world import World

# event, "event,page_url,page_title,form_name,error_message,search_query,cart_value,currency"
Hit = tuple[str, str]
AppEv = tuple[str, str, dict[str, str]]  # name, screen, params
Ref = str | None

# A customer who signed in on a browser stays signed in on most visits (the session may have expired).
# One not signed in signs in during the visit (to see their orders, warranties and points, or when the
# site asks a returning customer to): most do on the first visit of a new browser, some on later ones.
STAY_SIGNED_IN = 0.8
SIGN_IN_FIRST_VISIT = 0.97
SIGN_IN_LATER_VISIT = 0.6
# The app asks to sign in at launch until the user does.
APP_SIGN_IN = 0.9
_SIGN_IN = frozenset({"login", "login_failed"})
# Person.written: values the household's registry already has (it keeps one row per writing anyway).
WRITTEN_SHOP = 1
WRITTEN_EID = 2
WRITTEN_DEVICE = 4
WRITTEN_APP_USER = 8
LOGIN_HIT = {c: ("login", f"login,{cat.PAGES[c]['login'].body},,,,,") for c in ("IT", "GB")}

APP_RELEASES = (
    (0, "4.0.3"),
    (1743465600, "4.1.0"),
    (1751328000, "4.2.1"),
    (1759276800, "4.3.0"),
    (1767225600, "4.4.2"),
    (1775001600, "4.5.0"),
)


class Registry:
    """Identifier values written by one household: raw writing -> true normalised value and owners."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.raw: dict[tuple[str, str, str], str] = {}
        self.owners: dict[tuple[str, str, str], set[str]] = {}
        self.reason: dict[tuple[str, str, str], str] = {}

    def add(self, kind: str, ns: str, raw: str, norm: str, pid: str) -> None:
        key = (kind, ns, norm)
        w = self.world
        if key in w.shared_reason:
            w.shared_raw.setdefault((kind, ns, raw), norm)
            w.shared_owners.setdefault(key, set()).add(pid)
            return
        self.raw.setdefault((kind, ns, raw), norm)
        o = self.owners.get(key)
        if o is None:
            self.owners[key] = {pid}
        else:
            o.add(pid)

    def flush(self, out: list[tuple[str, str, str, str, str, str]], shared: set[str]) -> None:
        """Write the household's identifiers to ``out``; keys of values several people own to ``shared``."""
        for (kind, ns, raw), norm in self.raw.items():
            key = (kind, ns, norm)
            owners = self.owners[key]
            reason = self.reason.get(key, "")
            out.append((kind, ns, raw, norm, ";".join(sorted(owners)), reason))
            if reason or len(owners) > 1:
                shared.add(KEY_LETTER[(kind, ns)] + norm)
        self.raw.clear()
        self.owners.clear()
        self.reason.clear()


@dataclass(slots=True)
class Ticket:
    tid: str
    country: str
    lang: str
    crm: str
    name: str
    email: str
    phone: str
    handle: str
    origin: str
    dept: str
    agent: str
    category: str
    subject: str
    order_ref: str
    status: str = "new"
    upd: int = 0
    solved: bool = False
    last_t: int = 0
    ids: tuple[str, ...] = ()  # keys of its identifiers


@dataclass(slots=True)
class Order:
    order_id: str
    country: str
    shop_id: str
    email: str
    phone: str
    name: str
    total: float
    currency: str
    items: list[dict[str, object]]
    address: dict[str, str]
    channel: str
    carrier: str
    tracking: str
    statuses: set[str] = field(default_factory=set)
    ids: tuple[str, ...] = ()  # keys of its identifiers


@dataclass(slots=True)
class CallOut:
    refs: list[str]
    answered: bool
    handled_by: list[str]
    end: int
    resolved: bool
    phone: tuple[Phone, str] | None = None  # the number the customer called from (and why it is shared)
    email: str = ""  # the address they wrote from or typed in the pre-chat form, as written


class Touchpoints:
    def __init__(self, world: World, chunk: Chunk) -> None:
        self.w = world
        self.c = chunk
        self.rng = Random(0)
        self.reg = Registry(world)
        self.last_hit = 0  # time of the last hit of the last web session

    # --- plumbing ------------------------------------------------------------------------------

    def _truth(
        self,
        source: str,
        key: str,
        p: Person | None,
        ep: Episode | None,
        t: int,
        payload: object,
        text_tone: int | None = None,
        lang: str | None = None,
        exact: float | None = None,
        ids: tuple[str, ...] = (),
    ) -> str:
        """Append a record with its ground truth; ``exact`` is the time with its fraction of a second,
        ``ids`` the keys of the identifiers the record carries (see :func:`ordito.demo.hard.hard_cases`)."""
        sent = score = None
        if text_tone is not None:
            sent, score = sentiment(self.rng, text_tone)
        pid = p.pid if p is not None else None
        when = t if exact is None else exact
        c = self.c
        truth = c.truth
        c.ids.append(ids)
        c.rows[source].append((t, payload, len(truth)))
        if ep is not None:
            truth.append((source, key, pid, ep.eid, ep.intent, sent, score, lang, when))
        else:
            truth.append((source, key, pid, None, None, sent, score, lang, when))
        if p is not None and t > p.last_t:
            p.last_t = t
        return f"{source}:{key}"

    def phone_given(self, p: Person) -> tuple[Phone, str]:
        """The number a person gives on one record, and why it may be shared."""
        r = self.rng.random()
        hh = p.hh
        if hh.family_phone is not None and r < 0.5:
            return hh.family_phone, "family_phone"
        if p.office and p.company is not None and r > 0.72:
            return p.company.switchboard, "office_switchboard"
        if hh.landline is not None and hh.members[0] is p and r > 0.9:
            return hh.landline, ""
        return p.mobile, ""

    def email_key(self, p: Person, raw: str) -> str:
        """The key of an address as written (a misspelt one is its own value, remembered as a typo)."""
        c = canon_email(raw)
        if (
            c != p.email_canon
            and ("email", "", c) not in self.w.shared_reason
            and (p.work_email is None or c != canon_email(p.work_email))
        ):
            self.c.typos.add("e" + c)
        return "e" + c

    def reg_phone(self, raw: str, ph: Phone, pid: str, reason: str = "") -> None:
        self.reg.add("phone", "", raw, ph.e164, pid)
        if reason == "family_phone":
            self.reg.reason[("phone", "", ph.e164)] = reason

    def email_given(
        self, p: Person, spaces_ok: bool = True, typo_boost: float = 0.0, personal: bool = False
    ) -> str:
        """The address a person gives on one record (registered as an identifier); ``personal``: their
        usual address (not the office's)."""
        rng = self.rng
        r = rng.random()
        if p.office and p.company is not None and r < 0.25 and not personal:
            raw = p.company.mailbox
            self.reg.add("email", "", raw, raw, p.pid)
            return raw
        if p.work_email is not None and r > 0.88 and not personal:
            raw = p.work_email if rng.random() < 0.8 else p.work_email.title()
            self.reg.add("email", "", raw, canon_email(p.work_email), p.pid)
            return raw
        if typo_boost and rng.random() < typo_boost and (typos := typos_of(rng, p, self.w.claim)):
            raw = typos[int(rng.random() * len(typos))]
        else:
            raw = email_writing(rng, p, self.w.claim, spaces_ok)
        self.reg.add("email", "", raw, p.email_canon, p.pid)
        return raw

    # --- web -----------------------------------------------------------------------------------

    def web_session(
        self,
        p: Person,
        ep: Episode | None,
        t: int,
        hits: list[Hit],
        newsletter: bool = False,
        referrer: str | None = None,
        ids: tuple[str, str] | None = None,
    ) -> tuple[list[tuple[str, str, int]], int]:
        """One analytics session; returns the (ref, event, t) of the first hit and of every hit that is not a
        plain page view or search, and the time after the last hit."""
        w, rnd = self.w, self.rng.random
        ck = p.cookie_at(t)
        w.session_seq += w.lanes
        head = f",s{w.session_seq:09d},{ck.value},"
        tail = f",{ck.device},{p.country},"
        shop_id = p.shop_id
        uid = shop_id if (shop_id and ck.logged and rnd() < STAY_SIGNED_IN) else ""
        if (
            shop_id
            and not uid
            and rnd() < (SIGN_IN_LATER_VISIT if ck.visits else SIGN_IN_FIRST_VISIT)
            and not any(h[0] in _SIGN_IN for h in hits)
        ):
            k = 1 + int(rnd() * len(hits))  # after the first page
            hits = [*hits[:k], LOGIN_HIT[p.country], *hits[k:]]
        ck.visits += 1
        used_uid = bool(uid)
        eid = (p.eid or "") if newsletter else ""
        ref = (
            cat.NEWSLETTER_REFERRER
            if newsletter
            else (referrer if referrer is not None else cat.REFERRERS[int(rnd() * len(cat.REFERRERS))])
        )
        pid = p.pid
        epid, intent = (ep.eid, ep.intent) if ep is not None else ids if ids is not None else (None, None)
        rows = self.c.rows["web"]
        marks: list[tuple[str, str, int]] = []
        hseq, step = w.hit_seq, w.lanes
        off = rome_offset(t)
        bound = next_dst_change(t)
        limit = bound if bound <= END else END + 1  # past it: a new offset, or the end of the period
        iso, hms, d0 = ISO_DATE, HMS, DAY0
        web = self.c.web_truth
        ti = ti0 = len(web)
        uid_from = ti if uid else -1  # the first hit that carries the shop id
        first = True
        mid = f"{uid},{eid},"  # user_id,email_id, (the eid only on the landing hit)
        last = t
        for ev, body in hits:
            if t >= limit:
                if t > END:
                    break
                off = rome_offset(t)
                bound = next_dst_change(t)
                limit = bound if bound <= END else END + 1
            if ev == "login" and shop_id:
                uid = shop_id
                ck.logged = used_uid = True
                mid = f"{uid},{eid},"
                if uid_from < 0:
                    uid_from = ti
            hseq += step
            hid = f"h{hseq}"
            d, sec = divmod(t + off, 86400)
            rows.append((t, f"{hid}{head}{mid}{iso[d - d0]} {hms[sec]},{body}{tail}{ref}\n", ti))
            web.append((hid, pid, epid, intent, t))
            ti += 1
            if first or (ev != "page_view" and ev != "search"):
                marks.append(("web:" + hid, ev, t))
                if first:
                    first = False
                    eid = ref = ""
                    mid = f"{uid},,"
            last = t
            x = rnd()
            t += 4 + int(x * x * 150)
        w.hit_seq = hseq
        self.last_hit = last
        if marks:
            self.c.web_links.append(
                (
                    ti0,
                    ti - ti0,
                    ck.key,
                    uid_from,
                    p.shop_key if uid_from >= 0 else "",
                    p.eid_key if newsletter else "",
                )
            )
            reg = self.reg
            if not ck.written:
                ck.written = True
                reg.add("anonymous_id", "", ck.value, ck.value, pid)
            if used_uid and shop_id and not p.written & WRITTEN_SHOP:
                p.written |= WRITTEN_SHOP
                reg.add("customer_id", "shop", shop_id, "shop:" + shop_id, pid)
            if newsletter and p.eid and not p.written & WRITTEN_EID:
                p.written |= WRITTEN_EID
                reg.add("anonymous_id", "eid", p.eid, "eid:" + p.eid, pid)
            if ep is not None:
                ep.seen(last, "web")
            if last > p.last_t:
                p.last_t = last
        return marks, t

    # --- app -----------------------------------------------------------------------------------

    def app_session(
        self, p: Person, ep: Episode | None, t: int, events: list[AppEv]
    ) -> tuple[list[tuple[str, str, int]], int]:
        rng = self.rng
        if p.device is None:
            return [], t
        version = "4.0.3"
        for since, v in APP_RELEASES:
            if t >= since + 20 * 86400 * (p.idx % 3):
                version = v
        platform = "ios" if p.idx % 5 < 2 else "android"
        logged = p.shop_id is not None and p.app_since > 0 and p.app_since <= t
        if (
            not logged
            and p.shop_id
            and rng.random() < APP_SIGN_IN
            and not any(e[0] == "login" or e[0] == "login_failed" for e in events)
        ):
            events = [*events[:1], ("login", "login", {}), *events[1:]]
        email = p.email
        user = {"shop_customer_id": p.shop_id, "email": email} if logged else None
        anon = ("a" + p.device,)
        known = ("a" + p.device, p.shop_key, "e" + p.email_canon)
        out: list[tuple[str, str, int]] = []
        for name, screen, params in events:
            if t > END:
                break
            if name == "login":
                if not p.shop_id:
                    continue
                p.app_since = p.app_since or t
                user = {"shop_customer_id": p.shop_id, "email": email}
            ev_id = f"{rng.getrandbits(128):032x}"
            obj = {
                "event_id": ev_id,
                "device_id": p.device,
                "platform": platform,
                "app_version": version,
                "timestamp": iso_ms_z(t, ms := int(rng.random() * 1000)),
                "name": name,
                "screen": screen,
                "user": user,
                "params": params or None,
            }
            ids = anon if user is None else known
            out.append(
                (self._truth("app", ev_id, p, ep, t, dumps(obj), exact=t + ms / 1000, ids=ids), name, t)
            )
            t += 3 + int(rng.random() ** 2 * 90)
        if out:
            if not p.written & WRITTEN_DEVICE:
                p.written |= WRITTEN_DEVICE
                self.reg.add("anonymous_id", "", p.device, p.device, p.pid)
            if user is not None and p.shop_id and not p.written & WRITTEN_APP_USER:
                p.written |= WRITTEN_APP_USER
                self.reg.add("customer_id", "shop", p.shop_id, "shop:" + p.shop_id, p.pid)
                self.reg.add("email", "", email, p.email_canon, p.pid)
            if ep is not None:
                ep.seen(out[-1][2], "app")
        return out, t

    # --- contact centre ------------------------------------------------------------------------
