"""What a workspace holds, computed by any engine: events by source and channel, customers by number of
channels, how many events have a customer, identifiers by kind and status, quarantine reasons.

Each ``*_sql()`` returns one portable statement (docs/ENGINES.md); :func:`overview` runs them all.
"""

from __future__ import annotations

from typing import Any

from ..store.base import Engine
from ._run import rows

__all__ = [
    "coverage_sql",
    "customers_by_channels_sql",
    "events_by_source_sql",
    "identifiers_by_kind_sql",
    "overview",
    "quarantine_reasons_sql",
]


def events_by_source_sql() -> str:
    """Events per source and channel, with the first and last day (UTC) they happened on."""
    return """
SELECT
    source,
    channel,
    count(*) AS events,
    CAST(min(occurred_at) AS DATE) AS first_date,
    CAST(max(occurred_at) AS DATE) AS last_date
FROM events
GROUP BY source, channel
ORDER BY source, channel
"""


def customers_by_channels_sql() -> str:
    """Active customers by the number of distinct channels their events came through (0 when none)."""
    return """
WITH per_customer AS (
    SELECT c.customer_key, count(DISTINCT ec.channel) AS channels
    FROM customers AS c
    LEFT JOIN event_customer AS ec ON ec.customer_key = c.customer_key
    WHERE c.status = 'active'
    GROUP BY c.customer_key
)
SELECT
    channels,
    count(*) AS customers,
    CAST(count(*) AS DOUBLE) / CAST(sum(count(*)) OVER () AS DOUBLE) AS share
FROM per_customer
GROUP BY channels
ORDER BY channels
"""


def coverage_sql() -> str:
    """One row: events, events with a customer, events whose only identifiers are shared (ambiguous),
    and the share of events with a customer (NULL without events)."""
    return """
SELECT
    count(*) AS events,
    count(ec.customer_key) AS with_customer,
    count(CASE WHEN ec.ambiguous THEN 1 END) AS ambiguous,
    CAST(count(ec.customer_key) AS DOUBLE) / nullif(count(*), 0) AS share_with_customer
FROM events AS e
LEFT JOIN event_customer AS ec ON ec.seq = e.seq
"""


def identifiers_by_kind_sql() -> str:
    """Identifiers per kind and status (active, shared, placeholder)."""
    return """
SELECT kind, status, count(*) AS identifiers
FROM identifiers
GROUP BY kind, status
ORDER BY kind, status
"""


def quarantine_reasons_sql() -> str:
    """Quarantined records per source and kind of reason (the reason up to its first ``:`` or ``(``,
    so that ``bad timestamp: 2025-02-30 ...`` counts as ``bad timestamp``)."""
    return """
WITH kinds AS (
    SELECT source, trim(split_part(split_part(reason, ':', 1), '(', 1)) AS kind
    FROM quarantine
)
SELECT source, kind AS reason, count(*) AS records
FROM kinds
GROUP BY source, kind
ORDER BY source, records DESC, reason
"""


def overview(engine: Engine) -> dict[str, Any]:
    """Run every overview query on ``engine``.

    Returns:
        ``events_by_source`` (rows of source, channel, events, first_date, last_date),
        ``customers_by_channels`` (channels, customers, share), ``coverage`` (one dict: events,
        with_customer, ambiguous, share_with_customer), ``identifiers`` (kind, status, identifiers) and
        ``quarantine`` (source, reason, records).
    """
    return {
        "events_by_source": rows(engine, events_by_source_sql()),
        "customers_by_channels": rows(engine, customers_by_channels_sql()),
        "coverage": rows(engine, coverage_sql())[0],
        "identifiers": rows(engine, identifiers_by_kind_sql()),
        "quarantine": rows(engine, quarantine_reasons_sql()),
    }
