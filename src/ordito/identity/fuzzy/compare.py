"""Comparisons of two person records, attribute by attribute, as comparison *levels* (SQL).

Each comparison maps a pair to a level: 0 when either side lacks the attribute (no evidence either way),
1 for the strongest agreement, higher numbers for weaker agreement, the last level for disagreement. The
model (``model.py``) gives every level a match weight, log2(m/u). Records are the rows of
``fuzzy_records`` (normalised by ``normalize.py``); ``l`` and ``r`` are the two sides.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from ...store.duckdb import DuckDBEngine


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
        f"(CASE WHEN {x} IS NULL OR {y} IS NULL THEN NULL WHEN {x} = {y} THEN 1.0 "
        f"WHEN length({x}) = 1 OR length({y}) = 1 THEN CASE WHEN {x}[1] = {y}[1] THEN 0.9 ELSE 0.0 END "
        f"ELSE jaro_winkler_similarity({x}, {y}) END)"
    )


def _tok(col: str, i: int) -> str:
    return f"nullif(split_part({col}, ' ', {i}), '')"


def name_features(a: str, b: str) -> dict[str, str]:
    """Token-by-token similarities of the first three (sorted) tokens of two names: s<i><j> compares token i
    of ``a`` with token j of ``b``. Nine plain function calls per pair (no list lambdas: 10x cheaper)."""
    # equal names need no grid (their level is 1): the CASE skips the work for them
    out = {
        f"s{i}{j}": f"(CASE WHEN {a} = {b} THEN NULL ELSE {_sim(_tok(a, i), _tok(b, j))} END)"
        for i in (1, 2, 3)
        for j in (1, 2, 3)
    }
    out["nm_ini"] = (
        f"(regexp_matches(' ' || {a} || ' ', ' [a-z] ') OR regexp_matches(' ' || {b} || ' ', ' [a-z] '))"
    )
    out["nm_na"] = f"least(3, length({a}) - length(replace({a}, ' ', '')) + 1)"
    out["nm_nb"] = f"least(3, length({b}) - length(replace({b}, ' ', '')) + 1)"
    return out


def _me_sql() -> tuple[str, str]:
    """Monge-Elkan both ways from the s<i><j> columns: mean over one side's tokens of the best match."""
    rows = [f"coalesce(greatest(s{i}1, s{i}2, s{i}3), 0)" for i in (1, 2, 3)]
    cols = [f"coalesce(greatest(s1{j}, s2{j}, s3{j}), 0)" for j in (1, 2, 3)]
    lr = (
        "("
        + " + ".join(
            f"CASE WHEN nm_na >= {i} THEN {r} ELSE 0 END" for i, r in zip((1, 2, 3), rows, strict=True)
        )
        + ") / nm_na"
    )
    rl = (
        "("
        + " + ".join(
            f"CASE WHEN nm_nb >= {j} THEN {c} ELSE 0 END" for j, c in zip((1, 2, 3), cols, strict=True)
        )
        + ") / nm_nb"
    )
    return lr, rl


_LR, _RL = _me_sql()
# a token of one name equal to one of the other (a shared surname), counted on the 3x3 grid
_SHARED = " OR ".join(
    f"(s{i}{j} = 1.0 AND length(split_part(l_name_toks, ' ', {i})) > 1)" for i in (1, 2, 3) for j in (1, 2, 3)
)


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
    # DuckDB's damerau_levenshtein costs 4x levenshtein: it runs only where it can matter (a transposition
    # counts 2 in levenshtein, 1 in damerau: levenshtein above 4 means damerau above 2)
    f"""(CASE WHEN l_dob IS NULL OR r_dob IS NULL THEN 0 WHEN l_dob = r_dob THEN 1
        WHEN {_swap("l_dob", "r_dob")} THEN 2 WHEN levenshtein(l_dob, r_dob) > 4 THEN 4
        WHEN damerau_levenshtein(l_dob, r_dob) <= 1 THEN 2
        WHEN damerau_levenshtein(l_dob, r_dob) <= 2 THEN 3 ELSE 4 END)""",
)


