"""One episode (a journey for one need) and the frictions that are true of it.

Journeys write records and note, in :attr:`Episode.log`, the moments friction rules look at. The
ground-truth frictions are then *derived* from the log with the definitions of docs/DEMO_COMPANY.md
("Friction rules"), so every occurrence in the data is listed, planted or not.

Log entries are ``(t, kind, ref, a, b, n)`` with ``ref`` = ``source:source_key``:

========== ===========================================================================
kind       meaning (a, b, n)
========== ===========================================================================
ss         a self-service record (web or app) about the need (channel)
dead       a digital dead end: form_error, login_failed, contact_page (event)
contact    a customer contact (channel, "assisted" or "self")
handled    a record of an assisted contact handled by a department (department)
transfer   a call leg transferred to another leg (ref of the next leg, department)
abandon    an abandonment (what)
wait       a wait of ``n`` seconds on channel ``a``, ended by record ``b`` (or none)
========== ===========================================================================
"""

from __future__ import annotations

from .clock import DAY, END, HOUR
from .texts import Slots, tone_for

REPEAT_WINDOW = 7 * DAY
DEAD_END_WINDOW = 48 * HOUR
UNRESOLVED_AFTER = 14 * DAY
WAIT_LIMIT = {"voice": 300, "chat": 120, "email": 48 * HOUR}
ASSISTED = ("voice", "chat", "email", "store", "social")
# Which facts the customer gives for each need.
FACT_KINDS = {
    "delivery_problem": ("order_number",),
    "repair": ("product", "problem"),
    "refund": ("order_number",),
    "address_change": ("address",),
    "subscription": ("problem",),
    "info": ("product",),
}
_FACT_SLOT = {"order_number": "order", "product": "model", "problem": "problem", "address": "address"}

LogEntry = tuple[int, str, str, str, str, int]


class Episode:
    __slots__ = (
        "eid",
        "pid",
        "intent",
        "start",
        "end",
        "outcome",
        "log",
        "facts",
        "channels",
        "depts",
        "n_contacts",
        "bad",
        "slots",
        "ticket",
        "resolved_at",
        "lang",
        "order",
    )

    def __init__(self, eid: str, pid: str, intent: str, start: int, slots: Slots, lang: str) -> None:
        self.eid = eid
        self.pid = pid
        self.intent = intent
        self.start = start
        self.end = start
        self.outcome = "resolved"
        self.log: list[LogEntry] = []
        self.facts: dict[str, tuple[str, str, list[str]]] = {}
        self.channels: list[str] = []
        self.depts: list[str] = []
        self.n_contacts = 0
        self.bad = 0  # frictions planted so far: the customer's mood
        self.slots = slots
        self.ticket: object = None
        self.resolved_at: int | None = None
        self.lang = lang
        self.order: object = None

    @property
    def tone(self) -> int:
        return tone_for(self.bad)

    def seen(self, t: int, channel: str, dept: str = "") -> None:
        if t > self.end:
            self.end = t
        if channel not in self.channels:
            self.channels.append(channel)
        if dept and dept not in self.depts:
            self.depts.append(dept)

    def touch(self, t: int) -> None:
        if t > self.end:
            self.end = t

    def note(self, t: int, kind: str, ref: str | None, a: str = "", b: str = "", n: int = 0) -> None:
        if ref is not None:
            self.log.append((t, kind, ref, a, b, n))

    def contact(self, t: int, ref: str | None, channel: str) -> None:
        if ref is None:
            return
        self.n_contacts += 1
        self.note(t, "contact", ref, channel, "assisted" if channel in ASSISTED else "self")

    def fact_value(self, kind: str) -> str:
        return self.slots[_FACT_SLOT[kind]]

    def give(self, kind: str, ref: str | None, text: str | None = None) -> bool:
        """The customer gives fact ``kind`` in record ``ref`` (whose ``text`` says it); True when it had
        been given before. A text that does not contain the value gives nothing."""
        if ref is None or (text is not None and self.fact_value(kind) not in text):
            return False
        f = self.facts.get(kind)
        if f is None:
            self.facts[kind] = (self.fact_value(kind), ref, [])
            return False
        f[2].append(ref)
        return True

    def given(self, kind: str) -> bool:
        return kind in self.facts


