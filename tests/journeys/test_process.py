"""Process-log frictions (rework, ping-pong, long waits) against a plain-Python reference on the synthetic log."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator
from typing import Any

import pytest

import ordito
from ordito.errors import ConfigError
from ordito.journeys.log import event_log
from ordito.journeys.process import ProcessParams, process_frictions

from .test_maps_fixtures import build_synth


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    ws = build_synth(tmp_path_factory.mktemp("synth_process"))
    yield ws
    ws.close()


def _quantile(xs: list[float], q: float) -> float:
    """Linear interpolation between closest ranks (DuckDB's quantile_cont)."""
    xs = sorted(xs)
    pos = (len(xs) - 1) * q
    lo = math.floor(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def _reference(ws: ordito.Workspace, p: ProcessParams) -> set[tuple[Any, ...]]:
    rows = event_log(ws.engine).to_pylist()  # ordered by case, time, seq
    traces: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        traces[r["case_id"]].append(r)
    out: set[tuple[Any, ...]] = set()
    steps: list[tuple[str, str, str, float, int, int]] = []
    for case, tr in traces.items():
        seen: dict[str, list[int]] = defaultdict(list)
        for r in tr:
            seen[r["activity"]].append(r["seq"])
        out |= {(case, "rework", tuple(s)) for s in seen.values() if len(s) >= 2}
        who = "department" if p.resource == "department" else "resource"
        stays: list[tuple[str, int]] = []
        for r in tr:
            if r[who] is not None and (not stays or stays[-1][0] != r[who]):
                stays.append((r[who], r["seq"]))
        for s0, s1, s2 in zip(stays, stays[1:], stays[2:], strict=False):
            if s0[0] == s2[0]:
                out.add((case, "ping_pong", (s0[1], s1[1], s2[1])))
        for x, y in zip(tr, tr[1:], strict=False):
            # whole seconds crossed, as date_diff('second', ...) counts them
            wait = float(int(y["timestamp"].timestamp()) - int(x["timestamp"].timestamp()))
            steps.append((case, x["activity"], y["activity"], wait, x["seq"], y["seq"]))
    waits: dict[tuple[str, str], list[float]] = defaultdict(list)
    for _, a, b, w, _, _ in steps:
        waits[(a, b)].append(w)
    q = {k: _quantile(v, p.wait_quantile) for k, v in waits.items()}
    for case, a, b, w, s1, s2 in steps:
        if w > q[(a, b)] and w >= p.min_wait_hours * 3600:
            out.add((case, "long_wait", (s1, s2)))
    return out


@pytest.mark.parametrize(
    "params",
    [ProcessParams(), ProcessParams(resource="agent", wait_quantile=0.5, min_wait_hours=0.0)],
)
def test_process_frictions_match_reference(synth: ordito.Workspace, params: ProcessParams) -> None:
    got = process_frictions(synth.engine, params=params).to_pylist()
    found = {(r["case_id"], r["kind"], tuple(r["evidence"])) for r in got}
    assert len(found) == len(got)  # no duplicates
    ref = _reference(synth, params)
    assert {k for _, k, _ in ref} == {"rework", "ping_pong", "long_wait"}
    assert found == ref


def test_process_friction_details_and_bad_parameters(synth: ordito.Workspace) -> None:
    rows = process_frictions(synth.engine).to_pylist()
    rework = next(r for r in rows if r["kind"] == "rework")
    assert f"done {len(rework['evidence'])} times" in rework["detail"]
    pp = next(r for r in rows if r["kind"] == "ping_pong")
    a, b, c = pp["detail"].split(" -> ")
    assert a == c != b
    with pytest.raises(ConfigError):
        process_frictions(synth.engine, params=ProcessParams(resource="queue"))
    with pytest.raises(ConfigError):
        process_frictions(synth.engine, case="ticket")  # not a case notion
