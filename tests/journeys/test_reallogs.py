"""The real public process logs (../shared/data, or ORDITO_REAL_DATA) through the user mappings of
examples/mappings/, as a user would ingest them, and their journey maps checked against pm4py reading the
published files on its own (XES where there is one). Skipped with the reason when the data are absent.

Published sizes (PROVENANCE.md): Helpdesk 4,580 cases / 21,348 events; BPI Challenge 2012 13,087 /
262,200; WABO receipt 1,434 / 8,577; UWV complaints (BPIC 2016) 289 complaints of 226 customers.
"""

from __future__ import annotations

import gzip
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ordito
from ordito.journeys import maps
from ordito.journeys.export import export_ocel, export_xes
from tests.conftest import REAL_DATA

LOGS = REAL_DATA / "process-logs"
COMPLAINTS = REAL_DATA / "bpic2016-complaints" / "BPI2016_Complaints.csv"
MAPPINGS = Path(__file__).resolve().parents[2] / "examples" / "mappings"

pytestmark = [
    pytest.mark.realdata,
    pytest.mark.skipif(not LOGS.is_dir(), reason=f"real process logs not found at {LOGS}"),
    pytest.mark.filterwarnings("ignore::UserWarning:pm4py.*"),
]


def _workspace(folder: Path, data: Path, mapping: str) -> ordito.Workspace:
    ws = ordito.Workspace(folder / "ws.duckdb")
    res = ws.ingest(data, mapping=MAPPINGS / mapping)
    assert res.total("quarantined") == 0 and res.total("duplicates") == 0
    ws.resolve()
    return ws


