"""How well the brief prevents "tell me again": scored against the demo company's ground truth.

``ground_truth/facts.csv`` lists each fact a customer gave (order number, product, address, problem), the
record where they first gave it (``given_in``) and the later records where they had to give it again
(``restated_in``). For every fact restated later, we build the brief of the customer the restating
record belongs to, *as it was just before that record*, and check whether it already held the fact: the
share that did is the brief's recall of restated facts (the repeat-yourself rate ordito prevents).
Every fact line of every such brief is also checked against the true person of its evidence records:
a fact from another person's record is a leak (``foreign_facts``, must be 0).

Ground truth is read here for scoring only; nothing of it reaches the brief.
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import Counter
from pathlib import Path
from typing import Any

import pyarrow as pa

from ..store.duckdb import DuckDBEngine
from . import brief as bf


def _ref(s: str) -> tuple[str, str]:
    src, _, key = s.partition(":")
    return src, key


def score_briefs(
    eng: DuckDBEngine,
    ground_truth: Path | str,
    *,
    window_days: float = bf.WINDOW_DAYS,
    use_episodes: bool = True,
    limit: int | None = None,
) -> dict[str, Any]:
    gt = Path(ground_truth)
    with (gt / "facts.csv").open(encoding="utf-8", newline="") as fh:
        facts = [r for r in csv.DictReader(fh) if r["restated_in"]]
    if limit is not None:
        facts = facts[:limit]
    # the true person of every record we touch, and where each record is in the workspace
    refs = {_ref(f["given_in"]) for f in facts}
    for f in facts:
        refs.update(_ref(x) for x in f["restated_in"].split(";") if x)
    eng.execute("CREATE OR REPLACE TEMP TABLE _sb_refs (source VARCHAR, source_key VARCHAR)")
    tbl = pa.table({"source": [r[0] for r in refs], "source_key": [r[1] for r in refs]})
    with eng.registered("_sb_in", tbl):
        eng.execute("INSERT INTO _sb_refs SELECT * FROM _sb_in")
    rows = eng.execute(
        """SELECT r.source, r.source_key, e.seq, e.occurred_at, c.customer_key
            FROM _sb_refs r JOIN events e ON e.source = r.source AND e.source_key = r.source_key
            LEFT JOIN event_customer c ON c.seq = e.seq"""
    )
    where = {(s, k): (seq, at, ck) for s, k, seq, at, ck in rows}
    person_of_seq = _persons(eng, gt)

    held = missed = no_customer = 0
    foreign = 0
    foreign_examples: list[dict[str, Any]] = []
    by_kind: Counter[str] = Counter()
    by_kind_held: Counter[str] = Counter()
    misses: list[dict[str, Any]] = []
    cache: dict[tuple[str, dt.datetime], bf.Brief] = {}
    for f in facts:
        restated = [_ref(x) for x in f["restated_in"].split(";") if x]
        first = min((where[r] for r in restated if r in where), key=lambda w: (w[1], w[0]), default=None)
        by_kind[f["fact_kind"]] += 1
        if first is None or first[2] is None:
            no_customer += 1
            missed += 1
            misses.append({**f, "why": "restating record has no customer"})
            continue
        seq, at, ck = first
        ck_key = (ck, at)
        if ck_key not in cache:
            cache[ck_key] = bf.build(eng, ck, as_of=at, window_days=window_days, use_episodes=use_episodes)
            b = cache[ck_key]
            truth = person_of_seq.get(seq)
            for ln in b.facts:
                people = {person_of_seq.get(s) for s in ln.seqs} - {None}
                if truth is not None and people and truth not in people:
                    foreign += 1
                    if len(foreign_examples) < 10:
                        foreign_examples.append({"customer_key": ck, "line": ln.text, "seqs": ln.seqs})
        b = cache[ck_key]
        if b.holds(f["fact_kind"], f["value"]):
            held += 1
            by_kind_held[f["fact_kind"]] += 1
        else:
            missed += 1
            if len(misses) < 50:
                misses.append({**f, "why": "not in the brief", "customer_key": ck})
    n = held + missed
    return {
        "facts_restated": n,
        "held_before_restated": held,
        "recall": held / n if n else 0.0,
        "restating_record_without_customer": no_customer,
        "foreign_facts": foreign,
        "foreign_examples": foreign_examples,
        "briefs_built": len(cache),
        "by_kind": {k: {"n": by_kind[k], "recall": by_kind_held[k] / by_kind[k]} for k in sorted(by_kind)},
        "misses": misses,
        "window_days": window_days,
    }


def _persons(eng: DuckDBEngine, gt: Path) -> dict[int, str]:
    """seq -> true person, for the events of the records ground truth names (records.parquet)."""
    path = (gt / "records.parquet").as_posix().replace("'", "''")
    rows = eng.execute(
        f"""SELECT e.seq, r.person_id FROM read_parquet('{path}') r
            JOIN events e ON e.source = r.source AND e.source_key = r.source_key
            WHERE r.person_id IS NOT NULL"""
    )
    return {int(s): str(p) for s, p in rows}


def episode_queries(eng: DuckDBEngine, ground_truth: Path | str, episode_ids: set[str]) -> dict[str, str]:
    """The customer's own words in each episode (its first two contacts that say something), as the agent
    app would query the knowledge base with them. Ground truth only says which records are the episode's."""
    path = (Path(ground_truth) / "records.parquet").as_posix().replace("'", "''")
    eng.execute("CREATE OR REPLACE TEMP TABLE _kq_eps (episode_id VARCHAR)")
    with eng.registered("_kq_in", pa.table({"episode_id": sorted(episode_ids)})):
        eng.execute("INSERT INTO _kq_eps SELECT * FROM _kq_in")
    rows = eng.records(
        f"""SELECT r.episode_id, e.seq, e.occurred_at, e.source, e.channel, e.type, e.direction, e.text,
                   e.properties::VARCHAR AS properties
            FROM read_parquet('{path}') r JOIN _kq_eps k USING (episode_id)
            JOIN events e ON e.source = r.source AND e.source_key = r.source_key
            WHERE e.text IS NOT NULL ORDER BY r.episode_id, e.occurred_at, e.seq"""
    )
    said: dict[str, list[str]] = {}
    for r in rows:
        who = bf.author(r)
        if who == "customer" or (
            who == "note" and r["type"] in ("ticket_opened", "call_ended", "call_transferred", "service_desk")
        ):
            from .extract import statements

            parts = said.setdefault(r["episode_id"], [])
            if len(parts) < 2:
                s = " ".join(statements(r["text"]))
                if s:
                    parts.append(s)
    return {ep: " ".join(p) for ep, p in said.items() if p}


