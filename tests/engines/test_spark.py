"""SparkEngine and publish on pyspark local[2] (Java 17). Slow: `make test-slow`."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pyarrow as pa
import pytest

import ordito
from ordito.analytics import channel_mix, overview
from ordito.errors import StoreError
from ordito.store.publish import TABLES, publish

pytestmark = pytest.mark.slow


def test_parameters_are_bound_as_literals(spark: Any) -> None:
    nasty = "it's a \\ back'slash -- ; DROP VIEW x"
    row = spark.one(
        "SELECT ? AS s, ? AS i, ? AS f, ? AS b, ? AS ts, ? AS d, ? AS n",
        [nasty, 2, 1.5, True, dt.datetime(2025, 3, 5, 10, 0), dt.date(2025, 3, 5), None],
    )
    assert row == (nasty, 2, 1.5, True, dt.datetime(2025, 3, 5, 10, 0), dt.date(2025, 3, 5), None)
    assert spark.execute("SELECT $b AS b, $a AS a, $b AS c", {"a": 1, "b": "x"}) == [("x", 1, "x")]
    with pytest.raises(StoreError, match=r"(?s)UNRESOLVED.*as Spark SQL"):
        spark.execute("SELECT nope FROM (SELECT 1 AS x)")


def test_register_round_trips_an_arrow_table(spark: Any) -> None:
    table = pa.table(
        {
            "s": ["b", "B", "", None],
            "i": pa.array([1, None, 3, 4], pa.int64()),
            "f": [1.5, None, -0.0, 1e300],
            "ts": pa.array([dt.datetime(2025, 1, 1, 10, 0, 0, 123456), None, None, None], pa.timestamp("us")),
            "d": pa.array([dt.date(2025, 1, 1), None, None, None], pa.date32()),
            "raw": pa.array([b"\x00\xff", None, b"", None], pa.binary()),
        }
    )
    spark.register("rt", table)
    back = spark.arrow("SELECT * FROM rt")
    assert back.schema == table.schema  # naive timestamps stay naive (TIMESTAMP_NTZ)
    assert back.to_pylist() == table.to_pylist()
    spark.unregister("rt")
    with pytest.raises(StoreError):
        spark.execute("SELECT * FROM rt")


@pytest.fixture(scope="module")
def spark_published(demo_ws: ordito.Workspace, spark: Any, timings: Any) -> Any:
    seen: list[tuple[str, int, int]] = []
    with timings("publish demo (150 customers) to Spark"):
        res = publish(demo_ws.engine, spark, progress=lambda t, n, total: seen.append((t, n, total)))
    assert [t.name for t in res.tables] == list(TABLES)
    for t in res.tables:
        assert t.rows == demo_ws.sql(f"SELECT count(*) FROM {t.name}")[0][0], t.name
        assert (t.name, t.rows, t.rows) in seen
    return spark


def test_published_types(spark_published: Any) -> None:
    schema = spark_published.arrow("SELECT * FROM events LIMIT 1").schema
    assert schema.field("event_id").type == pa.string()
    assert schema.field("properties").type == pa.string()
    assert schema.field("occurred_at").type == pa.timestamp("us")
    assert "identifiers" not in schema.names
    assert (
        spark_published.arrow("SELECT raw_bytes FROM quarantine LIMIT 1").schema.field(0).type == pa.binary()
    )


def test_overview_and_channel_mix_are_identical(
    spark_published: Any, demo_ws: ordito.Workspace, timings: Any
) -> None:
    expected = overview(demo_ws.engine)
    with timings("overview() on Spark (first run)"):
        got = overview(spark_published)
    with timings("overview() on Spark (again)"):
        overview(spark_published)
    assert got == expected
    assert channel_mix(spark_published) == channel_mix(demo_ws.engine)


def test_publish_is_idempotent_and_survives_a_new_engine(
    spark_published: Any, demo_ws: ordito.Workspace
) -> None:
    from ordito.store.spark import SparkEngine

    before = {t: spark_published.scalar(f"SELECT count(*) FROM {t}") for t in TABLES}
    publish(demo_ws.engine, spark_published, tables=["events", "customers"])
    assert {t: spark_published.scalar(f"SELECT count(*) FROM {t}") for t in TABLES} == before
    warehouse = spark_published.warehouse
    assert sorted(p.name for p in warehouse.iterdir()) == sorted(TABLES)  # no staging or old folders left
    # a new engine on the same warehouse (here sharing the session) registers what is there
    for t in TABLES:
        spark_published.unregister(t)
    again = SparkEngine(warehouse, spark=spark_published.spark)
    assert overview(again) == overview(demo_ws.engine)
    again.close()  # does not stop a session it did not start
    assert spark_published.scalar("SELECT count(*) FROM events") == before["events"]
