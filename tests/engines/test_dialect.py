"""transpile() and its fix-ups, without a database (the engine tests run the results for real)."""

from __future__ import annotations

import datetime as dt

import pytest

from ordito.store.dialect import (
    TranspileError,
    bind_order,
    check_portable,
    compile_sql,
    spark_literals,
    transpile,
)
from ordito.store.postgres import parse_url as pg_url
from ordito.store.publish import connect
from ordito.store.spark import parse_url as spark_url


def test_duckdb_is_returned_unchanged() -> None:
    sql = "SELECT list(x) FROM t GROUP BY ALL"
    assert transpile(sql, "duckdb") is sql


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        ("SELECT a, b, count(*) AS n FROM t GROUP BY ALL", "SELECT a, b, COUNT(*) AS n FROM t GROUP BY 1, 2"),
        ("SELECT count(*) AS n FROM t GROUP BY ALL", "SELECT COUNT(*) AS n FROM t"),
        (
            "SELECT a, (SELECT max(x) FROM u) AS m, sum(b) AS s FROM t GROUP BY ALL",
            "SELECT a, (SELECT MAX(x) FROM u) AS m, SUM(b) AS s FROM t GROUP BY 1, 2",
        ),
        ("SELECT x FROM (SELECT 1 AS x)", "SELECT x FROM (SELECT 1 AS x) AS _q1"),
        (
            "SELECT round(v, 2) AS r FROM t",
            "SELECT CAST(ROUND(CAST(v AS DECIMAL), 2) AS DOUBLE PRECISION) AS r FROM t",
        ),
        (
            "SELECT json_extract_string(properties, '$.a.b') AS v FROM t",
            "SELECT JSON_EXTRACT_PATH_TEXT(CAST(properties AS JSON), 'a', 'b') AS v FROM t",
        ),
        ("SELECT 7 / 2 AS x", "SELECT CAST(7 AS DOUBLE PRECISION) / 2 AS x"),
        ("SELECT lower(s) AS l FROM t", 'SELECT LOWER(s COLLATE "default") COLLATE "C" AS l FROM t'),
        (
            "SELECT date_trunc('month', CAST(ts AS DATE)) AS m FROM t",
            "SELECT DATE_TRUNC('MONTH', CAST(CAST(ts AS DATE) AS TIMESTAMP)) AS m FROM t",
        ),
    ],
)
def test_postgres_fixups(sql: str, expected: str) -> None:
    assert transpile(sql, "postgres") == expected


@pytest.mark.parametrize(
    ("sql", "expected"),
    [
        (
            "SELECT date_diff('minute', a, b) AS d FROM t",
            "SELECT DATEDIFF(MINUTE, DATE_TRUNC('MINUTE', a), DATE_TRUNC('MINUTE', b)) AS d FROM t",
        ),
        (
            "SELECT date_trunc('hour', ts) AS h FROM t",
            "SELECT CAST(DATE_TRUNC('HOUR', ts) AS TIMESTAMP_NTZ) AS h FROM t",
        ),
        ("SELECT CAST(p AS JSON) AS j FROM t", "SELECT p AS j FROM t"),
        ("SELECT x FROM t ORDER BY x", "SELECT x FROM t ORDER BY x NULLS LAST"),
        ("SELECT CAST(x AS TIMESTAMP) AS ts", "SELECT CAST(x AS TIMESTAMP_NTZ) AS ts"),
    ],
)
def test_spark_fixups(sql: str, expected: str) -> None:
    assert transpile(sql, "spark") == expected


def test_date_diff_units_outside_the_tested_ones_refuse() -> None:
    with pytest.raises(TranspileError, match="not portable"):
        transpile("SELECT date_diff('week', a, b) AS w FROM t", "spark")


def test_postgres_placeholders_are_numbered_in_text_order_once_each() -> None:
    c = compile_sql("SELECT a FROM t WHERE b = ? AND c = '?' LIMIT ? -- ?", "postgres")
    assert c.sql.startswith("SELECT a FROM t WHERE b = $1 AND c = '?' LIMIT $2")
    assert bind_order(c, ["x", 3]) == ["x", 3]
    named = compile_sql("SELECT $b AS b, $a AS a, $b AS c", "postgres")
    assert named.sql == "SELECT $1 AS b, $2 AS a, $3 AS c"
    assert bind_order(named, {"a": 1, "b": 2}) == [2, 1, 2]


def test_parameter_count_and_style_are_checked() -> None:
    c = compile_sql("SELECT ? AS a", "postgres")
    with pytest.raises(TranspileError, match="takes 1"):
        bind_order(c, [1, 2])
    with pytest.raises(TranspileError, match="no parameters"):
        bind_order(c, None)
    with pytest.raises(TranspileError, match="mixes"):
        compile_sql("SELECT ? AS a, $x AS b", "postgres")
    with pytest.raises(TranspileError, match="one statement"):
        compile_sql("SELECT 1; SELECT 2", "postgres")


def test_spark_literals_escape_what_spark_reads() -> None:
    c = compile_sql("SELECT a FROM t WHERE s = ? AND ts < ? AND n = ? AND f IS ?", "spark")
    sql = spark_literals(c, ["it's a \\ back", dt.datetime(2025, 1, 2, 3, 4, 5, tzinfo=dt.UTC), 3, None])
    assert "'it\\'s a \\\\ back'" in sql
    assert "CAST('2025-01-02 03:04:05' AS TIMESTAMP_NTZ)" in sql
    assert "n = 3" in sql and "IS NULL" in sql


def test_check_portable_names_what_is_not() -> None:
    problems = check_portable(
        "SELECT a, count(*), unnest(l) AS u, strlen(a) AS Bad, CAST(x AS HUGEINT) AS h FROM t "
        "WHERE a ILIKE 'x%' AND floor(v) > 1 ORDER BY ALL"
    )
    text = "\n".join(problems)
    for needle in ("count(*)", "explode", "strlen", "'Bad'", "INT128", "ORDER BY ALL", "ILIKE", "floor"):
        assert needle.lower() in text.lower(), needle
    assert check_portable("SELECT a, count(*) AS n FROM t WHERE b IN (SELECT c FROM u) GROUP BY a") == []


def test_urls() -> None:
    args = pg_url("postgresql://ana:s%40cret@db.example:6543/cx?schema=cx_ordito&sslmode=require")
    assert args["user"] == "ana" and args["password"] == "s@cret"
    assert (args["host"], args["port"], args["database"], args["schema"]) == (
        "db.example",
        6543,
        "cx",
        "cx_ordito",
    )
    assert args["ssl_context"] is not None
    sock = pg_url("postgresql:///cx?host=/run/postgresql")
    assert sock["unix_sock"] == "/run/postgresql/.s.PGSQL.5432" and sock["schema"] == "ordito"
    assert spark_url("spark:///data/wh") == {"warehouse": "/data/wh", "master": "local[2]"}
    assert spark_url("spark://node1:7077/data/wh")["master"] == "spark://node1:7077"
    with pytest.raises(Exception, match="publish to"):
        connect("mysql://x")
