"""The small analyzed company the report tests share (built once for the package)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

import ordito
from ordito.cli import app
from ordito.demo import generate

CUSTOMERS = 300
SEED = 31


@pytest.fixture(scope="package")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("company")
    generate(out, customers=CUSTOMERS, seed=SEED)
    return out


@pytest.fixture(scope="package")
def analyzed(company: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    ws_path = tmp_path_factory.mktemp("ws") / "ws.duckdb"
    with ordito.Workspace(ws_path) as ws:
        ws.ingest(company)
        ws.resolve()
    res = CliRunner().invoke(app, ["--workspace", str(ws_path), "analyze"])
    assert res.exit_code == 0, res.output
    yield ws_path
