"""Score VoC against a demo company's ground truth (``ordito voc score DIR/ground_truth``).

Reads ``records.parquet`` (true sentiment, language and need of every text record) only to *measure*:
nothing here feeds a model or a rule. Figures: sentiment accuracy and macro-F1 by author (customer texts
are what VoC is about) and language, language accuracy, and how often a customer conversation's themes
include the theme of the need it was about.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..errors import InputError
from ..store.base import Engine
from .train import macro_f1

INTENT_TOPIC = {
    "delivery_problem": "delivery",
    "refund": "refund",
    "repair": "repair",
    "address_change": "address",
    "subscription": "subscription",
}
_IDX = {"negative": 0, "neutral": 1, "positive": 2}


def score(engine: Engine, ground_truth: str | Path) -> dict[str, Any]:
    gt = Path(ground_truth) / "records.parquet"
    if not gt.exists():
        raise InputError(f"{gt} not found (give the demo company's ground_truth folder)")
    path = str(gt).replace("'", "''")
    rows = engine.records(
        f"""
        SELECT v.author, v.language AS lang, g.language AS true_lang, v.sentiment, g.sentiment AS true_sentiment,
               v.model, e.thread_id, g.intent, v.topics
        FROM voc v JOIN events e ON e.seq = v.seq
        JOIN read_parquet('{path}') g ON g.source = e.source AND g.source_key = e.source_key
        WHERE g.sentiment IS NOT NULL
        """
    )
    out: dict[str, Any] = {"texts": len(rows)}

    def fig(sel: list[dict[str, Any]]) -> dict[str, Any]:
        if not sel:
            return {"n": 0}
        y = [_IDX[r["true_sentiment"]] for r in sel]
        p = [_IDX[r["sentiment"]] for r in sel]
        return {
            "n": len(sel),
            "accuracy": round(sum(a == b for a, b in zip(y, p, strict=True)) / len(sel), 4),
            "macro_f1": round(macro_f1(y, p), 4),
        }

    out["sentiment"] = {
        author: {
            "all": fig([r for r in rows if r["author"] == author]),
            **{
                lang: fig([r for r in rows if r["author"] == author and r["true_lang"] == lang])
                for lang in sorted({r["true_lang"] for r in rows if r["true_lang"]})
            },
        }
        for author in ("customer", "brand")
    }
    with_lang = [r for r in rows if r["true_lang"]]
    out["language_accuracy"] = round(
        sum(r["lang"] == r["true_lang"] for r in with_lang) / max(len(with_lang), 1), 4
    )
    threads: dict[str, tuple[str, set[str]]] = {}
    for r in rows:
        if r["author"] == "customer" and r["thread_id"] and r["intent"] in INTENT_TOPIC:
            _, ts = threads.setdefault(r["thread_id"], (r["intent"], set()))
            ts.update(t for t in (r["topics"] or "").split(";") if t)
    per: dict[str, list[bool]] = {}
    for intent, ts in threads.values():
        per.setdefault(intent, []).append(INTENT_TOPIC[intent] in ts)
    out["topic_recall_by_thread"] = {
        "all": round(sum(sum(v) for v in per.values()) / max(sum(len(v) for v in per.values()), 1), 4),
        **{k: round(sum(v) / len(v), 4) for k, v in sorted(per.items())},
    }
    out["models"] = sorted({r["model"] for r in rows})
    return out
