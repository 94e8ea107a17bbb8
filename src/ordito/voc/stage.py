"""The VoC stage: every new event with text gets language, sentiment, emotion and topics (table ``voc``);
every survey answer becomes a row of ``surveys``. Incremental by ``seq`` (watermark ``voc`` in
``stage_state``); ``full`` rebuilds from scratch and gives the same rows.

Which sentiment tier answers is a setting (``ORDITO_VOC_TIER`` or the ``tier`` argument):

* ``fast`` (default): the n-gram tier for everything (thousands of texts a second: what a stage that must
  keep up with every message of a brand can afford on two cores);
* ``auto``: the accurate tier for what customers write (``direction = 'inbound'``), the fast tier for the
  brand's own texts (agents, bots, systems), which are many and rarely emotional (70-370 texts/s
  overall on the demo company depending on the load and the pack, docs/VOC.md);
* ``accurate``: the embedding blend for everything (about 75 tweets/s on two cores with a ``sentiment-3``
  pack, 50 with ``sentiment-2``).

The fast tier does not reach the accuracy of the accurate one (docs/VOC.md has both, per language): use
``auto`` when the volume allows.

The tier and the model of each row are in ``voc.model``.
"""

from __future__ import annotations

import datetime as dt
import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from ..errors import ConfigError
from ..store.base import Engine
from ..store.schema import recreate
from . import emotion, langid, topics
from .schema import STATEMENTS  # noqa: F401  (registers migration 5)
from .sentiment import SentimentModel, load_model

STAGE = "voc"
TIERS = ("auto", "fast", "accurate")
CHUNK = 5_000
Progress = Callable[[str, int, int], None]

# kind -> (scale min, scale max, top-box threshold)
SCALES = {"nps": (0.0, 10.0, 9.0), "csat": (1.0, 5.0, 4.0), "ces": (1.0, 7.0, 5.0)}


@dataclass
class VocResult:
    texts: int = 0
    surveys: int = 0
    surveys_unrecognised: int = 0
    watermark: int = -1
    model: str = ""
    fallback: bool = False
    tiers: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def survey_kind(survey: str | None) -> str | None:
    """nps / csat / ces from a survey's name or metric field (``nps_relationship``, ``CSAT after contact``)."""
    s = (survey or "").lower()
    for kind in ("nps", "csat", "ces"):
        if kind in s:
            return kind
    if "recommend" in s or "raccomand" in s or "consiglier" in s:
        return "nps"
    if "effort" in s or "sforzo" in s:
        return "ces"
    if "satisf" in s or "soddisf" in s:
        return "csat"
    return None


def nps_class(score: float) -> str:
    return "promoter" if score >= 9 else "passive" if score >= 7 else "detractor"


def _tier() -> str:
    t = os.environ.get("ORDITO_VOC_TIER", "fast").strip().lower() or "fast"
    if t not in TIERS:
        raise ConfigError(f"ORDITO_VOC_TIER has value {t!r}: expected one of {', '.join(TIERS)}")
    return t


def _watermark(engine: Engine) -> int:
    v = engine.scalar("SELECT watermark_seq FROM stage_state WHERE stage = ?", [STAGE])
    return int(v) if v is not None else -1


def _text_rows(
    engine: Engine, rows: list[dict[str, Any]], model: SentimentModel, tier: str, now: dt.datetime
) -> tuple[pa.Table, pa.Table, dict[str, int]]:
    texts = [r["text"] or "" for r in rows]
    usual = _usual_languages(engine, texts)
    det = [langid.detect(t, r["language"], usual=usual) for t, r in zip(texts, rows, strict=True)]
    langs = [d.language for d in det]
    authors = ["customer" if r["direction"] == "inbound" else "brand" for r in rows]
    accurate = [tier == "accurate" or (tier == "auto" and a == "customer") for a in authors]
    pred = model.predict(texts, langs, accurate=accurate)
    labels, scores = pred.labels, pred.scores
    voc: dict[str, list[Any]] = {
        k: []
        for k in (
            "seq",
            "author",
            "language",
            "language_source",
            "language_confidence",
            "sentiment",
            "sentiment_score",
            "p_negative",
            "p_neutral",
            "p_positive",
            "emotion",
            "topics",
            "n_chars",
            "model",
            "analyzed_at",
        )
    }
    vt: dict[str, list[Any]] = {"seq": [], "topic_id": [], "weight": []}
    counts: dict[str, int] = {}
    for i, r in enumerate(rows):
        ts = topics.assign(texts[i], langs[i])
        for topic_id, w in ts:
            vt["seq"].append(r["seq"])
            vt["topic_id"].append(topic_id)
            vt["weight"].append(w)
        p = pred.proba[i]
        voc["seq"].append(r["seq"])
        voc["author"].append(authors[i])
        voc["language"].append(langs[i])
        voc["language_source"].append(det[i].source)
        voc["language_confidence"].append(round(det[i].confidence, 4))
        voc["sentiment"].append(labels[i])
        voc["sentiment_score"].append(round(float(scores[i]), 4))
        voc["p_negative"].append(round(float(p[0]), 4))
        voc["p_neutral"].append(round(float(p[1]), 4))
        voc["p_positive"].append(round(float(p[2]), 4))
        voc["emotion"].append(emotion.detect(texts[i], langs[i]))
        voc["topics"].append(";".join(t for t, _ in ts) or None)
        voc["n_chars"].append(len(texts[i]))
        voc["model"].append(pred.model[i])
        voc["analyzed_at"].append(now)
        counts[pred.model[i]] = counts.get(pred.model[i], 0) + 1
    schema = pa.schema(
        [
            ("seq", pa.int64()),
            ("author", pa.string()),
            ("language", pa.string()),
            ("language_source", pa.string()),
            ("language_confidence", pa.float64()),
            ("sentiment", pa.string()),
            ("sentiment_score", pa.float64()),
            ("p_negative", pa.float64()),
            ("p_neutral", pa.float64()),
            ("p_positive", pa.float64()),
            ("emotion", pa.string()),
            ("topics", pa.string()),
            ("n_chars", pa.int64()),
            ("model", pa.string()),
            ("analyzed_at", pa.timestamp("us")),
        ]
    )
    vt_schema = pa.schema([("seq", pa.int64()), ("topic_id", pa.string()), ("weight", pa.float64())])
    return pa.table(voc, schema=schema), pa.table(vt, schema=vt_schema), counts


