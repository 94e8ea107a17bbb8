"""Episodes: thread the units of the customers in scope and write ``_jee`` (seq -> episode).

The engine reduces events to units (:mod:`.features`); Python threads units into episodes
(:mod:`.thread`); the engine maps the result back to events. Episode ids are stable: ``ep_`` + a hash of the
customer key and the episode's first event, so an incremental run that recomputes a customer gives the
same ids to the same episodes.
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import groupby

import pyarrow as pa

from ..store.base import Engine
from ..store.sqlutil import lit
from . import features
from .features import TRIVIAL_ROLES
from .params import Params
from .thread import UNIT_COLUMNS, Threader, units_from_columns


def thread_scope(
    engine: Engine, params: Params, progress: Callable[[str, float], None] | None = None, full: bool = False
) -> int:
    """Build ``_jee(seq, ep, role)`` and ``_jep`` (one row per episode) for ``_jscope``.

    Units whose role makes them an episode of their own (a browsing session, a newsletter visit, a
    relationship survey) are numbered in the engine; the others are threaded in Python. Returns the number
    of threaded episodes (they are numbered first: ``ep`` below it).
    """
    features.build(engine, params, full)
    if progress:
        progress("features", 0.3)
    trivial = "(" + ", ".join(lit(r) for r in TRIVIAL_ROLES) + ")"
    cols = ", ".join(
        "epoch(t0) AS t0" if c == "t0" else "epoch(t1) AS t1" if c == "t1" else c for c in UNIT_COLUMNS
    )
    tbl = engine.arrow(
        f"""SELECT {cols} FROM _junit WHERE role IS NULL OR role NOT IN {trivial}
            ORDER BY ck, _junit.t0, first_seq, ukey"""
    )
    units = units_from_columns({name: tbl.column(name).to_pylist() for name in UNIT_COLUMNS})
    del tbl
    threader = Threader(params)
    cands: dict[str, list[str]] = {}
    for ukey, cand in engine.execute(
        """SELECT k.ukey, list(DISTINCT a.candidate ORDER BY a.candidate) FROM _jamb a JOIN _jukey k USING (seq)
           GROUP BY k.ukey"""
    ):
        cands[ukey] = cand
    ukeys: list[str] = []
    ep_idx: list[int] = []
    roles: list[str] = []
    n_units = len(units)
    done = 0
    step = max(n_units // 20, 1)
    for ck, group in groupby(units, key=lambda u: u.ck):
        mine = list(group)
        if ck == "~":  # events of shared identifiers: adopted by the candidate whose need they fit
            mine = [u for u in mine if threader.adopt(u, cands.get(u.ukey, ())) is not None]
        else:
            threader.thread(mine)
        for u in mine:
            ukeys.append(u.ukey)
            ep_idx.append(u.ep)
            roles.append(u.role)
        before = done
        done += len(mine)
        if progress and done // step != before // step:
            progress("threading", 0.3 + 0.4 * done / max(n_units, 1))
    eps = threader.episodes
    n_threaded = len(eps)
    unit_map = pa.table(
        {
            "ukey": pa.array(ukeys, pa.string()),
            "ep": pa.array(ep_idx, pa.int64()),
            "role": pa.array(roles, pa.string()),
        }
    )
    ep_tbl = pa.table(
        {
            "ep": pa.array([e.idx for e in eps], pa.int64()),
            "kind": pa.array([e.kind for e in eps], pa.string()),
            "intent": pa.array([e.intent for e in eps], pa.string()),
            "intent_source": pa.array([e.intent_source for e in eps], pa.string()),
        }
    )
    engine.register("_junit_map", unit_map)
    engine.register("_jep_attr", ep_tbl)
    kind = "CASE role WHEN 'browse' THEN 'browse' WHEN 'newsletter' THEN 'marketing' ELSE 'feedback' END"
    how = "CASE role WHEN 'browse' THEN 'pages' WHEN 'newsletter' THEN 'newsletter landing' ELSE 'relationship survey' END"
    engine.execute(f"""CREATE OR REPLACE TEMP TABLE _jtriv AS
        SELECT ukey, ck, first_seq, role, {n_threaded - 1} + row_number() OVER (ORDER BY ukey) AS ep
        FROM _junit WHERE role IN {trivial} AND ck <> '~'""")
    engine.execute("""CREATE OR REPLACE TEMP TABLE _jee AS
        SELECT k.seq, m.ep, m.role FROM _jukey k
        JOIN (SELECT ukey, ep, role FROM _junit_map UNION ALL SELECT ukey, ep, role FROM _jtriv) m USING (ukey)""")
    engine.execute(f"""CREATE OR REPLACE TEMP TABLE _jep AS
        SELECT 'ep_' || substr(md5(k.ck || ':' || CAST(k.first_seq AS VARCHAR)), 1, 16) AS episode_id,
               k.ck AS customer_key, k.first_seq, a.kind, a.intent, a.intent_source, k.ep
        FROM (SELECT m.ep, any_value(u.ck) AS ck, min(u.first_seq) AS first_seq
              FROM _junit_map m JOIN _junit u USING (ukey) WHERE u.ck <> '~' GROUP BY m.ep) k
        JOIN _jep_attr a USING (ep)
        UNION ALL
        SELECT 'ep_' || substr(md5(ck || ':' || CAST(first_seq AS VARCHAR)), 1, 16), ck, first_seq,
               {kind}, {kind}, {how}, ep
        FROM _jtriv""")
    engine.unregister("_junit_map")
    engine.unregister("_jep_attr")
    return n_threaded