def _pc_close(x: str, y: str) -> str:
    """Equal or one edit apart (Damerau), computing Damerau only where levenshtein allows it."""
    return (
        f"(CASE WHEN {x} = {y} THEN true WHEN levenshtein({x}, {y}) > 2 THEN false "
        f"ELSE damerau_levenshtein({x}, {y}) <= 1 END)"
    )


#: Similarities computed once per pair (each feeds several flags) and a record's house number without its
#: letter (computed once per record, before the join).
ADDRESS_SIMILARITIES: dict[str, str] = {
    "a_sjw": "(CASE WHEN l_street = r_street THEN 1.0 ELSE jaro_winkler_similarity(l_street, r_street) END)",
    "a_cjw": "(CASE WHEN l_city = r_city THEN 1.0 ELSE jaro_winkler_similarity(l_city, r_city) END)",
}
CIVIC_NUMBER = "regexp_extract(civic, '^\\d+')"

#: Address flags, computed once per pair in an inner projection (each is used by several levels).
ADDRESS_FEATURES: dict[str, str] = {
    "a_s_eq": "(a_sjw >= 0.92)",
    "a_s_sim": "(a_sjw >= 0.8)",
    "a_c_eq": "(l_civic_num = r_civic_num)",
    "a_c_miss": "(l_civic IS NULL OR r_civic IS NULL)",
    "a_pc_eq": "(l_postcode = r_postcode)",
    # a postcode one character off is the same place only when the street agrees too (20121 is not 10121)
    "a_place": f"(coalesce({_pc_close('l_postcode', 'r_postcode')}, false)"
    " OR coalesce(a_cjw >= 0.9, false)"
    " OR (l_postcode IS NULL AND l_city IS NULL) OR (r_postcode IS NULL AND r_city IS NULL))",
    "a_ci_eq": "(a_cjw >= 0.9)",
    "a_none": "((l_street IS NULL OR r_street IS NULL) AND (l_postcode IS NULL OR r_postcode IS NULL)"
    " AND (l_city IS NULL OR r_city IS NULL))",
}

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
    """(CASE WHEN a_none THEN 0
        WHEN coalesce(a_s_eq AND a_c_eq, false) AND a_place THEN 1
        WHEN coalesce(a_s_eq AND a_c_miss, false) AND a_place THEN 2
        WHEN coalesce(a_c_eq AND a_s_sim, false) AND a_place THEN 2
        WHEN coalesce(a_s_eq, false) AND a_place THEN 3
        WHEN coalesce(a_pc_eq, false) THEN 4
        WHEN coalesce(a_ci_eq, false) THEN 5
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
    f"""(CASE WHEN l_postcode IS NULL OR r_postcode IS NULL THEN 0 WHEN l_postcode = r_postcode THEN 1
        WHEN {_pc_close("l_postcode", "r_postcode")} THEN 2 ELSE 3 END)""",
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


def name_levels(a: list[str | None], b: list[str | None]) -> np.ndarray:
    """The name level of each (a[k], b[k]) pair of sorted-token names (see ``name_levels_coded``)."""
    n = len(a)
    if n == 0:
        return np.zeros(0, dtype=np.int8)
    enc = pa.array(list(a) + list(b), pa.string()).dictionary_encode()
    idx = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.float64)
    codes = np.where(np.isnan(idx), -1, idx).astype(np.int64)
    return name_levels_coded(codes[:n], codes[n:], enc.dictionary.to_pylist())


def name_levels_coded(ia: np.ndarray, ib: np.ndarray, names: list[str]) -> np.ndarray:
    """The name level of each pair (names[ia[k]], names[ib[k]]) of sorted-token names (-1: missing).

    Same rule as ``NAME_LEVEL``: exact (any order) 1; every token agreeing (Monge-Elkan both ways >= 0.92,
    no initials) 2; with initials or small typos (>= 0.88) 3; one name holding the other 4; similar
    (>= 0.8) 5; a shared token but the others differ 6; else 7; 0 when either is missing. Token
    similarity: equal 1, an initial against a word starting with it 0.9, else Jaro-Winkler; the first
    three tokens of each name count. Names come as integer codes (an Arrow dictionary, no Python loop over
    the pairs) and their tokens become integer ids: the 3x3 grid is numpy over the ids, and Jaro-Winkler
    runs once per distinct pair of tokens (rapidfuzz), not per pair of records."""
    n = len(ia)
    out = np.zeros(n, dtype=np.int8)
    if n == 0:
        return out
    tok_ids: dict[str, int] = {}
    grid = np.full((len(names) + 1, 3), -1, dtype=np.int64)  # row -1 (the last): a missing name
    multi = np.zeros(len(names) + 1, dtype=bool)  # two tokens or more (an exact match counts)
    for k, nm in enumerate(names):
        toks = nm.split(" ")
        multi[k] = len(toks) > 1
        for i, t in enumerate(toks[:3]):
            if t:
                grid[k, i] = tok_ids.setdefault(t, len(tok_ids))
    tokens = list(tok_ids)
    tlen = np.array([len(t) for t in tokens] + [0], dtype=np.int64)  # index -1: no token
    tfirst = np.array([ord(t[0]) for t in tokens] + [0], dtype=np.int64)
    nt = np.int64(len(tokens) + 1)
    ta3, tb3 = grid[ia].T, grid[ib].T  # 3 x n token ids (-1: none)
    la, lb = tlen[ta3], tlen[tb3]
    sim = np.full((3, 3, n), np.nan)
    shared = np.zeros(n, dtype=bool)
    for i in range(3):
        for j in range(3):
            ta, tb = ta3[i], tb3[j]
            both = (ta >= 0) & (tb >= 0)
            eq = both & (ta == tb)
            ini = both & ~eq & ((la[i] == 1) | (lb[j] == 1))
            fuzzy = both & ~eq & ~ini
            s_ij = np.full(n, np.nan)
            s_ij[eq] = 1.0
            s_ij[ini] = np.where(tfirst[ta[ini]] == tfirst[tb[ini]], 0.9, 0.0)
            if fuzzy.any():
                key = ta[fuzzy] * nt + tb[fuzzy]
                uniq, inv = np.unique(key, return_inverse=True)
                jw = cpdist(
                    [tokens[int(x)] for x in uniq // nt],
                    [tokens[int(x)] for x in uniq % nt],
                    scorer=JaroWinkler.normalized_similarity,
                    workers=-1,
                )
                s_ij[fuzzy] = np.asarray(jw, dtype=np.float64)[inv]
            sim[i, j] = s_ij
            shared |= eq & (la[i] > 1)
    with np.errstate(all="ignore"):
        filled = np.where(np.isnan(sim), -1.0, sim)
        best_a = filled.max(axis=1)  # 3 x n: best match of a's token i
        best_b = filled.max(axis=0)
        na = (la > 0).sum(axis=0)
        nb = (lb > 0).sum(axis=0)
        lr = np.where(la > 0, np.maximum(best_a, 0), 0).sum(axis=0) / np.maximum(na, 1)
        rl = np.where(lb > 0, np.maximum(best_b, 0), 0).sum(axis=0) / np.maximum(nb, 1)
    lo, hi = np.minimum(lr, rl), np.maximum(lr, rl)
    ini_any = (la == 1).any(axis=0) | (lb == 1).any(axis=0)
    missing = (ia < 0) | (ib < 0)
    exact = ~missing & (ia == ib) & multi[ia]
    level = np.select(
        [
            missing,
            exact,
            (lo >= 0.92) & ~ini_any & (np.minimum(na, nb) > 1),
            lo >= 0.88,
            hi >= 0.97,
            lo >= 0.8,
            shared,
        ],
        [0, 1, 2, 3, 4, 5, 6],
        default=7,
    )
    out[:] = level
    return out


def name_level_table(eng: DuckDBEngine, pairs: str, records: str, out: str) -> None:
    """Temp table ``out`` (a, b, lv): the name level of every distinct pair of names among the pairs."""
    t = eng.arrow(f"""SELECT DISTINCT l.name_toks AS a, r.name_toks AS b FROM {pairs} p
        JOIN {records} l ON l.rec_id = p.rec_a JOIN {records} r ON r.rec_id = p.rec_b
        WHERE l.name_toks IS NOT NULL AND r.name_toks IS NOT NULL""")
    n = t.num_rows
    a = t.column("a").cast(pa.string())
    b = t.column("b").cast(pa.string())
    # one dictionary for both sides (Arrow, in C++): names become integer codes
    enc = pa.chunked_array(a.chunks + b.chunks, pa.string()).combine_chunks().dictionary_encode()
    codes = np.asarray(enc.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    lv = name_levels_coded(codes[:n], codes[n:], enc.dictionary.to_pylist())
    eng.register(f"{out}_in", pa.table({"a": a, "b": b, "lv": lv}))
    try:
        eng.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * FROM {out}_in")
    finally:
        eng.unregister(f"{out}_in")


def levels_table(
    eng: DuckDBEngine,
    pairs: str,
    records: str,
    out: str,
    extra: str = "",
    comps: tuple[Comparison, ...] = COMPARISONS,
) -> None:
    """Temp table ``out``: rec_a, rec_b, lv_<comparison>... (and ``extra`` columns of the pairs)."""
    name_level_table(eng, pairs, records, f"{out}_nm")
    try:
        eng.execute(
            f"CREATE OR REPLACE TEMP TABLE {out} AS {levels_select(pairs, records, extra, comps, f'{out}_nm')}"
        )
    finally:
        eng.execute(f"DROP TABLE IF EXISTS {out}_nm")


def levels_select(
    pairs: str,
    records: str,
    extra: str = "",
    comps: tuple[Comparison, ...] = COMPARISONS,
    names: str | None = None,
) -> str:
    """SELECT rec_a, rec_b, lv_<comparison>... for every pair of ``pairs`` (columns rec_a, rec_b).

    ``extra``: more columns of ``pairs`` to carry through (``, p.x``). ``names``: a table of name levels
    (``name_level_table``); without it the name level is computed in SQL (slower, same rule)."""
    sides = ", ".join(f"{s}.{c} AS {s}_{c}" for s in "lr" for c in (*RECORD_COLUMNS, "civic_num"))
    carried = ", ".join(x.strip().split(".")[-1] for x in extra.split(",") if x.strip())
    sims = ", ".join(f"{v} AS {k}" for k, v in ADDRESS_SIMILARITIES.items())
    addr = ", ".join(f"{v} AS {k}" for k, v in ADDRESS_FEATURES.items())
    recs = f"(SELECT rec_id, {', '.join(RECORD_COLUMNS)}, {CIVIC_NUMBER} AS civic_num FROM {records})"
    if names:
        cols = ", ".join(
            (
                "CAST(coalesce(nl.lv, 0) AS TINYINT) AS lv_name"
                if c.name == "name"
                else f"CAST({c.sql} AS TINYINT) AS lv_{c.name}"
            )
            for c in comps
        )
        return f"""SELECT rec_a, rec_b, {cols}{", " + carried if carried else ""} FROM (
            SELECT *, {addr} FROM (SELECT *, {sims} FROM (
                SELECT p.rec_a, p.rec_b{extra}, {sides}
                FROM {pairs} p JOIN {recs} l ON l.rec_id = p.rec_a JOIN {recs} r ON r.rec_id = p.rec_b))) q
            LEFT JOIN {names} nl ON nl.a = q.l_name_toks AND nl.b = q.r_name_toks"""
    cols = ", ".join(f"CAST({c.sql} AS TINYINT) AS lv_{c.name}" for c in comps)
    feats = ", ".join(f"{v} AS {k}" for k, v in name_features("l.name_toks", "r.name_toks").items())
    keep = ", ".join(f"{s}_{c}" for s in "lr" for c in (*RECORD_COLUMNS, "civic_num"))
    return f"""SELECT rec_a, rec_b, {cols}{", " + carried if carried else ""} FROM (
        SELECT rec_a, rec_b{", " + carried if carried else ""}, {keep}, nm_ini, {addr},
               {_LR} AS nm_lr, {_RL} AS nm_rl, ({_SHARED}) AS nm_shared, least(nm_na, nm_nb) AS nm_n
        FROM (SELECT *, {sims} FROM (SELECT p.rec_a, p.rec_b{extra}, {sides}, {feats}
              FROM {pairs} p JOIN {recs} l ON l.rec_id = p.rec_a JOIN {recs} r ON r.rec_id = p.rec_b)))"""
