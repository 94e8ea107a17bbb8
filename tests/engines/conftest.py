"""Fixtures for the engine tests: a real PostgreSQL server, a local Spark session, a demo workspace.

Everything is session-scoped: one server, one Spark session and one resolved demo company per run.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import pytest

import ordito
from ordito.demo import generate

from . import pgserver

DEMO_CUSTOMERS = 150
DEMO_SEED = 3


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """The URL of a PostgreSQL 15 server started for this test run."""
    why = pgserver.available()
    if why:
        pytest.skip(why)
    server = pgserver.start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture
def pg(pg_url: str) -> Iterator[Any]:
    """A fresh connection to the test server (schema ``ordito``)."""
    from ordito.store.postgres import PostgresEngine

    eng = PostgresEngine(pg_url)
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """One local Spark engine (local[2]) for the run, with a warehouse in a temporary folder."""
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: pip install -e '.[spark]' (then make test-slow)")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 or later on the PATH")
    from ordito.store.spark import SparkEngine

    eng = SparkEngine(tmp_path_factory.mktemp("warehouse"))
    yield eng
    eng.close()


@pytest.fixture(scope="session")
def demo_ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    """A small demo company, ingested and resolved (about 7 s)."""
    out = tmp_path_factory.mktemp("company")
    generate(out, customers=DEMO_CUSTOMERS, seed=DEMO_SEED)
    ws = ordito.Workspace(tmp_path_factory.mktemp("ws") / "ordito.duckdb")
    ws.ingest(out)
    ws.resolve()
    yield ws
    ws.close()


_TIMINGS: list[tuple[str, float]] = []


@contextmanager
def _timed(label: str) -> Iterator[None]:
    t0 = time.perf_counter()
    yield
    _TIMINGS.append((label, time.perf_counter() - t0))


@pytest.fixture(scope="session")
def timings() -> Callable[[str], AbstractContextManager[None]]:
    """``with timings("label"): ...`` records a duration, printed in the run's summary."""
    return _timed


def pytest_terminal_summary(terminalreporter: Any) -> None:
    for label, seconds in _TIMINGS:
        terminalreporter.write_line(f"engines timing: {label}: {seconds:.2f} s")


SNAPSHOTS = Path(__file__).parent / "snapshots"
