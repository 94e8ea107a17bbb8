"""Journey maps (DFG, variants, Sankey) on a small synthetic log, checked against a plain-Python
reference, against pm4py (when installed) and on a real PostgreSQL server."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

import ordito
from ordito.errors import ConfigError
from ordito.journeys import maps
from ordito.journeys.log import LOG_COLUMNS, event_log, log_sql
from ordito.store.dialect import check_portable

from .test_maps_fixtures import build_synth


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    ws = build_synth(tmp_path_factory.mktemp("synth"))
    yield ws
    ws.close()


def _reference_traces(
    ws: ordito.Workspace, case: str, level: str, activity: str = "type"
) -> dict[str, list[Any]]:
    """Traces computed in Python from the raw rows: the reference for every map."""
    rows = ws.sql(
        "SELECT e.seq, e.source, e.thread_id, ec.customer_key, e.type, e.channel, e.department, e.occurred_at, "
        "json_extract_string(e.properties, '$.step') FROM events e LEFT JOIN event_customer ec USING (seq)"
    )
    traces: dict[str, list[tuple[datetime, int, str]]] = defaultdict(list)
    for seq, source, thread, cust, typ, channel, dept, ts, step in rows:
        key = {"thread": f"{source}:{thread}" if thread else None, "customer": cust}[case]
        act = {
            "activity": typ if activity == "type" else (step or typ),
            "channel": channel,
            "department": dept,
        }[level]
        if key is None or act is None:
            continue
        traces[key].append((ts, seq, act))
    return {k: [a for _, _, a in sorted(v)] for k, v in traces.items()} | {
        "__times__": {k: [t for t, _, _ in sorted(v)] for k, v in traces.items()}  # type: ignore[dict-item]
    }


def _reference_dfg(
    traces: dict[str, list[Any]],
) -> tuple[Counter[tuple[str, str]], Counter[str], Counter[str]]:
    follows: Counter[tuple[str, str]] = Counter()
    starts: Counter[str] = Counter()
    ends: Counter[str] = Counter()
    for key, acts in traces.items():
        if key == "__times__":
            continue
        starts[acts[0]] += 1
        ends[acts[-1]] += 1
        for a, b in zip(acts, acts[1:], strict=False):
            follows[(a, b)] += 1
    return follows, starts, ends


CASES = [("thread", "activity"), ("customer", "activity"), ("thread", "channel"), ("customer", "department")]


@pytest.mark.parametrize(("case", "level"), CASES)
def test_dfg_matches_reference(synth: ordito.Workspace, case: str, level: str) -> None:
    traces = _reference_traces(synth, case, level)
    times = traces.pop("__times__")
    follows, starts, ends = _reference_dfg(traces)
    m = maps.dfg(synth.engine, case, level)
    assert m.follows() == dict(follows)
    assert m.start_activities() == dict(starts)
    assert m.end_activities() == dict(ends)
    assert m.cases == len(traces)
    assert m.events == sum(len(t) for t in traces.values())
    # cases per edge and time on every edge (whole second boundaries crossed, as date_diff counts)
    cases: dict[tuple[str, str], set[str]] = defaultdict(set)
    secs: dict[tuple[str, str], list[int]] = defaultdict(list)
    for key, acts in traces.items():
        ts = times[key]  # type: ignore[index]
        for i in range(1, len(acts)):
            cases[(acts[i - 1], acts[i])].add(key)
            secs[(acts[i - 1], acts[i])].append(
                int(ts[i].replace(microsecond=0).timestamp() - ts[i - 1].replace(microsecond=0).timestamp())
            )
    for e in m.edges:
        if e["source"] is None or e["target"] is None:
            assert e["total_seconds"] is None
            continue
        k = (e["source"], e["target"])
        assert e["cases"] == len(cases[k]), k
        assert e["total_seconds"] == sum(secs[k]), k
        assert e["min_seconds"] == min(secs[k]) and e["max_seconds"] == max(secs[k])
        assert e["mean_seconds"] == pytest.approx(sum(secs[k]) / len(secs[k]))
    nodes = {n["activity"]: n for n in m.nodes}
    assert sum(n["events"] for n in nodes.values()) == m.events


def test_partitioned_and_global_forms_agree(synth: ordito.Workspace) -> None:
    a = synth.engine.records(maps.dfg_sql("customer", partitioned=True))
    b = synth.engine.records(maps.dfg_sql("customer", partitioned=False))
    assert a == b and a


@pytest.mark.parametrize(("case", "level"), CASES)
def test_variants_match_reference(synth: ordito.Workspace, case: str, level: str) -> None:
    traces = _reference_traces(synth, case, level)
    traces.pop("__times__")
    expected = Counter(tuple(t) for t in traces.values())
    v = maps.variants(synth.engine, case, level, top=None, verify=True)
    assert v.counts() == dict(expected)
    assert v.variants == len(expected) and v.cases == len(traces)
    assert [x.cases for x in v.items] == sorted((x.cases for x in v.items), reverse=True)
    assert sum(x.share for x in v.items) == pytest.approx(1.0)
    top = maps.variants(synth.engine, case, level, top=3)
    assert [x.activities for x in top.items] == [x.activities for x in v.items[:3]]
    assert top.variants == v.variants


def test_property_as_activity(synth: ordito.Workspace) -> None:
    traces = _reference_traces(synth, "thread", "activity", activity="property:step")
    traces.pop("__times__")
    follows, _, _ = _reference_dfg(traces)
    m = maps.dfg(synth.engine, "thread", "activity", activity="property:step")
    assert m.follows() == dict(follows)
    assert {n["activity"] for n in m.nodes} == {"s0", "s1", "s2"}


def test_sankey_counts_channel_steps(synth: ordito.Workspace) -> None:
    traces = _reference_traces(synth, "thread", "channel")
    traces.pop("__times__")
    expected: Counter[tuple[int, str, str | None]] = Counter()
    for acts in traces.values():
        steps = [a for i, a in enumerate(acts) if i == 0 or acts[i - 1] != a]
        for k in range(min(len(steps), 3)):
            expected[(k + 1, steps[k], steps[k + 1] if k + 1 < len(steps) else None)] += 1
    s = maps.sankey(synth.engine, "thread", max_steps=3)
    got = Counter({(r["step"], r["source"], r["target"]): r["cases"] for r in s["transitions"]})
    assert got == expected
    # links point at nodes of consecutive steps; first-step outflow is every case
    for link in s["links"]:
        assert s["nodes"][link["target"]]["step"] == s["nodes"][link["source"]]["step"] + 1
    assert sum(x["cases"] for x in s["links"] if s["nodes"][x["source"]]["step"] == 1) == len(traces)


def test_event_log_columns_and_order(synth: ordito.Workspace) -> None:
    t = event_log(synth.engine, "thread")
    assert tuple(t.column_names) == LOG_COLUMNS
    rows = t.to_pylist()
    keys = [(r["case_id"], r["timestamp"], r["seq"]) for r in rows]
    assert keys == sorted(keys)
    assert {r["case_id"].split(":")[0] for r in rows} == {"tickets", "calls"}


def test_bad_spec_and_missing_tables_are_clear_errors(synth: ordito.Workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="case notion 'ticket'"):
        maps.dfg(synth.engine, "ticket")
    with pytest.raises(ConfigError, match="property:NAME"):
        maps.dfg(synth.engine, activity="step")
    fresh = ordito.Workspace(tmp_path / "empty.duckdb")
    try:
        fresh.engine.execute("DROP TABLE IF EXISTS episode_events")
        with pytest.raises(ConfigError, match="ordito analyze"):
            maps.dfg(fresh.engine, "episode")
        assert maps.variants(fresh.engine, "thread").items == []
        assert maps.dfg(fresh.engine, "thread").edges == []
    finally:
        fresh.close()


def test_dot_output(synth: ordito.Workspace) -> None:
    m = maps.dfg(synth.engine, "thread", "department")
    dot = m.to_dot()
    assert dot.startswith("digraph journey {") and dot.rstrip().endswith("}")
    assert dot.count("->") == len(m.edges)


def test_builders_are_portable() -> None:
    for sql in (
        log_sql("thread"),
        log_sql("customer", "activity", "property:step"),
        log_sql("episode", "department"),
        maps.dfg_sql(),
        maps.dfg_sql("customer", "channel", cases=False, partitioned=False),
        maps.nodes_sql(),
        maps.variants_sql(),
        maps.variants_check_sql(),
        maps.longest_case_sql(),
        maps.sankey_sql(),
    ):
        assert check_portable(sql) == [], sql


def test_same_as_pm4py(synth: ordito.Workspace) -> None:
    pm4py = pytest.importorskip("pm4py")
    # the log ordered by case, time, seq, as pm4py.format_dataframe leaves it (pm4py's start and end
    # activities read the first and last row of each case as they come)
    df = event_log(synth.engine, "customer").to_pandas()
    df = df.rename(
        columns={"case_id": "case:concept:name", "activity": "concept:name", "timestamp": "time:timestamp"}
    )
    follows, starts, ends = pm4py.discover_dfg(df)
    m = maps.dfg(synth.engine, "customer")
    assert m.follows() == follows
    assert m.start_activities() == starts
    assert m.end_activities() == ends
    perf, _, _ = pm4py.discover_performance_dfg(df)
    for e in m.handoffs() + m.rework():
        # pm4py keeps fractions of a second; ordito counts second boundaries: within a second
        assert abs(perf[(e["source"], e["target"])]["mean"] - e["mean_seconds"]) <= 1.0
    variants = pm4py.get_variants(df)
    v = maps.variants(synth.engine, "customer", top=None)
    assert v.counts() == {k: (n if isinstance(n, int) else len(n)) for k, n in variants.items()}


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A PostgreSQL 15 server for this module (tests/engines/pgserver.py; skipped without the package)."""
    from tests.engines import pgserver

    why = pgserver.available()
    if why:
        pytest.skip(why)
    server = pgserver.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.postgres
