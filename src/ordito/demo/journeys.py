"""Lives: when each person needs something, and how each need unfolds across channels and departments.

A person's needs are drawn over the period (rates scaled by the person's activity), kept in an agenda
ordered by time, and lived one after the other; a need may plant another (a late delivery after an
order, a purchase after a product question). After each episode the true frictions are derived
(:func:`ordito.demo.episodes.detect`), and customers may churn after bad ones.
"""

from __future__ import annotations

import heapq
import itertools
import math
from collections.abc import Callable
from random import Random

from . import catalog as cat
from . import texts as tx
from .channels import Actor, AppEv, CallOut, Hit, Order, Ticket
from .clock import (
    CALL_HOURS,
    CHAT_HOURS,
    DAY,
    END,
    HOUR,
    MINUTE,
    OFFICE_HOURS,
    SOCIAL_HOURS,
    START,
    STORE_HOURS,
    date_text,
    daytime,
    iso_z,
    next_open,
)
from .episodes import FACT_KINDS, Episode, Friction, detect, facts_rows
from .people import Person, new_handle
from .phrases import SUBSCRIPTION_PROBLEMS
from .population import new_address
from .texts import Slots, pick
from .world import World

SPAN = END - START
_BROWSE: dict[str, tuple[Hit, ...]] = {}
WAVES = (START + 70 * DAY, START + 250 * DAY, START + 435 * DAY)
# Needs per person over the 18 months (times the person's activity).
RATES = {
    "browse": 4.2,
    "purchase": 0.9,
    "repair": 0.2,
    "refund": 0.03,
    "address_change": 0.05,
    "subscription": 0.07,
    "info": 0.22,
}
SELF_SERVICE_P = {
    "delivery_problem": 0.7,
    "repair": 0.55,
    "refund": 0.6,
    "address_change": 0.9,
    "subscription": 0.5,
    "info": 0.4,
}


_EXP: dict[float, float] = {}


def poisson(rng: Random, lam: float) -> int:
    """Knuth's method (the rates are small)."""
    limit = _EXP.get(lam)
    if limit is None:
        limit = _EXP[lam] = math.exp(-lam)
    k, prod = 0, rng.random()
    while prod > limit:
        k += 1
        prod *= rng.random()
    return k


def _browse_pool(country: str) -> tuple[Hit, ...]:
    """Hits a browsing session is made of, repeated by how often they occur."""
    pool: list[Hit] = []
    for c in cat.CATEGORY_LIST:
        pool += [cat.CATEGORY_PAGES[country][c].pv] * 3
    for prod in cat.APPLIANCES:
        pool += [cat.PRODUCT_PAGES[country][prod.sku].pv] * 2
    search = cat.PAGES[country]["search"]
    cur = ""
    for q in cat.SEARCHES[country]:
        pool.append(("search", f"search,{search.body},,,{q},,{cur}"))
    pool += [cat.PAGES[country]["stores"].pv] * 3
    return tuple(pool)


def _no_push(t: int, kind: str, arg: object = None) -> None:
    return None


def h(ev: str, page: cat.Page, form: str = "", err: str = "", sq: str = "", cv: str = "") -> Hit:
    """A hit on ``page``; the plain page view is prebuilt."""
    if ev == "page_view" and not (form or err or sq or cv):
        return page.pv
    cur = ("EUR" if page.country == "IT" else "GBP") if cv else ""
    return (ev, f"{ev},{page.body},{form},{err},{sq},{cv},{cur}")


def slots_for(p: Person, prod: cat.Product | None = None) -> Slots:
    stores = cat.STORES_IT if p.country == "IT" else cat.STORES_GB
    city = p.hh.city.name if any(st.city == p.hh.city.name for st in stores) else stores[0].city
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


