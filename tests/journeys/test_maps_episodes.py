"""Journey maps with the episode case notion, on a small demo company after `analyze`: the maps follow
``episode_events``, the Sankey shows channel changes inside needs, and the XES export carries each
episode's intent and outcome."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest

import ordito
from ordito.demo import generate
from ordito.journeys import maps
from ordito.journeys.export import export_ocel, export_xes

NS = "{http://www.xes-standard.org/}"


@pytest.fixture(scope="module")
def analysed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    out = tmp_path_factory.mktemp("company")
    generate(out, customers=120, seed=5)
    ws = ordito.Workspace(tmp_path_factory.mktemp("ws") / "ws.duckdb")
    ws.ingest(out)
    ws.resolve()
    ws.analyze()
    yield ws
    ws.close()


def _episode_traces(ws: ordito.Workspace, level: str) -> dict[str, list[str]]:
    col = {"channel": "e.channel", "department": "e.department", "activity": "e.type"}[level]
    rows = ws.sql(
        f"SELECT ee.episode_id, {col}, e.occurred_at, e.seq FROM episode_events ee JOIN events e USING (seq) "
        f"WHERE {col} IS NOT NULL ORDER BY 1, 3, 4"
    )
    traces: dict[str, list[str]] = defaultdict(list)
    for ep, act, _, _ in rows:
        traces[str(ep)].append(act)
    return traces


def test_episode_maps_follow_episode_events(analysed: ordito.Workspace) -> None:
    for level in ("department", "channel"):
        traces = _episode_traces(analysed, level)
        follows: Counter[tuple[str, str]] = Counter()
        for acts in traces.values():
            follows.update(zip(acts, acts[1:], strict=False))
        m = maps.dfg(analysed.engine, "episode", level)
        assert m.follows() == dict(follows)
        assert m.cases == len(traces) > 50
        v = maps.variants(analysed.engine, "episode", level, top=None, verify=True)
        assert v.counts() == dict(Counter(tuple(t) for t in traces.values()))
    handoffs = maps.dfg(analysed.engine, "episode", "department").handoffs()
    assert handoffs and all(e["mean_seconds"] is not None for e in handoffs)


def test_sankey_inside_episodes(analysed: ordito.Workspace) -> None:
    s = maps.sankey(analysed.engine, "episode", max_steps=4)
    n_episodes = analysed.sql("SELECT count(DISTINCT episode_id) FROM episode_events")[0][0]
    assert sum(r["cases"] for r in s["transitions"] if r["step"] == 1) == n_episodes
    # a channel change inside an episode is a link between two different channels
    assert any(r["target"] not in (None, r["source"]) for r in s["transitions"])
    assert all(r["source"] != r["target"] for r in s["transitions"])  # steps change channel


def test_episode_exports(analysed: ordito.Workspace, tmp_path: Path) -> None:
    res = export_xes(analysed.engine, tmp_path / "ep.xes", "episode")
    root = ET.parse(tmp_path / "ep.xes").getroot()
    traces = root.findall(f"{NS}trace")
    assert len(traces) == res.cases
    intents = dict(analysed.sql("SELECT episode_id, intent FROM episodes"))
    for t in traces[:50]:
        attrs = {a.get("key"): a.get("value") for a in t.findall(f"{NS}string")}
        assert attrs["intent"] == intents[attrs["concept:name"]] and attrs["outcome"]
    res = export_ocel(analysed.engine, tmp_path / "ep.jsonocel", "customer")
    assert res.objects >= res.cases  # customers, plus threads, agents, episodes