def test_same_results_on_postgres(synth: ordito.Workspace, pg_url: str) -> None:
    from ordito.store.postgres import PostgresEngine

    synth.publish(pg_url, tables=["events", "event_customer"])
    pg = PostgresEngine(pg_url)
    try:
        for case, level in (("thread", "activity"), ("customer", "department")):
            assert maps.dfg(pg, case, level).edges == maps.dfg(synth.engine, case, level).edges
            vp = maps.variants(pg, case, level, top=None, verify=True)
            vd = maps.variants(synth.engine, case, level, top=None)
            assert vp.counts() == vd.counts() and vp.variants == vd.variants
            assert [v.to_dict() for v in vp.items] == [v.to_dict() for v in vd.items]
        assert maps.sankey(pg, "thread")["transitions"] == maps.sankey(synth.engine, "thread")["transitions"]
    finally:
        pg.close()


def _same_from_prepared(ws: ordito.Workspace, case: str, level: str, prefix: str) -> None:
    cold = maps.dfg(ws.engine, case, level, use_prepared=False)
    warm = maps.dfg(ws.engine, case, level)
    assert warm.prepared == prefix and cold.prepared is None
    assert warm.edges == cold.edges and warm.nodes == cold.nodes
    cold_v = maps.variants(ws.engine, case, level, top=None, use_prepared=False)
    warm_v = maps.variants(ws.engine, case, level, top=None)
    assert [v.to_dict() for v in warm_v.items] == [v.to_dict() for v in cold_v.items]
    assert (warm_v.variants, warm_v.cases) == (cold_v.variants, cold_v.cases)


