"""Why each identifier belongs to a customer: a spanning tree of evidence from the customer's first
identifier, every edge backed by the records where the two identifiers appeared together."""

from __future__ import annotations

from collections import deque
from typing import Any

from ..errors import NotFoundError
from ..store.duckdb import DuckDBEngine
from ..timeline import current_key
from .fuzzy.explain import contributions


def explain(eng: DuckDBEngine, key: str) -> dict[str, Any]:
    cur = current_key(eng, key)
    if cur is None:
        raise NotFoundError(f"No customer {key}")
    idents = {
        r["identifier_id"]: r
        for r in eng.records(
            """SELECT i.identifier_id, i.kind, i.value, i.n_events, i.first_seen, i.status FROM identity_map m
               JOIN identifiers i USING (identifier_id) WHERE m.customer_key = ?""",
            [cur],
        )
    }
    links = eng.records(
        """SELECT l.a, l.b, l.rule, l.score, l.n_events, l.first_seen, e.source, e.source_key, e.occurred_at
           FROM identity_links l LEFT JOIN events e ON e.seq = l.evidence_seq
           WHERE l.a IN (SELECT identifier_id FROM identity_map WHERE customer_key = ?)
             AND l.b IN (SELECT identifier_id FROM identity_map WHERE customer_key = ?)
           ORDER BY l.n_events DESC, l.first_seen""",
        [cur, cur],
    )
    adj: dict[int, list[dict[str, Any]]] = {i: [] for i in idents}
    for ln in links:
        adj[ln["a"]].append({**ln, "other": ln["b"]})
        adj[ln["b"]].append({**ln, "other": ln["a"]})
    steps: list[dict[str, Any]] = []
    seen: set[int] = set()
    for root in sorted(idents, key=lambda i: (str(idents[i]["first_seen"]), idents[i]["value"])):
        if root in seen:
            continue
        seen.add(root)
        r = idents[root]
        steps.append(
            {
                "identifier": f"{r['kind']} {r['value']}",
                "depth": 0,
                "because": "first identifier seen",
                "records": r["n_events"],
            }
        )
        queue = deque([(root, 0)])
        while queue:
            node, depth = queue.popleft()
            for ln in adj[node]:
                o = ln["other"]
                if o in seen:
                    continue
                seen.add(o)
                oi, ni = idents[o], idents[node]
                ev = (
                    f"{ln['source']} record {ln['source_key']} ({ln['occurred_at']:%Y-%m-%d})"
                    if ln["source"]
                    else "a record"
                )
                why = (
                    f"appears with {ni['kind']} {ni['value']} on {ln['n_events']} record(s), first {ev}"
                    if ln["rule"] == "same_record"
                    else f"{ln['rule']} match with {ni['kind']} {ni['value']} (score {ln['score']:.3f})"
                )
                step: dict[str, Any] = {
                    "identifier": f"{oi['kind']} {oi['value']}",
                    "depth": depth + 1,
                    "because": why,
                    "records": oi["n_events"],
                    "rule": ln["rule"],
                    "score": ln["score"],
                }
                if ln["rule"] == "fuzzy":
                    step["fuzzy"] = contributions(eng, node, o)
                    if step["fuzzy"]:
                        agreed = [c for c in step["fuzzy"]["contributions"] if c["weight"] > 0]
                        step["because"] += ": " + ", ".join(
                            f"{c['attribute']} {c['level']} ({c['weight']:+.1f})" for c in agreed
                        )
                elif ln["rule"] == "review":
                    step["because"] = f"a person decided it is the same person as {ni['kind']} {ni['value']}"
                steps.append(step)
                queue.append((o, depth + 1))
    shared = eng.records(
        """SELECT DISTINCT s.kind, s.value, s.status, s.status_reason AS reason, s.n_events AS records
           FROM identity_map m JOIN identity_links l ON l.a = m.identifier_id OR l.b = m.identifier_id
           JOIN identifiers s ON s.identifier_id = CASE WHEN l.a = m.identifier_id THEN l.b ELSE l.a END
           WHERE m.customer_key = ? AND s.status <> 'active' ORDER BY s.kind, s.value""",
        [cur],
    )
    history = eng.records(
        """SELECT c.changed_at, c.action, c.customer_key, c.other_key, i.kind, i.value, c.reason
           FROM identity_changes c LEFT JOIN identifiers i USING (identifier_id)
           WHERE c.customer_key = ? OR c.other_key = ?
              OR c.identifier_id IN (SELECT identifier_id FROM identity_map WHERE customer_key = ?)
           ORDER BY c.change_id""",
        [cur, cur, cur],
    )
    return {
        "customer_key": cur,
        "requested_key": key,
        "identifiers": steps,
        "not_used": shared,
        "history": history,
    }
