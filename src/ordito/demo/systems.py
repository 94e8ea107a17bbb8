"""Systems of record: CRM tickets, shop orders, store tills, surveys and social listening."""

from __future__ import annotations

from . import catalog as cat
from .channels import Order, Ticket
from .clock import (
    END,
    iso_local,
    iso_offset,
    iso_z,
    year_of,
    zone_offset,
)
from .conversations import Conversations, canon_for
from .episodes import Episode
from .people import Person, Phone, phone_writing
from .silos import dumps, q
from .world import PLACEHOLDER_EMAILS, PLACEHOLDER_PHONES, placeholder_phone_norm

# Tickets: the agent finds the customer's CRM record 90% of the time, and then the ticket has the address
# registered there; agents type a placeholder when the customer refuses to give a value.
CRM_FOUND = 0.9
ACCOUNT_EMAIL = 0.95
PLACEHOLDER_P = 0.025
# Tills: members have their card scanned on most receipts, and get the receipt by email at the address
# registered with the card (unless they asked for paper); others may ask for an e-receipt; the service
# desk takes an address to tell the customer when a repair is ready.
CARD_SCANNED = 0.95
JOIN_AT_TILL = 0.4  # a customer without a card buying in store joins the loyalty programme
PAPER_RECEIPTS = 0.08  # members who asked for paper receipts
# Orders of account holders have the account's address (else the one typed at the checkout).
ORDER_ACCOUNT_EMAIL = 0.92
# Surveys are sent to the customer's registered address (else to the one of the contact).
SURVEY_TO_ACCOUNT = 0.85
E_RECEIPT_ASKED = 0.4
DESK_CONTACT = 0.85


