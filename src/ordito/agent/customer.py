"""The customer as an agent sees them: profile header with identifiers masked per role, value, consent.

Only what the data holds is shown: value comes from orders and till receipts, consent from consent events
(types below), and nothing is shown where the workspace has no evidence (no invented scores).
"""

from __future__ import annotations

from typing import Any

from ..errors import NotFoundError
from ..store.duckdb import DuckDBEngine
from ..timeline import current_key, profile
from .auth import Principal
from .mask import mask_value

#: event types that spend (+) or give back (-) money
VALUE_TYPES = {"order_placed": 1, "store_purchase": 1, "refund_issued": -1, "store_return": 1}
#: event types that record a marketing consent given or withdrawn
CONSENT_TYPES = {
    "consent_given": True,
    "consent_granted": True,
    "subscribed": True,
    "newsletter_subscribed": True,
    "consent_withdrawn": False,
    "consent_revoked": False,
    "unsubscribed": False,
    "newsletter_unsubscribed": False,
}


def unmasked(principal: Principal | None) -> bool:
    return principal is not None and principal.can("identifiers.unmasked")


def show(
    kind: str, value: str, principal: Principal | None, contact: set[tuple[str, str]]
) -> tuple[str, bool]:
    """(what to display, masked?) for one identifier."""
    if unmasked(principal) or (
        principal is not None and principal.role == "agent" and (kind, value) in contact
    ):
        return value, False
    return mask_value(kind, value), True


def header(
    eng: DuckDBEngine, key: str, principal: Principal | None, contact: set[tuple[str, str]] | None = None
) -> dict[str, Any]:
    """Profile header: identity (masked per role), channels, value, consent."""
    contact = contact or set()
    p = profile(eng, key)
    cur = p["customer_key"]
    idents = []
    for i in p["identifiers"]:
        shown, masked = show(i["kind"], i["value"], principal, contact)
        idents.append(
            {
                "kind": i["kind"],
                "value": shown,
                "masked": masked,
                "contact": (i["kind"], i["value"]) in contact,
                "n_events": i["n_events"],
                "last_seen": i["last_seen"],
            }
        )
    shared = []
    for s in p["shared_identifiers"]:
        shown, masked = show(s["kind"], s["value"], principal, contact)
        shared.append(
            {
                "kind": s["kind"],
                "value": shown,
                "masked": masked,
                "status": s["status"],
                "reason": s["status_reason"],
            }
        )
    money = eng.execute(
        """SELECT e.currency, e.type, count(*), sum(e.value) FROM event_customer c JOIN events e ON e.seq = c.seq
           WHERE c.customer_key = ? AND e.value IS NOT NULL AND e.currency IS NOT NULL
             AND e.type IN ('order_placed', 'store_purchase', 'refund_issued', 'store_return')
           GROUP BY ALL ORDER BY 1""",
        [cur],
    )
    value: dict[str, dict[str, float]] = {}
    for cur_code, typ, n, total in money:
        v = value.setdefault(cur_code, {"spent": 0.0, "refunded": 0.0, "orders": 0})
        if typ in ("order_placed", "store_purchase"):
            v["spent"] += float(total)
            v["orders"] += int(n)
        else:
            v["refunded"] += abs(float(total))
    consent = None
    ctypes = ", ".join(f"'{t}'" for t in CONSENT_TYPES)
    row = eng.one(
        f"""SELECT e.type, e.occurred_at, e.seq FROM event_customer c JOIN events e ON e.seq = c.seq
            WHERE c.customer_key = ? AND e.type IN ({ctypes}) ORDER BY e.occurred_at DESC LIMIT 1""",
        [cur],
    )
    if row:
        consent = {"marketing": CONSENT_TYPES[row[0]], "since": row[1], "seq": row[2]}
    departments = [
        r[0]
        for r in eng.execute(
            "SELECT DISTINCT department FROM event_customer WHERE customer_key = ? AND department IS NOT NULL ORDER BY 1",
            [cur],
        )
    ]
    return {
        "customer_key": cur,
        "requested_key": key,
        "display_name": p.get("display_name"),
        "status": p.get("status"),
        "first_seen": p.get("first_seen"),
        "last_seen": p.get("last_seen"),
        "n_events": p.get("n_events"),
        "identifiers": idents,
        "shared_identifiers": shared,
        "channels": p["channels"],
        "departments": departments,
        "merged_keys": len(p["merged_keys"]),
        "value": value,
        "consent": consent,
    }


def contact_of(eng: DuckDBEngine, identifier_id: int) -> tuple[str, str] | None:
    row = eng.one("SELECT kind, value FROM identifiers WHERE identifier_id = ?", [int(identifier_id)])
    return (str(row[0]), str(row[1])) if row else None


def resolve_key(eng: DuckDBEngine, key: str) -> str:
    cur = current_key(eng, key)
    if cur is None:
        raise NotFoundError(f"No customer {key}")
    return cur
