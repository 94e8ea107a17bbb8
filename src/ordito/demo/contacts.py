"""Contacts: how a customer reaches the brand about a need (phone, chat, email, store, social)."""

from __future__ import annotations

from . import catalog as cat
from . import texts as tx
from .channels import CallOut, Ticket
from .clock import (
    CALL_HOURS,
    CHAT_HOURS,
    DAY,
    END,
    HOUR,
    MINUTE,
    OFFICE_HOURS,
    SOCIAL_HOURS,
    STORE_HOURS,
    next_open,
)
from .episodes import FACT_KINDS, Episode
from .people import Person
from .service import Service, h, wrong_dept
from .texts import Slots


class Contacts(Service):
    def contact(self, ch: str, p: Person, ep: Episode, t: int, target: str, solve: bool) -> CallOut:
        hours = {"voice": CALL_HOURS, "chat": CHAT_HOURS, "store": STORE_HOURS, "social": SOCIAL_HOURS}.get(
            ch
        )
        zone = ("IT" if p.lang == "it" else "GB") if ch == "voice" else p.country
        if hours is not None and next_open(t, zone, hours, 0.99) > END - 3 * HOUR:
            return CallOut([], False, [], t, False)  # the period ends before they could get through
        if ch == "voice":
            return self.by_phone(p, ep, t, target, solve)
        if ch == "chat":
            return self.by_chat(p, ep, t, target, solve)
        if ch == "store":
            return self.at_store(p, ep, t, solve)
        if ch == "social":
            return self.on_social(p, ep, t, solve)
        return self.by_email(p, ep, t, target, solve)

    def by_phone(self, p: Person, ep: Episode, t: int, target: str, solve: bool) -> CallOut:
        a, rng = self.a, self.rng
        r = rng.random()
        if r < 0.04:
            ep.bad += 1
            return a.call(p, ep, t, [target], ivr_hangup=True)
        first = target if rng.random() < 0.62 else wrong_dept(rng, target)
        if r < 0.12:
            ep.bad += 1
            return a.call(p, ep, t, [first], abandon=True)
        depts = [first]
        if first != target and rng.random() < 0.6:
            if rng.random() < 0.12:
                depts.append(wrong_dept(rng, first) if first == "customer_service" else "customer_service")
            depts.append(target)
        long_wait = rng.random() < 0.13
        if long_wait:
            ep.bad += 1
        resolved = depts[-1] == target and solve
        out = a.call(p, ep, t, depts, long_wait=long_wait, resolved=resolved)
        self.ticket_after(p, ep, out.end, "phone", depts[-1], depts, phone=out.phone)
        return out

    def by_chat(self, p: Person, ep: Episode, t: int, target: str, solve: bool) -> CallOut:
        a, rng, country = self.a, self.rng, p.country
        t = next_open(t, country, CHAT_HOURS, rng.random())
        if rng.random() < 0.5 and p.customer:
            page = cat.PAGES[country]["contact" if rng.random() < 0.4 else "support"]
            ev = "contact_page" if page is cat.PAGES[country]["contact"] else "page_view"
            out, t2 = a.web_session(p, ep, t, [h(ev, page)])
            if out:
                ep.note(out[0][2], "ss", out[0][0], "web")
                if ev == "contact_page":
                    ep.note(out[0][2], "dead", out[0][0], "contact_page")
                t = t2
        dept = target if rng.random() < 0.6 else wrong_dept(rng, target)
        abandon = rng.random() < 0.08
        transfer = dept != target and rng.random() < 0.6 and not abandon
        long_wait = rng.random() < 0.16
        opening = None
        if ep.n_contacts > 0:
            opening = tx.followup(rng, p.lang, ep.tone, ep.slots)
        res = a.chat(
            p,
            ep,
            t,
            dept,
            abandon=abandon,
            long_wait=long_wait,
            transfer_to=target if transfer else "",
            resolved=solve and dept == target,
            opening=opening,
        )
        if abandon:
            return res
        handled = list(res.handled_by)
        if transfer and res.end < END - 2 * HOUR:
            ep.bad += 1
            res2 = a.chat(
                p,
                ep,
                res.end + 20 + int(rng.random() * 200),
                target,
                resolved=solve,
                opening=tx.followup(rng, p.lang, ep.tone, ep.slots),
            )
            handled += res2.handled_by
            res = CallOut(
                res.refs + res2.refs,
                res2.answered,
                handled,
                res2.end,
                res2.resolved,
                email=res.email or res2.email,
            )
        self.ticket_after(p, ep, res.end, "chat", handled[-1] if handled else dept, handled, email=res.email)
        return res

    def by_email(self, p: Person, ep: Episode, t: int, target: str, solve: bool) -> CallOut:
        a, rng, lang = self.a, self.rng, p.lang
        s = ep.slots
        first = not any(e[1] == "contact" and e[3] == "email" for e in ep.log)
        thread = s["thread"]
        if not thread:
            n = self.w.next("thread")
            thread = s["thread"] = f"T-{n:06d}"
        subject = tx.ticket_subject(rng, lang, ep.intent, s)
        if not first:
            subject = ("R: " if lang == "it" else "Re: ") + subject
        tone = ep.tone
        lines: list[str] = []
        restating: list[str] = []
        if not ep.n_contacts or not all(ep.given(k) for k in FACT_KINDS.get(ep.intent, ())):
            lines.append(tx.customer_statement(rng, lang, ep.intent, s, tone))
        else:
            lines.append(tx.followup(rng, lang, tone, s))
            for kind in FACT_KINDS.get(ep.intent, ()):
                if rng.random() < 0.5:
                    lines.append(tx.restate(rng, lang, kind, s))
                    restating.append(kind)
        body = tx.email_body(rng, lang, lines, s)
        dept = target if rng.random() < 0.7 else wrong_dept(rng, target)
        ref_in, addr = a.email_in(p, ep, t, thread, subject, body, dept, tone)
        ep.contact(t, ref_in, "email")
        for kind in FACT_KINDS.get(ep.intent, ()):
            if (not ep.given(kind) or kind in restating) and ep.give(kind, ref_in, body):
                ep.bad += 1
        r = rng.random()
        if r < 0.05:
            ep.note(t, "wait", ref_in, "email", "", END - t)
            return CallOut([ref_in] if ref_in else [], False, [], t, False)
        delay = (
            int(49 * HOUR + rng.random() * 100 * HOUR) if r < 0.27 else int(HOUR + rng.random() * 30 * HOUR)
        )
        delay = next_open(t + delay, p.country, OFFICE_HOURS, rng.random()) - t
        if delay > 48 * HOUR:
            ep.bad += 1
        resolved = solve and dept == target
        s2 = Slots(s)
        s2["agent"] = self.w.agent(rng, p.country, dept).first
        s2["dept"] = tx.dept_name(lang, target)
        tk = ep.ticket if isinstance(ep.ticket, Ticket) else None
        s2["ticket"] = tk.tid if tk else ""
        answer = tx.agent_answer(rng, lang, ep.intent, s2, resolved, sorry=tone >= 2)
        to_addr = addr or p.email
        ref_out = a.email_out(
            p,
            ep,
            t + delay,
            thread,
            ("R: " if lang == "it" else "Re: ") + subject,
            tx.email_reply(rng, lang, answer, s2),
            dept,
            to_addr,
        )
        ep.note(t, "wait", ref_in, "email", ref_out or "", delay if ref_out else END - t)
        if ref_out is None:
            return CallOut([ref_in] if ref_in else [], False, [], t, False)
        ep.note(t + delay, "handled", ref_out, dept)
        self.ticket_after(p, ep, t + delay, "email", dept, [dept], email=addr)
        return CallOut([x for x in (ref_in, ref_out) if x], True, [dept], t + delay, resolved, email=addr)

    def at_store(self, p: Person, ep: Episode, t: int, solve: bool) -> CallOut:
        a, rng = self.a, self.rng
        store = self.store_for(p)
        t = next_open(t, store.country, STORE_HOURS, rng.random())
        s = ep.slots
        tone = ep.tone
        note = tx.pos_note(rng, p.lang, "dropoff", s)
        ref = a.pos(p, ep, t, store, "service_desk", 0.0, s["model"], note, tone=tone)
        ep.contact(t, ref, "store")
        ep.note(t, "handled", ref, "store_operations")
        ep.seen(t, "store", "store_operations")
        for kind in FACT_KINDS.get(ep.intent, ()):
            if ep.give(kind, ref, note):
                ep.bad += 1
        back = next_open(t + int(5 * DAY + rng.random() * 20 * DAY), store.country, STORE_HOURS, rng.random())
        ref2 = a.pos(
            p,
            ep,
            back,
            store,
            "service_desk",
            0.0 if rng.random() < 0.8 else 25.0,
            s["model"],
            tx.pos_note(rng, p.lang, "pickup", s),
            tone=0,
        )
        if ref2 is None:
            return CallOut([ref] if ref else [], True, ["store_operations"], t, False)
        return CallOut(
            [x for x in (ref, ref2) if x], True, ["store_operations", "technical_support"], back, True
        )

    def on_social(self, p: Person, ep: Episode, t: int, solve: bool) -> CallOut:
        a, rng, lang, country = self.a, self.rng, p.lang, p.country
        platform, handle = self.handle_of(p, rng)
        s = Slots(ep.slots)
        s["handle"] = cat.BRAND_HANDLE[country]
        s["core"] = tx.core(rng, lang, ep.intent, ep.slots)
        tone = max(ep.tone, 1)
        text = tx.social_post(rng, lang, tone, s, [])
        ref, sid = a.social(p, ep, t, platform, handle, "mention", text, lang, p.full, tone=tone)
        brand_t = next_open(
            t + int(10 * MINUTE + rng.random() * 10 * HOUR), country, SOCIAL_HOURS, rng.random()
        )
        a.social(
            None,
            ep,
            brand_t,
            platform,
            cat.BRAND_HANDLE[country],
            "reply",
            tx.brand_reply(rng, lang, s, positive=False),
            lang,
            cat.BRAND_NAME[country],
            reply_to=sid,
        )
        dm_t = brand_t + int(5 * MINUTE + rng.random() * 5 * HOUR)
        dm_text = tx.customer_statement(rng, lang, ep.intent, ep.slots, ep.tone, greet=False)
        dm_ref, dm_id = a.social(p, ep, dm_t, platform, handle, "dm", dm_text, lang, p.full, tone=ep.tone)
        if dm_ref is None:
            return CallOut([x for x in (ref,) if x], False, [], t, False)
        ep.contact(dm_t, dm_ref, "social")
        for kind in FACT_KINDS.get(ep.intent, ()):
            if ep.give(kind, dm_ref, dm_text):
                ep.bad += 1
        rep_t = next_open(
            dm_t + int(10 * MINUTE + rng.random() * 8 * HOUR), country, SOCIAL_HOURS, rng.random()
        )
        tk, _ = a.ticket_open(
            p,
            ep,
            rep_t - 120,
            "social",
            "customer_service",
            tx.ticket_from(rng, lang, "social", dm_text),
            handle=f"{platform}:{handle}",
        )
        answer = tx.agent_answer(
            rng,
            lang,
            ep.intent,
            Slots(ep.slots, dept=tx.dept_name(lang, "customer_service"), ticket=tk.tid),
            False,
            sorry=True,
        )
        rep_ref, _ = a.social(
            None,
            ep,
            rep_t,
            platform,
            cat.BRAND_HANDLE[country],
            "dm",
            answer,
            lang,
            cat.BRAND_NAME[country],
            reply_to=dm_id,
        )
        if rep_ref is not None:
            ep.note(rep_t, "handled", rep_ref, "customer_service")
            ep.seen(rep_t, "social", "customer_service")
        return CallOut(
            [x for x in (ref, dm_ref, rep_ref) if x], rep_ref is not None, ["customer_service"], rep_t, False
        )
