"""Canonical person attributes: Italian and English writings of one name, address, birth date."""

from __future__ import annotations

import duckdb
import pytest

from ordito.identity.fuzzy import normalize as nz


def one(expr: str, value: str) -> object:
    con = duckdb.connect()
    try:
        row = con.execute(f"SELECT {expr} FROM (SELECT ?::VARCHAR AS x)", [value]).fetchone()
        return row[0] if row else None
    finally:
        con.close()


@pytest.mark.parametrize(
    ("written", "tokens"),
    [
        ("RUSSO GIUSEPPE", "giuseppe russo"),
        ("Giuseppe Russo", "giuseppe russo"),
        ("G. Russo", "g russo"),
        ("Sig.ra Marta De Rosa", "derosa marta"),
        ("De Rosa Marta", "derosa marta"),
        ("D'Amico Nicolo'", "damico nicolo"),
        ("Nicolò D’Amico", "damico nicolo"),
        ("Dott. Luca Dell'Acqua", "dellacqua luca"),
        ("Maria Grazia De La Rosa", "delarosa grazia maria"),
        ("Mr John O'Brien Jr", "john obrien"),
    ],
)
def test_names(written: str, tokens: str) -> None:
    assert one(nz.name_tokens("x"), written) == tokens


@pytest.mark.parametrize(
    ("written", "street", "civic"),
    [
        ("Via Roma 12/A", "via roma", "12a"),
        ("v. Roma 12", "via roma", "12"),
        ("V.le Monza, 3", "viale monza", "3"),
        ("C.so Francia n. 14 b", "corso francia", "14b"),
        ("P.zza Garibaldi 1", "piazza garibaldi", "1"),
        ("12 Stanley St", "stanley street", "12"),
        ("187 Green Ln", "green lane", "187"),
        ("via roma 012", "via roma", "12"),
    ],
)
def test_addresses(written: str, street: str, civic: str) -> None:
    assert one(nz.street("x"), written) == street
    assert one(nz.civic("x"), written) == civic


@pytest.mark.parametrize(
    "written", ["1971-03-02", "19710302", "2/3/1971", "02.03.1971", "1971-3-2", "02-03-1971"]
)
def test_birth_dates(written: str) -> None:
    assert one(nz.birth_date("x"), written) == "19710302"


def test_partial_contacts() -> None:
    assert one(nz.phone_tail("x"), "333 *** 4567") == "4567"
    assert one(nz.phone_digits("x"), "0039 333 1234567") == "393331234567"
    assert one(nz.email_local("x"), "giuseppe.russo71@") == one(
        nz.email_local("x"), "Giuseppe.Russo71+x@gmail.com"
    )
    assert one(nz.postcode("x"), "sw11 2ab") == "SW112AB"
    assert one(nz.birth_date("x"), "not a date") is None
