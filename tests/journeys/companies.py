"""Demo companies for the journeys tests, generated, ingested, resolved and analyzed once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

import ordito
from ordito.demo import generate

_BUILT: dict[tuple[int, int], tuple[Path, Path]] = {}


def analyzed(factory: pytest.TempPathFactory, customers: int, seed: int) -> tuple[Path, Path]:
    """(company folder, workspace file) of a demo company whose events went through `analyze`."""
    key = (customers, seed)
    if key not in _BUILT:
        out = factory.mktemp(f"company_{customers}_{seed}")
        generate(out / "company", customers=customers, seed=seed)
        ws_path = out / "ws.duckdb"
        with ordito.Workspace(ws_path) as ws:
            ws.ingest(out / "company")
            ws.resolve()
            ws.analyze()
        _BUILT[key] = (out / "company", ws_path)
    return _BUILT[key]
