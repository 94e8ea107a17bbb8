from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

import ordito

REAL_DATA = Path(os.environ.get("ORDITO_REAL_DATA", Path(__file__).resolve().parents[2] / "shared" / "data"))


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ORDITO_WORKSPACE", raising=False)


@pytest.fixture
def ws(tmp_path: Path) -> Iterator[ordito.Workspace]:
    w = ordito.Workspace(tmp_path / "ws.duckdb")
    yield w
    w.close()


def write(path: Path, text: str | bytes) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path
