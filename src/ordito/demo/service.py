"""The service loop: a need served through self-service and contacts until met, given up, or time ends.

Also the records around it: CRM tickets after contacts, resolution in the silos, relapses, and what
customers do afterwards (surveys, posts, reviews). The contacts themselves are in
:mod:`ordito.demo.contacts`.
"""

from __future__ import annotations

from collections.abc import Callable
from random import Random

from . import catalog as cat
from . import texts as tx
from .channels import AppEv, CallOut, Hit, Order, Ticket
from .clock import (
    DAY,
    END,
    HOUR,
    MINUTE,
    OFFICE_HOURS,
    SOCIAL_HOURS,
    iso_z,
    next_open,
)
from .episodes import FACT_KINDS, Episode, Friction, detect, facts_rows
from .people import Person, Phone, new_handle
from .systems import Actor
from .texts import Slots, pick
from .world import World

# Social care answers public complaints, and asks their authors for their details in private: then the
# handle goes on the customer's ticket.
BRAND_REPLIES = 0.85
SOCIAL_CARE_LINKS = 0.9

SELF_SERVICE_P = {
    "delivery_problem": 0.7,
    "repair": 0.55,
    "refund": 0.6,
    "address_change": 0.9,
    "subscription": 0.5,
    "info": 0.4,
}


def _no_push(t: int, kind: str, arg: object = None) -> None:
    return None


def h(ev: str, page: cat.Page, form: str = "", err: str = "", sq: str = "", cv: str = "") -> Hit:
    """A hit on ``page``; the plain page view is prebuilt."""
    if ev == "page_view" and not (form or err or sq or cv):
        return page.pv
    cur = ("EUR" if page.country == "IT" else "GBP") if cv else ""
    return (ev, f"{ev},{page.body},{form},{err},{sq},{cv},{cur}")


_STORE_CITIES = {s.city for s in cat.STORES}


def slots_for(p: Person, prod: cat.Product | None = None) -> Slots:
    city = p.hh.city.name
    if city not in _STORE_CITIES:  # the store of a question is one the brand has
        city = (cat.STORES_IT if p.country == "IT" else cat.STORES_GB)[0].city
    s = Slots(name=p.first, full=p.full, brand=cat.BRAND_NAME[p.country], city=city)
    if prod is not None:
        set_product(s, p.lang, prod)
    return s


def set_product(s: Slots, lang: str, prod: cat.Product) -> None:
    if lang == "it":
        noun = prod.name_it[:1].lower() + prod.name_it[1:]
        art = prod.article_it
        s["the_product"] = ("l'" if art.startswith("l'") else art + " ") + noun
        s["my_product"] = ("la mia " if art in ("la", "l'f") else "il mio ") + noun
        s["product"] = prod.name_it
    else:
        s["the_product"] = "the " + prod.name_en
        s["my_product"] = "my " + prod.name_en
        s["product"] = prod.name_en
    s["model"] = prod.model


def money(amount: float, country: str) -> str:
    return f"{amount:.2f} EUR" if country == "IT" else f"£{amount:.2f}"


def wrong_dept(rng: Random, target: str) -> str:
    if target != "customer_service" and rng.random() < 0.6:
        return "customer_service"
    return pick(rng, tuple(d for d in cat.DEPARTMENTS if d != target))