@pytest.fixture(scope="module")
def helpdesk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    ws = _workspace(tmp_path_factory.mktemp("helpdesk"), LOGS / "helpdesk.csv", "helpdesk.yaml")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def receipt(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    ws = _workspace(tmp_path_factory.mktemp("receipt"), LOGS / "receipt.csv", "receipt.yaml")
    yield ws
    ws.close()


@pytest.fixture(scope="module")
def bpic2012(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    folder = tmp_path_factory.mktemp("bpic2012")
    plain = folder / "bpic2012.csv"  # the CSV reader takes plain files (the mapping says so)
    with gzip.open(LOGS / "bpic2012.csv.gz", "rb") as src, plain.open("wb") as dst:
        shutil.copyfileobj(src, dst)
    ws = _workspace(folder, plain, "bpic2012.yaml")
    yield ws
    ws.close()


def _lower_dfg(dfg: dict[tuple[str, str], int]) -> dict[tuple[str, str], int]:
    # ordito keeps event types in lower case (sources/compile.py); pm4py keeps them as written
    out: dict[tuple[str, str], int] = {}
    for (a, b), n in dfg.items():
        key = (a.lower(), b.lower())
        out[key] = out.get(key, 0) + n
    return out


def _lower(d: dict[str, int]) -> dict[str, int]:
    out: dict[str, int] = {}
    for a, n in d.items():
        out[a.lower()] = out.get(a.lower(), 0) + n
    return out


def _check_against_pm4py(ws: ordito.Workspace, df: Any, case_prefix: str) -> None:
    pm4py = pytest.importorskip("pm4py")
    follows, starts, ends = pm4py.discover_dfg(df)
    m = maps.dfg(ws.engine, "thread")
    assert m.follows() == _lower_dfg(follows)
    assert m.start_activities() == _lower(starts) and m.end_activities() == _lower(ends)
    assert m.cases == df["case:concept:name"].nunique() and m.events == len(df)
    theirs: dict[tuple[str, ...], int] = {}
    for k, n in pm4py.get_variants(df).items():
        key = tuple(a.lower() for a in k)
        theirs[key] = theirs.get(key, 0) + (n if isinstance(n, int) else len(n))
    assert maps.variants(ws.engine, "thread", top=None, verify=True).counts() == theirs
    assert all(
        e["example_case"].startswith(case_prefix)
        for e in (v.to_dict() for v in maps.variants(ws.engine).items)
    )


def test_helpdesk_against_the_published_xes(helpdesk: ordito.Workspace) -> None:
    pm4py = pytest.importorskip("pm4py")
    df = pm4py.read_xes(str(LOGS / "helpdesk.xes.gz"))
    assert (df["case:concept:name"].nunique(), len(df)) == (4580, 21348)
    _check_against_pm4py(helpdesk, df, "helpdesk:Case ")
    # four workgroups; hand-offs between them are rare in this log (the case study says how rare)
    d = maps.dfg(helpdesk.engine, "thread", "department")
    assert {n["activity"] for n in d.nodes} == {"Value 1", "Value 2", "Value 3", "Value 4"}
    assert 0 < sum(e["frequency"] for e in d.handoffs()) < 50


def test_receipt_channels_and_groups(receipt: ordito.Workspace) -> None:
    pd = pytest.importorskip("pandas")
    raw = pd.read_csv(LOGS / "receipt.csv")
    raw["time:timestamp"] = pd.to_datetime(raw["time:timestamp"], utc=True, format="ISO8601")
    df = raw.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    _check_against_pm4py(receipt, df, "receipt:case-")
    # the channel the application came in through (Internet, Desk, Post, e-mail, Intern) is on every
    # event of its case: web, store, other (Post and Intern), email
    per_channel = dict(receipt.sql("SELECT channel, count(DISTINCT thread_id) FROM events GROUP BY channel"))
    assert per_channel == {"web": 1250, "store": 109, "other": 54, "email": 21}
    s = maps.sankey(receipt.engine, "thread", max_steps=2)
    first = {r["source"]: r["cases"] for r in s["transitions"] if r["step"] == 1}
    assert first == {"web": 1250, "store": 109, "other": 54, "email": 21}
    assert all(r["target"] is None for r in s["transitions"])  # one channel per case: no transition


@pytest.mark.slow
def test_bpic2012_against_pm4py(bpic2012: ordito.Workspace) -> None:
    pd = pytest.importorskip("pandas")
    raw = pd.read_csv(LOGS / "bpic2012.csv.gz", dtype={"case:concept:name": str})
    raw["time:timestamp"] = pd.to_datetime(raw["time:timestamp"], utc=True, format="ISO8601")
    df = raw.sort_values(["case:concept:name", "time:timestamp"], kind="stable")
    assert (df["case:concept:name"].nunique(), len(df)) == (13087, 262200)
    _check_against_pm4py(bpic2012, df, "bpic2012:")
    d = maps.dfg(bpic2012.engine, "thread", "department")
    assert {n["activity"] for n in d.nodes} == {"application", "offer", "back office"}


def test_complaints_repeat_by_customer(tmp_path: Path) -> None:
    if not COMPLAINTS.exists():
        pytest.skip(f"{COMPLAINTS} not found")
    ws = _workspace(tmp_path, COMPLAINTS, "bpic2016_complaints.yaml")
    try:
        m = maps.dfg(ws.engine, "customer")
        assert (m.cases, m.events) == (226, 289)
        v = maps.variants(ws.engine, "customer", top=None, verify=True)
        once = sum(x.cases for x in v.items if len(x.activities) == 1)
        assert (
            once
            == ws.sql(
                "SELECT count(*) FROM (SELECT customer_key FROM event_customer GROUP BY 1 HAVING count(*) = 1)"
            )[0][0]
        )
    finally:
        ws.close()


@pytest.mark.slow
def test_exports_of_a_real_log_read_back(helpdesk: ordito.Workspace, tmp_path: Path) -> None:
    pm4py = pytest.importorskip("pm4py")
    res = export_xes(helpdesk.engine, tmp_path / "helpdesk.xes.gz", "thread")
    back = pm4py.read_xes(str(tmp_path / "helpdesk.xes.gz"))
    assert (back["case:concept:name"].nunique(), len(back)) == (res.cases, res.events) == (4580, 21348)
    assert pm4py.discover_dfg(back)[0] == maps.dfg(helpdesk.engine, "thread").follows()
    res = export_ocel(helpdesk.engine, tmp_path / "helpdesk.jsonocel", "thread")
    ocel = pm4py.read_ocel2_json(str(tmp_path / "helpdesk.jsonocel"))
    assert len(ocel.events) == 21348 and set(ocel.objects["ocel:type"]) == {"customer", "thread", "agent"}
