"""Merging deterministic groups along fuzzy links, with merge protection (pure Python, no engine).

The groups are the components of the deterministic graph (already split where they broke a limit).
Fuzzy and reviewed links between groups are taken strongest first (a person's ``same`` before any
model score, then by probability) and a union is refused when it would:

- break a per-kind limit (two CRM ids, two shop accounts... : two people who both have an account);
- join records with incompatible birth dates (not equal, not one digit off, not day/month swapped):
  father and son of the same name at the same address;
- join records whose names conflict (``Giuseppe Russo`` and ``Paolo Russo``: a household);
- join two nodes a person decided are different (``fuzzy_reviews``, also written by ``unmerge``);
- follow an *ambiguous* link: a group whose links reach two groups that cannot be one person (the
  father's and the son's records, both "Giuseppe Russo, Via Roma 12", and an order of "Giuseppe Russo"
  with no birth date) is joined to neither; the pairs wait in the review queue.

A refused union is reported with its reason; nothing is marked shared (a fuzzy link is evidence about
two records, not about an identifier that several people use).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np

from ..names import conflict
from ..policy import LIMITS, limit_key, limit_of


@lru_cache(maxsize=500_000)
def _name_of(name_toks: str) -> int:
    """The name id of a record's sorted tokens (tokens of 2+ letters; -1 when fewer than two remain)."""
    t = frozenset(x for x in name_toks.split(" ") if len(x) >= 2)
    return name_id(t) if len(t) >= 2 else -1


@dataclass
class Group:
    #: identifiers of kinds a person has a limit of (record nodes have none: not counted)
    kinds: dict[tuple[str, str], int] = field(default_factory=dict)
    dobs: set[str] = field(default_factory=set)
    #: names as ids of their token sets (``name_id``): a set of small ints is cheap to compare and cache
    names: set[int] = field(default_factory=set)
    nodes: set[int] = field(default_factory=set)


@dataclass
class FuzzyEdge:
    a: int  # node ids
    b: int
    ga: int  # groups
    gb: int
    score: float
    rule: str
    #: both ends already belong to one customer: a union accepted earlier is kept (stable keys); only a
    #: person's "different" undoes it
    sticky: bool = False


def dob_compatible(x: str, y: str) -> bool:
    if x == y:
        return True
    if len(x) == 8 and len(y) == 8 and x[:4] == y[:4] and x[4:6] == y[6:8] and x[6:8] == y[4:6]:
        return True  # day and month swapped
    if len(x) != len(y):
        return False
    diff = [i for i in range(len(x)) if x[i] != y[i]]
    if len(diff) <= 1:
        return True
    return len(diff) == 2 and diff[1] == diff[0] + 1 and x[diff[0]] == y[diff[1]] and x[diff[1]] == y[diff[0]]


_NAME_IDS: dict[frozenset[str], int] = {}
_NAME_TOKENS: list[frozenset[str]] = []
_CONFLICTS: dict[tuple[int, int], bool] = {}


def name_id(tokens: frozenset[str]) -> int:
    """A small int for a set of name tokens (interned for the process)."""
    i = _NAME_IDS.get(tokens)
    if i is None:
        i = _NAME_IDS[tokens] = len(_NAME_TOKENS)
        _NAME_TOKENS.append(tokens)
    return i


def _names_conflict(x: int, y: int) -> bool:
    if x == y:
        return False
    key = (x, y) if x < y else (y, x)
    c = _CONFLICTS.get(key)
    if c is None:
        if len(_CONFLICTS) > 2_000_000:
            _CONFLICTS.clear()
        c = _CONFLICTS[key] = conflict(_NAME_TOKENS[x], _NAME_TOKENS[y])
    return c


def _name_text(i: int) -> str:
    return " ".join(sorted(_NAME_TOKENS[i]))


