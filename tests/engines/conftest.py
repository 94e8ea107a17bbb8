"""Fixtures for the engine tests: a real PostgreSQL server, a local Spark session, a demo workspace.

Everything is session-scoped: one server, one Spark session and one resolved demo company per run.
"""

from __future__ import annotations

import importlib.util
import shutil
import time
from collections.abc import Iterator
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


class Timer:
    """Collects timings that the engine tests print at the end of the run (pytest -s or -rA)."""

    def __init__(self) -> None:
        self.marks: list[tuple[str, float]] = []

    def __call__(self, label: str) -> _Mark:
        return _Mark(self, label)


class _Mark:
    def __init__(self, timer: Timer, label: str) -> None:
        self.timer, self.label = timer, label

    def __enter__(self) -> None:
        self.t0 = time.perf_counter()

    def __exit__(self, *exc: object) -> None:
        self.timer.marks.append((self.label, time.perf_counter() - self.t0))


@pytest.fixture(scope="session")
def timings(request: pytest.FixtureRequest) -> Iterator[Timer]:
    timer = Timer()
    yield timer
    if timer.marks:
        reporter = request.config.pluginmanager.get_plugin("terminalreporter")
        if reporter is not None:
            reporter.write_line("")
            for label, seconds in timer.marks:
                reporter.write_line(f"engines timing: {label}: {seconds:.2f} s")


SNAPSHOTS = Path(__file__).parent / "snapshots"