class Actor(Conversations):
    """Writes every kind of record for one household at a time."""

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
        contact_email: str = "",
        contact_phone: tuple[Phone, str] | None = None,
    ) -> tuple[Ticket, str | None]:
        """A new ticket. Its contact details come from the customer's CRM record when the agent finds it
        (the address registered there), else from the contact: the number called from, the address written
        from or typed in the chat; else the agent types what the customer says."""
        from . import texts as tx

        rng, w = self.rng, self.w
        n = w.next("ticket")
        country = p.country
        name = p.full if rng.random() < 0.85 else f"{p.last.upper()} {p.first.upper()}"
        crm = p.crm_id if p.crm_id and rng.random() < CRM_FOUND else ""
        email = phone = phone_key = ""
        r = rng.random()
        if r < PLACEHOLDER_P:
            email = PLACEHOLDER_EMAILS[int(rng.random() * len(PLACEHOLDER_EMAILS))]
            self.reg.add("email", "", email, email, p.pid)
        elif crm and r < ACCOUNT_EMAIL:
            email = p.email  # as registered in the CRM
            self.reg.add("email", "", email, p.email_canon, p.pid)
        elif contact_email and r < ACCOUNT_EMAIL:
            email = contact_email  # copied from the contact, as written
            self.reg.add("email", "", email, canon_for(p, email), p.pid)
        elif crm or contact_email or r < 0.85:
            email = self.email_given(p)  # typed by the agent
        r = rng.random()
        if r < PLACEHOLDER_P:
            phone = PLACEHOLDER_PHONES[int(rng.random() * len(PLACEHOLDER_PHONES))]
            self.reg.add("phone", "", phone, placeholder_phone_norm(phone), p.pid)
            phone_key = "p" + placeholder_phone_norm(phone)
        elif r < 0.75 or contact_phone or not (crm or email or handle):  # at least one way to reach them
            ph, why = contact_phone if contact_phone and r < 0.95 else self.phone_given(p)
            phone = phone_writing(rng, ph, national_ok=ph.country == "IT")
            self.reg_phone(phone, ph, p.pid, why)
            phone_key = "p" + ph.e164
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
        tk.ids = ticket_ids(self.email_key(p, email) if email else "", phone_key, crm, handle)
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
            ids=tk.ids,
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
        if p.shop_id and rng.random() < ORDER_ACCOUNT_EMAIL:
            email = p.email  # the account's address
            self.reg.add("email", "", email, p.email_canon, p.pid)
        else:  # typed at the checkout: a guest gives their usual address
            email = self.email_given(p, spaces_ok=True, personal=not p.shop_id)
        ph, why = self.phone_given(p)
        if store_phone and rng.random() < 0.1:
            phone = PLACEHOLDER_PHONES[int(rng.random() * 2)]
            self.reg.add("phone", "", phone, placeholder_phone_norm(phone), p.pid)
            phone_key = "p" + placeholder_phone_norm(phone)
        else:
            phone = phone_writing(rng, ph, national_ok=ph.country == address["country"])
            self.reg_phone(phone, ph, p.pid, why)
            phone_key = "p" + ph.e164
        shop_id = p.shop_id or ""
        if shop_id:
            self.reg.add("customer_id", "shop", shop_id, "shop:" + shop_id, p.pid)
        ids = (
            (self.email_key(p, email), phone_key, "sshop:" + shop_id)
            if shop_id
            else (self.email_key(p, email), phone_key)
        )
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
            ids=ids,
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
        return self._truth("shop", f"{o.order_id}|{status}", p, ep, t, row, ids=o.ids)

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
        card = email = ""
        ids: tuple[str, ...] = ()
        if not p.loyalty and p.customer and kind == "sale" and rng.random() < JOIN_AT_TILL:
            p.loyalty = w.new_loyalty()  # the cashier signs them up: the card is scanned right away
            p.paper_receipts = rng.random() < PAPER_RECEIPTS
        if p.loyalty and rng.random() < CARD_SCANNED:
            r = rng.random()
            lc = p.loyalty
            card = (
                lc
                if r < 0.4
                else (f"{lc[:4]} {lc[4:8]} {lc[8:]}" if r < 0.75 else f"{lc[:4]}-{lc[4:8]}-{lc[8:]}")
            )
            self.reg.add("loyalty_id", "elettra", card, "elettra:" + lc, p.pid)
            ids = ("lelettra:" + lc,)
            if not p.paper_receipts:  # the receipt goes to the address registered with the card
                email = p.email
                self.reg.add("email", "", email, p.email_canon, p.pid)
                ids = (*ids, "e" + p.email_canon)
        elif kind != "visit" and rng.random() < (DESK_CONTACT if kind == "service_desk" else E_RECEIPT_ASKED):
            email = self.email_given(p, spaces_ok=False)  # typed at the till
            ids = (self.email_key(p, email),)
        off = zone_offset(t, store.country)
        staff = f"{store.store_id}-S{1 + int(rng.random() * store.staff):02d}"
        cur = "EUR" if store.country == "IT" else "GBP"
        row = (
            store.store_id,
            receipt,
            iso_local(t, off),
            store.country,
            card,
            email,
            kind,
            f"{amount:.2f}",
            cur,
            items,
            staff,
            note,
        )
        line = ",".join(row[:11]) + "," + q(row[11]) + "\n"
        if ep is not None:
            ep.seen(t, "store", "store_operations" if kind in ("service_desk", "return") else "")
        return self._truth(
            "pos",
            f"{store.store_id}|{receipt}",
            p,
            ep,
            t,
            line,
            text_tone=tone if note else None,
            lang=p.lang if note else None,
            ids=ids,
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
        if self.rng.random() < SURVEY_TO_ACCOUNT:  # the invitation went to the address the brand has
            email = p.email
            self.reg.add("email", "", email, p.email_canon, p.pid)
        else:
            email = self.email_given(p)
        crm = p.crm_id if p.crm_id and self.rng.random() < 0.7 else ""
        if crm:
            self.reg.add("customer_id", "crm", crm, "crm:" + crm, p.pid)
        ids = (self.email_key(p, email), "ccrm:" + crm) if crm else (self.email_key(p, email),)
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
            ids=ids,
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
        ids: tuple[str, ...] = ()
        if p is not None:
            self.reg.add("handle", "social", f"{platform}:{handle}", f"{platform}:{handle.lower()}", p.pid)
            ids = (f"h{platform}:{handle.lower()}",)
        if ep is not None:
            ep.seen(t, "social")
        ref = self._truth("social", sid, p, ep, t, dumps(obj), text_tone=tone, lang=lang, ids=ids)
        return ref, sid


def ticket_ids(email_key: str, phone_key: str, crm: str, handle: str) -> tuple[str, ...]:
    """The identifier keys of a ticket's rows."""
    ids = [k for k in (email_key, phone_key) if k]
    if crm:
        ids.append("ccrm:" + crm)
    if handle:
        platform, _, name = handle.partition(":")
        ids.append(f"h{platform}:{name.lower()}")
    return tuple(ids)
