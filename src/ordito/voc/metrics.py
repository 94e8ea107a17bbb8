"""Survey metrics with their uncertainty: NPS, CSAT, CES by any grouping, response rates and who answers.

Definitions (../shared/docs/DOMAIN.md), stated next to every figure:

* **NPS** = % promoters (9-10) - % detractors (0-6), -100..100. 95% interval from the multinomial
  variance ``(p_P + p_D - (p_P - p_D)^2) / n`` (normal approximation).
* **CSAT** = share of 4-5 answers on 1-5 (top-2-box), Wilson 95% interval; the mean is given too.
* **CES** = mean on 1-7 ("easy" = 7), t-based 95% interval; the share of 5-7 with a Wilson interval.
* A group with fewer than ``SMALL_BASE`` answers is flagged ``small_base``.

Counts come from portable SQL (``*_sql`` builders, DuckDB dialect, see docs/ENGINES.md); intervals are
computed here from the counts.
"""

from __future__ import annotations

import math
from typing import Any

from ..store.base import Engine

SMALL_BASE = 30
Z = 1.959964

#: Groupings of survey answers: name -> SQL expression over ``surveys s`` (and ``ep`` when episodes exist).
GROUPS = {
    "overall": "'all'",
    "channel": "coalesce(s.channel, 'unknown')",
    "department": "coalesce(s.department, 'unknown')",
    "language": "coalesce(s.language, 'unknown')",
    "month": "strftime(date_trunc('month', s.answered_at), '%Y-%m')",
    "survey": "coalesce(s.survey, s.kind)",
}
EPISODE_GROUPS = {
    "intent": "coalesce(ep.intent, 'no episode')",
    "outcome": "coalesce(ep.outcome, 'no episode')",
}


def has_table(engine: Engine, name: str) -> bool:
    return bool(engine.scalar("SELECT count(*) FROM information_schema.tables WHERE table_name = ?", [name]))


def episodes_ready(engine: Engine) -> bool:
    return has_table(engine, "episode_events") and has_table(engine, "episodes")


def survey_counts_sql(group: str = "overall", *, episodes: bool = False, where: str = "") -> str:
    """Per group and kind: answers, promoters/passives/detractors, top-box count, sum and sum of squares."""
    expr = {**GROUPS, **EPISODE_GROUPS}[group]
    join = ""
    if episodes:
        # the episode of the contact the answer is about (else of the answer itself)
        join = """
LEFT JOIN episode_events AS ee ON ee.seq = coalesce(s.context_seq, s.seq)
LEFT JOIN episodes AS ep ON ep.episode_id = ee.episode_id"""
    return f"""
SELECT
    {expr} AS grp,
    s.kind AS kind,
    count(*) AS n,
    sum(CASE WHEN s.nps_class = 'promoter' THEN 1 ELSE 0 END) AS promoters,
    sum(CASE WHEN s.nps_class = 'passive' THEN 1 ELSE 0 END) AS passives,
    sum(CASE WHEN s.nps_class = 'detractor' THEN 1 ELSE 0 END) AS detractors,
    sum(CASE WHEN s.top_box THEN 1 ELSE 0 END) AS top_box,
    sum(s.score) AS total,
    sum(s.score * s.score) AS total_sq
FROM surveys AS s{join}
{where}
GROUP BY {expr}, s.kind
ORDER BY grp, kind
"""


def wilson(k: float, n: float) -> tuple[float, float]:
    if n <= 0:
        return (math.nan, math.nan)
    p = k / n
    den = 1 + Z * Z / n
    centre = (p + Z * Z / (2 * n)) / den
    half = Z * math.sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / den
    return (max(0.0, centre - half), min(1.0, centre + half))


def nps_figures(n: int, promoters: int, detractors: int) -> dict[str, Any]:
    if n == 0:
        return {"n": 0}
    pp, pd = promoters / n, detractors / n
    nps = 100 * (pp - pd)
    var = (pp + pd - (pp - pd) ** 2) / n
    half = 100 * Z * math.sqrt(max(var, 0.0))
    return {
        "n": n,
        "nps": round(nps, 1),
        "ci95": [round(max(-100.0, nps - half), 1), round(min(100.0, nps + half), 1)],
        "promoters": promoters,
        "passives": n - promoters - detractors,
        "detractors": detractors,
        "small_base": n < SMALL_BASE,
    }


def _mean_ci(n: int, total: float, total_sq: float) -> tuple[float, list[float]]:
    mean = total / n
    if n < 2:
        return mean, [math.nan, math.nan]
    var = max((total_sq - n * mean * mean) / (n - 1), 0.0)
    from scipy import stats

    half = float(stats.t.ppf(0.975, n - 1)) * math.sqrt(var / n)
    return mean, [round(mean - half, 3), round(mean + half, 3)]


def share_figures(kind: str, n: int, top: int, total: float, total_sq: float) -> dict[str, Any]:
    if n == 0:
        return {"n": 0}
    lo, hi = wilson(top, n)
    mean, mean_ci = _mean_ci(n, total, total_sq)
    name = "top2_share" if kind == "csat" else "easy_share"
    return {
        "n": n,
        name: round(top / n, 4),
        f"{name}_ci95": [round(lo, 4), round(hi, 4)],
        "mean": round(mean, 3),
        "mean_ci95": mean_ci,
        "small_base": n < SMALL_BASE,
    }


def figures(row: dict[str, Any]) -> dict[str, Any]:
    kind = row["kind"]
    if kind == "nps":
        return nps_figures(int(row["n"]), int(row["promoters"]), int(row["detractors"]))
    return share_figures(
        kind, int(row["n"]), int(row["top_box"]), float(row["total"]), float(row["total_sq"])
    )


