"""A small analysed demo company, shared by the analyst tests (TestClient) and the browser tests."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

import ordito
from ordito.agent.auth import add_user
from ordito.cli import app as cli
from ordito.demo import generate

CUSTOMERS = 200
SEED = 5
PASSWORD = "correct horse battery"
USERS = {"alan": "analyst", "anna": "agent", "ada": "admin"}


def build(folder: Path) -> Path:
    """Generate, ingest, resolve and analyse (journeys and VoC) the company; add one user per role."""
    company = folder / "company"
    generate(company, customers=CUSTOMERS, seed=SEED)
    ws_path = folder / "ws.duckdb"
    with ordito.Workspace(ws_path) as ws:
        ws.ingest(company)
        ws.resolve()
    res = CliRunner().invoke(cli, ["--workspace", str(ws_path), "analyze"])
    assert res.exit_code == 0, res.output
    with ordito.Workspace(ws_path) as ws:
        for name, role in USERS.items():
            add_user(ws.engine, name, role, password=PASSWORD)
    return ws_path
