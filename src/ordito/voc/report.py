"""Read side of VoC: the summary, the topics, one customer's voice. Used by the API, the CLI and Python.

Every figure says what it counts (customer-written texts unless stated), and inferred values are never
mixed with answered ones: this module reports only what customers wrote and answered.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from ..errors import NotFoundError
from ..store.base import Engine
from . import metrics, topics
from .sentiment import load_model


def _window(
    since: dt.datetime | None, until: dt.datetime | None, col: str = "e.occurred_at"
) -> tuple[str, list[Any]]:
    conds, params = [], []
    if since is not None:
        conds.append(f"{col} >= ?")
        params.append(since)
    if until is not None:
        conds.append(f"{col} < ?")
        params.append(until)
    return (" AND " + " AND ".join(conds) if conds else ""), params


def model_info() -> dict[str, Any]:
    m = load_model()
    info: dict[str, Any] = {"name": m.name, "fallback": m.is_fallback, "languages": list(m.languages)}
    if m.is_fallback:
        info["note"] = (
            "No trained sentiment model: the hand-written lexicons answer (lower accuracy). "
            "Run `ordito voc train` where the labelled data is (docs/VOC.md)."
        )
    else:
        info["trained_at"] = m.meta.get("trained_at")
        info["test"] = m.meta.get("test")
        info["accurate_tier"] = m.e5_head is not None
    return info


def summary(
    engine: Engine, *, since: dt.datetime | None = None, until: dt.datetime | None = None
) -> dict[str, Any]:
    """Texts analysed, sentiment of what customers wrote (overall, by channel, by language, by month),
    survey metrics with intervals by channel/department/intent/outcome/month, response rates and bias."""
    w, p = _window(since, until)
    base = f"FROM voc v JOIN events e ON e.seq = v.seq WHERE v.author = 'customer'{w}"
    sentiment = engine.records(
        f"""SELECT count(*) AS texts, avg(v.sentiment_score) AS mean_score,
            avg(CASE WHEN v.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative,
            avg(CASE WHEN v.sentiment = 'neutral' THEN 1.0 ELSE 0.0 END) AS neutral,
            avg(CASE WHEN v.sentiment = 'positive' THEN 1.0 ELSE 0.0 END) AS positive {base}""",
        p,
    )[0]

    def by(expr: str) -> list[dict[str, Any]]:
        rows = engine.records(
            f"""SELECT {expr} AS key, count(*) AS texts, avg(v.sentiment_score) AS mean_score,
                avg(CASE WHEN v.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative_share
                {base} GROUP BY 1 ORDER BY texts DESC""",
            p,
        )
        return [_round(r) for r in rows]

    sw, sp = _window(since, until, "s.answered_at")
    where = ("WHERE " + sw[5:]) if sw else ""
    surveys: dict[str, Any] = {}
    for group in ("overall", "channel", "department", "month", "intent", "outcome"):
        res = metrics.survey_metrics(engine, group, where=where, params=sp)
        if group == "overall":
            surveys.update(res.get("all", {}))
        elif res or group not in metrics.EPISODE_GROUPS:
            surveys[f"by_{group}"] = res
    if not metrics.episodes_ready(engine):
        surveys["by_intent"] = surveys["by_outcome"] = None
        surveys["note"] = "by intent and by outcome need episodes: run the journeys stage"
    inferred = None
    if metrics.has_table(engine, "satisfaction_inferred"):
        r = engine.records(
            """SELECT CAST(sum(CASE WHEN inferred THEN 1 ELSE 0 END) AS BIGINT) AS episodes,
                      avg(CASE WHEN inferred THEN p_satisfied END) AS satisfied_share,
                      CAST(sum(CASE WHEN answered THEN 1 ELSE 0 END) AS BIGINT) AS answered_episodes,
                      avg(CASE WHEN answered THEN CASE WHEN answered_top_box THEN 1.0 ELSE 0.0 END END)
                          AS answered_share,
                      any_value(model) AS model
               FROM satisfaction_inferred"""
        )[0]
        if r["episodes"]:
            inferred = {
                **_round(r),
                "note": "INFERRED, not answered: mean predicted probability of CSAT 4-5 for episodes without an "
                "answer (`ordito voc infer` has the validation and the interval)",
            }
    texts = engine.records(
        f"SELECT v.author, count(*) AS n FROM voc v JOIN events e ON e.seq = v.seq WHERE 1=1{w} GROUP BY 1", p
    )
    return {
        "window": {"since": since, "until": until},
        "texts": {r["author"]: r["n"] for r in texts},
        "customer_sentiment": _round(sentiment),
        "by_channel": by("e.channel"),
        "by_language": by("coalesce(v.language, 'unknown')"),
        "by_month": by("strftime(date_trunc('month', e.occurred_at), '%Y-%m')"),
        "emotions": by("coalesce(v.emotion, 'none')"),
        "surveys": surveys,
        "response": metrics.response_rates(engine),
        "respondent_bias": metrics.respondent_bias(engine),
        "inferred_satisfaction": inferred,
        "model": model_info(),
        "definitions": {
            "sentiment_score": "p(positive) - p(negative), -1..1, texts written by customers",
            "nps": "% promoters (9-10) - % detractors (0-6); 95% interval, multinomial normal approximation",
            "csat": "share of 4-5 on 1-5 (top-2-box), Wilson 95% interval; mean with t interval",
            "ces": "mean on 1-7 (7 easy), t 95% interval; share of 5-7 with Wilson interval",
            "small_base": f"fewer than {metrics.SMALL_BASE} answers",
        },
    }


def _round(r: dict[str, Any]) -> dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v) for k, v in r.items()}


def topic_report(
    engine: Engine,
    *,
    language: str = "en",
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    author: str = "customer",
    examples: int = 3,
) -> list[dict[str, Any]]:
    """Themes of customer texts, most frequent first: label in ``language``, texts, share of all
    customer texts, mean sentiment, share negative, customers, example texts."""
    w, p = _window(since, until)
    total = (
        engine.scalar(
            f"SELECT count(*) FROM voc v JOIN events e ON e.seq = v.seq WHERE v.author = ?{w}", [author, *p]
        )
        or 0
    )
    rows = engine.records(
        f"""
        SELECT t.topic_id, count(*) AS texts, avg(v.sentiment_score) AS mean_score,
               avg(CASE WHEN v.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative_share,
               count(DISTINCT ec.customer_key) AS customers
        FROM voc_topics t JOIN voc v ON v.seq = t.seq JOIN events e ON e.seq = t.seq
        LEFT JOIN event_customer ec ON ec.seq = t.seq
        WHERE v.author = ?{w}
        GROUP BY 1 ORDER BY texts DESC, t.topic_id
        """,
        [author, *p],
    )
    out = []
    for r in rows:
        ex = engine.records(
            f"""SELECT e.seq, e.text, v.sentiment FROM voc_topics t JOIN voc v ON v.seq = t.seq
                JOIN events e ON e.seq = t.seq
                WHERE t.topic_id = ? AND v.author = ? AND (v.language = ? OR v.language IS NULL){w}
                ORDER BY t.weight DESC, v.sentiment_score, e.seq LIMIT ?""",
            [r["topic_id"], author, language, *p, examples],
        )
        out.append(
            {
                "topic_id": r["topic_id"],
                "label": topics.label(r["topic_id"], language),
                "labels": topics.BY_ID[r["topic_id"]].labels if r["topic_id"] in topics.BY_ID else {},
                "texts": r["texts"],
                "share": round(r["texts"] / total, 4) if total else None,
                "mean_score": round(r["mean_score"], 4),
                "negative_share": round(r["negative_share"], 4),
                "customers": r["customers"],
                "examples": [
                    {"seq": x["seq"], "text": x["text"][:280], "sentiment": x["sentiment"]} for x in ex
                ],
            }
        )
    return out


def discovered(
    engine: Engine, *, language: str = "en", limit: int = 5000, k: int | None = None
) -> list[dict[str, Any]]:
    """Themes found in customer texts the taxonomy leaves without a topic (most recent ``limit``)."""
    rows = engine.records(
        """SELECT e.seq, e.text FROM voc v JOIN events e ON e.seq = v.seq
           WHERE v.author = 'customer' AND v.language = ? AND v.topics IS NULL
           ORDER BY e.seq DESC LIMIT ?""",
        [language, limit],
    )
    clusters = topics.discover([r["text"] for r in rows], language, k=k)
    return [
        {
            "topic_id": c.topic_id,
            "label": c.label,
            "terms": c.terms,
            "texts": len(c.members),
            "examples": [rows[i]["text"][:280] for i in c.members[:3]],
        }
        for c in clusters
    ]


def customer_voc(engine: Engine, key: str, *, limit: int = 50) -> dict[str, Any]:
    """One customer's voice: what they wrote (newest first) with sentiment and topics, their survey
    answers, and the averages. Follows merges (a merged key answers for the customer it went into)."""
    row = engine.one("SELECT customer_key, status, merged_into FROM customers WHERE customer_key = ?", [key])
    if row is None:
        raise NotFoundError(f"no customer {key!r}")
    if row[1] == "merged" and row[2]:
        key = row[2]
    texts = engine.records(
        """SELECT e.seq, e.occurred_at, e.channel, e.type, e.text, v.author, v.language, v.sentiment,
                  v.sentiment_score, v.emotion, v.topics, v.model
           FROM event_customer ec JOIN voc v ON v.seq = ec.seq JOIN events e ON e.seq = ec.seq
           WHERE ec.customer_key = ? ORDER BY e.occurred_at DESC, e.seq DESC LIMIT ?""",
        [key, limit],
    )
    agg = engine.records(
        """SELECT count(*) AS texts, avg(v.sentiment_score) AS mean_score,
                  avg(CASE WHEN v.sentiment = 'negative' THEN 1.0 ELSE 0.0 END) AS negative_share
           FROM event_customer ec JOIN voc v ON v.seq = ec.seq
           WHERE ec.customer_key = ? AND v.author = 'customer'""",
        [key],
    )[0]
    tops = engine.records(
        """SELECT t.topic_id, count(*) AS texts FROM event_customer ec JOIN voc_topics t ON t.seq = ec.seq
           JOIN voc v ON v.seq = ec.seq WHERE ec.customer_key = ? AND v.author = 'customer'
           GROUP BY 1 ORDER BY 2 DESC, 1""",
        [key],
    )
    answers = engine.records(
        """SELECT s.seq, s.kind, s.survey, s.score, s.nps_class, s.answered_at, s.channel, s.department,
                  s.context_ref, e.text AS comment
           FROM surveys s JOIN events e ON e.seq = s.seq JOIN event_customer ec ON ec.seq = s.seq
           WHERE ec.customer_key = ? ORDER BY s.answered_at DESC""",
        [key],
    )
    lang = next((t["language"] for t in texts if t["author"] == "customer" and t["language"]), "en")
    for t in texts:
        t["topics"] = [
            {"topic_id": x, "label": topics.label(x, t["language"] or lang)}
            for x in (t["topics"] or "").split(";")
            if x
        ]
    return {
        "customer_key": key,
        "said": _round(agg),
        "topics": [
            {"topic_id": r["topic_id"], "label": topics.label(r["topic_id"], lang), "texts": r["texts"]}
            for r in tops
        ],
        "surveys": answers,
        "texts": texts,
        "note": "surveys are answers the customer gave; nothing here is inferred",
    }
