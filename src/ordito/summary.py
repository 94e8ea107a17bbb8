"""A short account of what a workspace holds, for `ordito summary` and the end of `make demo`."""

from __future__ import annotations

from typing import Any

from .store.duckdb import DuckDBEngine


def summarize(eng: DuckDBEngine) -> dict[str, Any]:
    sources = eng.records(
        """SELECT source, count(*) AS events, string_agg(DISTINCT channel, ', ' ORDER BY channel) AS channels,
                  min(occurred_at) AS first, max(occurred_at) AS last
           FROM events GROUP BY source ORDER BY events DESC"""
    )
    events = int(eng.scalar("SELECT count(*) FROM events"))
    quarantined = int(eng.scalar("SELECT count(*) FROM quarantine"))
    ident = eng.records(
        """SELECT (SELECT count(*) FROM customers WHERE status = 'active') AS customers,
                  (SELECT count(*) FROM identifiers) AS identifiers,
                  (SELECT count(*) FROM identifiers WHERE status = 'shared') AS shared,
                  (SELECT count(*) FROM identifiers WHERE status = 'placeholder') AS placeholder,
                  (SELECT count(*) FROM event_customer WHERE customer_key IS NOT NULL) AS resolved"""
    )[0]
    multi = eng.scalar(
        """SELECT avg(CASE WHEN n > 1 THEN 100.0 ELSE 0 END) FROM (
               SELECT c.customer_key, count(DISTINCT e.channel) AS n FROM event_customer c
               JOIN events e ON e.seq = c.seq WHERE c.customer_key IS NOT NULL GROUP BY 1)"""
    )
    ident["events_resolved_pct"] = 100.0 * ident.pop("resolved") / events if events else 0.0
    ident["multichannel_pct"] = float(multi or 0.0)
    return {
        "events": events,
        "quarantined": quarantined,
        "sources": sources,
        "identity": ident,
        "worth_a_look": worth_a_look(eng),
    }


def worth_a_look(eng: DuckDBEngine, n: int = 3) -> list[dict[str, str]]:
    """Customers that show what connecting silos does: many sources, phones written several ways, a
    shared identifier kept out of merging."""
    out: list[dict[str, str]] = []
    seen: set[str] = set()
    rows = eng.execute(
        """WITH s AS (SELECT c.customer_key, count(DISTINCT e.source) AS sources, count(*) AS n
                      FROM event_customer c JOIN events e ON e.seq = c.seq
                      WHERE c.customer_key IS NOT NULL GROUP BY 1),
           raw AS (SELECT m.customer_key, count(DISTINCT r.raw) AS writings
                   FROM identity_map m JOIN identifiers i USING (identifier_id)
                   JOIN identifier_norm r ON r.value = i.value AND r.kind = i.kind
                   WHERE i.kind = 'phone' GROUP BY 1)
           SELECT s.customer_key, s.sources, coalesce(raw.writings, 0) AS writings,
                  (SELECT min(r.raw) FROM identity_map m JOIN identifiers i USING (identifier_id)
                   JOIN identifier_norm r ON r.value = i.value AND r.kind = i.kind
                   WHERE m.customer_key = s.customer_key AND i.kind = 'phone') AS phone
           FROM s LEFT JOIN raw USING (customer_key)
           WHERE s.n < 400
           ORDER BY s.sources DESC, writings DESC, s.customer_key LIMIT 10"""
    )
    for key, sources, writings, phone in rows:
        if len(out) >= n - 1:
            break
        if key in seen:
            continue
        seen.add(key)
        ident = phone or key
        out.append(
            {
                "customer_key": key,
                "identifier": ident,
                "why": f"seen in {sources} silos, phone written {writings} different ways",
            }
        )
    shared = eng.execute(
        """SELECT DISTINCT m.customer_key, s.kind, s.value FROM identifiers s
           JOIN identity_links l ON l.a = s.identifier_id OR l.b = s.identifier_id
           JOIN identity_map m ON m.identifier_id = CASE WHEN l.a = s.identifier_id THEN l.b ELSE l.a END
           WHERE s.status = 'shared' AND s.kind = 'phone' ORDER BY s.value, m.customer_key LIMIT 20"""
    )
    for key, kind, value in shared:
        if key in seen:
            continue
        out.append(
            {
                "customer_key": key,
                "identifier": key,
                "why": f"shares {kind} {value} with other people: kept, explained, not merged",
            }
        )
        break
    return out[:n]