Friction = tuple[str, list[str], str]


def detect(ep: Episode) -> list[Friction]:
    """The frictions of an episode, by the rules of the spec."""
    out: list[Friction] = []
    log = sorted(ep.log, key=lambda e: e[0])
    contacts = [e for e in log if e[1] == "contact"]
    if not contacts:  # without a contact only an abandonment can be (every other rule needs one)
        return [("abandonment", [e[2]], e[3]) for e in log if e[1] == "abandon"]
    # repeat_contact
    for prev, cur in zip(contacts, contacts[1:], strict=False):
        gap = cur[0] - prev[0]
        if gap <= REPEAT_WINDOW:
            out.append(
                (
                    "repeat_contact",
                    [prev[2], cur[2]],
                    f"contact {contacts.index(cur) + 1} after {gap / HOUR:.1f} h",
                )
            )
    # transfer
    for e in log:
        if e[1] == "transfer":
            out.append(("transfer", [e[2], e[3]], f"call transferred to {e[4]}"))
    # department_bounce
    seq: list[tuple[str, str]] = []
    for e in log:
        if e[1] == "handled" and (not seq or seq[-1][0] != e[3]):
            seq.append((e[3], e[2]))
    first_by_dept: dict[str, str] = {}
    for d, ref in seq:
        first_by_dept.setdefault(d, ref)
    if len(first_by_dept) >= 3:
        out.append(("department_bounce", list(first_by_dept.values()), " > ".join(d for d, _ in seq)))
    # channel_hop
    assisted = [e for e in contacts if e[4] == "assisted"]
    if assisted:
        a0 = assisted[0]
        ss = [e for e in log if e[1] == "ss" and e[0] < a0[0]]
        if ss:
            out.append(("channel_hop", [ss[-1][2], a0[2]], f"{ss[-1][3]} then {a0[3]}"))
    # digital_dead_end
    used: set[str] = set()
    for a in assisted:
        if a[3] not in ("voice", "chat", "email"):
            continue
        dead = [
            e for e in log if e[1] == "dead" and a[0] - DEAD_END_WINDOW <= e[0] < a[0] and e[2] not in used
        ]
        if dead:
            used.update(e[2] for e in dead)
            out.append(
                (
                    "digital_dead_end",
                    [*(e[2] for e in dead), a[2]],
                    f"{', '.join(e[3] for e in dead)} then {a[3]}",
                )
            )
    # abandonment
    for e in log:
        if e[1] == "abandon":
            out.append(("abandonment", [e[2]], e[3]))
    # long_wait
    for e in log:
        if e[1] == "wait" and e[5] > WAIT_LIMIT[e[3]]:
            ev = [e[2], e[4]] if e[4] else [e[2]]
            if e[3] != "email":
                detail = f"{e[3]} wait {e[5]} s"
            else:
                detail = f"email reply after {e[5] / HOUR:.1f} h" if e[4] else "email never answered"
            out.append(("long_wait", ev, detail))
    # info_asked_twice
    for kind, (value, given, restated) in ep.facts.items():
        if restated:
            out.append(("info_asked_twice", [given, *restated], f"{kind} {value} given again"))
    # unresolved
    if contacts:
        first = contacts[0][0]
        until = ep.resolved_at if ep.resolved_at is not None else END
        if until - first > UNRESOLVED_AFTER:
            out.append(
                (
                    "unresolved",
                    [contacts[0][2]],
                    "open after 14 days"
                    if ep.resolved_at is None
                    else f"resolved after {(until - first) / DAY:.0f} days",
                )
            )
    return out


def facts_rows(ep: Episode) -> list[tuple[str, str, str, str, str]]:
    return [
        (ep.eid, kind, value, given, ";".join(restated))
        for kind, (value, given, restated) in ep.facts.items()
    ]
