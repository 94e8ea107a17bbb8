"""`ordito journeys map|variants|sankey|export` on the synthetic log, and the Workspace methods."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ordito
from ordito.cli import app

from .test_maps_fixtures import build_synth


@pytest.fixture(scope="module")
def ws_path(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    folder = tmp_path_factory.mktemp("synth")
    build_synth(folder).close()
    yield folder / "ws.duckdb"


def _run(ws_path: Path, *args: str) -> str:
    res = CliRunner().invoke(app, ["--workspace", str(ws_path), "journeys", *args])
    assert res.exit_code == 0, res.output
    return res.output


def test_map_json_and_dot(ws_path: Path, tmp_path: Path) -> None:
    out = json.loads(_run(ws_path, "map", "--case", "customer", "--json", "--dot", str(tmp_path / "m.dot")))
    with ordito.Workspace(ws_path, read_only=True) as ws:
        m = ws.journey_map("customer")
    assert out["edges"] == json.loads(json.dumps(m.edges))
    assert out["cases"] == m.cases and out["events"] == m.events
    assert (tmp_path / "m.dot").read_text() == m.to_dot()


def test_tables_and_errors(ws_path: Path) -> None:
    text = _run(ws_path, "map", "--level", "department", "--top", "3")
    assert "handoffs" in text and "more edges" in text
    text = _run(ws_path, "variants", "--top", "2")
    assert "variants" in text and "open" in text
    text = _run(ws_path, "sankey", "--case", "thread", "--steps", "2")
    assert "(end)" in text
    text = _run(ws_path, "prepare", "--case", "thread", "--level", "channel")
    assert "prepared journey_log_thread_channel built" in text
    assert "already current" in _run(ws_path, "prepare", "--case", "thread", "--level", "channel")
    assert "built" in _run(ws_path, "prepare", "--case", "thread", "--level", "channel", "--full")
    with ordito.Workspace(ws_path, read_only=True) as ws:
        assert ws.journey_map("thread", "channel").prepared == "journey_log_thread_channel"
    bad = CliRunner().invoke(app, ["--workspace", str(ws_path), "journeys", "map", "--level", "team"])
    assert bad.exit_code == 1 and "level 'team'" in bad.output


def test_export_commands(ws_path: Path, tmp_path: Path) -> None:
    text = _run(ws_path, "export", str(tmp_path / "x.xes.gz"), "--format", "xes", "--case", "customer")
    assert "wrote" in text and (tmp_path / "x.xes.gz").stat().st_size > 0
    text = _run(ws_path, "export", str(tmp_path / "x.jsonocel"), "--format", "ocel")
    doc = json.loads((tmp_path / "x.jsonocel").read_text())
    assert f"{len(doc['events']):,} events" in text
    with ordito.Workspace(ws_path, read_only=True) as ws:
        res = ws.export_journeys(tmp_path / "y.xes", "xes", "thread", "channel")
        assert res.events == ws.journey_map("thread", "channel").events
        assert ws.event_log("thread").num_rows == ws.journey_map("thread").events
        assert ws.journey_variants("thread", top=1).items[0].rank == 1
        assert ws.journey_sankey("thread", max_steps=1)["links"]
