"""Episodes: thread the units of the customers in scope and write ``_jee`` (seq -> episode).

The engine reduces events to units (:mod:`.features`); Python threads units into episodes
(:mod:`.thread`); the engine maps the result back to events. Episode ids are stable: ``ep_`` + a hash of the
customer key and the episode's first event, so an incremental run that recomputes a customer gives the
same ids to the same episodes.
"""

from __future__ import annotations

import gc
import hashlib
import multiprocessing
import multiprocessing.pool
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from itertools import groupby

import pyarrow as pa
import pyarrow.compute as pc

from ..store.base import Engine
from ..store.sqlutil import lit
from . import features
from .features import TRIVIAL_ROLES
from .params import Params
from .thread import LIST_COLUMNS, UNIT_COLUMNS, Episode, Threader, units_from_columns


def thread_scope(
    engine: Engine, params: Params, progress: Callable[[str, float], None] | None = None, full: bool = False
) -> int:
    """Build ``_jee(seq, ep, role)`` (every event's episode),
    ``_jtriv`` (units that are an episode of their own) and ``_jep`` (one row per episode) for ``_jscope``.

    Units whose role makes them an episode of their own (a browsing session, a newsletter visit, a
    relationship survey) are numbered in the engine; the others are threaded in Python. Returns the number
    of threaded episodes (they are numbered first: ``ep`` below it).
    """
    n_scope = int(engine.scalar("SELECT count(*) FROM _jscope") or 0)
    # the threading worker starts (and imports) while the engine computes the features
    with _worker(n_scope * UNITS_PER_CUSTOMER >= PARALLEL_MIN_UNITS) as pool:
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
            """SELECT k.ukey, list(DISTINCT a.candidate ORDER BY a.candidate) FROM _jamb a
               JOIN (SELECT unnest(seqs) AS seq, ukey FROM _jwu WHERE ck = '~'
                     UNION ALL SELECT seq, ukey FROM _jevo WHERE ck = '~') k USING (seq)
               GROUP BY k.ukey"""
        ):
            cands[ukey] = cand
        if progress:
            progress("threading", 0.35)
        with _gc_paused():
            unit_map, ep_tbl = _thread_all(tbl, params, cands, pool)
    del tbl
    n_threaded = int(ep_tbl.num_rows)
    if progress:
        progress("threading", 0.7)
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
        SELECT ukey, ck, first_seq, role, {n_threaded - 1} + row_number() OVER () AS ep,
               {_EPISODE_ID_SQL.format(ck="ck")} AS episode_id
        FROM _junit WHERE role IN {trivial} AND ck <> '~'""")
    engine.execute(f"""CREATE OR REPLACE TEMP TABLE _jep AS
        SELECT {_EPISODE_ID_SQL.format(ck="customer_key")} AS episode_id, customer_key, first_seq, kind, intent,
               intent_source, ep FROM _jep_threaded
        UNION ALL
        SELECT episode_id, ck, first_seq, {kind}, {kind}, {how}, ep FROM _jtriv""")
    # every event's episode: web and app sessions carry their hits' seqs, the other units are joined by key
    engine.execute("""CREATE OR REPLACE TEMP TABLE _jee AS
        WITH m AS (SELECT ukey, ep, role FROM _junit_map UNION ALL SELECT ukey, ep, role FROM _jtriv)
        SELECT unnest(u.seqs) AS seq, m.ep, m.role FROM _jwu u JOIN m USING (ukey)
        UNION ALL
        SELECT k.seq, m.ep, m.role FROM _jevo k JOIN m USING (ukey)""")
    # the hits of threaded sessions, the only ones whose events the contacts and friction read
    engine.execute("""CREATE OR REPLACE TEMP TABLE _jwt AS
        SELECT unnest(u.seqs) AS seq, u.ukey, m.ep, m.role FROM _jwu u JOIN _junit_map m USING (ukey)""")
    engine.unregister("_junit_map")
    engine.unregister("_jep_threaded")
    return n_threaded


#: the SQL of :func:`episode_id` (md5 of the same text: the same id)
_EPISODE_ID_SQL = "'ep_' || substr(md5({ck} || ':' || CAST(first_seq AS VARCHAR)), 1, 16)"


def episode_id(customer_key: str, first_seq: int) -> str:
    """``ep_`` + the first 16 hex digits of md5("customer_key:first_seq"): stable across runs."""
    return "ep_" + hashlib.md5(f"{customer_key}:{first_seq}".encode()).hexdigest()[:16]


#: threading runs in two processes above this many units
PARALLEL_MIN_UNITS = 200_000
#: units per customer, roughly (the demo company has 5 to 6): when to start the worker before the units exist
UNITS_PER_CUSTOMER = 4


def _warm() -> None:
    """A first task for the worker: unpickling it imports this module (and pyarrow) in the worker."""


@contextmanager
def _worker(start: bool) -> Iterator[multiprocessing.pool.Pool | None]:
    """A spawned process for the second half of the threading, started now if ``start`` (spawned, not
    forked: the parent has engine threads, and a fork copies their locks); ended when the block ends."""
    if not start:
        yield None
        return
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        pool.apply_async(_warm)
        yield pool


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Threading makes millions of small objects and no reference cycles: the cyclic garbage collector
    would walk them again and again (measured: it tripled the time of building the units)."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


@dataclass
class _Part:
    """What threading one slice of customers gives back to the parent process (columns, not objects:
    cheap to send between processes)."""

    eps: pa.Array  # the episode (index in this slice) of every unit, in the slice's order
    roles: pa.Array  # the role of every unit
    episodes: pa.Table  # customer_key, first_seq, kind, intent, intent_source, by index
    candidates: dict[str, list[Episode]]  # episodes of customers that events of nobody may join


def _to_ipc(tbl: pa.Table) -> pa.Buffer:
    """A slice as Arrow IPC bytes: pickling a sliced table sends its parent's whole buffers."""
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, tbl.schema) as w:
        w.write_table(tbl)
    return sink.getvalue()