def score_knowledge(
    eng: DuckDBEngine, kb: Any, company: Path | str, k: int = 3, per_intent: int | None = None
) -> dict[str, Any]:
    """recall@k of the knowledge base on the demo's labelled need -> article pairs
    (``knowledge_base/ground_truth/labels.csv``): the share of needs whose article is among the first k suggested.
    ``per_intent``: score only the first N labelled episodes of each intent (by episode id)."""
    from .extract import language_of

    company = Path(company)
    with (company / "knowledge_base" / "ground_truth" / "labels.csv").open(
        encoding="utf-8", newline=""
    ) as fh:
        labels = {r["episode_id"]: r for r in csv.DictReader(fh)}
    if per_intent is not None:
        taken: Counter[str] = Counter()
        kept = {}
        for ep in sorted(labels):
            if taken[labels[ep]["intent"]] < per_intent:
                taken[labels[ep]["intent"]] += 1
                kept[ep] = labels[ep]
        labels = kept
    queries = episode_queries(eng, company / "ground_truth", set(labels))
    hits = 0
    by_intent: Counter[str] = Counter()
    by_intent_hit: Counter[str] = Counter()
    misses: list[dict[str, Any]] = []
    for ep, q in queries.items():
        lab = labels[ep]
        got = [h["article_id"].split("/", 1)[-1] for h in kb.suggest(q, language_of([q]), k)]
        by_intent[lab["intent"]] += 1
        if lab["topic"] in got:
            hits += 1
            by_intent_hit[lab["intent"]] += 1
        elif len(misses) < 30:
            misses.append({"episode_id": ep, "topic": lab["topic"], "query": q, "got": got})
    n = len(queries)
    return {
        "labelled": len(labels),
        "queried": n,
        f"recall_at_{k}": hits / n if n else 0.0,
        "by_intent": {
            i: {"n": by_intent[i], "recall": by_intent_hit[i] / by_intent[i]} for i in sorted(by_intent)
        },
        "misses": misses,
    }