class Service:
    def __init__(self, world: World, actor: Actor) -> None:
        self.w = world
        self.a = actor
        self.orders: dict[str, Order] = {}
        self.push: Callable[[int, str, object], None] = _no_push

    @property
    def rng(self) -> Random:
        return self.a.rng

    def new_ep(self, p: Person, intent: str, t: int, slots: Slots) -> Episode:
        return Episode(f"E{self.w.next('episode'):08d}", p.pid, intent, t, slots, p.lang)

    def finish(self, p: Person, ep: Episode, fr: list[Friction] | None = None) -> list[Friction]:
        c = self.a.c
        if fr is None:
            fr = detect(ep) if ep.log else []
        for kind, ev, detail in fr:
            n = self.w.next("friction")
            c.frictions.append((f"F{n:08d}", ep.eid, kind, ";".join(ev), detail))
            c.protect.update(ev)
        for row in facts_rows(ep):
            c.facts.append(row)
            c.protect.add(row[3])
            if row[4]:
                c.protect.update(row[4].split(";"))
        c.episodes.append(
            (
                ep.eid,
                p.pid,
                ep.intent,
                iso_z(ep.start),
                iso_z(ep.end),
                ep.outcome,
                ";".join(ep.channels),
                ";".join(ep.depts),
                ep.n_contacts,
            )
        )
        if ep.intent not in ("browse", "purchase"):
            n = len(fr)
            p.sat = max(-1.5, p.sat - 0.2 * n) if n else min(1.0, p.sat + 0.1)
            if p.customer and n >= 2 and self.rng.random() < min(0.3, 0.1 + 0.04 * n):
                p.churned_at = max(p.last_t, ep.end)
        return fr

    def store_for(self, p: Person) -> cat.Store:
        stores = cat.STORES_IT if p.country == "IT" else cat.STORES_GB
        local = [s for s in stores if s.city == p.hh.city.name]
        return pick(self.rng, local or stores)

    # --- the service loop ----------------------------------------------------------------------

    def serve(self, p: Person, ep: Episode, t: int, self_service: bool = True) -> None:
        """Self-service first, then contacts until the need is met, the customer gives up, or time ends."""
        rng, intent = self.rng, ep.intent
        target = cat.INTENT_DEPT[intent]
        online = p.shop_id is not None or not p.customer  # store-and-phone customers seldom try the site
        if self_service and rng.random() < SELF_SERVICE_P.get(intent, 0.5) * (1.0 if online else 0.3):
            t, done = self.self_serve(p, ep, t)
            if done:
                self.close(p, ep, t)
                return
        need = 1 + (rng.random() < 0.45) + (rng.random() < 0.2) + (rng.random() < 0.08)
        if intent == "info":
            need = 1
        progress = 0
        attempts = 0
        last: str | None = None
        resolved_t: int | None = None
        while attempts < 7:
            if t > END - 2 * HOUR:
                break
            ch = self.choose_channel(p, ep, last, attempts)
            solve = progress + 1 >= need
            out = self.contact(ch, p, ep, t, target, solve)
            attempts += 1
            last = ch
            if out.answered and target in out.handled_by:
                progress += 1
            if out.resolved:
                resolved_t = out.end
                break
            if out.answered and target in out.handled_by and rng.random() < 0.35:
                # the back office solves it without another contact
                resolved_t = next_open(
                    out.end + int(DAY + rng.random() * 9 * DAY), p.country, OFFICE_HOURS, rng.random()
                )
                break
            if rng.random() < 0.04 + 0.05 * attempts:
                ep.outcome = "abandoned"
                break
            if not out.answered:
                gap = int(5 * MINUTE + rng.random() * 6 * HOUR)
            elif rng.random() < 0.72:
                gap = int(6 * HOUR + rng.random() * 6 * DAY)
            else:
                gap = int(7.5 * DAY + rng.random() * 14 * DAY)
            t = out.end + gap
        if resolved_t is not None and resolved_t <= END:
            self.resolve(p, ep, resolved_t)
            if intent == "repair" and rng.random() < 0.12:
                self.relapse(p, ep, resolved_t)
        elif ep.outcome != "abandoned":
            ep.outcome = "open"
        self.close(p, ep, ep.end)

    def relapse(self, p: Person, ep: Episode, t: int) -> None:
        """The repaired appliance breaks again: the customer comes back and the ticket is reopened."""
        rng = self.rng
        t += int(2 * DAY + rng.random() * 8 * DAY)
        if t > END - 2 * DAY:
            return
        ch = "voice" if rng.random() < 0.6 else "email"
        out = self.contact(ch, p, ep, t, cat.INTENT_DEPT[ep.intent], True)
        if out.resolved:
            self.resolve(p, ep, out.end)
        elif out.answered:
            self.resolve(
                p,
                ep,
                next_open(out.end + int(DAY + rng.random() * 6 * DAY), p.country, OFFICE_HOURS, rng.random()),
            )
        else:
            ep.outcome = "open"
            ep.resolved_at = None

    def close(self, p: Person, ep: Episode, t: int) -> None:
        fr = detect(ep) if ep.log else []
        self.aftermath(p, ep, [f[0] for f in fr])  # surveys and posts: no contact, the frictions stand
        self.finish(p, ep, fr)

    def resolve(self, p: Person, ep: Episode, t: int) -> None:
        """What resolution looks like in the silos, by need."""
        a, rng = self.a, self.rng
        intent = ep.intent
        rt = t
        o = ep.order if isinstance(ep.order, Order) else None
        if intent == "delivery_problem" and o is not None:
            rt = t + int(DAY + rng.random() * 2 * DAY)
            if a.order_status(p, ep, o, rt, "delivered") is None:
                ep.outcome = "open"
                return
        elif intent == "refund" and o is not None:
            a.order_status(p, ep, o, t, "returned")
            rt = t + int(2 * DAY + rng.random() * 4 * DAY)
            if a.order_status(p, ep, o, rt, "refunded") is None:
                ep.outcome = "open"
                return
        if rt > END:
            ep.outcome = "open"
            return
        tk = ep.ticket if isinstance(ep.ticket, Ticket) else None
        if tk is not None and not tk.solved:
            a.ticket_update(p, ep, tk, rt, "solved", "solved", tx.ticket_solved(rng, tk.lang))
            tk.solved = True
            rt = max(rt, tk.last_t)
            a.ticket_update(p, ep, tk, rt + 7 * DAY, "closed", "closed", tx.ticket_closed(rng, tk.lang))
        ep.resolved_at = rt
        ep.outcome = "resolved"
        ep.touch(rt)

    def choose_channel(self, p: Person, ep: Episode, last: str | None, attempts: int) -> str:
        rng, intent = self.rng, ep.intent
        v = p.voice_pref
        weights = {
            "voice": 0.25 + 0.5 * v,
            "chat": 0.05 + 0.35 * (1 - v),
            "email": 0.2,
            "social": 0.0,
            "store": 0.0,
        }
        if p.handles:
            weights["social"] = 0.05
        if intent == "repair":
            weights["store"] = 0.12
        if intent == "refund":
            weights["email"] += 0.2
        if intent == "info":
            weights["voice"] *= 0.4
            weights["chat"] += 0.2
            weights["social"] += 0.05 if p.handles else 0.0
        if not p.customer:
            weights = {
                "voice": 0.0,
                "chat": 0.3,
                "email": 0.2,
                "social": 0.5 if p.handles else 0.0,
                "store": 0.0,
            }
        if last == "store":
            weights["store"] = 0.0
        if last is not None and rng.random() < 0.5:
            weights[last] *= 2.0
        total = sum(weights.values())
        r = rng.random() * total
        for k, wt in weights.items():
            r -= wt
            if r < 0:
                return k
        return "email"

    def contact(self, ch: str, p: Person, ep: Episode, t: int, target: str, solve: bool) -> CallOut:
        raise NotImplementedError  # see ordito.demo.contacts.Contacts

    def handle_of(self, p: Person, rng: Random) -> tuple[str, str]:
        platforms = tuple(k for k in p.handles if k != "trustpilot")
        if not platforms:
            handle = p.handles.get("trustpilot") or new_handle(
                rng, p.first, p.last, p.birth[2:4], self.w.claim, p.idx
            )
            r = rng.random()
            platforms = ("twitter" if r < 0.45 else "instagram" if r < 0.75 else "facebook",)
            p.handles[platforms[0]] = handle
        platform = pick(rng, platforms)
        return platform, p.handles[platform]

    def ticket_after(
        self,
        p: Person,
        ep: Episode,
        t: int,
        origin: str,
        dept: str,
        depts: list[str],
        email: str = "",
        phone: tuple[Phone, str] | None = None,
    ) -> None:
        """The CRM after a contact: a new ticket (with the contact's details), or an update of the open one."""
        a, rng, lang = self.a, self.rng, p.lang
        tk = ep.ticket if isinstance(ep.ticket, Ticket) else None
        if tk is None or rng.random() < 0.12:
            summary = tx.core(rng, lang, ep.intent, ep.slots)
            tk, _ = a.ticket_open(
                p,
                ep,
                t + 60,
                origin,
                depts[0],
                tx.ticket_from(rng, lang, origin, summary[:1].upper() + summary[1:]),
                contact_email=email,
                contact_phone=phone,
            )
            ep.ticket = tk
            a.ticket_update(p, ep, tk, t + 120 + int(rng.random() * 600), "assigned", "open", "")
        elif tk.solved:
            tk.solved = False
            a.ticket_update(p, ep, tk, t + 60, "reopened", "open", tx.ticket_reopened(rng, tk.lang))
        else:
            a.ticket_update(p, ep, tk, t + 60, "comment", "open", tx.ticket_work(rng, tk.lang, ep.intent))
        if dept != tk.dept:
            a.ticket_update(p, ep, tk, t + 180, "transferred", "open", "", dept=dept)
        if rng.random() < 0.15:
            a.ticket_update(
                p, ep, tk, t + 3600, "pending_customer", "pending", tx.ticket_work(rng, tk.lang, ep.intent)
            )

    def self_serve(self, p: Person, ep: Episode, t: int) -> tuple[int, bool]:
        """The customer tries the website or the app first. Returns (time after, need met)."""
        a, rng, country, intent = self.a, self.rng, p.country, ep.intent
        pages = cat.PAGES[country]
        forms = cat.FORMS[country]
        err = pick(rng, cat.FORM_ERRORS[country])
        hits: list[Hit] = []
        logged = bool(p.shop_id)
        if intent in ("delivery_problem", "refund", "address_change") and p.shop_id:
            if rng.random() < 0.15:
                hits.append(h("login_failed", pages["login"], err=pick(rng, cat.LOGIN_ERRORS[country])))
                if rng.random() < 0.5:
                    logged = False
            if logged:
                hits.append(h("login", pages["login"]))
        form_kind = ""
        if intent == "delivery_problem":
            hits += [h("page_view", pages["orders"]), h("page_view", pages["tracking"])]
            hits.append(
                h("page_view", pages["faq_delivery"])
                if rng.random() < 0.5
                else h("contact_page", pages["contact"])
            )
        elif intent == "repair":
            hits += [h("page_view", pages["support"]), h("page_view", pages["faq_repair"])]
            form_kind = "repair"
        elif intent == "refund":
            hits += [h("page_view", pages["returns"])]
            form_kind = "return"
        elif intent == "address_change":
            if logged:
                hits += [h("page_view", pages["account"]), h("page_view", pages["address"])]
                form_kind = "address"
            else:
                hits.append(h("contact_page", pages["contact"]))
        elif intent == "subscription":
            hits += [h("page_view", pages["faq_warranty"]), h("contact_page", pages["contact"])]
        else:
            prod_page = cat.PRODUCT_PAGES[country].get(
                ep.slots["model"] and _sku_of(ep.slots["model"]) or "", pages["home"]
            )
            hits += [h("page_view", prod_page), h("page_view", pages["support"])]
        submitted = False
        if form_kind:
            page = (
                pages["address"]
                if form_kind == "address"
                else pages["repair_form" if form_kind == "repair" else "return_form"]
            )
            fname = forms[form_kind]
            if rng.random() < (0.5 if form_kind == "address" else 0.35):
                hits.append(h("form_error", page, form=fname, err=err))
                if rng.random() < 0.4:
                    hits.append(h("form_error", page, form=fname, err=err))
                else:
                    hits.append(h("contact_page", pages["contact"]))
            elif rng.random() < 0.7:
                hits.append(h("form_submitted", page, form=fname))
                submitted = True
        if p.device is not None and rng.random() < 0.4:
            evs: list[AppEv] = [("app_open", "home", {})]
            if intent == "delivery_problem":
                evs += [
                    ("screen_view", "orders", {}),
                    ("screen_view", "order_tracking", {"order_id": ep.slots["order"]}),
                ]
            elif intent == "address_change":
                evs += [("screen_view", "account", {}), ("screen_view", "addresses", {})]
                if rng.random() < 0.5:
                    evs.append(("form_error", "addresses", {"form": forms["address"], "error": err}))
            elif intent == "refund":
                evs += [("screen_view", "orders", {}), ("screen_view", "returns", {})]
            else:
                evs.append(("screen_view", "support", {}))
            if rng.random() < 0.5:
                evs.append(("contact_tap", "support", {}))
            out, t = a.app_session(p, ep, t, evs)
            for ref, ev, et in out:
                if ev in ("contact_tap", "form_error"):
                    ep.note(et, "dead", ref, ev)
        else:
            out, t = a.web_session(p, ep, t, hits)
            for ref, ev, et in out:
                if ev in ("form_error", "login_failed", "contact_page"):
                    ep.note(et, "dead", ref, ev)
        if out:
            ep.note(out[0][2], "ss", out[0][0], "app" if out[0][0].startswith("app:") else "web")
        if not submitted or not out or out[-1][1] != "form_submitted":
            return t + int(10 * MINUTE + rng.random() * 30 * HOUR), False
        fref, _, ft = out[-1]
        ep.contact(ft, fref, "web")
        if intent == "address_change":
            ep.resolved_at = ft
            ep.outcome = "resolved"
            return t, True
        text = tx.customer_statement(rng, p.lang, intent, ep.slots, ep.tone, greet=False)
        tk, cref = a.ticket_open(
            p,
            ep,
            ft + 30,
            "web_form",
            cat.INTENT_DEPT[intent],
            tx.ticket_from(rng, p.lang, "web", text),
            tone=ep.tone,
            contact_email=p.email if p.shop_id else "",  # a signed-in customer's form has their address
        )
        for kind in FACT_KINDS.get(intent, ()):
            ep.give(kind, cref, text)
        if rng.random() < 0.45:
            return t, self._form_answered(p, ep, tk, ft)
        return t + int(DAY + rng.random() * 4 * DAY), False

    def _form_answered(self, p: Person, ep: Episode, tk: Ticket, t: int) -> bool:
        """The back office answers a web form by email and solves the need."""
        a, rng, lang = self.a, self.rng, p.lang
        delay = (
            next_open(t + int(2 * HOUR + rng.random() * 40 * HOUR), p.country, OFFICE_HOURS, rng.random()) - t
        )
        s2 = Slots(ep.slots)
        s2["agent"] = self.w.agent(rng, p.country, tk.dept).first
        n = self.w.next("thread")
        ep.slots["thread"] = f"T-{n:06d}"
        ref = a.email_out(
            p,
            ep,
            t + delay,
            ep.slots["thread"],
            tk.subject,
            tx.email_reply(rng, lang, tx.agent_answer(rng, lang, ep.intent, s2, True, False), s2),
            tk.dept,
            p.email,
        )
        if ref is None:
            return False
        ep.note(t + delay, "handled", ref, tk.dept)
        self.resolve(p, ep, t + delay)
        return ep.outcome == "resolved"

    # --- after the episode: surveys, posts, reviews ---------------------------------------------

    def aftermath(self, p: Person, ep: Episode, frictions: list[str]) -> None:
        a, rng, lang = self.a, self.rng, p.lang
        if ep.n_contacts == 0:
            return
        tone = ep.tone if ep.outcome == "resolved" else max(2, ep.tone)
        if ep.outcome == "resolved" and not frictions and rng.random() < 0.5:
            tone = 0
        t = ep.end + int(HOUR + rng.random() * DAY)
        tk = ep.ticket if isinstance(ep.ticket, Ticket) else None
        if p.customer and rng.random() < 0.5 and t < END:
            answer_p = (0.3, 0.15, 0.25, 0.4)[tone]
            if rng.random() < answer_p:
                survey = "csat_after_contact" if rng.random() < 0.6 else "ces_after_contact"
                ctx = tk.tid if tk else next((_context_ref(e[2]) for e in ep.log if e[1] == "contact"), "")
                if survey == "csat_after_contact":
                    score = (
                        5 - int(rng.random() * 1.5),
                        4 - int(rng.random() * 1.5),
                        2 + int(rng.random() * 1.6),
                        1 + int(rng.random() * 1.5),
                    )[tone]
                else:
                    score = (
                        6 + int(rng.random() * 2),
                        4 + int(rng.random() * 2),
                        2 + int(rng.random() * 2),
                        1 + int(rng.random() * 1.5),
                    )[tone]
                comment = tx.survey_comment(rng, lang, tone, frictions) if rng.random() < 0.6 else ""
                a.survey(
                    p, ep, t, t + int(10 * MINUTE + rng.random() * 3 * DAY), survey, ctx, score, comment, tone
                )
        if tone >= 2 and rng.random() < 0.12 and t + DAY < END:
            platform, handle = self.handle_of(p, rng)
            s = Slots(ep.slots)
            s["handle"] = cat.BRAND_HANDLE[p.country]
            s["core"] = tx.core(rng, lang, ep.intent, ep.slots)
            _, sid = a.social(
                p,
                ep,
                t + int(rng.random() * DAY),
                platform,
                handle,
                "mention",
                tx.social_post(rng, lang, tone, s, frictions),
                lang,
                p.full,
                tone=tone,
            )
            if sid and rng.random() < BRAND_REPLIES:
                reply_t = next_open(t + int(DAY + rng.random() * DAY), p.country, SOCIAL_HOURS, rng.random())
                a.social(
                    None,
                    ep,
                    reply_t,
                    platform,
                    cat.BRAND_HANDLE[p.country],
                    "reply",
                    tx.brand_reply(rng, lang, s, positive=False),
                    lang,
                    cat.BRAND_NAME[p.country],
                    reply_to=sid,
                )
                if rng.random() < SOCIAL_CARE_LINKS:
                    self.link_handle(p, ep, reply_t + 600, f"{platform}:{handle}")
        elif tone >= 2 and rng.random() < 0.05:
            stars = 1 + (rng.random() < 0.4)
            written = self.review(p, ep, t + int(DAY + rng.random() * 3 * DAY), stars, frictions)
            if written and rng.random() < SOCIAL_CARE_LINKS:
                self.link_handle(p, ep, t + int(4 * DAY + rng.random() * DAY), f"trustpilot:{written}")

    def link_handle(self, p: Person, ep: Episode, t: int, handle: str) -> None:
        """Social care asks the author of a complaint for their details in private and records the handle
        on the customer's ticket (or opens one)."""
        a, rng = self.a, self.rng
        t = next_open(t, p.country, SOCIAL_HOURS, rng.random())
        tk = ep.ticket if isinstance(ep.ticket, Ticket) else None
        if tk is None:
            text = tx.core(rng, p.lang, ep.intent, ep.slots)
            a.ticket_open(
                p,
                ep,
                t,
                "social",
                "customer_service",
                tx.ticket_from(rng, p.lang, "social", text),
                handle=handle,
            )
            return
        if not tk.handle:
            tk.handle = handle
            platform, _, name = handle.partition(":")
            tk.ids = (*tk.ids, f"h{platform}:{name.lower()}")
        a.ticket_update(p, ep, tk, t, "comment", tk.status, tx.ticket_work(rng, tk.lang, ep.intent))

    def review(self, p: Person, ep: Episode, t: int, stars: int, frictions: list[str]) -> str | None:
        """A Trustpilot review; returns the handle if it was written."""
        a, rng = self.a, self.rng
        handle = p.handles.get("trustpilot")
        if handle is None:
            handle = p.handles["trustpilot"] = new_handle(
                rng, p.first, p.last, p.birth[2:4], self.w.claim, p.idx
            )
        s = Slots(ep.slots)
        tone = 0 if stars >= 4 else 1 if stars == 3 else 2 if stars == 2 else 3
        ref, _ = a.social(
            p,
            ep,
            t,
            "trustpilot",
            handle,
            "review",
            tx.review(rng, p.lang, stars, s, frictions),
            p.lang,
            f"{p.first} {p.last[:1]}.",
            rating=stars,
            tone=tone,
        )
        return handle if ref is not None else None


def _context_ref(ref: str) -> str:
    """What a survey after a contact says it is about: the call, the chat conversation, the message..."""
    source, _, key = ref.partition(":")
    if source == "chat":
        return key.rsplit("-", 1)[0]
    return key.split("|")[0]


def _sku_of(model: str) -> str:
    return f"{model[:2]}-{model[2:]}"