LATE_MAPPING = """
source: late
format: csv
files: "late.csv"
key: [rec]
timestamp: {column: ts}
event:
  channel: channel
  type: activity
  department: dept
  thread_id: ticket
identifiers:
  - {kind: customer_id, namespace: shop, column: cust}
  - {kind: email, column: mail}
properties: rest
"""


def test_prepared_log_gives_the_same_maps_and_is_refreshed(tmp_path: Path) -> None:
    ws = build_synth(tmp_path)
    try:
        specs = (("thread", "activity"), ("customer", "department"), ("customer", "activity"))
        for case, level in specs:
            info = maps.prepare(ws.engine, case, level)
            assert info.mode == "built"
            cold = maps.dfg(ws.engine, case, level, use_prepared=False)
            assert info.events == cold.events and info.cases == cold.cases
            _same_from_prepared(ws, case, level, info.prefix)
        assert maps.prepare(ws.engine, "thread").mode == "current"
        # later events, in two batches: a new ticket and one more event of an old ticket with a new
        # activity, and a customer known only by e-mail; then that e-mail on a record of customer C1,
        # so that `resolve` merges the two customers (a case of the customer notion disappears)
        batches = [
            "l1,T1,C1,,2026-01-01T00:00:00,escalate,web,care\nl2,N9,,anna.rossi@libero.it,2026-01-02T00:00:00,open,voice,tech\n",
            "l3,N9,C1,anna.rossi@libero.it,2026-01-03T00:00:00,close,voice,tech\n",
        ]
        (tmp_path / "late.yaml").write_text(LATE_MAPPING)
        for i, rows in enumerate(batches):
            (tmp_path / "late.csv").write_text("rec,ticket,cust,mail,ts,activity,channel,dept\n" + rows)
            ws.ingest(tmp_path / "late.csv", mapping=tmp_path / "late.yaml")
            assert maps.dfg(ws.engine, "thread").prepared is None  # stale: computed from the events
            res = ws.resolve()
            assert i == 0 or res.merges >= 1, res
            for case, level in specs:
                assert maps.dfg(ws.engine, case, level).prepared is None
                info = maps.prepare(ws.engine, case, level)
                assert info.mode == "refreshed" and 0 < info.changed_cases < 10, info
                _same_from_prepared(ws, case, level, info.prefix)
        # a full rebuild gives the same maps again
        info = maps.prepare(ws.engine, "customer", "activity", full=True)
        assert info.mode == "built"
        _same_from_prepared(ws, "customer", "activity", info.prefix)
    finally:
        ws.close()