def why_not(a: Group, b: Group, cannot: set[tuple[int, int]]) -> str | None:
    """The reason the two groups cannot be one person, or None."""
    if a.kinds and b.kinds:
        for k, v in sorted(a.kinds.items()):
            w = b.kinds.get(k)
            if w and v + w > limit_of(k[0]):
                what = f"{k[0]} ({k[1]})" if k[1] else k[0]
                return f"a person has at most {limit_of(k[0])} {what}"
    if (
        a.dobs
        and b.dobs
        and a.dobs.isdisjoint(b.dobs)
        and not any(dob_compatible(x, y) for x in a.dobs for y in b.dobs)
    ):
        return f"different birth dates ({min(a.dobs)} / {min(b.dobs)})"
    conflicting = [(_name_text(x), _name_text(y)) for x in a.names for y in b.names if _names_conflict(x, y)]
    if conflicting:
        # the pair cited: the first in alphabetical order (name ids depend on the order names were met)
        nx, ny = min(conflicting)
        return f"different people's names ({nx} / {ny})"
    if cannot:
        small, big = (a, b) if len(a.nodes) <= len(b.nodes) else (b, a)
        for n in small.nodes:
            for m in big.nodes:
                if (min(n, m), max(n, m)) in cannot:
                    return "a person decided these are different people"
    return None


def merge(
    groups: dict[int, Group], edges: Iterable[FuzzyEdge], cannot: set[tuple[int, int]]
) -> tuple[dict[int, int], list[tuple[FuzzyEdge, str | None]]]:
    """Union groups along the edges, strongest first. Returns (group -> root group, decisions) where
    each decision is an edge between different groups with None (united) or the refusal reason."""
    parent = {g: g for g in groups}
    edges = list(edges)
    doubt = ambiguous(groups, edges, cannot)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    out: list[tuple[FuzzyEdge, str | None]] = []
    for e in sorted(edges, key=lambda e: (not e.sticky, e.rule != "review", -e.score, e.a, e.b)):
        ra, rb = find(e.ga), find(e.gb)
        if ra == rb:
            continue
        if e.sticky:
            reason = _decided_apart(groups[ra], groups[rb], cannot)
        else:
            reason = doubt.get((e.a, e.b)) if e.rule != "review" else None
            reason = reason or why_not(groups[ra], groups[rb], cannot)
        if reason is not None and e.rule == "review" and reason.startswith("different"):
            reason = None  # a person's "same" wins over attribute evidence, not over account limits
        out.append((e, reason))
        if reason is not None:
            continue
        if len(groups[ra].nodes) < len(groups[rb].nodes):
            ra, rb = rb, ra
        parent[rb] = ra
        ga, gb = groups[ra], groups.pop(rb)
        for k, v in gb.kinds.items():
            ga.kinds[k] = ga.kinds.get(k, 0) + v
        ga.dobs |= gb.dobs
        ga.names |= gb.names
        ga.nodes |= gb.nodes
    return {g: find(g) for g in parent}, out


def _decided_apart(a: Group, b: Group, cannot: set[tuple[int, int]]) -> str | None:
    if not cannot:
        return None
    small, big = (a, b) if len(a.nodes) <= len(b.nodes) else (b, a)
    for n in small.nodes:
        for m in big.nodes:
            if (min(n, m), max(n, m)) in cannot:
                return "a person decided these are different people"
    return None


def ambiguous(
    groups: dict[int, Group], edges: list[FuzzyEdge], cannot: set[tuple[int, int]]
) -> dict[tuple[int, int], str]:
    """Model links from one group to two groups that cannot be one person: (a, b) of each -> reason."""
    best: dict[int, dict[int, float]] = {}  # group -> neighbour group -> best score
    for e in edges:
        if e.rule == "review" or e.ga == e.gb or e.sticky:
            continue
        for g, h in ((e.ga, e.gb), (e.gb, e.ga)):
            nb = best.get(g)
            if nb is None:
                best[g] = {h: e.score}
            elif e.score > nb.get(h, -1.0):
                nb[h] = e.score
    # the groups do not change here: each pair is judged once (a pair is often two groups' neighbours)
    judged: dict[tuple[int, int], str | None] = {}

    def why(x: int, y: int) -> str | None:
        if (x, y) in judged:
            return judged[(x, y)]
        if (y, x) in judged and judged[(y, x)] is None:
            return None  # compatibility is symmetric; a reason's wording is not
        r = judged[(x, y)] = why_not(groups[x], groups[y], cannot)
        return r

    doubtful: dict[int, str] = {}
    for g, nb in best.items():
        if len(nb) < 2:
            continue
        # only neighbours it could join: a link merge protection refuses anyway creates no doubt
        strongest = [h for _s, h in sorted((-sc, h) for h, sc in nb.items())[:6]]
        items = [h for h in strongest if why(g, h) is None]
        for i, h1 in enumerate(items):
            for h2 in items[i + 1 :]:
                why_12 = why(h1, h2)
                if why_12 is not None:
                    doubtful[g] = f"ambiguous: its records also match another person ({why_12})"
                    break
            if g in doubtful:
                break
    out: dict[tuple[int, int], str] = {}
    for e in edges:
        why_g = doubtful.get(e.ga) or doubtful.get(e.gb)
        if why_g and e.rule != "review":
            out[(e.a, e.b)] = why_g
    return out


