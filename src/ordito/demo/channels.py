"""Touchpoints: each method writes the records of one interaction into the silos of a chunk.

An :class:`Actor` works for one household at a time (its random stream and identifier registry are
swapped per household). Every record is appended with its ground-truth row and returns its reference
``source:source_key``; records that would fall after the period are not written (``None``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from random import Random

from . import catalog as cat
from .clock import (
    CALL_HOURS,
    DAY0,
    END,
    HMS,
    HOUR,
    ISO_DATE,
    MINUTE,
    dmy_local,
    iso_local,
    iso_ms_z,
    iso_offset,
    iso_z,
    next_dst_change,
    next_open,
    rfc2822,
    rome_offset,
    year_of,
    zone_offset,
)
from .episodes import Episode
from .people import Person, Phone, ani_writing, canon_email, email_writing, phone_writing, typos_of
from .silos import Chunk, dumps, q, q_semi
from .texts import sentiment
from .world import PLACEHOLDER_EMAILS, PLACEHOLDER_PHONES, World, placeholder_phone_norm

# event, "event,page_url,page_title,form_name,error_message,search_query,cart_value,currency"
Hit = tuple[str, str]
AppEv = tuple[str, str, dict[str, str]]  # name, screen, params
Ref = str | None

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

    def flush(self, out: list[tuple[str, str, str, str, str, str]]) -> None:
        for (kind, ns, raw), norm in self.raw.items():
            key = (kind, ns, norm)
            out.append((kind, ns, raw, norm, ";".join(sorted(self.owners[key])), self.reason.get(key, "")))
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


@dataclass(slots=True)
class CallOut:
    refs: list[str]
    answered: bool
    handled_by: list[str]
    end: int
    resolved: bool


class Actor:
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
    ) -> str:
        """Append a record with its ground truth; ``exact`` is the time with its fraction of a second."""
        sent = score = None
        if text_tone is not None:
            sent, score = sentiment(self.rng, text_tone)
        pid = p.pid if p is not None else None
        when = t if exact is None else exact
        c = self.c
        truth = c.truth
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
        if hh.family_phone is not None and r < 0.7:
            return hh.family_phone, "family_phone"
        if p.office and p.company is not None and r > 0.72:
            return p.company.switchboard, "office_switchboard"
        if hh.landline is not None and hh.members[0] is p and r > 0.9:
            return hh.landline, ""
        return p.mobile, ""

    def reg_phone(self, raw: str, ph: Phone, pid: str, reason: str = "") -> None:
        self.reg.add("phone", "", raw, ph.e164, pid)
        if reason == "family_phone":
            self.reg.reason[("phone", "", ph.e164)] = reason

    def email_given(self, p: Person, spaces_ok: bool = True, typo_boost: float = 0.0) -> str:
        """The address a person gives on one record (registered as an identifier)."""
        rng = self.rng
        r = rng.random()
        if p.office and p.company is not None and r < 0.25:
            raw = p.company.mailbox
            self.reg.add("email", "", raw, raw, p.pid)
            return raw
        if p.work_email is not None and r > 0.88:
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
        uid = shop_id if (shop_id and ck.logged and rnd() < 0.5) else ""
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
        ti = len(web)
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
            reg = self.reg
            if not ck.written:
                ck.written = True
                reg.add("anonymous_id", "", ck.value, ck.value, pid)
            if used_uid and shop_id:
                reg.add("customer_id", "shop", shop_id, "shop:" + shop_id, pid)
            if newsletter and p.eid:
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
        email = p.email
        user = {"shop_customer_id": p.shop_id, "email": email} if logged else None
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
            out.append((self._truth("app", ev_id, p, ep, t, dumps(obj), exact=t + ms / 1000), name, t))
            t += 3 + int(rng.random() ** 2 * 90)
        if out:
            self.reg.add("anonymous_id", "", p.device, p.device, p.pid)
            if user is not None and p.shop_id:
                self.reg.add("customer_id", "shop", p.shop_id, "shop:" + p.shop_id, p.pid)
                self.reg.add("email", "", email, p.email_canon, p.pid)
            if ep is not None:
                ep.seen(out[-1][2], "app")
        return out, t

    # --- contact centre ------------------------------------------------------------------------

    def call(
        self,
        p: Person,
        ep: Episode,
        t: int,
        depts: list[str],
        *,
        ivr_hangup: bool = False,
        abandon: bool = False,
        long_wait: bool = False,
        resolved: bool = False,
        restate_p: float = 0.5,
        notes_extra: str = "",
    ) -> CallOut:
        """One call: legs through ``depts`` (a transfer between consecutive ones)."""
        from . import texts as tx

        rng, w = self.rng, self.w
        site = cat.SITE["IT" if p.lang == "it" else "GB"]
        site_country = "IT" if site == "MILANO" else "GB"
        t = next_open(t, site_country, CALL_HOURS, rng.random())
        cid = w.next("call")
        call_id = f"C{cid:09d}"
        withheld = rng.random() < 0.04
        if withheld:
            ani = "anonymous"
        else:
            ph, why = self.phone_given(p)
            ani = ani_writing(rng, ph, site_country)
            self.reg_phone(ani, ph, p.pid, why)
        lang = p.lang
        slots = ep.slots
        refs: list[str] = []
        handled: list[str] = []
        first = depts[0]
        ivr = cat.IVR_DIGIT[first] + ">" + str(1 + int(rng.random() * 3))
        if rng.random() < 0.3:
            ivr += ">" + str(1 + int(rng.random() * 3))
        pfx = "MI" if site == "MILANO" else "LN"
        tt = t
        crm_known = p.crm_id is not None and rng.random() < 0.6
        prev_t = t
        ep.contact(t, f"calls:{call_id}|1", "voice")
        for leg, dept in enumerate(depts, start=1):
            last = leg == len(depts)
            queue = f"{pfx}_{cat.DEPT_CODE[dept]}"
            off = zone_offset(tt, site_country)
            start = dmy_local(tt, off)
            crm = p.crm_id if (crm_known and p.crm_id and (leg == 1 or rng.random() < 0.7)) else ""
            key = f"{call_id}|{leg}"
            if leg == 1 and ivr_hangup:
                row = (
                    call_id,
                    "1",
                    site,
                    start,
                    ani,
                    ivr.split(">")[0],
                    "",
                    dept,
                    "0",
                    "0",
                    "0",
                    "",
                    "",
                    "ivr_hangup",
                    "",
                    "",
                )
                ref = self._truth("calls", key, p, ep, tt, _semi(row))
                refs.append(ref)
                ep.note(tt, "abandon", ref, "ivr_hangup")
                ep.seen(tt, "voice")
                return CallOut(refs, False, handled, tt + 60, False)
            wait = int(rng.random() * 240) + 5
            if long_wait and leg == 1:
                wait = 301 + int(rng.random() * 1200)
            if leg == 1 and abandon:
                wait = 60 + int(rng.random() * 840)
                row = (
                    call_id,
                    "1",
                    site,
                    start,
                    ani,
                    ivr,
                    queue,
                    dept,
                    str(wait),
                    "0",
                    "0",
                    "",
                    "",
                    "abandoned",
                    "",
                    "",
                )
                ref = self._truth("calls", key, p, ep, tt, _semi(row))
                refs.append(ref)
                ep.note(tt, "abandon", ref, "call abandoned in queue")
                ep.note(tt, "wait", ref, "voice", "", wait)
                ep.seen(tt + wait, "voice")
                return CallOut(refs, False, handled, tt + wait, False)
            agent = w.agent(rng, site_country, dept)
            talk = 90 + int(rng.random() * 700)
            hold = int(rng.random() * 240) if rng.random() < 0.4 else 0
            given: list[str] = []
            restated: list[str] = []
            nxt = "" if last else depts[leg]
            disp = (
                "transferred"
                if not last
                else (
                    ("resolved" if ep.intent != "info" else "info_given")
                    if resolved
                    else ("callback_promised" if rng.random() < 0.6 else "escalated")
                )
            )
            ref_self = f"calls:{key}"
            for kind in _fact_kinds(ep):
                if not ep.given(kind):
                    ep.give(kind, ref_self)
                    given.append(_fact_note(kind, lang, slots))
                elif rng.random() < (restate_p if leg == 1 else 0.6):
                    ep.give(kind, ref_self)
                    restated.append(ep.fact_value(kind))
            s2 = tx.Slots(slots)
            s2["dept"] = tx.dept_name(lang, nxt or dept)
            tone = ep.tone
            note = tx.call_note(rng, lang, ep.intent, s2, tone, disp, given, restated)
            if notes_extra and leg == 1:
                note = f"{note} {notes_extra}"
            row = (
                call_id,
                str(leg),
                site,
                start,
                ani,
                ivr,
                queue,
                dept,
                str(wait),
                str(talk),
                str(hold),
                agent.agent_id,
                nxt,
                disp,
                crm,
                note,
            )
            ref = self._truth("calls", key, p, ep, tt, _semi(row), text_tone=tone, lang=lang)
            refs.append(ref)
            handled.append(dept)
            ep.note(tt, "handled", ref, dept)
            ep.note(tt, "wait", ref, "voice", "", wait)
            ep.seen(tt, "voice", dept)
            if crm:
                self.reg.add("customer_id", "crm", crm, "crm:" + crm, p.pid)
            if restated:
                ep.bad += 1
            if leg > 1:
                ep.note(prev_t, "transfer", refs[-2], ref, dept)
                ep.bad += 1
            prev_t = tt
            tt += wait + talk + hold
        return CallOut(refs, True, handled, tt, resolved)

    # --- chat ----------------------------------------------------------------------------------

    def chat(
        self,
        p: Person,
        ep: Episode,
        t: int,
        dept: str,
        *,
        abandon: bool = False,
        long_wait: bool = False,
        transfer_to: str = "",
        resolved: bool = False,
        opening: str | None = None,
    ) -> CallOut:
        from . import texts as tx

        rng, w = self.rng, self.w
        n = w.next("chat")
        conv = f"CH-{n:06d}"
        lang, slots, country = p.lang, ep.slots, p.country
        ck = p.cookie_at(t)
        r = rng.random()
        vemail = "" if r < 0.25 else self.email_given(p, spaces_ok=True, typo_boost=0.05)
        vname = p.first if rng.random() < 0.85 else p.first.lower()
        self.reg.add("anonymous_id", "", ck.value, ck.value, p.pid)
        msgs: list[tuple[int, str, str, str, str, int | None]] = []  # t, sender, agent, text, status, tone
        refs: list[str] = []
        tt = t
        msgs.append((tt, "bot", "", tx.bot(rng, lang, "hello"), "", 1))
        tt += 10 + int(rng.random() * 40)
        first_customer_t = tt
        tone = ep.tone
        need_text = opening or tx.customer_statement(
            rng, lang, ep.intent, slots, tone, greet=rng.random() < 0.5
        )
        msgs.append((tt, "customer", "", need_text, "", tone))
        fact_msg_idx = len(msgs) - 1
        tt += 2 + int(rng.random() * 5)
        msgs.append((tt, "bot", "", tx.bot(rng, lang, "handoff"), "", 1))
        msgs.append((tt + 1, "system", "", tx.system(rng, lang, "queue"), "", None))
        wait = 15 + int(rng.random() * 95)
        if long_wait or abandon:
            wait = 121 + int(rng.random() * 800)
        agent = w.agent(rng, country, dept)
        restate_idx: list[tuple[int, str]] = []
        if abandon:
            tt = first_customer_t + wait
            msgs.append((tt, "system", "", tx.system(rng, lang, "abandoned"), "abandoned", None))
        else:
            tt = first_customer_t + wait
            s2 = tx.Slots(slots)
            s2["agent"] = agent.first
            s2["brand"] = cat.BRAND_NAME[country]
            s2["name"] = vname
            msgs.append((tt, "agent", agent.agent_id, tx.agent_greet(rng, lang, s2), "", 1))
            agent_first_t = tt
            for kind in _fact_kinds(ep):
                if ep.given(kind) and opening is not None and rng.random() < 0.55:
                    tt += 20 + int(rng.random() * 60)
                    msgs.append((tt, "agent", agent.agent_id, tx.agent_ask(rng, lang, kind, s2), "", 1))
                    tt += 15 + int(rng.random() * 90)
                    msgs.append((tt, "customer", "", tx.restate(rng, lang, kind, s2), "", tone))
                    restate_idx.append((len(msgs) - 1, kind))
            tt += 30 + int(rng.random() * 240)
            if transfer_to:
                s2["dept"] = tx.dept_name(lang, transfer_to)
                msgs.append((tt, "agent", agent.agent_id, tx.agent_transfer(rng, lang, s2), "", 1))
                msgs.append((tt + 5, "system", "", tx.system(rng, lang, "transferred"), "transferred", None))
            else:
                s2["dept"] = tx.dept_name(lang, cat.INTENT_DEPT[ep.intent])
                s2["ticket"] = ep.ticket.tid if isinstance(ep.ticket, Ticket) else ""
                msgs.append(
                    (
                        tt,
                        "agent",
                        agent.agent_id,
                        tx.agent_answer(rng, lang, ep.intent, s2, resolved, sorry=tone >= 2),
                        "",
                        1,
                    )
                )
                tt += 20 + int(rng.random() * 120)
                ctone = 0 if (resolved and tone <= 1 and rng.random() < 0.6) else tone
                msgs.append((tt, "customer", "", tx.thanks(rng, lang, ctone, s2), "", ctone))
                tt += 10 + int(rng.random() * 40)
                msgs.append((tt, "agent", agent.agent_id, tx.agent_bye(rng, lang, s2), "resolved", 0))
        vid = ck.value
        for i, (mt, sender, agent_id, text, status, mtone) in enumerate(msgs, start=1):
            mid = f"{conv}-{i:03d}"
            obj = {
                "conversation_id": conv,
                "message_id": mid,
                "ts": iso_z(mt),
                "sender": sender,
                "agent_id": agent_id or None,
                "department": dept,
                "visitor_id": vid,
                "visitor_email": vemail,
                "visitor_name": vname,
                "text": text,
                "status": status or None,
            }
            refs.append(self._truth("chat", mid, p, ep, mt, dumps(obj), text_tone=mtone, lang=lang))
        if vemail:
            pass  # registered by email_given
        ref0 = refs[fact_msg_idx]
        ep.contact(msgs[fact_msg_idx][0], ref0, "chat")
        ep.seen(msgs[-1][0], "chat", "" if abandon else dept)
        if opening is None:
            for kind in _fact_kinds(ep):
                ep.give(kind, ref0, msgs[fact_msg_idx][3])
        for idx, kind in restate_idx:
            if ep.give(kind, refs[idx], msgs[idx][3]):
                ep.bad += 1
        if abandon:
            ep.note(msgs[-1][0], "abandon", refs[-1], "chat abandoned")
            ep.note(first_customer_t, "wait", ref0, "chat", "", wait)
            ep.bad += 1
            return CallOut(refs, False, [], msgs[-1][0], False)
        agent_ref = refs[4]
        ep.note(agent_first_t, "handled", agent_ref, dept)
        ep.note(first_customer_t, "wait", ref0, "chat", agent_ref, wait)
        if wait > 120:
            ep.bad += 1
        return CallOut(refs, True, [dept], msgs[-1][0], resolved and not transfer_to)

    # --- email ---------------------------------------------------------------------------------

    def email_in(
        self, p: Person, ep: Episode, t: int, thread: str, subject: str, body: str, dept: str, tone: int
    ) -> tuple[str | None, str]:
        """A customer's email; returns its reference and the address it came from."""
        rng, w = self.rng, self.w
        if t > END:
            return None, ""
        addr = self.email_given(p, spaces_ok=False)
        r = rng.random()
        frm = f'"{p.full}" <{addr}>' if r < 0.7 else (f"{p.full} <{addr}>" if r < 0.8 else addr)
        n = w.next("mail")
        host = addr.partition("@")[2].lower() or "mail.example"
        mid = f"<{_compact(t)}.{n:x}@mail.{host}>"
        country = p.country
        off = zone_offset(t, country)
        obj = {
            "message_id": mid,
            "thread_id": thread,
            "date": rfc2822(t, off),
            "from": frm,
            "to": cat.MAILBOX[country],
            "subject": subject,
            "body": body,
            "direction": "inbound",
            "mailbox": cat.MAILBOX_NAME[country],
            "department": dept,
            "agent_id": None,
        }
        ep.seen(t, "email", dept)
        return self._truth("email", mid, p, ep, t, dumps(obj), text_tone=tone, lang=p.lang), addr

    def email_out(
        self, p: Person, ep: Episode, t: int, thread: str, subject: str, body: str, dept: str, to_addr: str
    ) -> str | None:
        rng, w = self.rng, self.w
        if t > END:
            return None
        country = p.country
        agent = w.agent(rng, country, dept)
        n = w.next("mail")
        mid = f"<{_compact(t)}.{n:x}@{cat.MAIL_HOST[country]}>"
        off = zone_offset(t, country)
        to = f'"{p.full}" <{to_addr}>' if rng.random() < 0.5 else to_addr
        frm = f'"{cat.BRAND_NAME[country]}" <{cat.MAILBOX[country]}>'
        obj = {
            "message_id": mid,
            "thread_id": thread,
            "date": rfc2822(t, off),
            "from": frm,
            "to": to,
            "subject": subject,
            "body": body,
            "direction": "outbound",
            "mailbox": cat.MAILBOX_NAME[country],
            "department": dept,
            "agent_id": agent.agent_id,
        }
        ep.seen(t, "email", dept)
        self.reg.add("email", "", to_addr, _canon_for(p, to_addr), p.pid)
        return self._truth("email", mid, p, ep, t, dumps(obj), text_tone=1, lang=p.lang)

    # --- CRM -----------------------------------------------------------------------------------

    def ticket_open(
        self,
        p: Person,
        ep: Episode,
        t: int,
        origin: str,
        dept: str,
        comment: str,
        handle: str = "",
        tone: int = 1,
    ) -> tuple[Ticket, str | None]:
        from . import texts as tx

        rng, w = self.rng, self.w
        n = w.next("ticket")
        country = p.country
        name = p.full if rng.random() < 0.85 else f"{p.last.upper()} {p.first.upper()}"
        crm = p.crm_id if p.crm_id and rng.random() < 0.9 else ""
        email = phone = ""
        r = rng.random()
        if r < 0.025:
            email = PLACEHOLDER_EMAILS[int(rng.random() * len(PLACEHOLDER_EMAILS))]
            self.reg.add("email", "", email, email, p.pid)
        elif r < 0.85:
            email = self.email_given(p)
        r = rng.random()
        if r < 0.025:
            phone = PLACEHOLDER_PHONES[int(rng.random() * len(PLACEHOLDER_PHONES))]
            self.reg.add("phone", "", phone, placeholder_phone_norm(phone), p.pid)
        elif r < 0.75 or not (crm or email or handle):  # the CRM wants at least one way to reach them
            ph, why = self.phone_given(p)
            phone = phone_writing(rng, ph, national_ok=ph.country == "IT")
            self.reg_phone(phone, ph, p.pid, why)
        cats = cat.CRM_CATEGORY.get(ep.intent, ("ALT-99 Altro",))
        category = cats[int(rng.random() * len(cats))]
        order_ref = (
            ep.slots["order"] if ep.intent in ("delivery_problem", "refund") and rng.random() < 0.8 else ""
        )
        agent = w.agent(rng, country, dept)
        tk = Ticket(
            f"TCK-{n:07d}",
            country,
            p.lang,
            crm,
            name,
            email,
            phone,
            handle,
            origin,
            dept,
            agent.agent_id,
            category,
            tx.ticket_subject(rng, p.lang, ep.intent, ep.slots),
            order_ref,
        )
        if crm:
            self.reg.add("customer_id", "crm", crm, "crm:" + crm, p.pid)
        ref = self.ticket_update(p, ep, tk, t, "created", "new", comment, tone=tone)
        if ep.ticket is None:
            ep.ticket = tk
        return tk, ref

    def ticket_update(
        self,
        p: Person,
        ep: Episode,
        tk: Ticket,
        t: int,
        action: str,
        status: str,
        comment: str,
        dept: str | None = None,
        tone: int | None = 1,
    ) -> str | None:
        if t <= tk.last_t:  # updates of one ticket are numbered in time order
            t = tk.last_t + 20 + int(self.rng.random() * 300)
        if t > END:
            return None
        tk.last_t = t
        if dept is not None and dept != tk.dept:
            tk.dept = dept
            tk.agent = self.w.agent(self.rng, tk.country, dept).agent_id
        tk.upd += 1
        tk.status = status
        off = zone_offset(t, tk.country)
        row = (
            tk.tid,
            str(tk.upd),
            iso_offset(t, off),
            action,
            status,
            tk.crm,
            tk.name,
            tk.email,
            tk.phone,
            tk.handle,
            tk.origin,
            tk.dept,
            tk.agent,
            tk.category,
            tk.subject,
            comment,
            tk.order_ref,
        )
        line = ",".join(row[:14]) + "," + q(row[14]) + "," + q(row[15]) + "," + row[16] + "\n"
        ep.touch(t)
        return self._truth(
            "crm",
            f"{tk.tid}|{tk.upd}",
            p,
            ep,
            t,
            line,
            text_tone=tone if comment else None,
            lang=tk.lang if comment else None,
        )

    # --- shop ----------------------------------------------------------------------------------

    def new_order(
        self,
        p: Person,
        t: int,
        items: list[cat.Product],
        channel: str,
        address: dict[str, str],
        store_phone: bool = False,
    ) -> Order:
        rng, w = self.rng, self.w
        country = p.country
        pfx = "IT" if country == "IT" else "UK"
        year = year_of(t)
        ckey = f"order-{pfx}-{year}"
        n = w.counters.get(ckey, w.order_serial + w.lane)
        w.counters[ckey] = n + w.lanes * (1 + int(rng.random() * 3))
        oid = f"{pfx}-{year}-{n:07d}"
        cur = "EUR" if country == "IT" else "GBP"
        lines: list[dict[str, object]] = []
        total = 0.0
        for prod in items:
            price = prod.price_eur if country == "IT" else prod.price_gbp
            qty = 1 if prod.big or rng.random() < 0.85 else 2
            lines.append(
                {
                    "sku": prod.sku,
                    "name": prod.name_it if country == "IT" else prod.name_en,
                    "qty": qty,
                    "unit_price": price,
                }
            )
            total += price * qty
        email = self.email_given(p, spaces_ok=True)
        ph, why = self.phone_given(p)
        if store_phone and rng.random() < 0.1:
            phone = PLACEHOLDER_PHONES[int(rng.random() * 2)]
            self.reg.add("phone", "", phone, placeholder_phone_norm(phone), p.pid)
        else:
            phone = phone_writing(rng, ph, national_ok=ph.country == address["country"])
            self.reg_phone(phone, ph, p.pid, why)
        shop_id = p.shop_id or ""
        if shop_id:
            self.reg.add("customer_id", "shop", shop_id, "shop:" + shop_id, p.pid)
        carriers = cat.CARRIERS_IT if country == "IT" else cat.CARRIERS_GB
        carrier = carriers[int(rng.random() * len(carriers))]
        tracking = f"{carrier[:2].upper()}{int(rng.random() * 10**10):010d}"
        name = p.full if rng.random() < 0.9 else p.full.upper()
        return Order(
            oid,
            country,
            shop_id,
            email,
            phone,
            name,
            round(total, 2),
            cur,
            lines,
            address,
            channel,
            carrier,
            tracking,
        )

    def order_status(self, p: Person, ep: Episode | None, o: Order, t: int, status: str) -> str | None:
        if t > END or status in o.statuses:
            return None
        o.statuses.add(status)
        shipped = status not in ("placed", "paid", "cancelled")
        row = (
            o.order_id,
            status,
            t,
            o.shop_id or None,
            o.email,
            o.phone,
            o.name,
            o.total,
            o.currency,
            o.items,
            o.address,
            o.channel,
            o.carrier if shipped else None,
            o.tracking if shipped else None,
        )
        if ep is not None:
            ep.seen(t, o.channel)
        return self._truth("shop", f"{o.order_id}|{status}", p, ep, t, row)

    # --- stores --------------------------------------------------------------------------------

    def pos(
        self,
        p: Person,
        ep: Episode | None,
        t: int,
        store: cat.Store,
        kind: str,
        amount: float,
        items: str,
        note: str,
        tone: int | None = None,
    ) -> str | None:
        rng, w = self.rng, self.w
        if t > END:
            return None
        ckey = "rcpt-" + store.store_id
        n = w.next(ckey)
        receipt = f"{n:07d}"
        card = ""
        if p.loyalty and rng.random() < 0.6:
            r = rng.random()
            lc = p.loyalty
            card = (
                lc
                if r < 0.4
                else (f"{lc[:4]} {lc[4:8]} {lc[8:]}" if r < 0.75 else f"{lc[:4]}-{lc[4:8]}-{lc[8:]}")
            )
            self.reg.add("loyalty_id", "elettra", card, "elettra:" + lc, p.pid)
        off = zone_offset(t, store.country)
        staff = f"{store.store_id}-S{1 + int(rng.random() * store.staff):02d}"
        cur = "EUR" if store.country == "IT" else "GBP"
        row = (
            store.store_id,
            receipt,
            iso_local(t, off),
            store.country,
            card,
            kind,
            f"{amount:.2f}",
            cur,
            items,
            staff,
            note,
        )
        line = ",".join(row[:10]) + "," + q(row[10]) + "\n"
        if ep is not None:
            ep.seen(t, "store", "customer_service" if kind == "service_desk" else "")
        return self._truth(
            "pos",
            f"{store.store_id}|{receipt}",
            p,
            ep,
            t,
            line,
            text_tone=tone if note else None,
            lang=p.lang if note else None,
        )

    # --- surveys -------------------------------------------------------------------------------

    def survey(
        self,
        p: Person,
        ep: Episode | None,
        sent: int,
        answered: int,
        survey: str,
        context: str,
        score: int,
        comment: str,
        tone: int,
    ) -> str | None:
        w = self.w
        if answered > END:
            return None
        n = w.next("survey")
        rid = f"R{n:08d}"
        email = self.email_given(p)
        crm = p.crm_id if p.crm_id and self.rng.random() < 0.7 else ""
        if crm:
            self.reg.add("customer_id", "crm", crm, "crm:" + crm, p.pid)
        nps = str(score) if survey == "nps_relationship" else ""
        csat = str(score) if survey == "csat_after_contact" else ""
        ces = str(score) if survey == "ces_after_contact" else ""
        row = (
            rid,
            survey,
            iso_z(sent),
            iso_z(answered),
            email,
            crm,
            context,
            nps,
            csat,
            ces,
            comment,
            p.lang,
        )
        line = ",".join(row[:10]) + "," + q(row[10]) + "," + row[11] + "\n"
        if ep is not None:
            ep.seen(answered, "survey")
        return self._truth(
            "surveys",
            rid,
            p,
            ep,
            answered,
            line,
            text_tone=tone if comment else None,
            lang=p.lang if comment else None,
        )

    # --- social --------------------------------------------------------------------------------

    def social(
        self,
        p: Person | None,
        ep: Episode | None,
        t: int,
        platform: str,
        handle: str,
        kind: str,
        text: str,
        lang: str,
        author: str,
        rating: int | None = None,
        reply_to: str | None = None,
        tone: int = 1,
    ) -> tuple[str | None, str]:
        w = self.w
        if t > END:
            return None, ""
        n = w.next("social")
        if platform == "trustpilot":
            sid = f"{(n * 2654435761 + 977) % 2**96:024x}"
        elif platform == "instagram":
            sid = f"{3_100_000_000_000_000_000 + n * 7919}"
        else:
            sid = f"{1_880_000_000_000_000_000 + n * 104729}"
        obj = {
            "id": sid,
            "platform": platform,
            "handle": handle,
            "ts": iso_z(t),
            "kind": kind,
            "text": text,
            "rating": rating,
            "lang": lang,
            "author_name": author,
            "in_reply_to": reply_to,
            "from_brand": p is None,
        }
        if p is not None:
            self.reg.add("handle", "social", f"{platform}:{handle}", f"{platform}:{handle.lower()}", p.pid)
        if ep is not None:
            ep.seen(t, "social")
        ref = self._truth("social", sid, p, ep, t, dumps(obj), text_tone=tone, lang=lang)
        return ref, sid


def _semi(row: tuple[str, ...]) -> str:
    return ";".join(q_semi(x) for x in row) + "\n"


def _compact(t: int) -> str:
    from .clock import compact

    return compact(t)


def _fact_kinds(ep: Episode) -> tuple[str, ...]:
    from .episodes import FACT_KINDS

    return FACT_KINDS.get(ep.intent, ())


_FACT_NOTE = {
    "order_number": {"it": "Ordine {order}.", "en": "Order {order}."},
    "product": {"it": "Modello {model}.", "en": "Model {model}."},
    "problem": {"it": "Problema: {problem}.", "en": "Problem: {problem}."},
    "address": {"it": "Nuovo indirizzo: {address}.", "en": "New address: {address}."},
}


def _fact_note(kind: str, lang: str, slots: dict[str, str]) -> str:
    return _FACT_NOTE[kind][lang].format_map(slots)


def _canon_for(p: Person, addr: str) -> str:
    c = canon_email(addr)
    if p.company is not None and c == p.company.mailbox:
        return c
    if p.work_email is not None and c == canon_email(p.work_email):
        return c
    return p.email_canon


__all__ = ["HOUR", "MINUTE", "Actor", "CallOut", "Order", "Registry", "Ticket"]
