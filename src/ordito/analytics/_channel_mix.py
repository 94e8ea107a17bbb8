"""Channel mix: which channel customers start with, and which one they use next.

For every customer with a resolved event, the first channel is the channel of their earliest event and
the second channel is the first *other* channel they used afterwards (NULL: they stayed on one channel).
Ties in time are broken by ingest sequence, so the result is deterministic on every engine.
"""

from __future__ import annotations

from typing import Any

from ..store.base import Engine
from ._run import rows

__all__ = ["channel_mix", "channel_mix_sql"]


def channel_mix_sql() -> str:
    """Customers per (first channel, second channel) pair, most common first."""
    return """
WITH first_use AS (
    -- the first event of each customer on each channel
    SELECT
        customer_key,
        channel,
        occurred_at,
        seq,
        row_number() OVER (PARTITION BY customer_key, channel ORDER BY occurred_at, seq) AS nth
    FROM event_customer
    WHERE customer_key IS NOT NULL AND channel IS NOT NULL
),
channel_order AS (
    -- each customer's channels in the order they were first used
    SELECT
        customer_key,
        channel,
        row_number() OVER (PARTITION BY customer_key ORDER BY occurred_at, seq) AS k
    FROM first_use
    WHERE nth = 1
)
SELECT
    f.channel AS first_channel,
    s.channel AS second_channel,
    count(*) AS customers
FROM channel_order AS f
LEFT JOIN channel_order AS s ON s.customer_key = f.customer_key AND s.k = 2
WHERE f.k = 1
GROUP BY f.channel, s.channel
ORDER BY customers DESC, first_channel, second_channel NULLS LAST
"""


def channel_mix(engine: Engine) -> list[dict[str, Any]]:
    """The transition table: rows of ``first_channel``, ``second_channel`` (None: one channel only)
    and ``customers``, most common first."""
    return rows(engine, channel_mix_sql())
