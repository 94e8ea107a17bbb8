"""Clustering of the identity graph and stable key assignment. Pure Python/numpy, no engine.

1. Connected components of the active identifiers over their links (scipy, linear time).
2. A component that breaks a per-kind limit is not one person: it is re-clustered with a constrained
   union-find that takes links strongest first and refuses a union that would break a limit. The weaker
   endpoint of a refused link is the bridge between people and becomes *shared* (kept, explained, no
   longer used to merge); a refused link between two accounts is only refused.
3. Stable keys: each component inherits the key of the oldest customer whose *home* identifier (its
   earliest) it holds; other old customers it holds are merged into that key; a component holding no home
   identifier gets a new key (a split, when it held identifiers of an existing customer).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from .policy import ANCHOR_KINDS, TRUST, limit_key, limit_of


@dataclass
class Node:
    id: int
    kind: str
    namespace: str
    value: str
    order: tuple[object, ...]  # (first_seen, value): the earliest identifier of a customer is its home


@dataclass
class Edge:
    a: int
    b: int
    n_events: int
    first_seq: int


@dataclass
class Change:
    action: str  # create | merge | split | shared | refused_link
    customer_key: str | None = None
    other_key: str | None = None
    identifier_id: int | None = None
    reason: str = ""
    detail: dict[str, object] = field(default_factory=dict)


def components(node_ids: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Component label per node (node_ids sorted ascending; a, b are node ids of edges)."""
    n = len(node_ids)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    ia = np.searchsorted(node_ids, a)
    ib = np.searchsorted(node_ids, b)
    m = coo_matrix((np.ones(len(ia), dtype=np.int8), (ia, ib)), shape=(n, n))
    _, labels = connected_components(m, directed=False)
    return np.asarray(labels, dtype=np.int64)


def violations(nodes: Iterable[Node]) -> list[tuple[tuple[str, str], int]]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for nd in nodes:
        counts[limit_key(nd.kind, nd.namespace)] += 1
    return [(k, c) for k, c in counts.items() if c > limit_of(k[0])]


def _fmt_kind(k: tuple[str, str]) -> str:
    return f"{k[0]} ({k[1]})" if k[1] else k[0]


def constrained(
    nodes: dict[int, Node], edges: list[Edge]
) -> tuple[list[list[int]], dict[int, str], list[Change]]:
    """Split an over-limit component. Returns (groups, newly shared node -> reason, refused links)."""
    shared: dict[int, str] = {}
    refused: list[Change] = []

    def strength(e: Edge) -> tuple[int, int, int]:
        t = min(TRUST.get(nodes[e.a].kind, 0), TRUST.get(nodes[e.b].kind, 0))
        return (-t, -e.n_events, e.first_seq)

    ordered = sorted(edges, key=strength)
    while True:
        parent = {i: i for i in nodes if i not in shared}
        counts: dict[int, dict[tuple[str, str], int]] = {
            i: {limit_key(nodes[i].kind, nodes[i].namespace): 1} for i in parent
        }
        members: dict[int, list[int]] = {i: [i] for i in parent}

        def find(x: int, parent: dict[int, int] = parent) -> int:
            while parent[x] != x:
                parent[x] = parent[parent[x]]
                x = parent[x]
            return x

        restart = False
        for e in ordered:
            if e.a in shared or e.b in shared:
                continue
            ra, rb = find(e.a), find(e.b)
            if ra == rb:
                continue
            ca, cb = counts[ra], counts[rb]
            over = [k for k in set(ca) | set(cb) if ca.get(k, 0) + cb.get(k, 0) > limit_of(k[0])]
            if over:
                na, nb = nodes[e.a], nodes[e.b]
                k = over[0]
                side_a = [
                    nodes[m].value for m in members[ra] if limit_key(nodes[m].kind, nodes[m].namespace) == k
                ]
                side_b = [
                    nodes[m].value for m in members[rb] if limit_key(nodes[m].kind, nodes[m].namespace) == k
                ]
                side_a, side_b = sorted([sorted(side_a), sorted(side_b)])
                why = (
                    f"joins {', '.join(side_a[:3])} with {', '.join(side_b[:3])}: a person has at most "
                    f"{limit_of(k[0])} {_fmt_kind(k)}"
                )
                if na.kind in ANCHOR_KINDS and nb.kind in ANCHOR_KINDS:
                    refused.append(
                        Change(
                            "refused_link",
                            identifier_id=e.a,
                            reason=why,
                            detail={"a": na.value, "b": nb.value},
                        )
                    )
                    continue
                # the bridge is the weaker endpoint (ties: the one that is not in the larger group)
                ta, tb = TRUST.get(na.kind, 0), TRUST.get(nb.kind, 0)
                if ta != tb:
                    bridge = e.a if ta < tb else e.b
                else:
                    bridge = e.a if len(members[ra]) <= len(members[rb]) else e.b
                shared[bridge] = why
                restart = True
                break
            if len(members[ra]) < len(members[rb]):
                ra, rb = rb, ra
            parent[rb] = ra
            root_counts = counts[ra]
            for k2, v in counts.pop(rb).items():
                root_counts[k2] = root_counts.get(k2, 0) + v
            members[ra].extend(members.pop(rb))
        if not restart:
            groups = [sorted(m) for r, m in members.items() if find(r) == r]
            return groups, shared, refused


def key_candidate(seed: str, i: int) -> str:
    """The i-th candidate key of a home identifier (``kind:value``): the next one when it is taken."""
    return "cus_" + hashlib.md5((seed if i == 0 else f"{seed}#{i}").encode()).hexdigest()[:16]


def new_key(home: Node, taken: set[str]) -> str:
    seed = f"{home.kind}:{home.value}"
    for i in range(100):
        key = key_candidate(seed, i)
        if key not in taken:
            return key
    raise RuntimeError("could not allocate a customer key")  # pragma: no cover


def assign_keys(
    groups: list[list[int]],
    nodes: dict[int, Node],
    old_key: dict[int, str],
    key_order: dict[str, tuple[object, ...]],
    home_of: dict[str, int],
    taken: set[str],
) -> tuple[dict[int, str], list[Change]]:
    """Give every group a customer key, keeping old keys stable (see module docstring)."""
    out: dict[int, str] = {}
    changes: list[Change] = []
    for g in sorted(groups, key=lambda grp: min(nodes[i].order for i in grp)):
        olds = sorted({old_key[i] for i in g if i in old_key}, key=lambda k: key_order.get(k, ()))
        homes = [k for k in olds if home_of.get(k) in set(g)]
        if homes:
            key = homes[0]
            for other in homes[1:]:
                changes.append(
                    Change(
                        "merge",
                        customer_key=key,
                        other_key=other,
                        reason=f"{other} and {key} share linked identifiers",
                    )
                )
            for other in olds:
                if other not in homes:
                    changes.append(
                        Change(
                            "move",
                            customer_key=key,
                            other_key=other,
                            reason=f"some identifiers of {other} are now linked to {key}",
                        )
                    )
        else:
            home = min((nodes[i] for i in g), key=lambda nd: nd.order)
            key = new_key(home, taken)
            taken.add(key)
            if olds:
                for o in olds:
                    changes.append(
                        Change(
                            "split",
                            customer_key=key,
                            other_key=o,
                            reason=f"identifiers of {o} no longer linked to it",
                        )
                    )
            else:
                changes.append(
                    Change(
                        "create",
                        customer_key=key,
                        identifier_id=home.id,
                        reason=f"new person first seen as {home.kind} {home.value}",
                    )
                )
        for i in g:
            out[i] = key
    return out, changes
