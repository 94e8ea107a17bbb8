"""PostgresEngine and publish on a real PostgreSQL 15 (started by the fixture from Debian's package)."""

from __future__ import annotations

import datetime as dt
import decimal
from typing import Any

import pyarrow as pa
import pytest

import ordito
from ordito.analytics import channel_mix, overview
from ordito.errors import StoreError
from ordito.store.publish import TABLES, publish

pytestmark = pytest.mark.postgres


def test_parameters_types_and_errors(pg: Any) -> None:
    row = pg.one(
        "SELECT ? AS s, ? AS i, ? AS f, ? AS b, ? AS ts, ? AS d, ? AS n",
        ["it's", 2, 1.5, True, dt.datetime(2025, 3, 5, 10, 0), dt.date(2025, 3, 5), None],
    )
    assert row == ("it's", 2, 1.5, True, dt.datetime(2025, 3, 5, 10, 0), dt.date(2025, 3, 5), None)
    assert pg.execute("SELECT $b AS b, $a AS a, $b AS c", {"a": 1, "b": "x"}) == [("x", 1, "x")]
    assert pg.scalar("SELECT 7 / 2 AS x") == 3.5  # DuckDB's division, not PostgreSQL's integer one
    with pytest.raises(StoreError, match=r"(?s)does not exist.*as PostgreSQL"):
        pg.execute("SELECT nope FROM missing_table")


def test_arrow_results_have_sensible_types(pg: Any) -> None:
    t = pg.arrow(
        """SELECT CAST(1 AS BIGINT) AS i, 1.5 AS dec, CAST(2.5 AS DOUBLE) AS f, CAST('2025-01-02' AS DATE) AS d,
                  CAST('2025-01-02 03:04:05' AS TIMESTAMP) AS ts, CAST('x' AS VARCHAR) AS s,
                  CAST('0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0' AS UUID) AS u, TRUE AS b,
                  CAST(sum(x) AS BIGINT) AS total, avg(x) AS mean
           FROM (SELECT 1 AS x UNION ALL SELECT 2)"""
    )
    types = dict(zip(t.schema.names, t.schema.types, strict=True))
    assert types["i"] == pa.int64() and types["f"] == pa.float64() and types["d"] == pa.date32()
    assert types["ts"] == pa.timestamp("us") and types["s"] == pa.string() and types["b"] == pa.bool_()
    assert types["u"] == pa.string() and types["total"] == pa.int64() and types["mean"] == pa.float64()
    assert t.to_pylist()[0]["u"] == "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    assert t.to_pylist()[0]["dec"] == decimal.Decimal("1.5") or t.to_pylist()[0]["dec"] == 1.5


def test_register_round_trips_an_arrow_table(pg: Any) -> None:
    table = pa.table(
        {
            "s": ["b", "B", "", None, 'q"uote,\nline', "_z"],
            "i": pa.array([1, None, 3, 4, 5, 6], pa.int64()),
            "f": [1.5, None, -0.0, 1e300, 2.0, 3.0],
            "ok": [True, False, None, True, False, True],
            "ts": pa.array(
                [dt.datetime(2025, 1, 1, 10, 0, 0, 123456), None, None, None, None, None], pa.timestamp("us")
            ),
            "d": pa.array([dt.date(2025, 1, 1), None, None, None, None, None], pa.date32()),
            "raw": pa.array([b"\x00\xff", None, b"", None, None, None], pa.binary()),
        }
    )
    pg.register("rt", table)
    back = pg.arrow("SELECT * FROM rt")
    assert back.schema == table.schema
    assert back.to_pylist() == table.to_pylist()
    # text is collated "C" whatever the database default (ICU en-US here): code-point order like DuckDB
    assert [r[0] for r in pg.execute("SELECT s FROM rt WHERE s IS NOT NULL ORDER BY s")] == [
        "",
        "B",
        "_z",
        "b",
        'q"uote,\nline',
    ]
    pg.register("rt", table.slice(0, 2))  # replaces
    assert pg.scalar("SELECT count(*) FROM rt") == 2
    pg.unregister("rt")
    with pytest.raises(StoreError):
        pg.execute("SELECT * FROM rt")


