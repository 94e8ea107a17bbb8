"""Threading: a customer's units (sessions, calls, chats, e-mail threads, tickets, orders...) into episodes.

Units are read in time order, one customer at a time, and each joins an episode by the first rule that
applies (docs/JOURNEYS.md, "How episodes are built"):

1. **References.** A survey joins the contact or ticket it was sent about; a unit that names a ticket joins
   the ticket's episode; an order's status changes follow the order (placing, paying and shipping are the
   purchase; a failed delivery, a return and what resolves them are a service need about that order).
2. **The same need.** A unit whose need is known (its words, a CRM category, the pages it visited)
   continues the most recent episode of that need active within ``continue_days`` whose order numbers and
   product codes do not contradict it (a plan question: the plan's sign-up within ``plan_days``).
3. **Follow-ups.** A unit that says nothing of its need (an abandoned call, "any news?", a visit to the
   contact page) continues the most recent open need within ``followup_days``; a visit to the help pages
   just before a contact belongs to that contact's need.
4. **Purchases.** Research visits, carts and checkouts about a product, and the order that follows, are one
   purchase within ``research_days``; a store consultation and the sale of the same product too.
5. Otherwise the unit starts an episode of its own (a browsing session is always one).

Pure Python over plain lists: the engine has already reduced events to units (:mod:`.features`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .params import SERVICE_INTENTS, Params

SERVICE = frozenset(SERVICE_INTENTS)


@dataclass(slots=True, eq=False)
class Unit:
    ukey: str
    ck: str
    first_seq: int
    source: str
    channel: str
    t0: float  # epoch seconds
    t1: float
    orders: list[str]
    tickets: list[str]
    codes: list[str]
    focus: list[str]
    service_pages: list[str]
    cart_abandoned: bool
    add_to_cart: bool
    checkout: bool
    dead_end: bool
    form_request: bool
    signup: bool
    newsletter: bool
    types: str
    survey: str | None
    context_ref: str | None
    chat_transferred: bool
    inbound: bool
    answered: bool
    keys: list[str]
    role: str = ""
    intent: str | None = None
    ep: int = -1


class Episode:
    """An episode being built (identity equality: two episodes are never equal by value)."""

    __slots__ = (
        "idx",
        "ck",
        "kind",
        "intent",
        "t0",
        "t_last",
        "orders",
        "codes",
        "ordered",
        "cancelled",
        "units",
        "intent_source",
        "listed",
    )

    def __init__(self, idx: int, ck: str, kind: str, intent: str, t0: float, t_last: float, how: str) -> None:
        self.idx = idx
        self.ck = ck
        self.kind = kind  # service | purchase
        self.intent = intent
        self.t0 = t0
        self.t_last = t_last
        self.orders: set[str] = set()
        self.codes: set[str] = set()
        self.ordered = False
        self.cancelled: set[str] = set()
        self.units: list[Unit] = []
        self.intent_source = how
        self.listed = False  # in its customer's list of episodes

    @property
    def first_seq(self) -> int:
        return min(u.first_seq for u in self.units if u.ck != "~")


def _role(u: Unit) -> str:
    """What a unit is, from its source and flags."""
    ch = u.channel
    if u.source == "shop" or u.types.startswith("order_") or u.types in ("delivery_failed", "refund_issued"):
        return "order"
    if ch in ("web", "app"):
        if u.signup:
            return "signup"
        if u.checkout:
            return "checkout"
        if u.cart_abandoned:
            return "cart"
        if u.service_pages or u.form_request or u.dead_end:
            return "self_service"
        if u.newsletter:
            return "newsletter"
        if u.focus:
            return "research"
        return "browse"
    if u.source == "surveys" or u.types == "survey_response":
        return "survey" if u.context_ref else "nps"
    if ch == "store":
        if "store_purchase" in u.types:
            return "sale"
        if "store_visit" in u.types:
            return "visit"
        return "contact"  # service desk, return at the till
    if ch == "review" or "review_posted" in u.types:
        return "review"
    if ch == "other" and "ticket" in u.types:
        return "ticket"
    if ch in ("voice", "chat", "email", "social", "sms"):
        return "contact" if u.inbound or ch == "voice" else "outbound"
    return "record"


_SS_INTENT_ORDER = ("refund", "repair", "address_change", "subscription", "delivery_problem")


def _self_service_intent(u: Unit) -> str:
    pages = set(u.service_pages)
    for i in _SS_INTENT_ORDER:
        if i in pages:
            return i
    return "other"


class Threader:
    """Threads the units of one customer at a time (see the module docstring for the rules)."""

    def __init__(self, params: Params) -> None:
        self.p = params
        self.continue_s = params.continue_days * 86400.0
        self.follow_s = params.followup_days * 86400.0
        self.plan_s = params.plan_days * 86400.0
        self.research_s = params.research_days * 86400.0
        self.attach_s = params.attach_seconds
        self.lead_s = params.self_service_lead
        self.episodes: list[Episode] = []
        self.of_customer: dict[str, list[Episode]] = {}
        #: (customer, first event, kind, intent, intent source) of every episode, by index (set by the
        #: caller that merges threaded slices)
        self.summary: list[tuple[str, int, str, str, str]] = []

    # --- helpers -------------------------------------------------------------------------------

    def _new(self, u: Unit, kind: str, intent: str, how: str) -> Episode:
        ep = Episode(len(self.episodes), u.ck, kind, intent, u.t0, u.t1, how)
        self.episodes.append(ep)
        return ep

    @staticmethod
    def _join(ep: Episode, u: Unit) -> None:
        u.ep = ep.idx
        ep.units.append(u)
        if u.t1 > ep.t_last:
            ep.t_last = u.t1
        if ep.kind == "service":
            ep.orders.update(u.orders)
            ep.codes.update(u.codes)

    def _since(self, ep: Episode, t: float) -> float:
        return t - ep.t_last

    @staticmethod
    def _compatible(ep: Episode, u: Unit) -> bool:
        """No order number or product code of the unit contradicts the episode."""
        if u.orders and ep.orders and not ep.orders.intersection(u.orders):
            return False
        return not (u.codes and ep.codes and not ep.codes.intersection(u.codes))

    def _recent_service(
        self, eps: list[Episode], u: Unit, window: float, intent: str | None
    ) -> Episode | None:
        """The most recently active service episode (of ``intent`` if given) within ``window``."""
        best = None
        for ep in eps:
            if ep.kind != "service" or (intent is not None and ep.intent != intent):
                continue
            if self._since(ep, u.t0) > window or not self._compatible(ep, u):
                continue
            if best is None or ep.t_last > best.t_last:
                best = ep
        return best

    # --- the customer ---------------------------------------------------------------------------

    def thread(self, units: list[Unit]) -> list[Episode]:
        """Assign every unit of one customer (sorted by start) to an episode; returns the new episodes."""
        start = len(self.episodes)
        eps: list[Episode] = []  # this customer's service and purchase episodes
        by_ticket: dict[str, Episode] = {}
        by_thread: dict[str, Episode] = {}
        purchase_of: dict[str, Episode] = {}
        pending: list[Unit] = []  # help-page visits that wait for the contact they lead to
        last_chat: Unit | None = None
        last_contact: Unit | None = None
        for u in units:
            u.role = u.role or _role(u)
            # self-service visits waiting for a contact that did not come: placed by their own pages
            while pending and (u.t0 - pending[0].t1) > self.lead_s:
                self._settle(self._fallback(pending.pop(0), eps), pending, eps)
            ep = self._place(u, eps, by_ticket, by_thread, purchase_of, last_chat, last_contact)
            if ep is None:
                pending.append(u)
                continue
            self._join(ep, u)
            if not ep.listed:
                ep.listed = True
                eps.append(ep)
            if u.role in ("contact", "ticket") and ep.kind == "service":
                # the visits to the help pages before a contact were about its need
                while pending:
                    self._join(ep, pending.pop(0))
            if u.role == "ticket":
                by_ticket[u.ukey.split("|", 2)[2]] = ep
            for t in u.tickets:
                by_ticket.setdefault(t, ep)
            by_thread[u.ukey.split("|", 2)[2]] = ep
            for k in u.keys:
                by_thread[k] = ep
            if u.channel == "chat":
                last_chat = u
            if u.role == "contact":
                last_contact = u
        while pending:
            self._settle(self._fallback(pending.pop(0), eps), pending, eps)
        new = self.episodes[start:]
        if units:
            self.of_customer[units[0].ck] = new
        return new

    def adopt(self, u: Unit, candidates: Sequence[str]) -> Episode | None:
        """A unit of nobody (its identifiers are shared by several customers) joins the episode of the
        candidate whose need it fits: a ticket or a contact within ``attach_seconds`` of it, else an
        episode of the same need active within ``continue_days``, else a recent need. No episode, or two
        candidates that fit equally: it stays out of every episode."""
        u.role = _role(u)
        best: dict[str, tuple[tuple[int, float], Episode]] = {}
        for ck in candidates:
            for ep in self.of_customer.get(ck, ()):
                if ep.kind != "service":
                    continue
                near = min(min(abs(v.t0 - u.t1), abs(u.t0 - v.t1)) for v in ep.units)
                since = u.t0 - ep.t_last
                if near <= self.attach_s:
                    key = (3, -near)
                elif (
                    ep.t0 <= u.t0
                    and u.intent == ep.intent
                    and since <= self.continue_s
                    and self._compatible(ep, u)
                ):
                    key = (2, -abs(since))
                elif ep.t0 <= u.t0 and since <= self.follow_s and u.intent is None:
                    key = (1, -abs(since))
                else:
                    continue
                if ck not in best or key > best[ck][0]:
                    best[ck] = (key, ep)
        if not best:
            return None
        ranked = sorted(best.values(), key=lambda kv: kv[0], reverse=True)
        if len(ranked) > 1 and ranked[1][0][0] == ranked[0][0][0]:
            return None  # two customers fit as well: it stays nobody's
        choice = ranked[0][1]
        u.role = "adopted"
        self._join(choice, u)
        return choice

    def _place(
        self,
        u: Unit,
        eps: list[Episode],
        by_ticket: dict[str, Episode],
        by_thread: dict[str, Episode],
        purchase_of: dict[str, Episode],
        last_chat: Unit | None,
        last_contact: Unit | None,
    ) -> Episode | None:
        role = u.role
        if role == "browse":
            return self._new(u, "browse", "browse", "pages")
        if role == "newsletter":
            return self._new(u, "marketing", "marketing", "newsletter landing")
        if role == "nps":
            return self._new(u, "feedback", "feedback", "relationship survey")
        if role == "survey":
            ref = u.context_ref or ""
            ep = by_ticket.get(ref) or by_thread.get(ref)
            if ep is not None:
                return ep
            return self._recent_any(eps, u, self.follow_s) or self._new(u, "feedback", "feedback", "survey")
        if role == "review":
            return self._recent_any(eps, u, 10 * 86400.0) or self._new(u, "feedback", "feedback", "review")
        if role in ("research", "cart", "checkout", "visit", "sale"):
            return self._purchase(u, eps)
        if role == "signup":
            ep = self._new(u, "service", "subscription", "plan sign-up")
            ep.codes.update(u.focus or u.codes)
            return ep
        if role == "order":
            return self._order(u, eps, purchase_of)
        # references to a ticket the customer already has
        for t in u.tickets:
            if t in by_ticket:
                return by_ticket[t]
        if (
            u.channel == "chat"
            and last_chat is not None
            and last_chat.chat_transferred
            and (u.t0 - last_chat.t1) <= 1800
            and last_chat.ep >= 0
        ):
            return self.episodes[last_chat.ep]  # a transferred chat continues in a new conversation
        if role == "self_service":
            return None  # decided by the contact it leads to (within lead time), else by its pages
        if role == "ticket" and last_contact is not None:
            gap = u.t0 - last_contact.t1
            if 0 <= gap <= self.attach_s and last_contact.ep >= 0:
                # a ticket opened for the contact just before: its category names the need
                ep = self.episodes[last_contact.ep]
                if u.intent is not None and ep.intent != u.intent and ep.intent_source != "crm category":
                    ep.intent = u.intent
                    ep.intent_source = "crm category"
                return ep
        if u.intent is not None:
            return self._service(u, eps, u.intent, "words")
        # says nothing of its need: a follow-up of the most recent one, or the start of a new one
        ep = self._recent_service(eps, u, self.follow_s, None)
        if ep is not None:
            return ep
        return self._new(u, "service", "other", "none")

    def _recent_any(self, eps: list[Episode], u: Unit, window: float) -> Episode | None:
        best = None
        for ep in eps:
            if 0 <= self._since(ep, u.t0) <= window and (best is None or ep.t_last > best.t_last):
                best = ep
        return best

    def _service(self, u: Unit, eps: list[Episode], intent: str, how: str) -> Episode:
        if intent == "subscription":
            ep = self._recent_service(eps, u, self.plan_s, "subscription")
            if ep is not None:
                return ep
        if intent in SERVICE:
            for o in u.orders:
                for ep in reversed(eps):
                    if (
                        ep.kind == "service"
                        and ep.intent == intent
                        and o in ep.orders
                        and self._since(ep, u.t0) <= self.continue_s
                    ):
                        return ep
            ep = self._recent_service(eps, u, self.continue_s, intent)
            if ep is not None:
                return ep
            # an episode started by something that did not say its need
            other = self._recent_service(eps, u, self.follow_s, "other")
            if other is not None:
                other.intent = intent
                other.intent_source = how
                return other
            return self._new(u, "service", intent, how)
        # purchase words on a contact: a question while buying
        ep = self._recent_service(eps, u, self.follow_s, None)
        return ep or self._new(u, "service", intent, how)

    def _purchase(self, u: Unit, eps: list[Episode]) -> Episode:
        codes = set(u.focus or u.codes)
        best = None
        for ep in eps:
            if ep.kind != "purchase" or ep.ordered:
                continue
            if self._since(ep, u.t0) > self.research_s:
                continue
            if codes and ep.codes and not ep.codes.intersection(codes):
                continue
            if not codes and ep.codes:
                continue
            if best is None or ep.t_last > best.t_last:
                best = ep
        if best is None:
            best = self._new(u, "purchase", "purchase", "pages")
        best.codes.update(codes)
        if u.role == "sale":
            best.ordered = True
        return best

    def _order(self, u: Unit, eps: list[Episode], purchase_of: dict[str, Episode]) -> Episode:
        o = u.orders[0] if u.orders else ""
        status = u.types
        mine = purchase_of.get(o)
        purchase_phase = any(
            s in status for s in ("order_placed", "order_paid", "order_shipped", "order_cancelled")
        )
        if purchase_phase or (status == "refund_issued" and mine is not None and o in mine.cancelled):
            if mine is None:
                mine = self._checkout_before(u, eps) or self._new(u, "purchase", "purchase", "order")
                purchase_of[o] = mine
            if mine.kind == "purchase":
                mine.ordered = True
                mine.codes.update(u.codes)
            if "order_cancelled" in status:
                mine.cancelled.add(o)
            return mine
        service = {"delivery_failed": "delivery_problem", "order_delivered": "delivery_problem"}.get(
            status, "refund"
        )
        for ep in reversed(eps):
            if ep.kind == "service" and ep.intent == service and o in ep.orders:
                return ep
        if status == "order_delivered":
            if mine is not None:
                return mine
            return self._new(u, "purchase", "purchase", "order")
        recent = self._recent_service(eps, u, self.continue_s, service)
        if recent is not None and not recent.orders:
            return recent
        return self._new(u, "service", service, "order status")

    def _checkout_before(self, u: Unit, eps: list[Episode]) -> Episode | None:
        """The purchase (or plan sign-up) whose checkout came just before an order was placed."""
        best = None
        for ep in eps:
            if ep.kind not in ("purchase", "service") or (
                ep.kind == "service" and ep.intent != "subscription"
            ):
                continue
            gap = u.t0 - ep.t_last
            if gap < -60 or gap > self.attach_s:
                continue
            if u.codes and ep.codes and not ep.codes.intersection(u.codes):
                continue
            if best is None or ep.t_last > best.t_last:
                best = ep
        return best

    def _fallback(self, u: Unit, eps: list[Episode]) -> Unit:
        """A self-service visit no contact followed: its pages say the need (or it follows the last one)."""
        intent = _self_service_intent(u)
        if intent != "other":
            ep = self._service(u, eps, intent, "self-service pages")
        else:
            ep = self._recent_service(eps, u, self.follow_s, None) or self._new(
                u, "service", "other", "help pages"
            )
        self._join(ep, u)
        if not ep.listed:
            ep.listed = True
            eps.append(ep)
        return u

    def _settle(self, u: Unit, pending: list[Unit], eps: list[Episode]) -> None:
        """Later visits still waiting, within the lead time of a settled one, follow it."""
        ep = self.episodes[u.ep]
        while pending and (pending[0].t0 - u.t1) <= self.lead_s:
            if _self_service_intent(pending[0]) not in ("other", ep.intent):
                break
            self._join(ep, pending.pop(0))


#: the columns threading reads from ``_junit``, in the order of :class:`Unit`'s fields
UNIT_COLUMNS = (
    "ukey",
    "ck",
    "first_seq",
    "source",
    "channel",
    "t0",
    "t1",
    "orders",
    "tickets",
    "codes",
    "focus",
    "service_pages",
    "cart_abandoned",
    "add_to_cart",
    "checkout",
    "dead_end",
    "form_request",
    "signup",
    "newsletter",
    "types",
    "survey",
    "context_ref",
    "chat_transferred",
    "inbound",
    "answered",
    "keys",
    "role",
    "intent",
)
#: separator of the list values of a unit (a unit separator, never in an id)
SEP = "\x1f"
#: list-valued unit columns, sent joined by SEP
LIST_COLUMNS = ("orders", "tickets", "codes", "focus", "service_pages", "keys")


#: boolean unit columns (a NULL is false)
BOOL_COLUMNS = (
    "cart_abandoned",
    "add_to_cart",
    "checkout",
    "dead_end",
    "form_request",
    "signup",
    "newsletter",
    "chat_transferred",
    "inbound",
    "answered",
)
#: text unit columns whose NULL is the empty text
_TEXT_COLUMNS = ("types", "role")


def units_from_columns(c: dict[str, list[Any]]) -> list[Unit]:
    """Units from the columns of ``_junit`` (column lists: much faster than a dict per row; list values
    come joined by :data:`SEP`). Each column is converted in one comprehension (no call per value)."""
    cols: list[list[Any]] = []
    for name in UNIT_COLUMNS:
        v = c[name]
        if name in LIST_COLUMNS:
            v = [x.split(SEP) if x else [] for x in v]
        elif name in BOOL_COLUMNS:
            v = [True if x else False for x in v]  # noqa: SIM210 (bool() is a call per value)
        elif name in _TEXT_COLUMNS:
            v = [x or "" for x in v]
        cols.append(v)
    return [Unit(*row) for row in zip(*cols, strict=True)]