def survey_metrics(
    engine: Engine, group: str = "overall", *, where: str = "", params: list[Any] | None = None
) -> dict[str, dict[str, Any]]:
    """``{group value: {kind: figures}}`` for one grouping (``GROUPS``, and ``intent``/``outcome`` when the
    journeys stage has built episodes)."""
    episodes = group in EPISODE_GROUPS
    if episodes and not episodes_ready(engine):
        return {}
    out: dict[str, dict[str, Any]] = {}
    for r in engine.records(survey_counts_sql(group, episodes=episodes, where=where), params or None):
        out.setdefault(str(r["grp"]), {})[r["kind"]] = figures(r)
    return out


def response_sql() -> str:
    """Customers who had an assisted contact and customers among them who answered a survey, by the band
    of the sentiment of what they wrote (their mean text score), to show who answers."""
    return """
WITH contacts AS (
    SELECT DISTINCT ec.customer_key
    FROM events AS e
    JOIN event_customer AS ec ON ec.seq = e.seq
    WHERE ec.customer_key IS NOT NULL AND e.direction = 'inbound'
      AND e.channel IN ('voice', 'chat', 'email', 'social', 'store', 'other')
),
said AS (
    SELECT ec.customer_key, avg(v.sentiment_score) AS mood, count(*) AS texts
    FROM voc AS v
    JOIN event_customer AS ec ON ec.seq = v.seq
    JOIN events AS e ON e.seq = v.seq
    WHERE v.author = 'customer' AND ec.customer_key IS NOT NULL AND e.channel <> 'survey'
    GROUP BY ec.customer_key
),
answered AS (
    -- the customer of the answer's event now (identity merges move answers)
    SELECT DISTINCT ec.customer_key FROM surveys s JOIN event_customer ec ON ec.seq = s.seq
    WHERE ec.customer_key IS NOT NULL
)
SELECT
    CASE
        WHEN sd.mood IS NULL THEN 'no text'
        WHEN sd.mood < -0.5 THEN 'very negative'
        WHEN sd.mood < -0.15 THEN 'negative'
        WHEN sd.mood <= 0.15 THEN 'neutral'
        ELSE 'positive'
    END AS mood_band,
    count(*) AS customers,
    sum(CASE WHEN a.customer_key IS NOT NULL THEN 1 ELSE 0 END) AS respondents
FROM contacts AS c
LEFT JOIN said AS sd ON sd.customer_key = c.customer_key
LEFT JOIN answered AS a ON a.customer_key = c.customer_key
GROUP BY 1
ORDER BY 1
"""


def response_rates(engine: Engine) -> dict[str, Any]:
    """Response rate of customers with an assisted contact, overall and by the mood of what they wrote.

    Only answered surveys are usually exported, so the base is the customers who *could* have been asked
    (an inbound assisted contact), not the invitations; the bias shows as different rates per mood band.
    """
    rows = engine.records(response_sql())
    total = sum(int(r["customers"]) for r in rows)
    resp = sum(int(r["respondents"]) for r in rows)
    bands = []
    for r in rows:
        n, k = int(r["customers"]), int(r["respondents"])
        lo, hi = wilson(k, n)
        bands.append(
            {
                "mood_band": r["mood_band"],
                "customers": n,
                "respondents": k,
                "rate": round(k / n, 4) if n else None,
                "ci95": [round(lo, 4), round(hi, 4)],
            }
        )
    lo, hi = wilson(resp, total)
    return {
        "base": "customers with an inbound assisted contact (call, chat, email, social, store, ticket)",
        "customers": total,
        "respondents": resp,
        "rate": round(resp / total, 4) if total else None,
        "ci95": [round(lo, 4), round(hi, 4)],
        "by_mood": bands,
    }


def respondent_bias(engine: Engine) -> list[dict[str, Any]]:
    """How respondents differ from the other contacted customers: mean text sentiment, share of negative
    texts, contacts, language. Differences are what a survey-only view misses."""
    rows = engine.records(
        """
WITH contacts AS (
    SELECT ec.customer_key, count(DISTINCT coalesce(e.thread_id, CAST(e.seq AS VARCHAR))) AS contacts,
           max(CASE WHEN v.language = 'it' THEN 1 ELSE 0 END) AS italian
    FROM events AS e
    JOIN event_customer AS ec ON ec.seq = e.seq
    LEFT JOIN voc AS v ON v.seq = e.seq
    WHERE ec.customer_key IS NOT NULL AND e.direction = 'inbound'
      AND e.channel IN ('voice', 'chat', 'email', 'social', 'store', 'other')
    GROUP BY ec.customer_key
),
said AS (
    SELECT ec.customer_key, avg(v.sentiment_score) AS mood,
           avg(CASE WHEN v.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative_share
    FROM voc AS v
    JOIN event_customer AS ec ON ec.seq = v.seq
    JOIN events AS e ON e.seq = v.seq
    WHERE v.author = 'customer' AND e.channel <> 'survey' AND ec.customer_key IS NOT NULL
    GROUP BY ec.customer_key
)
SELECT
    CASE WHEN s.customer_key IS NULL THEN 'did not answer' ELSE 'answered' END AS who,
    count(*) AS customers,
    avg(c.contacts) AS contacts,
    avg(sd.mood) AS mood,
    avg(sd.negative_share) AS negative_share,
    avg(c.italian) AS italian_share
FROM contacts AS c
LEFT JOIN said AS sd ON sd.customer_key = c.customer_key
LEFT JOIN (SELECT DISTINCT ec.customer_key FROM surveys s JOIN event_customer ec ON ec.seq = s.seq) AS s
    ON s.customer_key = c.customer_key
GROUP BY 1
ORDER BY 1
"""
    )
    return [{k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()} for r in rows]