def test_transaction_rolls_back(pg: Any) -> None:
    pg.run_native("CREATE TEMP TABLE tx (a int)")
    with pytest.raises(StoreError), pg.transaction():
        pg.execute("INSERT INTO tx VALUES (1)")
        pg.execute("INSERT INTO tx VALUES ('not a number')")
    assert pg.scalar("SELECT count(*) FROM tx") == 0


@pytest.fixture(scope="module")
def published(demo_ws: ordito.Workspace, pg_url: str, timings: Any) -> str:
    from ordito.store.postgres import PostgresEngine

    eng = PostgresEngine(pg_url)
    seen: list[tuple[str, int, int]] = []
    try:
        with timings("publish demo (150 customers) to PostgreSQL"):
            res = publish(demo_ws.engine, eng, progress=lambda t, n, total: seen.append((t, n, total)))
    finally:
        eng.close()
    assert [t.name for t in res.tables] == list(TABLES)
    for t in res.tables:
        assert t.rows == demo_ws.sql(f"SELECT count(*) FROM {t.name}")[0][0], t.name
        assert (t.name, t.rows, t.rows) in seen, t.name
    return pg_url


def test_published_tables_and_types(published: str, pg: Any) -> None:
    cols = {
        (r[0], r[1]): (r[2], r[3])
        for r in pg.run_native(
            "SELECT table_name, column_name, data_type, collation_name FROM information_schema.columns "
            "WHERE table_schema = 'ordito'"
        )
    }
    assert cols[("events", "event_id")] == ("uuid", None)
    assert cols[("events", "properties")] == ("text", "C")
    assert cols[("events", "occurred_at")] == ("timestamp without time zone", None)
    assert ("events", "identifiers") not in cols
    assert cols[("quarantine", "raw_bytes")] == ("bytea", None)
    assert {r[0] for r in pg.run_native("SELECT indexname FROM pg_indexes WHERE schemaname = 'ordito'")} >= {
        "events_seq_idx",
        "event_customer_customer_key_idx",
    }


def test_overview_and_channel_mix_are_identical(
    published: str, pg: Any, demo_ws: ordito.Workspace, timings: Any
) -> None:
    with timings("overview() on DuckDB"):
        expected = overview(demo_ws.engine)
    with timings("overview() on PostgreSQL"):
        got = overview(pg)
    assert got == expected
    assert expected["coverage"]["events"] > 5000 and len(expected["quarantine"]) > 5
    assert channel_mix(pg) == channel_mix(demo_ws.engine)


def test_publish_is_idempotent(published: str, pg: Any, demo_ws: ordito.Workspace) -> None:
    before = {t: pg.scalar(f"SELECT count(*) FROM {t}") for t in TABLES}
    res = publish(demo_ws.engine, published, tables=["events", "customers"])  # a URL: opened and closed
    assert [t.name for t in res.tables] == ["events", "customers"]
    assert {t: pg.scalar(f"SELECT count(*) FROM {t}") for t in TABLES} == before
    leftovers = pg.run_native(
        "SELECT table_name FROM information_schema.tables WHERE table_name LIKE '\\_ordito\\_new\\_%'"
    )
    assert leftovers == []
    assert overview(pg) == overview(demo_ws.engine)


def test_publish_refuses_unknown_tables(published: str, pg: Any, demo_ws: ordito.Workspace) -> None:
    with pytest.raises(ordito.errors.ConfigError, match="no such table"):
        publish(demo_ws.engine, pg, tables=["nope"])


def test_copy_errors_surface_and_load_nothing(pg: Any) -> None:
    pg.run_native("CREATE TEMP TABLE c (a bigint)")
    with pytest.raises(StoreError, match="invalid input syntax"):
        pg.copy_batches("c", [pa.record_batch({"a": ["1", "not a number"]})])

    def broken() -> Any:
        yield pa.record_batch({"a": pa.array([1, 2], pa.int64())})
        raise OSError("the source went away")

    with pytest.raises(OSError, match="went away"):
        pg.copy_batches("c", broken())
    assert pg.scalar("SELECT count(*) FROM c") == 0  # a failed COPY loads nothing
    assert pg.copy_batches("c", (pa.record_batch({"a": pa.array([i], pa.int64())}) for i in range(5))) == 5
