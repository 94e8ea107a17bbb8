"""Conversations: calls (legs through departments), chats and emails, as the customer lives them."""

from __future__ import annotations

from . import catalog as cat
from .channels import CallOut, Ticket, Touchpoints
from .clock import (
    CALL_HOURS,
    END,
    dmy_local,
    iso_z,
    next_open,
    rfc2822,
    zone_offset,
)
from .episodes import Episode
from .people import Person, ani_writing, canon_email
from .silos import dumps, q_semi

# The agent identifies a caller who has a CRM record (by the number, or by asking) on most answered calls.
CALLER_IDENTIFIED = 0.75


class Conversations(Touchpoints):
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
        phone_ids: tuple[str, ...] = ()
        if withheld:
            ani = "anonymous"
        else:
            ph, why = self.phone_given(p)
            ani = ani_writing(rng, ph, site_country)
            self.reg_phone(ani, ph, p.pid, why)
            phone_ids = ("p" + ph.e164,)
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
        crm_known = p.crm_id is not None and rng.random() < CALLER_IDENTIFIED
        prev_t = t
        ep.contact(t, f"calls:{call_id}|1", "voice")
        for leg, dept in enumerate(depts, start=1):
            last = leg == len(depts)
            queue = f"{pfx}_{cat.DEPT_CODE[dept]}"
            off = zone_offset(tt, site_country)
            start = dmy_local(tt, off)
            crm = p.crm_id if (crm_known and p.crm_id and (leg == 1 or rng.random() < 0.7)) else ""
            key = f"{call_id}|{leg}"
            ids = (*phone_ids, "ccrm:" + crm) if crm else phone_ids
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
                ref = self._truth("calls", key, p, ep, tt, _semi(row), ids=phone_ids)  # no agent, no CRM id
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
                ref = self._truth("calls", key, p, ep, tt, _semi(row), ids=phone_ids)  # no agent, no CRM id
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
            ref = self._truth("calls", key, p, ep, tt, _semi(row), text_tone=tone, lang=lang, ids=ids)
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
        return CallOut(refs, True, handled, tt, resolved, phone=None if withheld else (ph, why))

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
        if p.shop_id and ck.logged:  # a signed-in visitor: the pre-chat form has the account's address
            vemail = p.email
            self.reg.add("email", "", vemail, p.email_canon, p.pid)
        else:
            vemail = "" if r < 0.25 else self.email_given(p, spaces_ok=True, typo_boost=0.05)
        vname = p.first if rng.random() < 0.85 else p.first.lower()
        self.reg.add("anonymous_id", "", ck.value, ck.value, p.pid)
        ids = ("a" + ck.value, self.email_key(p, vemail)) if vemail else ("a" + ck.value,)
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
            refs.append(self._truth("chat", mid, p, ep, mt, dumps(obj), text_tone=mtone, lang=lang, ids=ids))
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
        return CallOut(refs, True, [dept], msgs[-1][0], resolved and not transfer_to, email=vemail)

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
        ids = (self.email_key(p, addr),)
        return self._truth("email", mid, p, ep, t, dumps(obj), text_tone=tone, lang=p.lang, ids=ids), addr

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
        self.reg.add("email", "", to_addr, canon_for(p, to_addr), p.pid)
        ids = (self.email_key(p, to_addr),)
        return self._truth("email", mid, p, ep, t, dumps(obj), text_tone=1, lang=p.lang, ids=ids)

    # --- CRM -----------------------------------------------------------------------------------


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


def canon_for(p: Person, addr: str) -> str:
    """The true canonical value of an address a person wrote (a typo's is the address they meant)."""
    c = canon_email(addr)
    if p.company is not None and c == p.company.mailbox:
        return c
    if p.work_email is not None and c == canon_email(p.work_email):
        return c
    return p.email_canon
