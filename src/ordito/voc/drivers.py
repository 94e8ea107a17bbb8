"""What it costs: which frictions, topics and departments drive detractors and lapsed customers, with
effect sizes and intervals, and a "fix this first" list (``ordito voc drivers``).

Method (docs/VOC.md, "Drivers"): one row per customer who had an episode with a contact or a friction.

* **Candidate drivers**: for each friction kind, whether the customer met it; for each theme, whether
  they wrote about it; for each department, whether one of their contacts went there.
* **Controls**: the needs they had (episodes per intent), their value (log of what they spent) and how
  many episodes they had, so a driver is compared among customers with the same needs and value
  rather than by raw correlation (a repair customer meets more friction *and* is less happy anyway).
* **Outcomes**: NPS class of the customer's latest relationship answer (promoter / passive /
  detractor: a softmax regression), and *lapsing* (no inbound event in the last ``lapse_days`` of the
  data, for customers active before that window: a logistic regression).
* **Effects** by g-computation: for the customers exposed to a driver, the model's prediction with the
  driver as it is minus with the driver removed (everything else unchanged): the change in NPS points,
  in detractor share and in lapse probability. 95% intervals from refitting on bootstrap resamples of
  customers.
* **Fix this first**: drivers ranked by the NPS points the whole respondent base would gain if the
  driver were removed (effect among the exposed x their share), with the revenue of the lapses it would
  avoid (lapse probability change x the exposed customers' yearly spend).

These are associations adjusted for need and value, not experiments: a driver that travels with an
unmeasured cause can still mislead, and the text says so next to the figures.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import ConfigError
from ..store.base import Engine
from .linear import Softmax
from .metrics import episodes_ready

SERVICE_INTENTS_EXCLUDED = ("browse", "marketing")
GBP_TO_EUR = 1.17  # fixed rate to add pounds and euros into one value figure (stated in the output)


def customers_sql(lapse_days: int) -> str:
    return f"""
WITH bounds AS (SELECT max(occurred_at) AS t_end, min(occurred_at) AS t_start FROM events),
act AS (
    SELECT ec.customer_key, min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at
    FROM events e JOIN event_customer ec ON ec.seq = e.seq
    WHERE ec.customer_key IS NOT NULL AND e.direction = 'inbound' AND e.channel <> 'survey'
    GROUP BY ec.customer_key
),
spend AS (
    SELECT ec.customer_key,
           sum(CASE WHEN e.currency = 'GBP' THEN e.value * {GBP_TO_EUR} ELSE e.value END) AS spend
    FROM events e JOIN event_customer ec ON ec.seq = e.seq
    WHERE e.type IN ('order_placed', 'store_purchase') AND e.value > 0 AND ec.customer_key IS NOT NULL
    GROUP BY ec.customer_key
),
nps AS (
    SELECT ec.customer_key, s.score, s.nps_class,
           row_number() OVER (PARTITION BY ec.customer_key ORDER BY s.answered_at DESC, s.seq DESC) AS k
    FROM surveys s JOIN event_customer ec ON ec.seq = s.seq
    WHERE s.kind = 'nps' AND ec.customer_key IS NOT NULL
),
eps AS (
    SELECT customer_key, count(*) AS episodes FROM episodes
    WHERE intent NOT IN {SERVICE_INTENTS_EXCLUDED} AND (n_contacts > 0 OR n_frictions > 0)
    GROUP BY customer_key
)
SELECT c.customer_key, c.episodes, coalesce(s.spend, 0) AS spend,
       n.nps_class, n.score AS nps_score,
       CASE WHEN a.first_at < b.t_end - INTERVAL {2 * lapse_days} DAY
            THEN (CASE WHEN a.last_at < b.t_end - INTERVAL {lapse_days} DAY THEN 1 ELSE 0 END) END AS lapsed,
       date_diff('day', b.t_start, b.t_end) AS period_days
