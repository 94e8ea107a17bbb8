"""The customer as an agent sees them: profile header with identifiers masked per role, value, consent.

Only what the data holds is shown: value comes from orders and till receipts, consent from consent events
(types below), and nothing is shown where the workspace has no evidence (no invented scores).
"""

from __future__ import annotations

from typing import Any

from ..errors import NotFoundError
from ..store.duckdb import DuckDBEngine
from ..store.sqlutil import ints
from ..timeline import current_key
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
    eng: DuckDBEngine,
    key: str,
    principal: Principal | None,
    contact: set[tuple[str, str]] | None = None,
    *,
    shared: bool = True,
    refs: list[tuple[Any, ...]] | None = None,
    value: bool = True,
    identifiers: list[tuple[Any, ...]] | None = None,
) -> dict[str, Any]:
    """Profile header: identity (masked per role), channels, value, consent.

    Point look-ups only (customer key, identifier ids, event seqs: all indexed), so it stays fast on a
    workspace of millions of events. ``shared``: also the shared identifiers written on the customer's
    events (family phones, switchboards), which costs a read of their identifier lists. ``identifiers``: the
    customer's ``customer_identifiers`` rows, when the caller has read them.
    """
    contact = contact or set()
    row = _customer_row(eng, key)
    cur = row["customer_key"]
    found = identifiers if identifiers is not None else customer_identifiers(eng, cur)
    idents = []
    for kind, ident, n, _first, last in found:
        shown, masked = show(kind, ident, principal, contact)
        idents.append(
            {
                "kind": kind,
                "value": shown,
                "masked": masked,
                "contact": (kind, ident) in contact,
                "n_events": n,
                "last_seen": last,
            }
        )
    if refs is None:
        refs = customer_refs(eng, cur)
    seqs = [int(r[0]) for r in refs]
    channels: dict[str, dict[str, Any]] = {}
    for _, at, ch, _dept in refs:
        c = channels.setdefault(ch or "other", {"channel": ch or "other", "events": 0, "last": at})
        c["events"] += 1
        c["last"] = max(c["last"], at)
    departments = sorted({r[3] for r in refs if r[3]})
    money: dict[str, dict[str, float]] = {}
    consent = None
    shared_out: list[dict[str, Any]] = []
    if seqs and value:
        spend = eng.execute(
            f"SELECT type, value, currency, occurred_at, seq FROM events WHERE seq IN ({ints(seqs)}) "
            "AND (type IN ('order_placed', 'store_purchase', 'refund_issued', 'store_return') "
            f"OR type IN ({', '.join(repr(t) for t in CONSENT_TYPES)}))"
        )
        for typ, amount, cur_code, at, seq in sorted(spend, key=lambda r: (r[3], r[4])):
            if typ in CONSENT_TYPES:
                consent = {"marketing": CONSENT_TYPES[typ], "since": at, "seq": seq}
                continue
            if amount is None or not cur_code:
                continue
            v = money.setdefault(cur_code, {"spent": 0.0, "refunded": 0.0, "orders": 0})
            if typ in ("order_placed", "store_purchase"):
                v["spent"] += float(amount)
                v["orders"] += 1
            else:
                v["refunded"] += abs(float(amount))
    if seqs and shared:
        shared_out = _shared(eng, seqs, {v for _, v, *_ in found}, principal, contact)
    merged = int(eng.scalar("SELECT count(*) FROM customers WHERE merged_into = ?", [cur]) or 0)
    return {
        "customer_key": cur,
        "requested_key": key,
        "display_name": row["display_name"],
        "status": row["status"],
        "first_seen": row["first_seen"],
        "last_seen": row["last_seen"],
        "n_events": row["n_events"],
        "identifiers": idents,
        "shared_identifiers": shared_out,
        "channels": sorted(channels.values(), key=lambda c: -c["events"]),
        "departments": departments,
        "merged_keys": merged,
        "value": money if value else None,
        "consent": consent,
    }