def group_of(
    kind_ns: Iterable[tuple[str, str]], dobs: Iterable[str], names: Iterable[str], nodes: Iterable[int]
) -> Group:
    g = Group()
    for kind, ns in kind_ns:
        if kind in LIMITS:
            k = limit_key(kind, ns)
            g.kinds[k] = g.kinds.get(k, 0) + 1
    g.dobs = {d for d in dobs if d}
    # names are sorted name tokens already folded (fuzzy_records.name_toks): no need to re-tokenise
    g.names = {_name_of(n) for n in set(names) if n}
    g.names.discard(-1)
    g.nodes = set(nodes)
    return g


# --- the common case, vectorised ------------------------------------------------------------------
#
# A *fuzzy component* is a connected component of the groups over the fuzzy edges. When every pair of its
# groups could be one person (per-kind totals of the whole component within the limits, every two of its
# birth dates compatible, no two of its names conflicting, no pair a person decided apart), ``merge``
# refuses nothing in it: no edge is ambiguous (doubt needs two neighbours that cannot be one person) and
# no union breaks a rule (the attributes of any union are a subset of the component's). It then unites the
# whole component, and the edges it records as unions are those that join two different sets when taken
# in its order: Kruskal's spanning forest with the edges' ranks as weights. ``forest`` computes that in C
# (scipy); only components with a conflict go through ``merge``. The resolver checks that the two paths
# give the same clusters and the same merge history (tests/identity_fuzzy/test_union_fast.py).


def edge_order(
    sticky: np.ndarray, review: np.ndarray, score: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """The rank of each edge in ``merge``'s order: sticky first, a person's ``same`` first, strongest
    first, then by node ids."""
    order = np.lexsort((b, a, -score, ~review, ~sticky))
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order), dtype=np.int64)
    return rank


def forest(n: int, ia: np.ndarray, ib: np.ndarray, rank: np.ndarray) -> np.ndarray:
    """Indices of the edges (ia[k], ib[k]) over vertices 0..n-1 that Kruskal's algorithm keeps when it
    takes the edges by ascending ``rank`` (distinct): the minimum spanning forest with those weights."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import minimum_spanning_tree

    if len(ia) == 0:
        return np.zeros(0, dtype=np.int64)
    lo, hi = np.minimum(ia, ib), np.maximum(ia, ib)
    # parallel edges: only the first in order can join two sets (a sparse matrix would add them up)
    by = np.lexsort((rank, hi, lo))
    first = np.ones(len(by), dtype=bool)
    first[1:] = (lo[by][1:] != lo[by][:-1]) | (hi[by][1:] != hi[by][:-1])
    keep = by[first]
    w = rank[keep].astype(np.float64) + 1.0  # exact below 2**53; 0 would mean "no edge"
    m = coo_matrix((w, (lo[keep], hi[keep])), shape=(n, n)).tocsr()
    t = minimum_spanning_tree(m).tocoo()
    by_rank = np.empty(int(rank.max()) + 1, dtype=np.int64)
    by_rank[rank] = np.arange(len(rank), dtype=np.int64)
    return np.sort(by_rank[np.rint(t.data).astype(np.int64) - 1])


def dobs_clean(dobs: Iterable[str]) -> bool:
    """Every two of these birth dates are compatible (so no union can be refused over them)."""
    ds = sorted(set(dobs))
    return all(dob_compatible(x, y) for i, x in enumerate(ds) for y in ds[i + 1 :])


def names_clean(names: Iterable[str]) -> bool:
    """No two of these names (``name_toks``) conflict."""
    ids = sorted({_name_of(n) for n in names if n} - {-1})
    return not any(_names_conflict(x, y) for i, x in enumerate(ids) for y in ids[i + 1 :])