#: what a threading worker process keeps until it ends (see ``_thread_slice``)
_KEPT: list[object] = []


def _thread_slice(
    data: pa.Table | pa.Buffer, params: Params, candidates: set[str], keep: bool = False
) -> _Part:
    """Thread one slice of customers. ``keep``: in a worker process that ends after this call, keep the
    millions of units and episodes alive instead of freeing them one by one before the result is sent
    (freeing them took the worker about 2 s; the operating system takes the whole process back at once)."""
    with _gc_paused():
        tbl = data if isinstance(data, pa.Table) else pa.ipc.open_stream(data).read_all()
        units = units_from_columns({name: tbl.column(name).to_pylist() for name in UNIT_COLUMNS})
        del tbl
        threader = Threader(params)
        for _ck, group in groupby(units, key=lambda u: u.ck):
            threader.thread(list(group))
        eps = threader.episodes
        part = _Part(
            pa.array([u.ep for u in units], pa.int64()),
            pa.array([u.role for u in units], pa.string()),
            pa.table(
                {
                    "customer_key": pa.array([e.ck for e in eps], pa.string()),
                    "first_seq": pa.array([e.first_seq for e in eps], pa.int64()),
                    "kind": pa.array([e.kind for e in eps], pa.string()),
                    "intent": pa.array([e.intent for e in eps], pa.string()),
                    "intent_source": pa.array([e.intent_source for e in eps], pa.string()),
                }
            ),
            {ck: v for ck, v in threader.of_customer.items() if ck in candidates},
        )
        if keep:
            _KEPT.append((units, threader))
        return part


def _thread_all(
    tbl: pa.Table, params: Params, cands: dict[str, list[str]], pool: multiprocessing.pool.Pool | None = None
) -> tuple[pa.Table, pa.Table]:
    """Thread every customer's units (in two processes when there are many: the customers are cut
    in two at a customer boundary; the result is the same as one process's), then adopt the units of
    nobody. Returns ``(ukey, ep, role)`` of every placed unit and one row per episode (customer_key,
    first_seq, kind, intent, intent_source, ep)."""
    cks = tbl.column("ck")
    n = len(cks)
    n_nobody = 0
    if n and cks[n - 1].as_py() == "~":
        n_nobody = int(pc.sum(pc.equal(cks, "~")).as_py() or 0)
    n -= n_nobody
    candidates = {c for cs in cands.values() for c in cs}
    cut = n // 2
    while 0 < cut < n and cks[cut].as_py() == cks[cut - 1].as_py():
        cut += 1
    slices = [tbl.slice(0, cut), tbl.slice(cut, n - cut)] if n >= PARALLEL_MIN_UNITS else [tbl.slice(0, n)]
    if len(slices) > 1:
        # the second half in another process (``_worker``), while this one threads the first half
        with ExitStack() as stack:
            if pool is None:
                pool = stack.enter_context(_worker(True))
            assert pool is not None
            other = pool.apply_async(_thread_slice, (_to_ipc(slices[1]), params, candidates, True))
            parts = [_thread_slice(slices[0], params, candidates), other.get()]
    else:
        parts = [_thread_slice(slices[0], params, candidates)]
    threader = Threader(params)
    ukeys: list[pa.Array] = []
    eps: list[pa.Array] = []
    roles: list[pa.Array] = []
    offset = 0
    for sl, part in zip(slices, parts, strict=True):
        ukeys.extend(c.cast(pa.string()) for c in sl.column("ukey").chunks)
        eps.append(pc.add(part.eps, offset))
        roles.append(part.roles)
        for ck, ceps in part.candidates.items():
            for e in ceps:
                e.idx += offset
            threader.of_customer[ck] = ceps
        offset += part.episodes.num_rows
    # events of shared identifiers: adopted by the candidate whose need they fit
    nobody = units_from_columns({name: tbl.column(name).slice(n).to_pylist() for name in UNIT_COLUMNS})
    adopted = [u for u in nobody if threader.adopt(u, cands.get(u.ukey, ())) is not None]
    ukeys.append(pa.array([u.ukey for u in adopted], pa.string()))
    eps.append(pa.array([u.ep for u in adopted], pa.int64()))
    roles.append(pa.array([u.role for u in adopted], pa.string()))
    unit_map = pa.table(
        {
            "ukey": pa.chunked_array(ukeys, pa.string()),
            "ep": pa.chunked_array(eps, pa.int64()),
            "role": pa.chunked_array(roles, pa.string()),
        }
    )
    ep_tbl = pa.concat_tables([p.episodes for p in parts])
    ep_tbl = ep_tbl.append_column("ep", pa.array(range(ep_tbl.num_rows), pa.int64()))
    return unit_map, ep_tbl
