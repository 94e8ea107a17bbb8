"""Customer segments, for the segment filter of the analyst pages and the report.

No segment exists in the events: ordito's canonical person attributes (``model.TRAIT_FIELDS``) have no
segment field, no built-in mapping reads one, and the demo company keeps its customers' segments
(occasional, regular, frequent) in its ground truth only, which must not feed any rule. So ordito
segments customers by **value tiers** computed from order values, the way the agent's customer header
counts spend (``order_placed`` and ``store_purchase`` values), per currency:

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
    """How customers are segmented here (``source``: ``value``, the only one today); ``segments`` lists
    ``(id, label, customers)``."""

    source: str
    basis: str
    segments: tuple[tuple[str, str, int], ...]

    @property
    def labels(self) -> dict[str, str]:
        return {s: label for s, label, _ in self.segments}

    def sql(self) -> str:
        return value_tiers_sql()


def segmentation(engine: Engine) -> Segmentation:
    """The workspace's segments and how many customers each holds."""
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