class Life:
    def __init__(self, world: World, actor: Actor) -> None:
        self.w = world
        self.a = actor
        self.orders: dict[str, Order] = {}
        self.push: Callable[[int, str, object], None] = _no_push

    @property
    def rng(self) -> Random:
        return self.a.rng

    # --- the agenda ----------------------------------------------------------------------------

    def live(self, p: Person) -> None:
        rng = self.rng
        rnd = rng.random
        country = p.country
        self.orders = {}
        agenda: list[tuple[int, int, str, object]] = []
        seq = itertools.count()

        def push(t: int, kind: str, arg: object = None) -> None:
            heapq.heappush(agenda, (daytime(rnd(), rnd(), t, country), next(seq), kind, arg))

        needs = list(RATES.items()) if p.customer else [("browse", 2.2), ("info", 0.12)]
        act = p.activity if p.customer else 1.0
        if p.newsletter:
            needs.append(("newsletter", 3.0 / act))
        for kind, rate in needs:
            for _ in range(poisson(rng, rate * act)):
                agenda.append(
                    (daytime(rnd(), rnd(), START + int(rnd() * SPAN), country), next(seq), kind, None)
                )
        if p.customer:
            for wave in WAVES:
                if rnd() < 0.3:
                    agenda.append(
                        (daytime(rnd(), rnd(), wave + int(rnd() * 10 * DAY), country), next(seq), "nps", None)
                    )
        heapq.heapify(agenda)
        self.push = push
        while agenda:
            t, _, kind, arg = heapq.heappop(agenda)
            if t > END or (p.churned_at is not None and t > p.churned_at):
                continue
            if kind == "browse":
                self.browse(p, t)
            elif kind == "newsletter":
                self.newsletter(p, t)
            elif kind == "nps":
                self.nps(p, t)
            else:
                getattr(self, kind)(p, t, arg)

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

    # --- web only ------------------------------------------------------------------------------

    def browse(self, p: Person, t: int) -> None:
        """A browsing session with no contact: the bulk of the web traffic (a fast path, no log)."""
        rng, country, w = self.rng, p.country, self.w
        rnd = rng.random
        eid = f"E{w.next('episode'):08d}"
        if p.device is not None and rnd() < 0.3:
            ep = Episode(eid, p.pid, "browse", t, Slots(), p.lang)
            evs: list[AppEv] = [("app_open", "home", {})]
            for _ in range(1 + int(rnd() * 5)):
                prod = cat.APPLIANCES[int(rnd() * len(cat.APPLIANCES))]
                evs.append(
                    ("screen_view", "category", {"category": prod.category})
                    if rnd() < 0.3
                    else ("screen_view", "product", {"sku": prod.sku})
                )
            if rnd() < 0.3:
                evs.append(("push_open", "offers", {"campaign": f"promo-{1 + int(rnd() * 40)}"}))
            self.a.app_session(p, ep, t, evs)
            self.finish(p, ep)
            return
        pool = _BROWSE[country]
        hits = [pool[int(rnd() * len(pool))] for _ in range(2 + int(rnd() * rnd() * 14))]
        if rnd() < 0.6:
            hits.insert(0, cat.PAGES[country]["home"].pv)
        marks, end = self.a.web_session(p, None, t, hits, ids=(eid, "browse"))
        if marks:
            self.a.c.episodes.append(
                (eid, p.pid, "browse", iso_z(marks[0][2]), iso_z(self.a.last_hit), "resolved", "web", "", 0)
            )

    def newsletter(self, p: Person, t: int) -> None:
        rng, country = self.rng, p.country
        rnd = rng.random
        prods = cat.PRODUCT_PAGES[country]
        hits = [cat.PAGES[country]["newsletter"].pv]
        for _ in range(1 + int(rnd() * 5)):
            hits.append(prods[cat.APPLIANCES[int(rnd() * len(cat.APPLIANCES))].sku].pv)
        self.a.web_session(p, None, t, hits, newsletter=True)

    # --- purchase ------------------------------------------------------------------------------

    def purchase(self, p: Person, t: int, arg: object) -> None:
        a, rng, country = self.a, self.rng, p.country
        prod = (
            arg
            if isinstance(arg, cat.Product)
            else (pick(rng, cat.APPLIANCES) if rng.random() < 0.82 else pick(rng, cat.ACCESSORIES))
        )
        ep = self.new_ep(p, "purchase", t, slots_for(p, prod))
        pages, cats, prods = cat.PAGES[country], cat.CATEGORY_PAGES[country], cat.PRODUCT_PAGES[country]
        app = p.device is not None and rng.random() < 0.35
        in_store = (not p.shop_id and rng.random() < 0.5) or rng.random() < 0.1
        ppage = prods[prod.sku]
        for _ in range(1 + int(rng.random() * 2.2)):
            if app:
                out, t = a.app_session(
                    p, ep, t, [("app_open", "home", {}), ("screen_view", "product", {"sku": prod.sku})]
                )
            else:
                hits = [
                    h("page_view", cats[prod.category])
                    if prod.category in cats
                    else h("page_view", pages["home"]),
                    h("page_view", ppage),
                ]
                if rng.random() < 0.3:
                    hits.insert(0, h("search", pages["search"], sq=pick(rng, cat.SEARCHES[country])))
                pool = _BROWSE[country]
                hits += [pool[int(rng.random() * len(pool))] for _ in range(int(rng.random() * 5))]
                hits.append(h("page_view", ppage))
                out, t = a.web_session(p, ep, t, hits)
            if out:
                ep.note(out[0][2], "ss", out[0][0], "app" if app else "web")
            t += int(HOUR + rng.random() * 3 * DAY)
        price = prod.price_eur if country == "IT" else prod.price_gbp
        cv = f"{price:.2f}"
        if not in_store and rng.random() < 0.2:
            out, t = a.web_session(
                p,
                ep,
                t,
                [
                    h("page_view", ppage),
                    h("add_to_cart", ppage, cv=cv),
                    h("page_view", pages["cart"], cv=cv),
                    h("cart_abandoned", pages["cart"], cv=cv),
                ],
            )
            if out:
                ep.note(out[-1][2], "abandon", out[-1][0], "cart abandoned")
                ep.bad += 1
            t += int(2 * HOUR + rng.random() * 5 * DAY)
            if rng.random() < 0.4:
                ep.outcome = "abandoned"
                self.finish(p, ep)
                return
        elif rng.random() < 0.1:
            ep.outcome = "abandoned"
            self.finish(p, ep)
            return
        if t > END:
            ep.outcome = "abandoned"
            self.finish(p, ep)
            return
        if in_store:
            store = self.store_for(p)
            t = next_open(t, store.country, STORE_HOURS, rng.random())
            if rng.random() < 0.3:
                a.pos(p, ep, t, store, "visit", 0.0, "", tx.pos_note(rng, p.lang, "visit", ep.slots), tone=1)
                t = next_open(t + int(DAY + rng.random() * 6 * DAY), store.country, STORE_HOURS, rng.random())
            a.pos(p, ep, t, store, "sale", price, f"{prod.sku} x1", "")
            p.owned.append((prod.sku, None, t))
            ep.outcome = "converted"
            if rng.random() < 0.04:
                self.push(t + int(2 * DAY + rng.random() * 12 * DAY), "refund", (None, prod))
            self.finish(p, ep)
            return
        if app:
            out, t = a.app_session(
                p,
                ep,
                t,
                [
                    ("screen_view", "product", {"sku": prod.sku}),
                    ("add_to_cart", "product", {"sku": prod.sku}),
                    ("screen_view", "cart", {}),
                    *([("login_failed", "login", {})] if rng.random() < 0.05 else []),
                    ("login", "login", {}),
                    ("screen_view", "checkout", {}),
                ],
            )
        else:
            hits = [
                h("page_view", ppage),
                h("add_to_cart", ppage, cv=cv),
                h("page_view", pages["cart"], cv=cv),
                h("checkout_started", pages["checkout"], cv=cv),
            ]
            if p.shop_id and not p.cookie_at(t).logged:
                if rng.random() < 0.06:
                    hits.append(h("login_failed", pages["login"], err=pick(rng, cat.LOGIN_ERRORS[country])))
                hits.append(h("login", pages["login"]))
            hits.append(h("page_view", pages["confirmation"], cv=cv))
            out, t = a.web_session(p, ep, t, hits)
        placed = t
        addr = {
            "street": f"{p.hh.street} {p.hh.number}" if country == "IT" else f"{p.hh.number} {p.hh.street}",
            "city": p.hh.city.name,
            "postcode": p.hh.postcode,
            "country": country,
        }
        o = a.new_order(p, placed, [prod], "app" if app else "web", addr)
        self.orders[o.order_id] = o
        ep.slots["order"] = o.order_id
        if app:
            a.app_session(p, ep, placed, [("order_placed", "confirmation", {"order_id": o.order_id})])
        a.order_status(p, ep, o, placed, "placed")
        a.order_status(p, ep, o, placed + 30 + int(rng.random() * 600), "paid")
        if rng.random() < 0.03:  # the customer changes their mind before shipping
            cancelled = placed + int(HOUR + rng.random() * 20 * HOUR)
            a.order_status(p, ep, o, cancelled, "cancelled")
            a.order_status(p, ep, o, cancelled + int(DAY + rng.random() * 3 * DAY), "refunded")
            ep.outcome = "abandoned"
            self.finish(p, ep)
            return
        shipped = placed + int(DAY + rng.random() * 2 * DAY)
        a.order_status(p, ep, o, shipped, "shipped")
        due = shipped + int(DAY + rng.random() * 3 * DAY)
        p.owned.append((prod.sku, o.order_id, placed))
        ep.outcome = "converted"
        if rng.random() < (0.18 if prod.big else 0.1):
            self.push(due + int(rng.random() * DAY), "delivery_problem", (o, prod, rng.random() < 0.45))
        else:
            a.order_status(p, ep, o, due, "delivered")
            ep.resolved_at = due
            if rng.random() < 0.05:
                self.push(due + int(2 * DAY + rng.random() * 18 * DAY), "refund", (o, prod))
            elif rng.random() < 0.04 and due + 3 * DAY < END:
                self.review(p, ep, due + int(DAY + rng.random() * 6 * DAY), 4 + (rng.random() < 0.6), [])
        self.finish(p, ep)

    def store_for(self, p: Person) -> cat.Store:
        stores = cat.STORES_IT if p.country == "IT" else cat.STORES_GB
        local = [s for s in stores if s.city == p.hh.city.name]
        return pick(self.rng, local or stores)

    # --- needs served by people ----------------------------------------------------------------

    def delivery_problem(self, p: Person, t: int, arg: object) -> None:
        assert isinstance(arg, tuple)
        o, prod, failed = arg
        s = slots_for(p, prod)
        s["order"] = o.order_id
        s["date"] = date_text(t - 4 * DAY, p.lang)
        s["days"] = str(1 + int(self.rng.random() * 6))
        s["carrier"] = o.carrier
        ep = self.new_ep(p, "delivery_problem", t, s)
        ep.order = o
        if failed:
            self.a.order_status(p, ep, o, t, "delivery_failed")
            t += int(2 * HOUR + self.rng.random() * 20 * HOUR)
        self.serve(p, ep, t)

    def refund(self, p: Person, t: int, arg: object) -> None:
        rng = self.rng
        if isinstance(arg, tuple) and arg[0] is None:
            self.store_return(p, t, arg[1])
            return
        if isinstance(arg, tuple):
            o, prod = arg
        else:
            mine = [x for x in p.owned if x[1] is not None and x[1] in self.orders and x[2] < t]
            if not mine:
                return
            sku, oid, _ = pick(rng, mine)
            o = self.orders[str(oid)]
            prod = cat.BY_SKU[sku]
        s = slots_for(p, prod)
        s["order"] = o.order_id
        s["amount"] = money(o.total, p.country)
        s["date"] = date_text(t - 3 * DAY, p.lang)
        ep = self.new_ep(p, "refund", t, s)
        ep.order = o
        self.serve(p, ep, t)

    def store_return(self, p: Person, t: int, prod: cat.Product) -> None:
        """A product bought in store comes back to the till: one visit, refunded there."""
        a, rng = self.a, self.rng
        store = self.store_for(p)
        t = next_open(t, store.country, STORE_HOURS, rng.random())
        s = slots_for(p, prod)
        ep = self.new_ep(p, "refund", t, s)
        price = prod.price_eur if p.country == "IT" else prod.price_gbp
        note = tx.pos_note(rng, p.lang, "return", s)
        ref = a.pos(p, ep, t, store, "return", -price, f"{prod.sku} x1", note, tone=1)
        ep.contact(t, ref, "store")
        ep.note(t, "handled", ref, "store_operations")
        ep.seen(t, "store", "store_operations")
        ep.resolved_at = t
        self.close(p, ep, t)

    def repair(self, p: Person, t: int, arg: object) -> None:
        rng = self.rng
        mine = [x for x in p.owned if x[2] < t - 7 * DAY]
        if not mine:
            return
        prod = cat.BY_SKU[pick(rng, mine)[0]]
        if prod.category in ("accessory", "subscription"):
            return
        s = slots_for(p, prod)
        _, it, en = pick(rng, cat.problems_for(prod.category))
        s["problem"] = it if p.lang == "it" else en
        self.serve(p, self.new_ep(p, "repair", t, s), t)

    def address_change(self, p: Person, t: int, arg: object) -> None:
        rng = self.rng
        from .people import format_address

        city, street, number, postcode = new_address(
            rng, p.country, p.hh.city if rng.random() < 0.6 else None
        )
        s = slots_for(p)
        s["address"] = format_address(p.country, street, number, postcode, city)
        self.serve(p, self.new_ep(p, "address_change", t, s), t)

    def subscription(self, p: Person, t: int, arg: object) -> None:
        a, rng, country = self.a, self.rng, p.country
        plan = pick(rng, cat.SUBSCRIPTIONS)
        s = slots_for(p)
        s["plan"] = plan.name_it if p.lang == "it" else plan.name_en
        s["amount"] = money(plan.price_eur if country == "IT" else plan.price_gbp, country)
        ep = self.new_ep(p, "subscription", t, s)
        pages = cat.PAGES[country]
        form = cat.FORMS[country]["subscription"]
        out, t = a.web_session(
            p,
            ep,
            t,
            [
                h("page_view", pages["subscriptions"]),
                h("page_view", cat.PRODUCT_PAGES[country][plan.sku]),
                h("form_submitted", cat.PRODUCT_PAGES[country][plan.sku], form=form),
            ],
        )
        if out:
            ep.note(out[0][2], "ss", out[0][0], "web")
        if p.shop_id or rng.random() < 0.5:
            addr = {
                "street": p.hh.street,
                "city": p.hh.city.name,
                "postcode": p.hh.postcode,
                "country": country,
            }
            o = a.new_order(p, t, [plan], "web", addr)
            a.order_status(p, ep, o, t, "placed")
            a.order_status(p, ep, o, t + 20 + int(rng.random() * 300), "paid")
            ep.order = o
        if rng.random() < 0.5:
            ep.outcome = "converted"
            ep.resolved_at = t
            self.finish(p, ep)
            return
        s["problem"] = pick(rng, SUBSCRIPTION_PROBLEMS[p.lang])
        self.serve(p, ep, t + int(10 * DAY + rng.random() * 100 * DAY), self_service=False)

    def info(self, p: Person, t: int, arg: object) -> None:
        rng = self.rng
        prod = pick(rng, cat.APPLIANCES)
        s = slots_for(p, prod)
        s["amount"] = money(prod.price_eur if p.country == "IT" else prod.price_gbp, p.country)
        ep = self.new_ep(p, "info", t, s)
        self.serve(p, ep, t)
        if p.customer and ep.outcome == "resolved" and rng.random() < 0.35:
            self.push(ep.end + int(HOUR + rng.random() * 10 * DAY), "purchase", prod)

    # --- the service loop ----------------------------------------------------------------------

    def serve(self, p: Person, ep: Episode, t: int, self_service: bool = True) -> None:
        """Self-service first, then contacts until the need is met, the customer gives up, or time ends."""
        rng, intent = self.rng, ep.intent
        target = cat.INTENT_DEPT[intent]
        if self_service and rng.random() < SELF_SERVICE_P.get(intent, 0.5):
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
        self.ticket_after(p, ep, out.end, "phone", depts[-1], depts)
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
            res = CallOut(res.refs + res2.refs, res2.answered, handled, res2.end, res2.resolved)
        self.ticket_after(p, ep, res.end, "chat", handled[-1] if handled else dept, handled)
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
        self.ticket_after(p, ep, t + delay, "email", dept, [dept])
        return CallOut([x for x in (ref_in, ref_out) if x], True, [dept], t + delay, resolved)

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

    def ticket_after(self, p: Person, ep: Episode, t: int, origin: str, dept: str, depts: list[str]) -> None:
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
            if sid and rng.random() < 0.7:
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
        elif tone >= 2 and rng.random() < 0.05:
            self.review(p, ep, t + int(DAY + rng.random() * 3 * DAY), 1 + (rng.random() < 0.4), frictions)

    def review(self, p: Person, ep: Episode, t: int, stars: int, frictions: list[str]) -> None:
        a, rng = self.a, self.rng
        handle = p.handles.get("trustpilot")
        if handle is None:
            handle = p.handles["trustpilot"] = new_handle(
                rng, p.first, p.last, p.birth[2:4], self.w.claim, p.idx
            )
        s = Slots(ep.slots)
        tone = 0 if stars >= 4 else 1 if stars == 3 else 2 if stars == 2 else 3
        a.social(
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

    def nps(self, p: Person, t: int) -> None:
        rng = self.rng
        sat = p.sat
        if rng.random() > 0.1 + 0.25 * abs(sat - 0.3):
            return
        score = max(0, min(10, round(7.5 + 2.5 * sat + (rng.random() - 0.5) * 3)))
        tone = 0 if score >= 9 else 1 if score >= 7 else 2 if score >= 5 else 3
        comment = tx.survey_comment(rng, p.lang, tone, []) if rng.random() < 0.45 else ""
        answered = t + int(HOUR + rng.random() * 5 * DAY)
        self.a.survey(p, None, t, answered, "nps_relationship", "", score, comment, tone)


def _context_ref(ref: str) -> str:
    """What a survey after a contact says it is about: the call, the chat conversation, the message..."""
    source, _, key = ref.partition(":")
    if source == "chat":
        return key.rsplit("-", 1)[0]
    return key.split("|")[0]


def _sku_of(model: str) -> str:
    return f"{model[:2]}-{model[2:]}"


for _c in ("IT", "GB"):
    _BROWSE[_c] = _browse_pool(_c)
