"""`ordito publish` from the command line, into a real PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

import ordito
from ordito.cli import app
from ordito.demo import generate

pytestmark = pytest.mark.postgres


def test_publish_command_copies_the_tables(pg_url: str, tmp_path: Path) -> None:
    out = tmp_path / "company"
    generate(out, customers=40, seed=9)
    ws_path = tmp_path / "ws.duckdb"
    with ordito.Workspace(ws_path) as ws:
        ws.ingest(out)
        ws.resolve()
        n_events = ws.sql("SELECT count(*) FROM events")[0][0]
    res = CliRunner().invoke(app, ["--workspace", str(ws_path), "publish", pg_url])
    assert res.exit_code == 0, res.output
    assert "rows published to" in res.output
    from ordito.store.postgres import PostgresEngine

    eng = PostgresEngine(pg_url)
    try:
        assert eng.scalar("SELECT count(*) FROM events") == n_events
    finally:
        eng.close()
    bad = CliRunner().invoke(app, ["--workspace", str(ws_path), "publish", "mysql://nope"])
    assert bad.exit_code == 1 and "error:" in bad.output
