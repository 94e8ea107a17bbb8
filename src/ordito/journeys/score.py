"""Score episodes and friction against the ground truth of a demo company (``ordito score``).

Episodes are scored pairwise on event-to-episode assignment, over pairs of records of the same true person
(identity errors are scored by the identity stage, not here): a pair is *predicted* when both records are
in the same episode, *true* when the ground truth puts them in the same episode. Records without an episode
on either side (the ground truth's newsletter visits and relationship surveys, the events of nobody) are
singletons. ``needs_only`` repeats the figure on the records that belong to a need in the ground truth.

Friction is scored per kind: a detected friction matches a planted one of the same kind when their evidence
shares at least one record, or failing that one source thread (the same call, chat conversation, e-mail
thread or web session: the ground truth names the last marked hit of a session as the evidence of an
abandoned cart, which is the sign-in hit when the site asked to sign in afterwards); matches are
one-to-one, record matches first, best overlap (Jaccard) first.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path
from typing import Any

from ..errors import InputError
from ..store.base import Engine
from ..store.sqlutil import lit


def _pairs(n: str) -> str:
    return f"CAST(coalesce(sum({n} * ({n} - 1) / 2), 0) AS BIGINT)"


def _prf(tp: int, pred: int, true: int) -> dict[str, Any]:
    p = tp / pred if pred else 1.0
    r = tp / true if true else 1.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {
        "precision": round(p, 5),
        "recall": round(r, 5),
        "f1": round(f, 5),
        "true_pairs": true,
        "predicted_pairs": pred,
        "correct_pairs": tp,
    }


def has_episodes(eng: Engine) -> bool:
    try:
        return bool(eng.scalar("SELECT count(*) FROM episodes"))
    except Exception:
        return False


def score_episodes(eng: Engine, gt: Path) -> dict[str, Any]:
    rec = gt / "records.parquet"
    if not rec.exists():
        raise InputError(f"{gt} has no records.parquet: is it a ground_truth folder of `ordito generate`?")
    eng.execute(f"""CREATE OR REPLACE TEMP TABLE _jsc AS
        SELECT g.person_id, g.episode_id AS true_ep, g.intent AS true_intent, ee.episode_id AS pred_ep,
               ep.intent AS pred_intent, e.seq
        FROM read_parquet({lit(str(rec))}) g
        JOIN events e ON e.source = g.source AND e.source_key = g.source_key
        LEFT JOIN episode_events ee ON ee.seq = e.seq
        LEFT JOIN episodes ep ON ep.episode_id = ee.episode_id
        WHERE g.person_id IS NOT NULL AND g.person_id <> ''""")

    def figures(where: str) -> dict[str, Any]:
        base = f"""SELECT person_id, coalesce(true_ep, 'none:' || CAST(seq AS VARCHAR)) AS te,
                          coalesce(pred_ep, 'none:' || CAST(seq AS VARCHAR)) AS pe FROM _jsc {where}"""
        tp = int(
            eng.scalar(
                f"SELECT {_pairs('n')} FROM (SELECT count(*) AS n FROM ({base}) GROUP BY person_id, te, pe)"
            )
        )
        pred = int(
            eng.scalar(
                f"SELECT {_pairs('n')} FROM (SELECT count(*) AS n FROM ({base}) GROUP BY person_id, pe)"
            )
        )
        true = int(
            eng.scalar(
                f"SELECT {_pairs('n')} FROM (SELECT count(*) AS n FROM ({base}) GROUP BY person_id, te)"
            )
        )
        return _prf(tp, pred, true)

    out = figures("")
    out["needs_only"] = figures("WHERE true_ep IS NOT NULL")
    n, in_ep = eng.one("SELECT count(*), count(pred_ep) FROM _jsc") or (0, 0)
    out["records_scored"] = int(n)
    out["records_in_an_episode"] = int(in_ep)
    # the intent of each true episode's records, as ordito labelled them (majority per true episode)
    row = eng.one("""SELECT count(*), count(*) FILTER (WHERE pred_intent = true_intent) FROM (
                         SELECT true_ep, any_value(true_intent) AS true_intent, mode(pred_intent) AS pred_intent
                         FROM _jsc WHERE true_ep IS NOT NULL GROUP BY true_ep)""")
    if row and row[0]:
        out["intent_accuracy"] = round(int(row[1]) / int(row[0]), 5)
    out["true_episodes"] = int(eng.scalar("SELECT count(DISTINCT true_ep) FROM _jsc") or 0)
    out["predicted_episodes"] = int(eng.scalar("SELECT count(DISTINCT pred_ep) FROM _jsc") or 0)
    out["base"] = "pairs of source records of the same true person (same episode vs same true episode)"
    eng.execute("DROP TABLE _jsc")
    return out


def score_friction(eng: Engine, gt: Path) -> dict[str, Any]:
    fr = gt / "frictions.csv"
    if not fr.exists():
        raise InputError(f"{gt} has no frictions.csv")
    truth_rows = eng.execute(f"""
        WITH f AS (SELECT friction_id, kind, unnest(string_split(evidence, ';')) AS ref
                   FROM read_csv({lit(str(fr))}, all_varchar = true))
        SELECT f.friction_id, f.kind, list(e.seq ORDER BY e.seq)
        FROM f JOIN events e ON e.source || ':' || e.source_key = f.ref
        GROUP BY f.friction_id, f.kind""")
    n_true_all = eng.execute(
        f"SELECT kind, count(*) FROM read_csv({lit(str(fr))}, all_varchar = true) GROUP BY 1"
    )
    pred_rows = eng.execute("SELECT friction_id, kind, CAST(evidence AS VARCHAR) FROM friction")
    truth: dict[str, list[tuple[str, set[int]]]] = defaultdict(list)
    for fid, kind, seqs in truth_rows:
        truth[kind].append((fid, set(seqs)))
    pred: dict[str, list[tuple[str, set[int]]]] = defaultdict(list)
    for fid, kind, ev in pred_rows:
        pred[kind].append((fid, {int(x) for x in json.loads(ev)}))
    # the source thread (call, chat conversation, e-mail thread, web session) of every evidence record
    thread_of = dict(
        eng.execute("""SELECT seq, source || ':' || thread_id FROM events
                       WHERE thread_id IS NOT NULL AND source NOT IN ('shop', 'pos', 'surveys')""")
    )
    kinds = sorted(set(truth) | set(pred) | {k for k, _ in n_true_all})
    out: dict[str, Any] = {}
    for kind in kinds:
        t, p = truth.get(kind, []), pred.get(kind, [])
        t_threads = [{thread_of[x] for x in s if x in thread_of} for _, s in t]
        by_seq: dict[int, list[int]] = defaultdict(list)
        by_thread: dict[str, list[int]] = defaultdict(list)
        for i, (_, s) in enumerate(t):
            for x in s:
                by_seq[x].append(i)
            for th in t_threads[i]:
                by_thread[th].append(i)
        cands: list[tuple[int, float, int, int]] = []
        for j, (_, s) in enumerate(p):
            seen: set[int] = set()
            for x in s:
                for i in by_seq.get(x, ()):
                    if i not in seen:
                        seen.add(i)
                        ts = t[i][1]
                        cands.append((2, len(ts & s) / len(ts | s), i, j))
            # no shared record: the same thread (the ground truth names another record of the session)
            p_threads = {thread_of[x] for x in s if x in thread_of}
            for th in p_threads:
                for i in by_thread.get(th, ()):
                    if i not in seen:
                        seen.add(i)
                        tt = t_threads[i]
                        cands.append((1, len(tt & p_threads) / len(tt | p_threads), i, j))
        cands.sort(key=lambda c: (-c[0], -c[1], c[2], c[3]))
        used_t: set[int] = set()
        used_p: set[int] = set()
        level: list[tuple[int, float]] = []
        for lv, jc, i, j in cands:
            if i in used_t or j in used_p:
                continue
            used_t.add(i)
            used_p.add(j)
            level.append((lv, jc))
        m = len(used_t)
        out[kind] = {
            "precision": round(m / len(p), 5) if p else (1.0 if not t else 0.0),
            "recall": round(m / len(t), 5) if t else 1.0,
            "planted": len(t),
            "detected": len(p),
            "matched": m,
            "exact_evidence": sum(1 for lv, x in level if lv == 2 and x == 1.0),
            "matched_by_thread": sum(1 for lv, _ in level if lv == 1),
        }
    return {"kinds": out, "base": "one-to-one matches of detections to planted frictions sharing evidence"}
