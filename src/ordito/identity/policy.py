"""Merge policy: how many values of each identifier kind one person can have, and how much each kind is
trusted. This is ordito's answer to Segment's "merge protection": instead of dropping an identifier that
breaks a limit, ordito keeps it, marks it *shared* with the reason and the people it touches, and stops
using it to merge (docs/IDENTITY.md).
"""

from __future__ import annotations

#: Most distinct values of a kind one person has (per namespace for namespaced kinds: one CRM id, one
#: shop id...). A component that would exceed a limit is not one person.
LIMITS: dict[str, int] = {
    "customer_id": 1,
    "loyalty_id": 2,
    "email": 5,
    "phone": 4,
    "handle": 2,
    "anonymous_id": 200,
}

#: Kinds that name an account in a system of record. They are never marked shared by the neighbour rule;
#: conflicts between them refuse the link instead.
ANCHOR_KINDS = frozenset({"customer_id", "loyalty_id"})

#: Trust of a kind when choosing which link to keep and which identifier is the bridge between people.
TRUST: dict[str, int] = {
    "customer_id": 6,
    "loyalty_id": 5,
    "email": 4,
    "handle": 3,
    "phone": 2,
    "anonymous_id": 1,
}

#: Which identifier names the customer of an event when it carries several (highest first).
EVENT_PRIORITY = ("customer_id", "loyalty_id", "email", "phone", "handle", "anonymous_id")


def limit_key(kind: str, namespace: str) -> tuple[str, str]:
    """Limits of namespaced kinds count per namespace; others across namespaces."""
    if kind in ("customer_id", "loyalty_id", "handle"):
        return kind, namespace
    return kind, ""


def limit_of(kind: str) -> int:
    return LIMITS.get(kind, 1_000_000)
