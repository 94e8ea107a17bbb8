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
from random import Random

from . import catalog as cat
from . import texts as tx
from .channels import AppEv, Hit
from .clock import (
    DAY,
    END,
    HOUR,
    START,
    STORE_HOURS,
    date_text,
    daytime,
    iso_z,
    next_open,
)
from .contacts import Contacts
from .episodes import Episode
from .people import Person
from .phrases import SUBSCRIPTION_PROBLEMS
from .population import new_address
from .service import h, money, slots_for
from .texts import Slots, pick

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


# Customers with an online account order consumables online (a filter, descaler, bags): most of them
# once in the period, whatever else they buy.
FIRST_ORDER = 0.92
# After a smooth delivery, a few customers leave a 4-5 star Trustpilot review.
HAPPY_REVIEW = 0.02
# Customers without an online account browse a tenth as much, and buy in store 80% of the time.
OFFLINE_BROWSING = 0.1
OFFLINE_IN_STORE = 0.8

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


class Life(Contacts):
    """The lives of a household's people, one after the other (the need scripts; the service loop and
    the contacts are inherited)."""

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
        if p.customer and not p.shop_id:  # no online account: a store-and-phone customer, seldom online
            needs = [(k, r * OFFLINE_BROWSING if k in ("browse", "newsletter") else r) for k, r in needs]
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
        if p.shop_id and rnd() < FIRST_ORDER:
            # an online account is kept by people who order online: a consumable at least, in the period
            agenda.append(
                (daytime(rnd(), rnd(), START + int(rnd() * SPAN), country), next(seq), "consumables", None)
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
            elif kind == "consumables":  # they know what they need: seldom a look around first
                self.purchase(p, t, pick(rng, cat.ACCESSORIES), research=int(rnd() < 0.3), online=True)
            else:
                getattr(self, kind)(p, t, arg)

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

    def purchase(
        self, p: Person, t: int, arg: object, research: int | None = None, online: bool = False
    ) -> None:
        """Research (``research`` sessions, else 1-3), maybe an abandoned cart, then an order (``online``:
        always) or a sale in store."""
        a, rng, country = self.a, self.rng, p.country
        prod = (
            arg
            if isinstance(arg, cat.Product)
            else (pick(rng, cat.APPLIANCES) if rng.random() < 0.82 else pick(rng, cat.ACCESSORIES))
        )
        ep = self.new_ep(p, "purchase", t, slots_for(p, prod))
        pages, cats, prods = cat.PAGES[country], cat.CATEGORY_PAGES[country], cat.PRODUCT_PAGES[country]
        app = p.device is not None and rng.random() < 0.35
        in_store = not online and ((not p.shop_id and rng.random() < OFFLINE_IN_STORE) or rng.random() < 0.1)
        ppage = prods[prod.sku]
        if research is None:  # customers without an online account look the product up in the store
            research = 1 + int(rng.random() * 2.2) if p.shop_id or not p.customer else int(rng.random() < 0.3)
        for _ in range(research):
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
            elif rng.random() < HAPPY_REVIEW and due + 3 * DAY < END:
                self.review(p, ep, due + int(DAY + rng.random() * 6 * DAY), 4 + (rng.random() < 0.6), [])
        self.finish(p, ep)

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
        later = t + int(10 * DAY + rng.random() * 100 * DAY)
        if later > END - 3 * HOUR:  # the question would come after the period: a plain sign-up
            ep.outcome = "converted"
            ep.resolved_at = t
            self.finish(p, ep)
            return
        self.serve(p, ep, later, self_service=False)

    def info(self, p: Person, t: int, arg: object) -> None:
        rng = self.rng
        prod = pick(rng, cat.APPLIANCES)
        s = slots_for(p, prod)
        s["amount"] = money(prod.price_eur if p.country == "IT" else prod.price_gbp, p.country)
        ep = self.new_ep(p, "info", t, s)
        self.serve(p, ep, t)
        if p.customer and ep.outcome == "resolved" and rng.random() < 0.35:
            self.push(ep.end + int(HOUR + rng.random() * 10 * DAY), "purchase", prod)

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


for _c in ("IT", "GB"):
    _BROWSE[_c] = _browse_pool(_c)
