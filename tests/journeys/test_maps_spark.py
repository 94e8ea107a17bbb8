"""The journey maps on Spark (local[2]) equal DuckDB's, after `publish`. Slow: `make test-slow`."""

from __future__ import annotations

import importlib.util
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import ordito
from ordito.journeys import maps

from .test_maps_fixtures import build_synth

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def spark(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    if importlib.util.find_spec("pyspark") is None:
        pytest.skip("pyspark is not installed: pip install -e '.[spark]' (then make test-slow)")
    if shutil.which("java") is None:
        pytest.skip("Spark needs Java 17 or later on the PATH")
    from ordito.store.spark import SparkEngine

    eng = SparkEngine(tmp_path_factory.mktemp("warehouse"))
    yield eng
    eng.close()


def test_same_maps_on_spark(spark: Any, tmp_path: Path) -> None:
    ws: ordito.Workspace = build_synth(tmp_path)
    try:
        ws.publish(spark, tables=["events", "event_customer"])
        for case, level in (("thread", "activity"), ("customer", "department")):
            assert maps.dfg(spark, case, level).edges == maps.dfg(ws.engine, case, level).edges
            vs = maps.variants(spark, case, level, top=None, verify=True)
            vd = maps.variants(ws.engine, case, level, top=None)
            assert [v.to_dict() for v in vs.items] == [v.to_dict() for v in vd.items]
        assert maps.sankey(spark, "thread")["transitions"] == maps.sankey(ws.engine, "thread")["transitions"]
        prop = maps.dfg(spark, "thread", activity="property:step")
        assert prop.edges == maps.dfg(ws.engine, "thread", activity="property:step").edges
    finally:
        ws.close()
