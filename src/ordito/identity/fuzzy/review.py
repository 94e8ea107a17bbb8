"""The review queue, a person's decisions, and undoing a merge.

The queue holds the pairs of graph nodes the model was unsure about (probability between the review and
the link thresholds) and the links merge protection refused (ambiguous, conflicting), while the two
nodes still belong to different customers and nobody has decided. A decision (``same``/``different``)
is stored in ``fuzzy_reviews`` and wins over the model from then on: ``same`` becomes a link with rule
``review``; ``different`` removes the fuzzy link and forbids any merge of the two nodes' groups. The
customers involved are re-clustered at once (same survivor rule as always; every change recorded).

``unmerge`` undoes one merge of ``identity_changes``: it records ``different`` between the two
customers' home identifiers and re-clusters; the part holding the merged customer's home identifier
gets that customer's key back (status active again). A merge made by identifiers seen together on one
record (deterministic evidence) cannot be undone this way: the error says which.
"""

from __future__ import annotations

import datetime as dt
import json
from collections import deque
from typing import Any

from ...errors import InputError, NotFoundError
from ...store.duckdb import DuckDBEngine
from ..resolve import Resolver, ResolveResult

DECISIONS = ("same", "different")


def queue(eng: DuckDBEngine, limit: int = 50, offset: int = 0) -> list[dict[str, Any]]:
    """Pairs waiting for a person, most probable first, with both records' attributes."""
    rows = eng.records(
        f"""WITH best AS (
            SELECT least(node_a, node_b) AS a, greatest(node_a, node_b) AS b, max(probability) AS probability,
                   arg_max(rec_a, probability) AS rec_a, arg_max(rec_b, probability) AS rec_b,
                   arg_max(levels, probability) AS levels, arg_max(band, probability) AS band
            FROM fuzzy_pairs GROUP BY 1, 2)
        SELECT b.a AS node_a, b.b AS node_b, b.probability, b.band, b.levels, ma.customer_key AS customer_a,
               mb.customer_key AS customer_b, ra.name AS name_a, rb.name AS name_b, ra.dob AS dob_a, rb.dob AS dob_b,
               concat_ws(' ', ra.street, ra.civic, ra.postcode, ra.city) AS address_a,
               concat_ws(' ', rb.street, rb.civic, rb.postcode, rb.city) AS address_b,
               ia.kind || ' ' || ia.value AS identifier_a, ib.kind || ' ' || ib.value AS identifier_b
        FROM best b
        JOIN identity_map ma ON ma.identifier_id = b.a JOIN identity_map mb ON mb.identifier_id = b.b
        JOIN fuzzy_records ra ON ra.rec_id = b.rec_a JOIN fuzzy_records rb ON rb.rec_id = b.rec_b
        JOIN identifiers ia ON ia.identifier_id = b.a JOIN identifiers ib ON ib.identifier_id = b.b
        WHERE ma.customer_key <> mb.customer_key
          AND NOT EXISTS (SELECT 1 FROM fuzzy_reviews r WHERE r.node_a = b.a AND r.node_b = b.b)
        ORDER BY b.probability DESC, b.a, b.b LIMIT {int(limit)} OFFSET {int(offset)}"""
    )
    return rows


def decisions(eng: DuckDBEngine, limit: int = 100) -> list[dict[str, Any]]:
    return eng.records(
        f"SELECT * FROM fuzzy_reviews ORDER BY decided_at DESC, node_a, node_b LIMIT {int(limit)}"
    )


