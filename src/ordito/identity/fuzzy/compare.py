"""Comparisons of two person records, attribute by attribute, as comparison *levels* (SQL).

Each comparison maps a pair to a level: 0 when either side lacks the attribute (no evidence either way),
1 for the strongest agreement, higher numbers for weaker agreement, the last level for disagreement. The
model (``model.py``) gives every level a match weight, log2(m/u). Records are the rows of
``fuzzy_records`` (normalised by ``normalize.py``); ``l`` and ``r`` are the two sides.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Comparison:
    name: str
    levels: tuple[str, ...]  # labels of levels 1..n (level 0: missing on one side)
    sql: str  # level expression over l.* and r.*
    tf: bool = False  # term-frequency adjustment of level 1 (rare values weigh more)

    @property
    def n_levels(self) -> int:
        return len(self.levels) + 1


def _sim(x: str, y: str) -> str:
    """Token similarity: equal 1; an initial against a word starting with it 0.9; else Jaro-Winkler."""
    return (
        f"CASE WHEN {x} = {y} THEN 1.0 WHEN length({x}) = 1 OR length({y}) = 1 THEN "
        f"CASE WHEN {x}[1] = {y}[1] THEN 0.9 ELSE 0.0 END ELSE jaro_winkler_similarity({x}, {y}) END"
    )


def _me(a: str, b: str) -> str:
    """Monge-Elkan: the mean, over the tokens of a, of the best similarity to a token of b."""
    return (
        f"list_avg(list_transform({a}, lambda x: list_max(list_transform({b}, lambda y: {_sim('x', 'y')}))))"
    )


def name_features(a: str, b: str) -> dict[str, str]:
    """Columns the name level is computed from (computed once per pair in an inner query)."""
    ta, tb = f"string_split({a}, ' ')", f"string_split({b}, ' ')"
    lr, rl = _me(ta, tb), _me(tb, ta)
    return {
        "nm_lr": lr,
        "nm_rl": rl,
        "nm_ini": f"(regexp_matches(' ' || {a} || ' ', ' [a-z] ') OR regexp_matches(' ' || {b} || ' ', ' [a-z] '))",
        "nm_shared": f"len(list_intersect(list_filter({ta}, lambda t: length(t) > 1), {tb})) > 0",
        "nm_n": f"least(len({ta}), len({tb}))",
    }


NAME_LEVEL = """(CASE WHEN l_name_toks IS NULL OR r_name_toks IS NULL THEN 0
    WHEN l_name_toks = r_name_toks AND contains(l_name_toks, ' ') THEN 1
    WHEN least(nm_lr, nm_rl) >= 0.92 AND NOT nm_ini AND nm_n > 1 THEN 2
    WHEN least(nm_lr, nm_rl) >= 0.88 THEN 3
    WHEN greatest(nm_lr, nm_rl) >= 0.97 THEN 4
    WHEN least(nm_lr, nm_rl) >= 0.8 THEN 5
    WHEN nm_shared THEN 6 ELSE 7 END)"""


NAME = Comparison(
    "name",
    (
        "same name (any order)",
        "same name with typos",
        "same name with initials",
        "one name holds the other (a missing first name or surname)",
        "similar names",
        "a shared surname or first name, the other names differ",
        "different names",
    ),
    NAME_LEVEL,
    tf=True,
)


def _swap(a: str, b: str) -> str:
    return f"(left({a}, 4) = left({b}, 4) AND substr({a}, 5, 2) = substr({b}, 7, 2) AND substr({a}, 7, 2) = substr({b}, 5, 2))"


DOB = Comparison(
    "birth_date",
    ("same birth date", "one digit off, or day and month swapped", "two digits off", "different birth dates"),
    f"""(CASE WHEN l_dob IS NULL OR r_dob IS NULL THEN 0 WHEN l_dob = r_dob THEN 1
        WHEN damerau_levenshtein(l_dob, r_dob) <= 1 OR {_swap("l_dob", "r_dob")} THEN 2
        WHEN damerau_levenshtein(l_dob, r_dob) <= 2 THEN 3 ELSE 4 END)""",
)

_S_EQ = "(l_street = r_street OR jaro_winkler_similarity(l_street, r_street) >= 0.92)"
_C_EQ = "(regexp_extract(l_civic, '^\\d+') = regexp_extract(r_civic, '^\\d+'))"
_PC_EQ = "(l_postcode = r_postcode)"
# a postcode one character off is the same place only when the street agrees too (20121 is not 10121)
_PC_NEAR = "(l_postcode = r_postcode OR damerau_levenshtein(l_postcode, r_postcode) <= 1)"
_CI_EQ = "(l_city = r_city OR jaro_winkler_similarity(l_city, r_city) >= 0.9)"
_PLACE = f"(coalesce({_PC_NEAR}, false) OR coalesce({_CI_EQ}, false) OR (l_postcode IS NULL AND l_city IS NULL) OR (r_postcode IS NULL AND r_city IS NULL))"

#: The address is one comparison: street, house number, postcode and city agree together for everyone in a
#: household, so counting them as four independent pieces of evidence would make a household one person.
ADDRESS = Comparison(
    "address",
    (
        "same address",
        "probably the same address (number missing, or street misspelt)",
        "same street, another house number",
        "same postcode, another street",
        "same city, another street",
        "another place",
    ),
    f"""(CASE WHEN (l_street IS NULL OR r_street IS NULL) AND (l_postcode IS NULL OR r_postcode IS NULL)
                   AND (l_city IS NULL OR r_city IS NULL) THEN 0
        WHEN coalesce({_S_EQ} AND {_C_EQ}, false) AND {_PLACE} THEN 1
        WHEN coalesce({_S_EQ} AND (l_civic IS NULL OR r_civic IS NULL), false) AND {_PLACE} THEN 2
        WHEN coalesce({_C_EQ} AND jaro_winkler_similarity(l_street, r_street) >= 0.8, false) AND {_PLACE} THEN 2
        WHEN coalesce({_S_EQ}, false) AND {_PLACE} THEN 3
        WHEN coalesce({_PC_EQ}, false) THEN 4
        WHEN coalesce({_CI_EQ}, false) THEN 5
        ELSE 6 END)""",
)

STREET = Comparison(
    "street",
    ("same street", "street with a typo", "similar street", "different streets"),
    """(CASE WHEN l_street IS NULL OR r_street IS NULL THEN 0 WHEN l_street = r_street THEN 1
        WHEN jaro_winkler_similarity(l_street, r_street) >= 0.92 THEN 2
        WHEN jaro_winkler_similarity(l_street, r_street) >= 0.8 THEN 3 ELSE 4 END)""",
)
CIVIC = Comparison(
    "civic",
    ("same house number", "same number, letter differs (12 / 12A)", "different house numbers"),
    """(CASE WHEN l_civic IS NULL OR r_civic IS NULL THEN 0 WHEN l_civic = r_civic THEN 1
        WHEN regexp_extract(l_civic, '^\\d+') = regexp_extract(r_civic, '^\\d+') THEN 2 ELSE 3 END)""",
)
POSTCODE = Comparison(
    "postcode",
    ("same postcode", "postcode one character off", "different postcodes"),
    """(CASE WHEN l_postcode IS NULL OR r_postcode IS NULL THEN 0 WHEN l_postcode = r_postcode THEN 1
        WHEN damerau_levenshtein(l_postcode, r_postcode) <= 1 THEN 2 ELSE 3 END)""",
)
CITY = Comparison(
    "city",
    ("same city", "city with a typo", "different cities"),
    """(CASE WHEN l_city IS NULL OR r_city IS NULL THEN 0 WHEN l_city = r_city THEN 1
        WHEN jaro_winkler_similarity(l_city, r_city) >= 0.9 THEN 2 ELSE 3 END)""",
)

EMAIL = Comparison(
    "email",
    ("same email address", "same local part (a partial address)", "different addresses"),
    """(CASE WHEN l_email_local IS NULL OR r_email_local IS NULL THEN 0
        WHEN l_email IS NOT NULL AND l_email = r_email THEN 1
        WHEN l_email_local = r_email_local AND (l_email IS NULL OR r_email IS NULL) THEN 2 ELSE 3 END)""",
)

PHONE = Comparison(
    "phone",
    ("same phone number", "same last four digits (a partial number)", "different numbers"),
    """(CASE WHEN l_phone_tail IS NULL OR r_phone_tail IS NULL THEN 0
        WHEN length(l_phone) >= 9 AND length(r_phone) >= 9 AND right(l_phone, 9) = right(r_phone, 9) THEN 1
        WHEN l_phone_tail = r_phone_tail AND (length(l_phone) < 9 OR length(r_phone) < 9) THEN 2
        ELSE 3 END)""",
)

#: Comparison sets. ``household`` (the default, for person records of silos): the address is one
#: comparison. ``parts``: street, house number, postcode and city apart, for data whose fields are
#: corrupted independently of each other (FEBRL) and where households are not the hard case.
SCHEMES: dict[str, tuple[Comparison, ...]] = {
    "household": (NAME, DOB, ADDRESS, EMAIL, PHONE),
    "parts": (NAME, DOB, STREET, CIVIC, POSTCODE, CITY, EMAIL, PHONE),
}
COMPARISONS = SCHEMES["household"]


RECORD_COLUMNS = (
    "name_toks",
    "dob",
    "street",
    "civic",
    "postcode",
    "city",
    "email",
    "email_local",
    "phone",
    "phone_tail",
)


def levels_select(
    pairs: str, records: str, extra: str = "", comps: tuple[Comparison, ...] = COMPARISONS
) -> str:
    """SELECT rec_a, rec_b, lv_<comparison>... for every pair of ``pairs`` (columns rec_a, rec_b).

    ``extra``: more columns of ``pairs`` to carry through (``, p.x``)."""
    cols = ", ".join(f"CAST({c.sql} AS TINYINT) AS lv_{c.name}" for c in comps)
    sides = ", ".join(f"{s}.{c} AS {s}_{c}" for s in "lr" for c in RECORD_COLUMNS)
    feats = ", ".join(f"{v} AS {k}" for k, v in name_features("l.name_toks", "r.name_toks").items())
    carried = ", ".join(x.strip().split(".")[-1] for x in extra.split(",") if x.strip())
    return f"""SELECT rec_a, rec_b, {cols}{", " + carried if carried else ""} FROM (
        SELECT p.rec_a, p.rec_b{extra}, {sides}, {feats}
        FROM {pairs} p JOIN {records} l ON l.rec_id = p.rec_a JOIN {records} r ON r.rec_id = p.rec_b)"""
