"""Episodes: thread the units of the customers in scope and write ``_jee`` (seq -> episode).

The engine reduces events to units (:mod:`.features`); Python threads units into episodes
(:mod:`.thread`); the engine maps the result back to events. Episode ids are stable: ``ep_`` + a hash of the
customer key and the episode's first event, so an incremental run that recomputes a customer gives the
same ids to the same episodes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from itertools import groupby

import pyarrow as pa

from ..store.base import Engine
from ..store.sqlutil import lit
from . import features
from .features import TRIVIAL_ROLES
from .params import Params
from .thread import LIST_COLUMNS, UNIT_COLUMNS, Threader, Unit, units_from_columns


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
    units = units_from_columns({name: tbl.column(name).to_pylist() for name in UNIT_COLUMNS})
    del tbl
    if progress:
        progress("threading", 0.35)
    threader = Threader(params)
    cands: dict[str, list[str]] = {}
    for ukey, cand in engine.execute(
        """SELECT k.ukey, list(DISTINCT a.candidate ORDER BY a.candidate) FROM _jamb a JOIN _jukey k USING (seq)
           GROUP BY k.ukey"""
    ):
        cands[ukey] = cand
    placed: list[Unit] = []
    n_units = len(units)
    done = 0
    step = max(n_units // 20, 1)
    for ck, group in groupby(units, key=lambda u: u.ck):
        mine = list(group)
        if ck == "~":  # events of shared identifiers: adopted by the candidate whose need they fit
            mine = [u for u in mine if threader.adopt(u, cands.get(u.ukey, ())) is not None]
        else:
            threader.thread(mine)
        placed.extend(mine)
        before = done
        done += len(mine)
        if progress and done // step != before // step:
            progress("threading", 0.35 + 0.35 * done / max(n_units, 1))
    del units
    eps = threader.episodes
    n_threaded = len(eps)
    ids = [episode_id(e.ck, e.first_seq) for e in eps]
    unit_map = pa.table(
        {
            "ukey": pa.array([u.ukey for u in placed], pa.string()),
            "ep": pa.array([u.ep for u in placed], pa.int64()),
            "role": pa.array([u.role for u in placed], pa.string()),
            "episode_id": pa.array([ids[u.ep] for u in placed], pa.string()),
            "customer_key": pa.array([eps[u.ep].ck for u in placed], pa.string()),
        }
    )
    ep_tbl = pa.table(
        {
            "episode_id": pa.array(ids, pa.string()),
            "customer_key": pa.array([e.ck for e in eps], pa.string()),
            "first_seq": pa.array([e.first_seq for e in eps], pa.int64()),
            "kind": pa.array([e.kind for e in eps], pa.string()),
            "intent": pa.array([e.intent for e in eps], pa.string()),
            "intent_source": pa.array([e.intent_source for e in eps], pa.string()),
            "ep": pa.array([e.idx for e in eps], pa.int64()),
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
