"""Episodes: thread the units of the customers in scope and write ``_jee`` (seq -> episode).

The engine reduces events to units (:mod:`.features`); Python threads units into episodes
(:mod:`.thread`); the engine maps the result back to events. Episode ids are stable: ``ep_`` + a hash of the
customer key and the episode's first event, so an incremental run that recomputes a customer gives the
same ids to the same episodes.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby

import pyarrow as pa

from ..store.base import Engine
from ..store.sqlutil import lit
from . import features
from .features import TRIVIAL_ROLES
from .params import Params
from .thread import LIST_COLUMNS, UNIT_COLUMNS, Episode, Threader, units_from_columns


def thread_scope(
    engine: Engine, params: Params, progress: Callable[[str, float], None] | None = None, full: bool = False
) -> int:
    """Build ``_jee(seq, ep, role, episode_id, customer_key)`` (the events of threaded episodes),
    ``_jtriv`` (units that are an episode of their own) and ``_jep`` (one row per episode) for ``_jscope``.

    Units whose role makes them an episode of their own (a browsing session, a newsletter visit, a
    relationship survey) are numbered in the engine; the others are threaded in Python. Returns the number
    of threaded episodes (they are numbered first: ``ep`` below it).
    """
    features.build(engine, params, full)
    if progress:
        progress("features", 0.3)
    trivial = "(" + ", ".join(lit(r) for r in TRIVIAL_ROLES) + ")"

    def col(c: str) -> str:
        if c in ("t0", "t1"):
            return f"epoch({c}) AS {c}"
        if c in LIST_COLUMNS:
            return f"array_to_string({c}, chr(31)) AS {c}"
        return c

    tbl = engine.arrow(
        f"""SELECT {", ".join(col(c) for c in UNIT_COLUMNS)} FROM _junit
            WHERE role IS NULL OR role NOT IN {trivial} ORDER BY ck, _junit.t0, first_seq, ukey"""
    )
    cands: dict[str, list[str]] = {}
    for ukey, cand in engine.execute(
        """SELECT k.ukey, list(DISTINCT a.candidate ORDER BY a.candidate) FROM _jamb a JOIN _jukey k USING (seq)
           GROUP BY k.ukey"""
    ):
        cands[ukey] = cand
    if progress:
        progress("threading", 0.35)
    threader, placed = _thread_all(tbl, params, cands)
    del tbl
    eps = threader.summary
    n_threaded = len(eps)
    if progress:
        progress("threading", 0.7)
    ids = [episode_id(ck, first) for ck, first, *_ in eps]
    unit_map = pa.table(
        {
            "ukey": pa.array([u for u, _, _ in placed], pa.string()),
            "ep": pa.array([e for _, e, _ in placed], pa.int64()),
            "role": pa.array([r for _, _, r in placed], pa.string()),
            "episode_id": pa.array([ids[e] for _, e, _ in placed], pa.string()),
            "customer_key": pa.array([eps[e][0] for _, e, _ in placed], pa.string()),
        }
    )
    ep_tbl = pa.table(
        {
            "episode_id": pa.array(ids, pa.string()),
            "customer_key": pa.array([e[0] for e in eps], pa.string()),
            "first_seq": pa.array([e[1] for e in eps], pa.int64()),
            "kind": pa.array([e[2] for e in eps], pa.string()),
            "intent": pa.array([e[3] for e in eps], pa.string()),
            "intent_source": pa.array([e[4] for e in eps], pa.string()),
            "ep": pa.array(list(range(n_threaded)), pa.int64()),
        }
    )
    del placed
    engine.register("_junit_map", unit_map)
    engine.register("_jep_threaded", ep_tbl)
    kind = (
        "CASE role WHEN 'browse' THEN 'browse' WHEN 'newsletter' THEN 'marketing' "
        "WHEN 'research_alone' THEN 'purchase' ELSE 'feedback' END"
    )
    how = (
        "CASE role WHEN 'browse' THEN 'pages' WHEN 'newsletter' THEN 'newsletter landing' "
        "WHEN 'research_alone' THEN 'pages' ELSE 'relationship survey' END"
    )
    engine.execute(f"""CREATE OR REPLACE TEMP TABLE _jtriv AS
        SELECT ukey, ck, first_seq, role, {n_threaded - 1} + row_number() OVER (ORDER BY ukey) AS ep,
               'ep_' || substr(md5(ck || ':' || CAST(first_seq AS VARCHAR)), 1, 16) AS episode_id
        FROM _junit WHERE role IN {trivial} AND ck <> '~'""")
    # the events of threaded episodes (those of one-unit episodes are written straight from _jtriv)
    engine.execute("""CREATE OR REPLACE TEMP TABLE _jee AS
        SELECT k.seq, m.ep, m.role, m.episode_id, m.customer_key FROM _jukey k JOIN _junit_map m USING (ukey)""")
    engine.execute(f"""CREATE OR REPLACE TEMP TABLE _jep AS
        SELECT episode_id, customer_key, first_seq, kind, intent, intent_source, ep FROM _jep_threaded
        UNION ALL
        SELECT episode_id, ck, first_seq, {kind}, {kind}, {how}, ep FROM _jtriv""")
    engine.unregister("_junit_map")
    engine.unregister("_jep_threaded")
    return n_threaded


def episode_id(customer_key: str, first_seq: int) -> str:
    """``ep_`` + the first 16 hex digits of md5("customer_key:first_seq"): stable across runs."""
    return "ep_" + hashlib.md5(f"{customer_key}:{first_seq}".encode()).hexdigest()[:16]


#: threading runs in two processes above this many units
PARALLEL_MIN_UNITS = 200_000


@dataclass
class _Part:
    """What threading one slice of customers gives back to the parent process."""

    ukeys: list[str]
    eps: list[int]
    roles: list[str]
    episodes: list[tuple[str, int, str, str, str]]  # ck, first_seq, kind, intent, intent_source
    candidates: dict[str, list[Episode]]  # episodes of customers that events of nobody may join


def _thread_slice(tbl: pa.Table, params: Params, candidates: set[str]) -> _Part:
    units = units_from_columns({name: tbl.column(name).to_pylist() for name in UNIT_COLUMNS})
    threader = Threader(params)
    for _ck, group in groupby(units, key=lambda u: u.ck):
        threader.thread(list(group))
    eps = threader.episodes
    return _Part(
        [u.ukey for u in units],
        [u.ep for u in units],
        [u.role for u in units],
        [(e.ck, e.first_seq, e.kind, e.intent, e.intent_source) for e in eps],
        {ck: v for ck, v in threader.of_customer.items() if ck in candidates},
    )


def _thread_all(
    tbl: pa.Table, params: Params, cands: dict[str, list[str]]
) -> tuple[Threader, list[tuple[str, int, str]]]:
    """Thread every customer's units (in two processes when there are many: the customers are cut
    in two at a customer boundary; the result is the same as one process's), then adopt the units of
    nobody. Returns the threader (its ``episodes``: index, customer, first event, kind, intent) and
    ``(ukey, episode index, role)`` of every placed unit."""
    cks = tbl.column("ck").to_pylist()
    n_nobody = sum(1 for c in reversed(cks) if c == "~") if cks and cks[-1] == "~" else 0
    n = len(cks) - n_nobody
    candidates = {c for cs in cands.values() for c in cs}
    cut = n // 2
    while 0 < cut < n and cks[cut] == cks[cut - 1]:
        cut += 1
    slices = [tbl.slice(0, cut), tbl.slice(cut, n - cut)] if n >= PARALLEL_MIN_UNITS else [tbl.slice(0, n)]
    if len(slices) > 1:
        # spawned, not forked: the parent has engine threads, and a fork copies their locks
        ctx = multiprocessing.get_context("spawn")
        with ctx.Pool(len(slices)) as pool:
            parts = pool.starmap(_thread_slice, [(sl, params, candidates) for sl in slices])
    else:
        parts = [_thread_slice(slices[0], params, candidates)]
    threader = Threader(params)
    placed: list[tuple[str, int, str]] = []
    summary: list[tuple[str, int, str, str, str]] = []
    for part in parts:
        offset = len(summary)
        summary.extend(part.episodes)
        placed.extend(zip(part.ukeys, (e + offset for e in part.eps), part.roles, strict=True))
        for ck, eps in part.candidates.items():
            for e in eps:
                e.idx += offset
            threader.of_customer[ck] = eps
    threader.summary = summary
    # events of shared identifiers: adopted by the candidate whose need they fit
    nobody = units_from_columns({name: tbl.column(name).slice(n).to_pylist() for name in UNIT_COLUMNS})
    for u in nobody:
        if threader.adopt(u, cands.get(u.ukey, ())) is not None:
            placed.append((u.ukey, u.ep, u.role))
    return threader, placed
