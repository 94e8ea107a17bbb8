"""The portable subset, proven on the real engines: every construct ordito's analytics may use gives the
same values, of the same Python types, on DuckDB (the reference), PostgreSQL and Spark.

``PORTABLE_FUNCTIONS`` in ordito.store.dialect lists the functions analytics may call; a function enters
that list with a case here (test_every_portable_function_has_a_case checks it). Known differences are
kept as strict xfails so that they stay documented and we notice when they go away.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from typing import Any

import pyarrow as pa
import pytest
from sqlglot import parse_one

from ordito.store.dialect import PORTABLE_FUNCTIONS, check_portable
from ordito.store.duckdb import DuckDBEngine

T = dt.datetime
PT = pa.table(
    {
        "k": pa.array([1, 2, 3, 4, 5, 6], pa.int64()),
        "g": ["a", "a", "b", "B", "_b", None],
        "s": ["Mario", "mario ", " Anna", None, "x:y(z", "Èlla"],
        "x": [1.5, 2.25, -3.0, None, 0.125, 10.0],
        "n": pa.array([1, None, 3, 4, 5, 6], pa.int64()),
        "ts": pa.array(
            [
                T(2025, 1, 1, 10, 0, 59),
                T(2025, 1, 31, 23, 59, 59),
                T(2025, 2, 1),
                None,
                T(2024, 12, 31, 23),
                T(2025, 3, 1, 12),
            ],
            pa.timestamp("us"),
        ),
        "ts2": pa.array(
            [
                T(2025, 1, 1, 10, 1, 1),
                T(2025, 2, 1, 0, 0, 1),
                T(2025, 2, 1),
                T(2025, 1, 1),
                T(2025, 1, 1, 1),
                None,
            ],
            pa.timestamp("us"),
        ),
        "b": [True, False, None, True, False, True],
        "j": ['{"a": {"b": "x"}, "n": 1}', '{"a": {"b": "y"}}', None, "{}", '{"a": null}', '{"a": {"b": 3}}'],
    }
)

CASES: dict[str, str] = {
    "aggregates": """SELECT g, count(*) AS n, count(x) AS nx, CAST(sum(n) AS BIGINT) AS s, min(x) AS mn,
                            max(s) AS mx, avg(x) AS a FROM pt GROUP BY g ORDER BY g""",
    "count_distinct_and_filter": "SELECT count(DISTINCT g) AS dg, count(*) FILTER (WHERE b) AS nb FROM pt",
    "group_by_all": "SELECT g, count(*) AS n FROM pt GROUP BY ALL ORDER BY g",
    "group_by_ordinal": "SELECT CAST(ts AS DATE) AS day, count(*) AS n FROM pt GROUP BY 1 ORDER BY 1",
    "windows": """SELECT k, row_number() OVER (PARTITION BY g ORDER BY k) AS rn, rank() OVER (ORDER BY g) AS r,
                         dense_rank() OVER (ORDER BY g) AS dr, lag(k) OVER (ORDER BY k) AS prev,
                         lead(k, 2) OVER (ORDER BY k) AS next2 FROM pt ORDER BY k""",
    "window_share": """SELECT g, CAST(count(*) AS DOUBLE) / CAST(sum(count(*)) OVER () AS DOUBLE) AS share
                       FROM pt GROUP BY g ORDER BY g""",
    "conditionals": """SELECT k, CASE WHEN x > 0 THEN 'pos' WHEN x < 0 THEN 'neg' END AS sign,
                              if(b, 'y', 'n') AS yn, coalesce(s, g, '-') AS c, nullif(g, 'a') AS ng,
                              greatest(x, 0.5) AS gx, least(n, 3) AS ln FROM pt ORDER BY k""",
    "arithmetic": """SELECT k, abs(x) AS a, round(x, 1) AS r, CAST(floor(x) AS BIGINT) AS f,
                            CAST(ceil(x) AS BIGINT) AS c, x / 4 AS q, n / 2 AS h, n * 3 - 1 AS lin
                     FROM pt ORDER BY k""",
    "casts": """SELECT k, CAST(x AS DECIMAL(10, 2)) AS dec, CAST(n AS INT) AS i, CAST(k AS VARCHAR) AS ks,
                       CAST(ts AS VARCHAR) AS tss, CAST(CAST(ts AS DATE) AS VARCHAR) AS ds,
                       CAST(CAST(k AS VARCHAR) AS BIGINT) AS back, CAST(b AS VARCHAR) AS bs
                FROM pt ORDER BY k""",
    "text": """SELECT k, lower(s) AS lo, upper(s) AS up, length(s) AS len, substring(s, 2, 3) AS sub,
                      trim(s) AS tr, left(s, 2) AS l2, split_part(s, ':', 2) AS sp, s || '!' AS cat
               FROM pt ORDER BY k""",
    "text_order": "SELECT k, g FROM pt ORDER BY g DESC, k",
    "text_order_of_derived": "SELECT k, lower(s) AS l FROM pt ORDER BY upper(s), k",
    "text_compare": "SELECT k FROM pt WHERE g > 'B' AND s LIKE '%a%' ORDER BY k",
    "min_max_text": "SELECT min(g) AS lo, max(g) AS hi FROM pt",
    "time_buckets": """SELECT k, date_trunc('month', ts) AS month, date_trunc('hour', ts) AS hour,
                              CAST(ts AS DATE) AS day, date_trunc('month', CAST(ts2 AS DATE)) AS month_of_date
                       FROM pt ORDER BY k""",
    "date_diff": """SELECT k, date_diff('second', ts, ts2) AS sec, date_diff('minute', ts, ts2) AS mi,
                           date_diff('hour', ts, ts2) AS h, date_diff('day', ts, ts2) AS d,
                           date_diff('month', ts, ts2) AS mo, date_diff('year', ts, ts2) AS y
                    FROM pt ORDER BY k""",
    "interval": "SELECT k, ts + INTERVAL 1 DAY AS next_day, ts - INTERVAL 30 MINUTE AS before FROM pt ORDER BY k",
    "timestamp_compare": "SELECT k FROM pt WHERE ts >= CAST('2025-01-31 23:59:59' AS TIMESTAMP) ORDER BY k",
    "json_text": "SELECT k, json_extract_string(j, '$.a.b') AS ab FROM pt ORDER BY k",
    "subqueries": """SELECT
                       (SELECT count(*) FROM (SELECT g FROM pt WHERE g IN (SELECT g FROM pt WHERE k > 3))) AS n_in,
                       (SELECT count(*) FROM pt AS o WHERE EXISTS (SELECT 1 FROM pt AS i WHERE i.k = o.k + 1)) AS n_ex,
                       (SELECT count(*) FROM (SELECT k FROM pt UNION ALL SELECT k FROM pt)) AS n_union""",
    "distinct_and_limit": "SELECT DISTINCT g FROM pt ORDER BY g LIMIT 3",
    "nulls_first": "SELECT k, n FROM pt ORDER BY n DESC NULLS FIRST, k",
}


#: Constructs that run everywhere but do not give the same result, with the engines where they differ.
#: Strict xfails: they document the difference and fail when it goes away (docs/ENGINES.md).
KNOWN_DIFFERENCES: dict[str, tuple[str, dict[str, str]]] = {
    "round_halfway": (
        "SELECT x, round(x, 2) AS r FROM (SELECT CAST(0.285 AS DOUBLE) AS x UNION ALL SELECT 1.005) ORDER BY x",
        {
            "postgres": "round goes through numeric, which reads the double as 0.285 (15 digits) and rounds "
            "up; DuckDB rounds the binary value 0.28499999... down",
            "spark": "Spark rounds the decimal reading of the double (0.285) half up; DuckDB the binary value",
        },
    ),
    "double_as_text": (
        "SELECT CAST(CAST(-3.0 AS DOUBLE) AS VARCHAR) AS t",
        {"postgres": "DuckDB writes -3.0, PostgreSQL -3 (format numbers in Python)"},
    ),
    "upper_sharp_s": (
        "SELECT upper('straße') AS u",
        {
            "postgres": "DuckDB maps ß to the capital ẞ, PostgreSQL (ICU or libc) leaves ß",
            "spark": "DuckDB maps ß to the capital ẞ, Spark (Java) to SS",
        },
    ),
}


def _normalise(rows: list[dict[str, Any]]) -> list[dict[str, tuple[str, Any]]]:
    """Values with their Python type, so that 1 (int) and 1.0 (float) differ."""
    return [{k: (type(v).__name__, v) for k, v in r.items()} for r in rows]


@pytest.fixture(scope="module")
def reference() -> Iterator[DuckDBEngine]:
    eng = DuckDBEngine()
    eng.register("pt", PT)
    yield eng
    eng.close()


def test_cases_stay_inside_the_portable_subset() -> None:
    for name, sql in CASES.items():
        assert check_portable(sql) == [], name


def test_every_portable_function_has_a_case() -> None:
    used = {type(n) for sql in CASES.values() for n in parse_one(sql, read="duckdb").walk()}
    missing = sorted(f.__name__ for f in PORTABLE_FUNCTIONS if f not in used)
    assert not missing, f"no case exercises {missing}: add one to CASES"


def _compare(engine: Any, reference: DuckDBEngine, name: str, sql: str | None = None) -> None:
    sql = sql or CASES[name]
    expected = _normalise(reference.records(sql))
    got = _normalise(engine.records(sql))
    assert got == expected


@pytest.fixture(scope="module")
def pg_pt(pg_url: str) -> Iterator[Any]:
    from ordito.store.postgres import PostgresEngine

    eng = PostgresEngine(pg_url)
    eng.register("pt", PT)
    yield eng
    eng.close()


def _known(engine: str) -> list[Any]:
    return [
        pytest.param(
            name, marks=pytest.mark.xfail(strict=True, reason=diff[engine]) if engine in diff else ()
        )
        for name, (_, diff) in sorted(KNOWN_DIFFERENCES.items())
    ]


@pytest.mark.postgres
@pytest.mark.parametrize("name", sorted(CASES))
def test_postgres(name: str, pg_pt: Any, reference: DuckDBEngine) -> None:
    _compare(pg_pt, reference, name)


@pytest.mark.postgres
@pytest.mark.parametrize("name", _known("postgres"))
def test_postgres_known_differences(name: str, pg_pt: Any, reference: DuckDBEngine) -> None:
    _compare(pg_pt, reference, name, KNOWN_DIFFERENCES[name][0])


@pytest.fixture(scope="module")
def spark_pt(spark: Any) -> Any:
    spark.register("pt", PT)
    return spark


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CASES))
def test_spark(name: str, spark_pt: Any, reference: DuckDBEngine) -> None:
    _compare(spark_pt, reference, name)


@pytest.mark.slow
@pytest.mark.parametrize("name", _known("spark"))
def test_spark_known_differences(name: str, spark_pt: Any, reference: DuckDBEngine) -> None:
    _compare(spark_pt, reference, name, KNOWN_DIFFERENCES[name][0])