def _shared(
    eng: DuckDBEngine,
    seqs: list[int],
    own: set[str],
    principal: Principal | None,
    contact: set[tuple[str, str]],
) -> list[dict[str, Any]]:
    """Identifiers written on the customer's events that are not theirs alone (shared, placeholders)."""
    from ..identity.normalize import normalize

    raws = eng.execute(
        "SELECT DISTINCT i.kind, i.namespace, i.raw, i.region FROM "
        f"(SELECT unnest(identifiers) AS i FROM events WHERE seq IN ({ints(seqs[-500:])}))"
    )
    values = set()
    for kind, ns, raw, region in raws:
        if raw is None:
            continue
        n = normalize(kind, raw, ns or "", region)
        if n.value and n.value not in own:
            values.add(n.value)
    if not values:
        return []
    out = []
    for kind, value, status, reason in eng.execute(
        "SELECT kind, value, status, status_reason FROM identifiers WHERE value = ANY(?) AND status <> 'active' "
        "ORDER BY kind, value",
        [sorted(values)],
    ):
        shown, masked = show(kind, value, principal, contact)
        out.append({"kind": kind, "value": shown, "masked": masked, "status": status, "reason": reason})
    return out


def _customer_row(eng: DuckDBEngine, key: str) -> dict[str, Any]:
    """The customer's row, followed through merges (one primary-key read when the key is current)."""
    sql = (
        "SELECT customer_key, display_name, status, merged_into, first_seen, last_seen, n_events "
        "FROM customers WHERE customer_key = ?"
    )
    rows = eng.dicts(sql, [key])
    if rows and rows[0]["status"] == "merged" and rows[0]["merged_into"]:
        rows = eng.dicts(sql, [resolve_key(eng, key)])
    if not rows:
        raise NotFoundError(f"No customer {key}")
    return rows[0]


def customer_identifiers(eng: DuckDBEngine, key: str) -> list[tuple[Any, ...]]:
    """(kind, value, n_events, first_seen, last_seen) of a current customer's identifiers (two index reads)."""
    ids = [
        int(r[0]) for r in eng.execute("SELECT identifier_id FROM identity_map WHERE customer_key = ?", [key])
    ]
    if not ids:
        return []
    return eng.execute(
        "SELECT kind, value, n_events, first_seen, last_seen FROM identifiers "
        f"WHERE identifier_id IN ({ints(ids)}) ORDER BY kind, first_seen, value"
    )


def customer_refs(eng: DuckDBEngine, key: str) -> list[tuple[Any, ...]]:
    """(seq, occurred_at, channel, department) of every event of a customer (the timeline index)."""
    return eng.execute(
        "SELECT seq, occurred_at, channel, department FROM event_customer WHERE customer_key = ?", [key]
    )


def contact_of(eng: DuckDBEngine, identifier_id: int) -> tuple[str, str] | None:
    row = eng.one("SELECT kind, value FROM identifiers WHERE identifier_id = ?", [int(identifier_id)])
    return (str(row[0]), str(row[1])) if row else None


def resolve_key(eng: DuckDBEngine, key: str) -> str:
    cur = current_key(eng, key)
    if cur is None:
        raise NotFoundError(f"No customer {key}")
    return cur


def episodes_of(eng: DuckDBEngine, key: str, limit: int = 5) -> list[dict[str, Any]]:
    """The customer's open episodes and latest ones (journeys stage), with their frictions and the VoC
    stage's inferred satisfaction when those stages ran; empty when they have not."""
    from .brief import _has_table

    if not _has_table(eng, "episodes", rows=True):
        return []
    eps = eng.records(
        """SELECT episode_id, intent, outcome, started_at, ended_at, n_contacts, channels, departments
           FROM episodes WHERE customer_key = ? AND intent NOT IN ('browse', 'marketing')
           ORDER BY (outcome = 'open') DESC, ended_at DESC LIMIT ?""",
        [key, limit],
    )
    if not eps:
        return []
    ids = [e["episode_id"] for e in eps]
    marks = ", ".join("?" for _ in ids)
    frictions: dict[str, list[str]] = {}
    if _has_table(eng, "friction", rows=True):
        for ep, kind in eng.execute(
            f"SELECT episode_id, kind FROM friction WHERE episode_id IN ({marks}) ORDER BY occurred_at", ids
        ):
            frictions.setdefault(ep, []).append(kind)
    satisfaction: dict[str, tuple[float, bool]] = {}
    if _has_table(eng, "satisfaction_inferred", rows=True):
        for ep, p, inferred in eng.execute(
            f"SELECT episode_id, p_satisfied, inferred FROM satisfaction_inferred WHERE episode_id IN ({marks})",
            ids,
        ):
            satisfaction[ep] = (float(p), bool(inferred))
    for e in eps:
        e["frictions"] = frictions.get(e["episode_id"], [])
        sat = satisfaction.get(e["episode_id"])
        e["p_satisfied"] = sat[0] if sat else None
        e["satisfaction_inferred"] = sat[1] if sat else None
    return eps