def decide(
    eng: DuckDBEngine,
    node_a: int,
    node_b: int,
    decision: str,
    by: str | None = None,
    note: str | None = None,
) -> ResolveResult:
    """Remember a person's decision on two nodes and re-cluster their customers now."""
    if decision not in DECISIONS:
        raise InputError(f"decision must be one of {', '.join(DECISIONS)}, not {decision!r}")
    a, b = min(node_a, node_b), max(node_a, node_b)
    if a == b:
        raise InputError("a decision needs two different identifiers")
    found = {
        int(r[0])
        for r in eng.execute("SELECT identifier_id FROM identifiers WHERE identifier_id IN (?, ?)", [a, b])
    }
    if found != {a, b}:
        raise NotFoundError(f"no identifier {sorted({a, b} - found)}")
    p = eng.scalar(
        "SELECT max(probability) FROM fuzzy_pairs WHERE least(node_a, node_b) = ? AND greatest(node_a, node_b) = ?",
        [a, b],
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    eng.execute("DELETE FROM fuzzy_reviews WHERE node_a = ? AND node_b = ?", [a, b])
    eng.execute("INSERT INTO fuzzy_reviews VALUES (?, ?, ?, ?, ?, ?, ?)", [a, b, decision, by, now, note, p])
    return _recluster(eng, [a, b])


def _recluster(eng: DuckDBEngine, nodes: list[int], revive: dict[int, str] | None = None) -> ResolveResult:
    r = Resolver(eng)
    members = [
        int(i)
        for (i,) in eng.execute(
            f"""SELECT identifier_id FROM identity_map WHERE customer_key IN (
                SELECT customer_key FROM identity_map WHERE identifier_id IN ({", ".join(str(int(n)) for n in nodes)}))"""
        )
    ]
    r.extra_touched = sorted(set(nodes) | set(members))
    r.revive = revive or {}
    return r.run()


def find_merge(eng: DuckDBEngine, ref: str) -> dict[str, Any]:
    """A merge change by its id, or the latest merge into or of a customer key."""
    if ref.isdigit():
        rows = eng.records(
            "SELECT * FROM identity_changes WHERE change_id = ? AND action = 'merge'", [int(ref)]
        )
    else:
        rows = eng.records(
            """SELECT * FROM identity_changes WHERE action = 'merge' AND (customer_key = ? OR other_key = ?)
               ORDER BY change_id DESC LIMIT 1""",
            [ref, ref],
        )
    if not rows:
        raise NotFoundError(f"no merge {ref!r} in identity_changes (give a change id or a customer key)")
    return rows[0]


def _home(eng: DuckDBEngine, key: str) -> int | None:
    from ..resolve import TRUST_RANK

    row = eng.one(
        f"""SELECT arg_min(i.identifier_id, (coalesce(i.first_seen, TIMESTAMP '9999-12-31'),
                   {TRUST_RANK.replace("kind", "i.kind")}, i.value))
            FROM identity_map m JOIN identifiers i USING (identifier_id) WHERE m.customer_key = ?""",
        [key],
    )
    return int(row[0]) if row and row[0] is not None else None


def unmerge(eng: DuckDBEngine, ref: str, by: str | None = None) -> dict[str, Any]:
    """Undo one merge (a change id, or the latest merge of a customer key)."""
    ch = find_merge(eng, ref)
    survivor, merged = str(ch["customer_key"]), str(ch["other_key"])
    detail = json.loads(ch["detail"]) if isinstance(ch["detail"], str) else (ch["detail"] or {})
    h_m = detail.get("home_identifier")
    if h_m is None:
        raise InputError(
            f"change {ch['change_id']} does not say which identifiers {merged} had; cannot unmerge it"
        )
    h_m = int(h_m)
    cur = eng.one("SELECT customer_key FROM identity_map WHERE identifier_id = ?", [h_m])
    if cur is None:
        raise InputError(f"the home identifier of {merged} is no longer in any customer")
    holder = str(cur[0])
    h_s = _home(eng, holder)
    if h_s is None or h_s == h_m:
        raise InputError(f"{merged} is not merged into another customer any more")
    path = _deterministic_path(eng, holder, h_s, h_m)
    if path is not None:
        raise InputError(
            f"{merged} and {holder} are joined by identifiers seen together on the same records "
            f"({path}); only fuzzy or reviewed links can be undone"
        )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    a, b = min(h_s, h_m), max(h_s, h_m)
    eng.execute("DELETE FROM fuzzy_reviews WHERE node_a = ? AND node_b = ?", [a, b])
    eng.execute(
        "INSERT INTO fuzzy_reviews VALUES (?, ?, 'different', ?, ?, ?, NULL)",
        [a, b, by, now, f"unmerge of change {ch['change_id']} ({merged} from {survivor})"],
    )
    res = _recluster(eng, [h_s, h_m], revive={h_m: merged})
    back = eng.one("SELECT customer_key FROM identity_map WHERE identifier_id = ?", [h_m])
    return {
        "change_id": ch["change_id"],
        "survivor": holder,
        "restored": merged,
        "restored_key_active": bool(back and back[0] == merged),
        "resolve": {"splits": res.splits, "merges": res.merges, "refused": res.fuzzy_refused},
    }


def _deterministic_path(eng: DuckDBEngine, key: str, a: int, b: int) -> str | None:
    """A chain of same-record links from a to b inside a customer, as text, or None."""
    edges = eng.execute(
        """SELECT l.a, l.b FROM identity_links l WHERE l.rule = 'same_record'
           AND l.a IN (SELECT identifier_id FROM identity_map WHERE customer_key = ?)
           AND l.b IN (SELECT identifier_id FROM identity_map WHERE customer_key = ?)""",
        [key, key],
    )
    adj: dict[int, list[int]] = {}
    for x, y in edges:
        adj.setdefault(int(x), []).append(int(y))
        adj.setdefault(int(y), []).append(int(x))
    prev: dict[int, int] = {a: a}
    q = deque([a])
    while q:
        n = q.popleft()
        if n == b:
            chain = [b]
            while chain[-1] != a:
                chain.append(prev[chain[-1]])
            names = {
                int(i): f"{k} {v}"
                for i, k, v in eng.execute(
                    f"SELECT identifier_id, kind, value FROM identifiers WHERE identifier_id IN ({', '.join(map(str, chain))})"
                )
            }
            return " - ".join(names[i] for i in reversed(chain))
        for m in adj.get(n, []):
            if m not in prev:
                prev[m] = n
                q.append(m)
    return None
