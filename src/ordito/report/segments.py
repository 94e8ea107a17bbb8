"""Customer segments, for the segment filter of the analyst pages and the report.

Where the data carries a segment, ordito uses it: a customer's segment is the ``segment`` trait on their
latest event that has one (a CRM or CDP export's segment, sent as a trait). The demo company does not
export its customers' segments, and many silos do not either; then ordito computes **value tiers** from
order values, the way the agent's customer header counts spend (``order_placed`` and
``store_purchase`` values), per currency:

* ``high``: the top 20% of customers who ordered, by what they spent in the workspace's whole history;
* ``mid``: the next 30%;
* ``low``: the other 50%;
* ``none``: customers with no order.

Tiers are computed over every event in the workspace, not the selected period, so that a customer stays
in one tier when the period changes. A customer who spent in two currencies takes the better tier.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..store.base import Engine
from ..store.sqlutil import lit

__all__ = [
    "MEMBERS_TABLE",
    "ORDER_TYPES",
    "Segmentation",
    "register_members",
    "segmentation",
    "trait_segments_sql",
    "value_tiers_sql",
]

#: event types whose ``value`` is money a customer spent (as in ordito.agent.customer)
ORDER_TYPES = ("order_placed", "store_purchase")
MEMBERS_TABLE = "_ordito_segment_members"

TIER_LABELS = {
    "high": "high value (top 20% by spend)",
    "mid": "mid value (next 30%)",
    "low": "low value (other 50% who ordered)",
    "none": "no order",
}


def trait_segments_sql() -> str:
    """Each customer's latest ``segment`` trait."""
    return """
SELECT customer_key, segment FROM (
    SELECT ec.customer_key, json_extract_string(e.traits, '$.segment') AS segment,
           row_number() OVER (PARTITION BY ec.customer_key ORDER BY e.occurred_at DESC, e.seq DESC) AS rn
    FROM events AS e JOIN event_customer AS ec ON ec.seq = e.seq
    WHERE ec.customer_key IS NOT NULL AND e.traits IS NOT NULL
      AND json_extract_string(e.traits, '$.segment') IS NOT NULL
) AS t WHERE rn = 1
"""


def value_tiers_sql() -> str:
    """Every active customer with their value tier (``high``, ``mid``, ``low``, ``none``)."""
    types = ", ".join(lit(t) for t in ORDER_TYPES)
    return f"""
WITH spend AS (
    SELECT ec.customer_key, e.currency, sum(e.value) AS spent
    FROM events AS e JOIN event_customer AS ec ON ec.seq = e.seq
    WHERE e.type IN ({types}) AND e.value IS NOT NULL AND ec.customer_key IS NOT NULL
    GROUP BY ec.customer_key, e.currency
),
ranked AS (
    SELECT customer_key,
           CAST(row_number() OVER (PARTITION BY currency ORDER BY spent DESC, customer_key) AS DOUBLE)
               / count(*) OVER (PARTITION BY currency) AS top_share
    FROM spend
),
best AS (SELECT customer_key, min(top_share) AS top_share FROM ranked GROUP BY customer_key)
SELECT c.customer_key,
       CASE WHEN b.top_share IS NULL THEN 'none' WHEN b.top_share <= 0.2 THEN 'high'
            WHEN b.top_share <= 0.5 THEN 'mid' ELSE 'low' END AS segment
FROM customers AS c LEFT JOIN best AS b ON b.customer_key = c.customer_key
WHERE c.status = 'active'
"""


@dataclass(frozen=True)
class Segmentation:
    """How customers are segmented here: ``source`` is ``trait`` or ``value``; ``segments`` lists
    ``(id, label, customers)``."""

    source: str
    basis: str
    segments: tuple[tuple[str, str, int], ...]

    @property
    def labels(self) -> dict[str, str]:
        return {s: label for s, label, _ in self.segments}

    def sql(self) -> str:
        return trait_segments_sql() if self.source == "trait" else value_tiers_sql()


def _has_trait(engine: Engine) -> bool:
    n = engine.scalar(
        "SELECT count(*) FROM (SELECT 1 FROM events WHERE traits IS NOT NULL "
        "AND json_extract_string(traits, '$.segment') IS NOT NULL LIMIT 1) AS t"
    )
    return bool(n)


def segmentation(engine: Engine) -> Segmentation:
    """The workspace's segments and how many customers each holds."""
    if _has_trait(engine):
        rows = engine.execute(
            f"SELECT segment, count(*) AS n FROM ({trait_segments_sql()}) AS t GROUP BY segment ORDER BY segment"
        )
        return Segmentation(
            "trait",
            "the customer's `segment` trait (latest value)",
            tuple((str(s), str(s), int(n)) for s, n in rows),
        )
    counts = dict(
        engine.execute(f"SELECT segment, count(*) AS n FROM ({value_tiers_sql()}) AS t GROUP BY segment")
    )
    return Segmentation(
        "value",
        "value tiers from order values (the data carries no segment)",
        tuple((k, label, int(counts.get(k, 0))) for k, label in TIER_LABELS.items()),
    )


def register_members(engine: Engine, seg: Segmentation, selected: tuple[str, ...]) -> str:
    """Register the customers in ``selected`` segments as :data:`MEMBERS_TABLE` on ``engine`` (its
    connection only); returns the table name for :class:`ordito.report.filters.Scope`."""
    marks = ", ".join(lit(s) for s in selected)
    table = engine.arrow(f"SELECT customer_key FROM ({seg.sql()}) AS t WHERE segment IN ({marks})")
    engine.register(MEMBERS_TABLE, table)
    return MEMBERS_TABLE
