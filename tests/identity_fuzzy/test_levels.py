"""Comparison levels: the numpy implementation (``levels_table``, what the stage runs) gives exactly the
levels of the SQL reference (``levels_select``) on every pair, for both comparison schemes."""

from __future__ import annotations

import itertools

import pytest

from ordito.identity.fuzzy.compare import SCHEMES, levels_select, levels_table
from ordito.identity.fuzzy.linker import normalise
from ordito.store.duckdb import DuckDBEngine

#: Raw person records chosen for the edges of every rule: missing parts, initials, swapped names, birth
#: dates one digit off or with day and month swapped, house numbers with letters or without digits,
#: postcodes one edit apart, partial and masked emails and phones, long and short phone numbers.
RECORDS = [
    (
        "Giuseppe Russo",
        "1971-03-02",
        "Via Roma 12",
        "10121",
        "Torino",
        "giuseppe.russo71@example.com",
        "+39 333 1234567",
    ),
    ("Russo Giuseppe", "1971-02-03", "via Roma 12/A", "10121", "Torino", None, "333 1234567"),
    ("G. Russo", None, "Via Roma", "10122", "Torino", "giuseppe.russo71@", "011 4567"),
    (
        "Giusepe Rosso",
        "1971-03-12",
        "Via Rma 12",
        "10121",
        "Turin",
        "Giuseppe.Russo71@example.com ",
        "*** *** 4567",
    ),
    ("Paolo Russo", "1971-03-02", "Via Roma 12", None, "Torino", "paolo@example.com", None),
    ("Maria Anna Bianchi", "1980-12-01", "Corso Francia 3", "20121", "Milano", None, "02 1234567"),
    ("Bianchi Maria", "1980-01-12", "C.so Francia 3B", "20121", None, "mariabianchi@example.it", None),
    ("M Bianchi", "1980-12-10", "Corso Francia", "20112", "Milano", "mariabianchi@", "+39 02 1234567"),
    ("Anna Maria Bianchi", "1980-11-02", None, None, "Milano", None, "3401112222"),
    (
        "John Smith",
        "1965-07-04",
        "12 Manor Road",
        "EH12 5JP",
        "Edinburgh",
        "john.smith@example.co.uk",
        "+44 7700 900123",
    ),
    ("Jon Smyth", "1965-04-07", "12a Manor Rd", "EH12 5JQ", "Edinburgh", None, "07700 900123"),
    ("J Smith", "1956-07-04", "Oford Road", "EH12 8FQ", "Edinburg", "john.smith@", None),
    ("Smith John", None, "Civico senza numero", None, None, None, "0044 7700 900124"),
    ("Li", "2001-01-01", "Via A", "00100", "Roma", None, None),
    ("Li Na", "2001-01-01", "Via A SNC", "00100", "Roma", None, "12"),
    (None, "1990-05-05", "Via Po 1", "10124", "Torino", "x@y.it", None),
]


def _engine(records: list[tuple[str | None, ...]]) -> DuckDBEngine:
    eng = DuckDBEngine(":memory:")
    eng.execute("""CREATE TEMP TABLE raw (rec_id BIGINT, node_id BIGINT, src VARCHAR, name VARCHAR,
        first_name VARCHAR, last_name VARCHAR, birth_date VARCHAR, address VARCHAR, postcode VARCHAR,
        city VARCHAR, email VARCHAR, phone VARCHAR)""")
    for k, (name, dob, addr, pc, city, email, phone) in enumerate(records, 1):
        eng.execute(
            "INSERT INTO raw VALUES (?, ?, 's', ?, NULL, NULL, ?, ?, ?, ?, ?, ?)",
            [k, k, name, dob, addr, pc, city, email, phone],
        )
    normalise(eng, "raw", "recs")
    return eng


def compare_levels(eng: DuckDBEngine, pairs: str, records: str, scheme: str, tag: str = "tag") -> int:
    """Assert the two implementations agree on every pair; the number of pairs."""
    comps = SCHEMES[scheme]
    extra = f", p.{tag}" if tag else ""
    levels_table(eng, pairs, records, "_lv_np", extra, comps)
    eng.execute(f"CREATE OR REPLACE TEMP TABLE _lv_sql AS {levels_select(pairs, records, extra, comps)}")
    cols = ", ".join(f"lv_{c.name}" for c in comps) + (f", {tag}" if tag else "")
    n = int(eng.scalar("SELECT count(*) FROM _lv_np"))
    assert n == int(eng.scalar(f"SELECT count(*) FROM {pairs}"))
    diff = eng.execute(f"""SELECT * FROM (SELECT rec_a, rec_b, {cols} FROM _lv_np
        EXCEPT ALL SELECT rec_a, rec_b, {cols} FROM _lv_sql) LIMIT 10""")
    assert diff == [], diff
    types = dict(eng.execute("SELECT column_name, column_type FROM (DESCRIBE _lv_np)"))
    assert types["rec_a"] == "BIGINT" and types["lv_name"] == "TINYINT", types
    return n


@pytest.mark.parametrize("scheme", sorted(SCHEMES))
def test_numpy_levels_equal_the_sql_reference_on_every_pair_of_hard_records(scheme: str) -> None:
    eng = _engine(RECORDS)
    ids = range(1, len(RECORDS) + 1)
    eng.execute("CREATE TEMP TABLE pairs (rec_a BIGINT, rec_b BIGINT, tag VARCHAR)")
    for a, b in itertools.permutations(ids, 2):
        eng.execute("INSERT INTO pairs VALUES (?, ?, ?)", [a, b, f"{a}-{b}"])
    n = compare_levels(eng, "pairs", "recs", scheme)
    assert n == len(RECORDS) * (len(RECORDS) - 1)
    # the records do reach the levels they were written for (the comparison is not vacuous)
    seen = {
        c.name: {int(v) for (v,) in eng.execute(f"SELECT DISTINCT lv_{c.name} FROM _lv_np")}
        for c in SCHEMES[scheme]
    }
    assert all(len(v) >= 3 for v in seen.values()), seen
    if scheme == "household":
        assert set(range(8)) <= seen["name"]
        assert {0, 1, 2, 3, 4} <= seen["birth_date"]
        assert {0, 1, 2, 3} <= seen["phone"] and {0, 1, 2, 3} <= seen["email"]


def test_no_pairs_give_an_empty_table_of_the_same_columns() -> None:
    eng = _engine(RECORDS[:3])
    eng.execute("CREATE TEMP TABLE pairs (rec_a BIGINT, rec_b BIGINT, tag VARCHAR)")
    compare_levels(eng, "pairs", "recs", "household")  # no pairs: an empty table of the same columns
    assert eng.execute("SELECT count(*) FROM _lv_np") == [(0,)]
