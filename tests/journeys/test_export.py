"""XES and OCEL 2.0 exports: well-formed, complete, and read back by pm4py with the same journeys."""

from __future__ import annotations

import gzip
import json
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import ordito
from ordito.errors import ConfigError
from ordito.journeys import maps
from ordito.journeys.export import export, export_ocel, export_xes

from .test_maps_fixtures import build_synth

NS = "{http://www.xes-standard.org/}"
# pm4py suggests optional faster readers (r4pm) with a UserWarning; the plain reader is what we test
pytestmark = pytest.mark.filterwarnings("ignore::UserWarning:pm4py.*")


@pytest.fixture(scope="module")
def synth(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    ws = build_synth(tmp_path_factory.mktemp("synth"))
    yield ws
    ws.close()


def _traces_from_xes(root: ET.Element) -> dict[str, list[str]]:
    out = {}
    for trace in root.iter(f"{NS}trace"):
        name = next(a.get("value") for a in trace.findall(f"{NS}string") if a.get("key") == "concept:name")
        acts = []
        for ev in trace.findall(f"{NS}event"):
            acts.append(
                next(a.get("value") for a in ev.findall(f"{NS}string") if a.get("key") == "concept:name")
            )
        out[str(name)] = [str(a) for a in acts]
    return out


@pytest.mark.parametrize("name", ["log.xes", "log.xes.gz"])
def test_xes_is_well_formed_and_complete(synth: ordito.Workspace, tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    res = export_xes(synth.engine, path, "customer")
    raw = gzip.decompress(path.read_bytes()) if name.endswith(".gz") else path.read_bytes()
    root = ET.fromstring(raw)
    traces = _traces_from_xes(root)
    m = maps.dfg(synth.engine, "customer")
    assert len(traces) == res.cases == m.cases
    assert sum(len(t) for t in traces.values()) == res.events == m.events
    follows: Counter[tuple[str, str]] = Counter()
    for acts in traces.values():
        follows.update(zip(acts, acts[1:], strict=False))
    assert dict(follows) == m.follows()
    assert any('pay <&> "now" è' in a for t in traces.values() for a in t)  # escaped and back


def test_xes_read_back_by_pm4py(synth: ordito.Workspace, tmp_path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    path = tmp_path / "thread.xes"
    export(synth.engine, path, "xes", "thread", "activity")
    df = pm4py.read_xes(str(path))
    m = maps.dfg(synth.engine, "thread")
    assert df["case:concept:name"].nunique() == m.cases
    assert len(df) == m.events
    follows, starts, ends = pm4py.discover_dfg(df)
    assert follows == m.follows()
    assert starts == m.start_activities() and ends == m.end_activities()
    v = maps.variants(synth.engine, "thread", top=None)
    got = {k: (n if isinstance(n, int) else len(n)) for k, n in pm4py.get_variants(df).items()}
    assert got == v.counts()
    assert {"org:resource", "org:group", "channel", "seq", "source"} <= set(df.columns)
    assert set(df["channel"]) == {"web", "voice", "email", "chat"}
    assert str(df["time:timestamp"].dt.tz) == "UTC"


def test_ocel_is_complete(synth: ordito.Workspace, tmp_path: Path) -> None:
    path = tmp_path / "log.jsonocel"
    res = export_ocel(synth.engine, path, "thread")
    doc = json.loads(path.read_text())
    events = doc["events"]
    n_thread_events = synth.sql("SELECT count(*) FROM events WHERE thread_id IS NOT NULL")[0][0]
    assert len(events) == res.events == n_thread_events
    assert len({e["id"] for e in events}) == len(events)
    ids = {o["id"] for o in doc["objects"]}
    assert len(ids) == len(doc["objects"]) == res.objects
    assert all(r["objectId"] in ids for e in events for r in e["relationships"])
    kinds = Counter(r["qualifier"] for e in events for r in e["relationships"])
    n_agent = synth.sql("SELECT count(*) FROM events WHERE thread_id IS NOT NULL AND agent_id IS NOT NULL")[
        0
    ][0]
    n_cust = synth.sql(
        "SELECT count(*) FROM events e JOIN event_customer ec USING (seq) "
        "WHERE e.thread_id IS NOT NULL AND ec.customer_key IS NOT NULL"
    )[0][0]
    assert kinds["thread"] == len(events)
    assert kinds["handled by"] == n_agent
    assert kinds["customer"] == n_cust
    assert {t["name"] for t in doc["eventTypes"]} == {e["type"] for e in events}


def test_ocel_read_back_by_pm4py(synth: ordito.Workspace, tmp_path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    path = tmp_path / "log.jsonocel"
    res = export_ocel(synth.engine, path, "customer")
    ocel = pm4py.read_ocel2_json(str(path))
    assert len(ocel.events) == res.events
    assert len(ocel.objects) == res.objects
    assert set(ocel.objects["ocel:type"]) == {"customer", "thread", "agent"}
    # flattened on customers, the object-centric log gives back the customer journeys
    flat = pm4py.ocel_flattening(ocel, "customer")
    follows, _, _ = pm4py.discover_dfg(flat)
    assert follows == maps.dfg(synth.engine, "customer").follows()


def test_unknown_format_and_empty_log(synth: ordito.Workspace, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="xes, ocel"):
        export(synth.engine, tmp_path / "x", "csv")
    with pytest.raises(ConfigError, match="empty"):
        export_ocel(synth.engine, tmp_path / "x.jsonocel", "thread", sources=["nope"])
