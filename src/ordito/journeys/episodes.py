"""Episodes: thread the units of the customers in scope and write ``_jee`` (seq -> episode).

The engine reduces events to units (:mod:`.features`); Python threads units into episodes
(:mod:`.thread`); the engine maps the result back to events. Episode ids are stable: ``ep_`` + a hash of the
customer key and the episode's first event, so an incremental run that recomputes a customer gives the
same ids to the same episodes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from itertools import groupby
from typing import Any

import pyarrow as pa

from ..store.base import Engine
from . import features
from .params import Params
from .thread import UNIT_COLUMNS, Threader, units_from_rows

#: batch of units fetched from the engine at a time
_BATCH = 200_000


def thread_scope(engine: Engine, params: Params, progress: Callable[[str, float], None] | None = None) -> int:
    """Build ``_jee(seq, episode_key, role)`` and ``_jep`` (one row per episode) for ``_jscope``.

    Returns the number of episodes.
    """
    features.build(engine, params)
    if progress:
        progress("features", 0.3)
    cols = ", ".join(UNIT_COLUMNS)
    tbl = engine.arrow(f"SELECT {cols} FROM _junit ORDER BY ck, t0, first_seq, ukey")
    threader = Threader(params)
    ukeys: list[str] = []
    ep_idx: list[int] = []
    roles: list[str] = []
    n_rows = tbl.num_rows
    done = 0

    def rows() -> Iterator[dict[str, Any]]:
        for batch in tbl.to_batches(_BATCH):
            yield from batch.to_pylist()

    cands: dict[str, list[str]] = {}
    for ukey, cand in engine.execute(
        """SELECT k.ukey, list(DISTINCT a.candidate ORDER BY a.candidate) FROM _jamb a JOIN _jukey k USING (seq)
           GROUP BY k.ukey"""
    ):
        cands[ukey] = cand
    for ck, group in groupby(units_from_rows(rows()), key=lambda u: u.ck):
        units = list(group)
        if ck == "~":  # events of shared identifiers: adopted by the candidate whose need they fit
            units = [u for u in units if threader.adopt(u, cands.get(u.ukey, ())) is not None]
        else:
            threader.thread(units)
        for u in units:
            ukeys.append(u.ukey)
            ep_idx.append(u.ep)
            roles.append(u.role)
        done += len(units)
        if progress and done % 50_000 < len(units):
            progress("threading", 0.3 + 0.5 * done / max(n_rows, 1))
    eps = threader.episodes
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
    engine.execute("""CREATE OR REPLACE TEMP TABLE _jee AS
        SELECT k.seq, m.ep, m.role FROM _jukey k JOIN _junit_map m USING (ukey)""")
    engine.execute("""CREATE OR REPLACE TEMP TABLE _jepkey AS
        SELECT j.ep, 'ep_' || substr(md5(any_value(e.ck) || ':' || CAST(min(j.seq) AS VARCHAR)), 1, 16) AS episode_id,
               any_value(e.ck) AS customer_key, min(j.seq) AS first_seq
        FROM _jee j JOIN _jev e USING (seq) WHERE e.ck <> '~' GROUP BY j.ep""")
    engine.execute("""CREATE OR REPLACE TEMP TABLE _jep AS
        SELECT k.episode_id, k.customer_key, k.first_seq, a.kind, a.intent, a.intent_source, k.ep
        FROM _jepkey k JOIN _jep_attr a USING (ep)""")
    engine.unregister("_junit_map")
    engine.unregister("_jep_attr")
    return len(eps)
