"""The vectorised union of fuzzy components without a conflict gives exactly what the careful Python path
(``fuzzy/union.py: merge``) gives: the same clusters and the same merge history, change by change."""

from __future__ import annotations

import random
import shutil
from pathlib import Path

import numpy as np
import pyarrow as pa
import pytest

from ordito.demo import generate
from ordito.identity.fuzzy import union as fu
from ordito.identity.resolve import Resolver, ResolveResult
from ordito.workspace import Workspace

#: the decisions a union records, in order: (a, b, score, review, ka, kb, refusal)
Rows = list[tuple[object, ...]]
Decisions = tuple[pa.Table, np.ndarray, pa.Array]


def _rows(decided: list[Decisions]) -> Rows:
    out: Rows = []
    for te, k, refusal in decided:
        t = te.select(["a", "b", "score", "review", "ka", "kb"]).take(pa.array(k, pa.int64()))
        out.extend(tuple(r.values()) for r in t.append_column("refusal", refusal).to_pylist())
    return out


class BothPaths(Resolver):
    """Runs the union both ways on the same components, checks they agree, keeps the fast one."""

    runs: list[dict[str, int]] = []
    capture: list[Decisions] | None = None

    def _record_decisions(self, te: pa.Table, k: np.ndarray, refusal: pa.Array) -> None:
        if self.capture is not None:
            self.capture.append((te, k, refusal))
        else:
            super()._record_decisions(te, k, refusal)

    def _fuzzy_union(self, res: ResolveResult) -> None:
        e = self.eng
        e.execute("CREATE OR REPLACE TEMP TABLE _comp_save AS SELECT * FROM _comp")
        got: list[tuple[list[tuple[int, ...]], Rows, tuple[int, int, int]]] = []
        decided: list[list[Decisions]] = []
        for fast in (False, True):
            e.execute("CREATE OR REPLACE TEMP TABLE _comp AS SELECT * FROM _comp_save")
            decided.append([])
            self.capture = decided[-1]
            self.fast_union = fast
            r = ResolveResult()
            super()._fuzzy_union(r)
            self.capture = None
            part = sorted(
                tuple(p[0]) for p in e.execute("SELECT list(id ORDER BY id) FROM _comp GROUP BY comp")
            )
            got.append((part, _rows(decided[-1]), (r.fuzzy_edges, r.fuzzy_merges, r.fuzzy_refused)))
            if fast:
                res.fuzzy_edges, res.fuzzy_merges, res.fuzzy_refused = got[-1][2]
                res.fuzzy_fast_edges = r.fuzzy_fast_edges
        e.execute("DROP TABLE _comp_save")
        (slow_part, slow_rows, slow_n), (fast_part, fast_rows, fast_n) = got
        assert fast_part == slow_part
        assert fast_n == slow_n
        assert fast_rows == slow_rows
        self.runs.append({"edges": res.fuzzy_edges, "fast": res.fuzzy_fast_edges, "changes": len(fast_rows)})
        for args in decided[-1]:
            self._record_decisions(*args)


def test_both_paths_agree_on_the_demo_company(tmp_path: Path) -> None:
    company = tmp_path / "company"
    generate(company, customers=400, seed=3, fuzzy=True)
    base = tmp_path / "base"
    shutil.copytree(company, base, ignore=shutil.ignore_patterns("warranty", "repairs"))
    BothPaths.runs = []
    ws = Workspace(tmp_path / "ws.duckdb")
    try:
        ws.ingest(base)
        BothPaths(ws.engine).run()
        ws.ingest(company)  # the fuzzy silos, incrementally
        BothPaths(ws.engine).run()
        BothPaths(ws.engine).run(full=True)  # and everything again (old unions are sticky)
    finally:
        ws.close()
    runs = [r for r in BothPaths.runs if r["edges"]]
    assert len(runs) >= 2, BothPaths.runs
    # both paths were exercised: components united vectorised and components with a conflict
    assert all(0 < r["fast"] < r["edges"] for r in runs), runs
    # and both recorded their decisions (the comparison of the merge histories is not of two empty lists)
    assert all(r["changes"] > 0 for r in runs), runs


def _kruskal(n: int, ia: np.ndarray, ib: np.ndarray, rank: np.ndarray) -> list[int]:
    parent = list(range(n))

    def find(x: int) -> int:
        while parent[x] != x:
            x = parent[x]
        return x

    kept = []
    for k in np.argsort(rank).tolist():
        ra, rb = find(int(ia[k])), find(int(ib[k]))
        if ra != rb:
            parent[rb] = ra
            kept.append(k)
    return sorted(kept)


@pytest.mark.parametrize("seed", range(5))
def test_forest_is_kruskal_in_merge_order(seed: int) -> None:
    rng = random.Random(seed)
    for _ in range(40):
        n, m = rng.randint(2, 30), rng.randint(1, 90)
        ia = np.array([rng.randrange(n) for _ in range(m)], dtype=np.int64)
        ib = np.array([rng.randrange(n) for _ in range(m)], dtype=np.int64)
        ok = ia != ib
        ia, ib = ia[ok], ib[ok]
        if not len(ia):
            continue
        score = np.array([rng.choice([0.9, 0.95, 0.99]) for _ in ia])
        sticky = np.array([rng.random() < 0.2 for _ in ia])
        review = np.array([rng.random() < 0.1 for _ in ia])
        rank = fu.edge_order(sticky, review, score, ia, ib)
        assert sorted(rank.tolist()) == list(range(len(ia)))
        assert fu.forest(n, ia, ib, rank).tolist() == _kruskal(n, ia, ib, rank)


def test_clean_checks() -> None:
    assert fu.dobs_clean(["19710302", "19710320", "19710203"]) is False  # two swaps apart: 0320 vs 0203
    assert fu.dobs_clean(["19710302", "19710203"]) is True  # day and month swapped
    assert fu.dobs_clean(["19710302", "19710312"]) is True  # one digit off
    assert fu.names_clean(["giuseppe russo", "g russo", "giuseppe russo"]) is True
    assert fu.names_clean(["giuseppe russo", "paolo russo"]) is False