FROM eps c
CROSS JOIN bounds b
LEFT JOIN act a ON a.customer_key = c.customer_key
LEFT JOIN spend s ON s.customer_key = c.customer_key
LEFT JOIN nps n ON n.customer_key = c.customer_key AND n.k = 1
ORDER BY c.customer_key
"""


@dataclass
class DriverResult:
    customers: int = 0
    respondents: int = 0
    lapse_base: int = 0
    drivers: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _pairs(engine: Engine, sql: str) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for key, val in engine.execute(sql):
        if key is not None and val is not None:
            out.setdefault(str(key), set()).add(str(val))
    return out


def _fit(x: np.ndarray, y: np.ndarray, k: int, c: float) -> Softmax:
    return Softmax.fit(x, y, n_classes=k, c=c)


def run(
    engine: Engine,
    *,
    lapse_days: int = 120,
    boots: int = 40,
    c: float = 0.3,
    min_exposed: int = 15,
    seed: int = 0,
) -> DriverResult:
    if not episodes_ready(engine) or not engine.scalar("SELECT count(*) FROM friction"):
        raise ConfigError("Drivers need episodes and friction: run `ordito analyze` first")
    rows = engine.records(customers_sql(lapse_days))
    keys = [r["customer_key"] for r in rows]
    fr = _pairs(engine, "SELECT customer_key, kind FROM friction")
    tp = _pairs(
        engine,
        """SELECT ec.customer_key, t.topic_id FROM voc_topics t JOIN voc v ON v.seq = t.seq
           JOIN event_customer ec ON ec.seq = t.seq JOIN events e ON e.seq = t.seq
           WHERE v.author = 'customer' AND e.channel <> 'survey'""",
    )
    dp = _pairs(engine, "SELECT customer_key, department FROM episode_contacts WHERE assisted")
    intents = engine.execute(
        f"""SELECT customer_key, intent, count(*) FROM episodes
            WHERE intent NOT IN {SERVICE_INTENTS_EXCLUDED} AND (n_contacts > 0 OR n_frictions > 0) GROUP BY 1, 2"""
    )
    need: dict[str, dict[str, int]] = {}
    for k, intent, n in intents:
        need.setdefault(k, {})[intent] = int(n)
    cand: list[tuple[str, str, dict[str, set[str]]]] = []
    for kind in sorted({v for s in fr.values() for v in s}):
        cand.append((f"friction:{kind}", kind, fr))
    for t in sorted({v for s in tp.values() for v in s}):
        cand.append((f"topic:{t}", t, tp))
    for d in sorted({v for s in dp.values() for v in s}):
        cand.append((f"department:{d}", d, dp))
    intent_names = sorted({i for d in need.values() for i in d})
    n = len(rows)
    expo = np.array([[1.0 if v in src.get(k, ()) else 0.0 for (_, v, src) in cand] for k in keys]).reshape(
        n, len(cand)
    )
    ctrl = np.array(
        [
            [float(need.get(k, {}).get(i, 0)) for i in intent_names]
            + [np.log1p(max(r["spend"] or 0.0, 0.0)), float(r["episodes"])]
            for k, r in zip(keys, rows, strict=True)
        ]
    ).reshape(n, len(intent_names) + 2)
    x_raw = np.hstack([expo, ctrl])
    mean, std = x_raw.mean(axis=0), x_raw.std(axis=0)
    std[std == 0] = 1.0

    def z(x: np.ndarray) -> np.ndarray:
        out: np.ndarray = (x - mean) / std
        return out

    cls = {"detractor": 0, "passive": 1, "promoter": 2}
    resp = np.array([r["nps_class"] is not None for r in rows])
    y_nps = np.array([cls.get(r["nps_class"] or "", 1) for r in rows])
    lap = np.array([r["lapsed"] is not None for r in rows])
    y_lap = np.array([int(r["lapsed"] or 0) for r in rows])
    years = max(float(rows[0]["period_days"] or 365) / 365.0, 0.1) if rows else 1.0
    yearly = np.array([float(r["spend"] or 0.0) / years for r in rows])
    res = DriverResult(customers=n, respondents=int(resp.sum()), lapse_base=int(lap.sum()))
    if resp.sum() < 50 or lap.sum() < 50:
        raise ConfigError(
            f"Too few customers to estimate drivers ({int(resp.sum())} NPS respondents, {int(lap.sum())} for lapsing)"
        )
    rng = np.random.default_rng(seed)
    ir, il = np.flatnonzero(resp), np.flatnonzero(lap)

    def effects(sample_r: np.ndarray, sample_l: np.ndarray) -> np.ndarray:
        """Per driver: NPS points among exposed respondents, detractor share change, lapse change among
        exposed, revenue change per year (all 'removed minus as is')."""
        m_n = _fit(z(x_raw[sample_r]), y_nps[sample_r], 3, c)
        m_l = _fit(z(x_raw[sample_l]), y_lap[sample_l], 2, c)
        out = np.full((len(cand), 4), np.nan)
        for j in range(len(cand)):
            er = ir[expo[ir, j] == 1]
            el = il[expo[il, j] == 1]
            if len(er) >= 3:
                x0 = x_raw[er].copy()
                x0[:, j] = 0.0
                p1, p0 = m_n.predict_proba(z(x_raw[er])), m_n.predict_proba(z(x0))
                out[j, 0] = 100 * ((p0[:, 2] - p0[:, 0]) - (p1[:, 2] - p1[:, 0])).mean()
                out[j, 1] = (p0[:, 0] - p1[:, 0]).mean()
            if len(el) >= 3:
                x0 = x_raw[el].copy()
                x0[:, j] = 0.0
                q1, q0 = m_l.predict_proba(z(x_raw[el]))[:, 1], m_l.predict_proba(z(x0))[:, 1]
                out[j, 2] = (q0 - q1).mean()
                out[j, 3] = float(((q1 - q0) * yearly[el]).sum())
        return out

    point = effects(ir, il)
    boot = np.stack([effects(rng.choice(ir, len(ir)), rng.choice(il, len(il))) for _ in range(boots)])
    lo, hi = np.nanpercentile(boot, 2.5, axis=0), np.nanpercentile(boot, 97.5, axis=0)
    for j, (name, _, _) in enumerate(cand):
        n_exp_r = int(expo[ir, j].sum())
        n_exp = int(expo[:, j].sum())
        if n_exp_r < min_exposed:
            continue
        share = n_exp_r / len(ir)
        res.drivers.append(
            {
                "driver": name,
                "customers_exposed": n_exp,
                "respondents_exposed": n_exp_r,
                "nps_points_among_exposed": round(float(point[j, 0]), 2),
                "nps_points_among_exposed_ci95": [round(float(lo[j, 0]), 2), round(float(hi[j, 0]), 2)],
                "detractor_share_change": round(float(point[j, 1]), 4),
                "lapse_probability_change": round(float(point[j, 2]), 4),
                "lapse_probability_change_ci95": [round(float(lo[j, 2]), 4), round(float(hi[j, 2]), 4)],
                "nps_gain_if_removed": round(float(point[j, 0] * share), 2),
                "nps_gain_if_removed_ci95": [
                    round(float(lo[j, 0] * share), 2),
                    round(float(hi[j, 0] * share), 2),
                ],
                "revenue_kept_per_year_eur": round(float(point[j, 3]), 0),
                "revenue_kept_per_year_eur_ci95": [round(float(lo[j, 3]), 0), round(float(hi[j, 3]), 0)],
            }
        )
    res.drivers.sort(key=lambda d: -d["nps_gain_if_removed"])
    for rank, item in enumerate(res.drivers, 1):
        item["rank"] = rank
    res.notes = [
        "effects: model prediction with the driver removed minus as it is, among the customers exposed "
        "(g-computation), adjusted for needs (episodes per intent), value (log spend) and number of episodes",
        f"NPS from each customer's latest relationship answer; lapsed = no inbound event in the last {lapse_days} "
        f"days, among customers active before the last {2 * lapse_days} days",
        f"revenue: yearly spend (orders and till sales, GBP at {GBP_TO_EUR} EUR) of the exposed x the change in "
        "lapse probability",
        "associations adjusted for need and value, not experiments",
    ]
    return res
