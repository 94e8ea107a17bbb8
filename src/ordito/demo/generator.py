"""Generate the demo company (docs/DEMO_COMPANY.md): each silo's export plus ``ground_truth/``.

Households are generated in chunks, each household from its own random stream (seeded from the seed and
the household's number). Chunks alternate between :data:`~ordito.demo.lanes.LANES` lanes, which run
in parallel processes when there are CPUs for them; this process appends the chunks to the files in
order. Memory does not grow with N, and the same (customers, seed) always gives the same bytes.
"""

from __future__ import annotations

import gc
import multiprocessing as mp
import os
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .clock import PERIOD
from .kb import write_knowledge_base
from .lanes import GC_THRESHOLDS, LANES, ChunkOut, LaneEnd, lane_worker, run_lane
from .silos import SILOS
from .truth import TruthFiles, write_manifest
from .world import count_households
from .writers import open_files

GENERATOR_VERSION = "2"
CHUNK_HOUSEHOLDS = 700


@dataclass
class GenerateResult:
    out_dir: Path
    customers: int
    seed: int
    rows: dict[str, int] = field(default_factory=dict)


def generate(
    out_dir: str | Path,
    customers: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    fuzzy: bool = False,
) -> GenerateResult:
    """Write the demo company into ``out_dir``.

    Args:
        out_dir: folder to write into (created; the silo folders and ground_truth/ of a previous company
            there are replaced).
        customers: number of customers N (about 0.3 N prospects come on top).
        seed: the seed; the same (customers, seed) gives byte-identical files.
        progress: called as ``progress(households_done, households_total)`` after each chunk.
        fuzzy: also write the fuzzy silos (warranty registrations, repair jobs: names, birth dates and
            addresses only; ``demo/fuzzy.py``); the other files stay byte-identical.
    """
    res = _generate(Path(out_dir), customers, seed, progress)
    write_knowledge_base(res.out_dir)  # knowledge_base/: help articles (it, en) + need -> article labels
    if fuzzy:
        from .fuzzy import add_fuzzy_silos

        res.rows.update(add_fuzzy_silos(res.out_dir, seed))
    return res


def _generate(
    root: Path,
    customers: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
    size: int = CHUNK_HOUSEHOLDS,
    parallel: bool | None = None,
) -> GenerateResult:
    if customers < 1:
        raise ValueError("customers must be at least 1")
    root.mkdir(parents=True, exist_ok=True)
    for top in sorted(
        {s.path.split("/")[0] for s in SILOS} | {"ground_truth", "warranty", "repairs"}
    ):  # fuzzy silos: demo/fuzzy.py
        if (root / top).is_dir():
            shutil.rmtree(root / top)
    total = count_households(seed, customers)
    n_chunks = -(-total // size)
    if parallel is None:
        parallel = (os.cpu_count() or 1) >= 2 and n_chunks >= 4
    files = open_files(root)
    truth = TruthFiles(root)
    persons = prospects = done = 0
    with _lanes(seed, customers, size, total, parallel) as sources:
        for c in range(n_chunks):
            out = next(sources[c % LANES])
            assert isinstance(out, ChunkOut) and out.chunk_no == c, f"lane out of step at chunk {c}"
            quarantine = []
            for s in SILOS:
                quarantine += files[s.source].append(out.silos[s.source])
            truth.append(out.truth, quarantine)
            persons += out.persons
            prospects += out.prospects
            done += out.households
            if progress is not None:
                progress(done, total)
        ends = [next(src) for src in sources]
    truth.rows("identifiers", _shared_identifiers([e for e in ends if isinstance(e, LaneEnd)]))
    rows = {s.source: files[s.source].count for s in SILOS}
    for f in files.values():
        f.close()
    truth.close()
    known = {root / s.path: d for s in SILOS if (d := files[s.source].digest()) is not None}
    known.update({truth.dir / name: d for name, d in truth.digests().items()})
    write_manifest(
        root,
        [root / s.path for s in SILOS] + sorted(p for p in (root / "ground_truth").iterdir() if p.is_file()),
        {
            "generator": "ordito.demo",
            "generator_version": GENERATOR_VERSION,
            "seed": seed,
            "customers": customers,
            "prospects": prospects,
            "persons": persons,
            "households": total,
            "period": {"start": PERIOD[0], "end": PERIOD[1]},
            "rows": rows,
            "ground_truth_rows": dict(truth.counts),
        },
        known,
    )
    return GenerateResult(out_dir=root, customers=customers, seed=seed, rows=rows)


class _lanes:
    """The lanes' outputs as iterators: in-process generators, or worker processes behind queues."""

    def __init__(self, seed: int, customers: int, size: int, total: int, parallel: bool) -> None:
        self.args = [(seed, customers, lane, LANES, size, total) for lane in range(LANES)]
        self.parallel = parallel
        self.procs: list[Any] = []
        self.thresholds: tuple[int, int, int] = gc.get_threshold()

    def __enter__(self) -> list[Iterator[ChunkOut | LaneEnd]]:
        if not self.parallel:
            self.thresholds = gc.get_threshold()
            gc.set_threshold(*GC_THRESHOLDS)
            return [run_lane(*a) for a in self.args]
        ctx = mp.get_context("spawn")
        queues = []
        for a in self.args:
            q = ctx.Queue(maxsize=2)
            p = ctx.Process(target=lane_worker, args=(a, q), daemon=True)
            p.start()
            self.procs.append(p)
            queues.append(q)
        return [_drain(q) for q in queues]

    def __exit__(self, *exc: object) -> None:
        if not self.parallel:
            gc.set_threshold(*self.thresholds)
        for p in self.procs:
            if p.is_alive():
                p.terminate()
            p.join()


def _drain(q: Any) -> Iterator[ChunkOut | LaneEnd]:
    while True:
        item = q.get()
        if isinstance(item, tuple) and item and item[0] == "error":
            raise RuntimeError(f"a generator lane failed:\n{item[1]}")
        yield item
        if isinstance(item, LaneEnd):
            return


def _shared_identifiers(ends: list[LaneEnd]) -> list[tuple[str, str, str, str, str, str]]:
    """Values shared on purpose (switchboards, generic mailboxes, placeholders), owners of all lanes."""
    raw: dict[tuple[str, str, str], str] = {}
    owners: dict[tuple[str, str, str], set[str]] = {}
    reason: dict[tuple[str, str, str], str] = {}
    for e in ends:
        for k, v in e.shared_raw.items():
            raw.setdefault(k, v)
        for k, s in e.shared_owners.items():
            owners.setdefault(k, set()).update(s)
        reason.update(e.shared_reason)
    out = []
    for (kind, ns, r), norm in sorted(raw.items()):
        key = (kind, ns, norm)
        out.append((kind, ns, r, norm, ";".join(sorted(owners[key])), reason[key]))
    return out