def _usual_languages(engine: Engine, texts: list[str]) -> tuple[str, ...]:
    """Languages making at least 5% of the confidently detected texts (those already analysed, else this
    chunk's): the candidates for texts too short to tell."""
    rows = engine.execute("SELECT language, count(*) FROM voc WHERE language_source = 'detected' GROUP BY 1")
    counts = {str(lang): int(n) for lang, n in rows if lang}
    if sum(counts.values()) < 200:
        for t in texts[:2000]:
            d = langid.detect(t)
            if d.source == "detected" and d.confidence >= langid.MIN_CONFIDENCE and len(t) >= 20:
                counts[str(d.language)] = counts.get(str(d.language), 0) + 1
    total = sum(counts.values())
    return tuple(sorted(lang for lang, n in counts.items() if total and n / total >= 0.05))


def _insert(engine: Engine, table: str, data: pa.Table) -> None:
    if data.num_rows == 0:
        return
    name = f"_voc_new_{table}"
    cols = ", ".join(data.column_names)
    with engine.registered(name, data):
        engine.execute(f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {name}")


def _surveys(engine: Engine, since: int, upto: int, res: VocResult) -> None:
    rows = engine.records(
        """
        SELECT e.seq, e.value AS score, e.occurred_at, e.thread_id, e.text, e.language,
               coalesce(json_extract_string(e.properties, '$.survey'), json_extract_string(e.properties, '$.kind'),
                        json_extract_string(e.properties, '$.metric'), e.type) AS survey,
               json_extract_string(e.properties, '$.sent_at') AS sent_at
        FROM events e
        WHERE e.seq > ? AND e.seq <= ? AND e.value IS NOT NULL
          AND (e.type = 'survey_response' OR e.channel = 'survey')
        ORDER BY e.seq
        """,
        [since, upto],
    )
    out: dict[str, list[Any]] = {
        k: []
        for k in (
            "seq",
            "kind",
            "survey",
            "score",
            "scale_min",
            "scale_max",
            "nps_class",
            "top_box",
            "answered_at",
            "sent_at",
            "context_ref",
            "comment_seq",
            "language",
        )
    }
    for r in rows:
        kind = survey_kind(r["survey"])
        if kind is None:
            res.surveys_unrecognised += 1
            continue
        lo, hi, top = SCALES[kind]
        score = float(r["score"])
        if not lo <= score <= hi:
            res.surveys_unrecognised += 1
            continue
        sent = None
        if r["sent_at"]:
            try:
                sent = dt.datetime.fromisoformat(r["sent_at"].replace("Z", "+00:00"))
                if sent.tzinfo is not None:
                    sent = sent.astimezone(dt.UTC).replace(tzinfo=None)
            except ValueError:
                sent = None
        out["seq"].append(r["seq"])
        out["kind"].append(kind)
        out["survey"].append(r["survey"])
        out["score"].append(score)
        out["scale_min"].append(lo)
        out["scale_max"].append(hi)
        out["nps_class"].append(nps_class(score) if kind == "nps" else None)
        out["top_box"].append(score >= top)
        out["answered_at"].append(r["occurred_at"])
        out["sent_at"].append(sent)
        out["context_ref"].append(r["thread_id"] or None)
        out["comment_seq"].append(r["seq"] if (r["text"] or "").strip() else None)
        out["language"].append(r["language"])
    schema = pa.schema(
        [
            ("seq", pa.int64()),
            ("kind", pa.string()),
            ("survey", pa.string()),
            ("score", pa.float64()),
            ("scale_min", pa.float64()),
            ("scale_max", pa.float64()),
            ("nps_class", pa.string()),
            ("top_box", pa.bool_()),
            ("answered_at", pa.timestamp("us")),
            ("sent_at", pa.timestamp("us")),
            ("context_ref", pa.string()),
            ("comment_seq", pa.int64()),
            ("language", pa.string()),
        ]
    )
    _insert(engine, "surveys", pa.table(out, schema=schema))
    res.surveys += len(out["seq"])


def _refresh_survey_links(engine: Engine) -> None:
    """Customer of every answer (identity merges move them) and the contact it was about: the first
    non-survey event of the same thread (call, chat, ticket, email) with its channel and department."""
    engine.execute(
        """
        UPDATE surveys SET customer_key = ec.customer_key
        FROM event_customer ec
        WHERE ec.seq = surveys.seq AND surveys.customer_key IS DISTINCT FROM ec.customer_key
        """
    )
    engine.execute(
        """
        UPDATE surveys SET context_seq = c.seq, channel = c.channel, department = c.department
        FROM (
            SELECT s.seq AS survey_seq, e.seq, e.channel, e.department,
                   row_number() OVER (PARTITION BY s.seq ORDER BY e.occurred_at, e.seq) AS k
            FROM surveys s JOIN events e ON e.thread_id = s.context_ref
            WHERE s.context_ref IS NOT NULL AND s.context_seq IS NULL AND e.channel <> 'survey'
        ) c
        WHERE c.k = 1 AND c.survey_seq = surveys.seq
        """
    )
    # NPS about the relationship, or an answer whose contact is unknown: the channel is the survey itself
    engine.execute("UPDATE surveys SET channel = 'survey' WHERE channel IS NULL")


def _labels(engine: Engine) -> None:
    engine.execute("DELETE FROM topic_labels WHERE origin = 'taxonomy'")
    rows = [
        (th.topic_id, lang, th.labels[lang], "; ".join(th.cues.get(lang, ())), "taxonomy")
        for th in topics.THEMES
        for lang in th.labels
    ]
    for r in rows:
        engine.execute("INSERT INTO topic_labels VALUES (?, ?, ?, ?, ?)", list(r))


def run(
    engine: Engine,
    *,
    full: bool = False,
    tier: str | None = None,
    model: SentimentModel | None = None,
    progress: Progress | None = None,
) -> VocResult:
    """Analyse the events ingested since the last run (every event with ``full``)."""
    import time

    t0 = time.perf_counter()
    tier = tier or _tier()
    if tier not in TIERS:
        raise ConfigError(f"tier {tier!r}: expected one of {', '.join(TIERS)}")
    m = model or load_model()
    res = VocResult(model=m.name, fallback=m.is_fallback)
    if full:
        for t in ("voc", "voc_topics", "surveys"):
            recreate(engine, t)
        engine.execute("DELETE FROM stage_state WHERE stage = ?", [STAGE])
    since = _watermark(engine)
    upto = engine.scalar("SELECT max(seq) FROM events")
    if upto is None or upto <= since:
        res.watermark = since
        _labels(engine)
        res.seconds = time.perf_counter() - t0
        return res
    n_total = engine.scalar(
        "SELECT count(*) FROM events WHERE seq > ? AND seq <= ? AND text IS NOT NULL AND trim(text) <> ''",
        [since, upto],
    )
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    done = 0
    last = since
    while True:
        rows = engine.records(
            """
            SELECT seq, text, language, direction FROM events
            WHERE seq > ? AND seq <= ? AND text IS NOT NULL AND trim(text) <> ''
            ORDER BY seq LIMIT ?
            """,
            [last, upto, CHUNK],
        )
        if not rows:
            break
        voc_t, vt_t, counts = _text_rows(engine, rows, m, tier, now)
        _insert(engine, "voc", voc_t)
        _insert(engine, "voc_topics", vt_t)
        for k, v in counts.items():
            res.tiers[k] = res.tiers.get(k, 0) + v
        done += len(rows)
        last = rows[-1]["seq"]
        if progress:
            progress("texts", done, int(n_total or 0))
    res.texts = done
    _surveys(engine, since, upto, res)
    _refresh_survey_links(engine)
    _labels(engine)
    engine.execute("INSERT OR REPLACE INTO stage_state VALUES (?, ?, ?)", [STAGE, int(upto), now])
    res.watermark = int(upto)
    res.seconds = time.perf_counter() - t0
    return res


def status(engine: Engine) -> dict[str, Any]:
    return {
        "watermark": _watermark(engine),
        "texts": engine.scalar("SELECT count(*) FROM voc"),
        "surveys": engine.scalar("SELECT count(*) FROM surveys"),
        "models": json.loads(
            json.dumps(engine.records("SELECT model, count(*) AS n FROM voc GROUP BY 1 ORDER BY 2 DESC"))
        ),
    }
