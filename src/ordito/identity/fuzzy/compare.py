"""Comparisons of two person records, attribute by attribute, as comparison *levels* (SQL).

Each comparison maps a pair to a level: 0 when either side lacks the attribute (no evidence either way),
1 for the strongest agreement, higher numbers for weaker agreement, the last level for disagreement. The
model (``model.py``) gives every level a match weight, log2(m/u). Records are the rows of
``fuzzy_records`` (normalised by ``normalize.py``); ``l`` and ``r`` are the two sides.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from rapidfuzz.distance import DamerauLevenshtein, JaroWinkler
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
        f"ELSE round(jaro_winkler_similarity({x}, {y}), 9) END)"
    )


def _tok(col: str, i: int) -> str:
    return f"nullif(split_part({col}, ' ', {i}), '')"


def name_features(a: str, b: str) -> dict[str, str]:
    """Token-by-token similarities of the first three (sorted) tokens of two names: s<i><j> compares token i
    of ``a`` with token j of ``b``. Nine plain function calls per pair (no list lambdas: 10x cheaper)."""
    # equal names of two tokens or more need no grid (their level is 1): the CASE skips the work for them
    out = {
        f"s{i}{j}": f"(CASE WHEN {a} = {b} AND contains({a}, ' ') THEN NULL ELSE {_sim(_tok(a, i), _tok(b, j))} END)"
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


#: Similarities computed once per pair (each feeds several flags), rounded to 9 decimals: implementations of
#: Jaro-Winkler differ in the last bits (DuckDB's 0.7999999999999999 is rapidfuzz's 0.8), and a threshold
#: must not depend on which one ran. ``CIVIC_NUMBER``: a record's house number without its letter (computed
#: once per record, before the join).
ADDRESS_SIMILARITIES: dict[str, str] = {
    "a_sjw": "(CASE WHEN l_street = r_street THEN 1.0 ELSE round(jaro_winkler_similarity(l_street, r_street), 9) END)",
    "a_cjw": "(CASE WHEN l_city = r_city THEN 1.0 ELSE round(jaro_winkler_similarity(l_city, r_city), 9) END)",
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
        WHEN round(jaro_winkler_similarity(l_street, r_street), 9) >= 0.92 THEN 2
        WHEN round(jaro_winkler_similarity(l_street, r_street), 9) >= 0.8 THEN 3 ELSE 4 END)""",
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
        WHEN round(jaro_winkler_similarity(l_city, r_city), 9) >= 0.9 THEN 2 ELSE 3 END)""",
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


def name_levels_coded(ia: np.ndarray, ib: np.ndarray, names: pa.Array | list[str]) -> np.ndarray:
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
    # the first three tokens of every name as token ids (Arrow: no Python loop over the names)
    arr = names if isinstance(names, pa.Array) else pa.array(names, pa.string())
    lists = pc.split_pattern(arr, " ")
    offsets = np.asarray(lists.offsets.to_numpy(), dtype=np.int64)
    per = np.diff(offsets)
    flat = lists.flatten().dictionary_encode()
    tok = np.asarray(flat.indices.to_numpy(zero_copy_only=False), dtype=np.int64)
    tokens: list[str] = flat.dictionary.to_pylist()
    row = np.repeat(np.arange(len(arr), dtype=np.int64), per)
    pos = np.arange(len(tok), dtype=np.int64) - offsets[row]
    grid = np.full((len(arr) + 1, 3), -1, dtype=np.int64)  # row -1 (the last): a missing name
    keep = (pos < 3) & (np.asarray(pc.utf8_length(flat.dictionary).to_numpy(), dtype=np.int64)[tok] > 0)
    grid[row[keep], pos[keep]] = tok[keep]
    multi = np.append(per > 1, False)  # two tokens or more (an exact match counts)
    tlen = np.array([len(t) for t in tokens] + [0], dtype=np.int64)  # index -1: no token
    tfirst = np.array([ord(t[0]) if t else 0 for t in tokens] + [0], dtype=np.int64)
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
                    dtype=np.float64,
                )
                s_ij[fuzzy] = np.round(np.asarray(jw, dtype=np.float64), 9)[inv]
            sim[i, j] = s_ij
            shared |= eq & (la[i] > 1)
    with np.errstate(all="ignore"):
        filled = np.where(np.isnan(sim), -1.0, sim)
        best_a = filled.max(axis=1)  # 3 x n: best match of a's token i
        best_b = filled.max(axis=0)
        na = (la > 0).sum(axis=0)
        nb = (lb > 0).sum(axis=0)
        # rounded like every similarity (see ADDRESS_SIMILARITIES): a threshold must not hang on the last bit
        lr = np.round(np.where(la > 0, np.maximum(best_a, 0), 0).sum(axis=0) / np.maximum(na, 1), 9)
        rl = np.round(np.where(lb > 0, np.maximum(best_b, 0), 0).sum(axis=0) / np.maximum(nb, 1), 9)
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


def levels_table(
    eng: DuckDBEngine,
    pairs: str,
    records: str,
    out: str,
    extra: str = "",
    comps: tuple[Comparison, ...] = COMPARISONS,
    *,
    records_paired: bool = False,
) -> None:
    """Temp table ``out``: rec_a, rec_b, lv_<comparison>... (and ``extra`` columns of the pairs, ``, p.x``).
    ``records_paired``: every record of ``records`` is in a pair (read them all, no filter).

    The same rules as ``levels_select`` (their SQL reference; tests compare the two), computed in numpy:
    every attribute of the records becomes integer codes (an Arrow dictionary), a pair's equalities are
    comparisons of codes, and each similarity (Jaro-Winkler, Damerau-Levenshtein, the name rule) runs once
    per distinct pair of values (rapidfuzz, both cores), not per pair of records. Joining the pairs to the
    records' strings in SQL cost more than every similarity together (6.3M pairs: 8 of 10 seconds)."""
    carried = _carried(extra)
    pt = eng.arrow(f"SELECT rec_a, rec_b{''.join(', ' + c for c in carried)} FROM {pairs}")
    only = (
        ""
        if records_paired
        else f"WHERE rec_id IN (SELECT rec_a FROM {pairs} UNION SELECT rec_b FROM {pairs})"
    )
    rt = eng.arrow(f"SELECT rec_id, {', '.join(RECORD_COLUMNS)} FROM {records} {only}")
    ra = np.asarray(pt.column("rec_a").to_numpy(), dtype=np.int64)
    rb = np.asarray(pt.column("rec_b").to_numpy(), dtype=np.int64)
    ids = np.asarray(rt.column("rec_id").to_numpy(), dtype=np.int64)
    pa_, pb_ = _positions(ids, ra), _positions(ids, rb)
    cols = {c: _Codes(rt.column(c)) for c in RECORD_COLUMNS}
    lv = _Levels(cols, pa_, pb_)
    data: dict[str, object] = {"rec_a": ra, "rec_b": rb}
    # the comparisons in two threads (numpy and rapidfuzz release the GIL): the name, the longest, in one,
    # the others in the other
    with ThreadPoolExecutor(max_workers=2 if len(pa_) > 100_000 else 1) as pool:
        levels = list(pool.map(lv.level, [comp.name for comp in comps]))
    for comp, level in zip(comps, levels, strict=True):
        data[f"lv_{comp.name}"] = pa.array(level, pa.int8())
    for c in carried:
        data[c] = pt.column(c)
    with eng.registered(f"{out}_in", pa.table(data)):
        eng.execute(f"CREATE OR REPLACE TEMP TABLE {out} AS SELECT * FROM {out}_in")


def _carried(extra: str) -> list[str]:
    """The column names of ``extra`` (``", p.node_a, p.node_b"`` -> ``["node_a", "node_b"]``)."""
    return [x.strip().split(".")[-1] for x in extra.split(",") if x.strip()]


def _positions(ids: np.ndarray, keys: np.ndarray) -> np.ndarray:
    """The position in ``ids`` (distinct) of each key (every key is in ``ids``)."""
    if len(ids) == 0:
        return np.zeros(len(keys), dtype=np.int64)
    lo, hi = int(ids.min()), int(ids.max())
    if hi - lo < 8 * len(ids) + 1_000_000:  # dense ids (rec_id is a counter): a lookup table
        lut = np.zeros(hi - lo + 1, dtype=np.int64)
        lut[ids - lo] = np.arange(len(ids), dtype=np.int64)
        out: np.ndarray = lut[keys - lo]
        return out
    order = np.argsort(ids, kind="stable")
    return np.asarray(order[np.searchsorted(ids, keys, sorter=order)], dtype=np.int64)


class _Codes:
    """A column of records as integer codes (-1: NULL) over its distinct values."""

    def __init__(self, col: pa.ChunkedArray | pa.Array) -> None:
        arr = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
        enc = arr.cast(pa.string()).dictionary_encode()
        self.codes = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        self.values: pa.Array = enc.dictionary
        self._list: list[str] | None = None

    @property
    def strings(self) -> list[str]:
        if self._list is None:
            self._list = self.values.to_pylist()
        return self._list

    def derived(self, values: pa.Array) -> _Codes:
        """Codes of ``values``, one derived from each distinct value of this column (NULL allowed)."""
        enc = pa.concat_arrays([values.cast(pa.string()), pa.nulls(1, pa.string())]).dictionary_encode()
        lut = np.asarray(enc.indices.fill_null(-1).to_numpy(zero_copy_only=False), dtype=np.int64)
        out = _Codes.__new__(_Codes)
        out.codes = lut[self.codes]  # code -1 (NULL) reads the last entry: NULL
        out.values, out._list = enc.dictionary, None
        return out

    def derived_py(self, f: Callable[[str], str | None]) -> _Codes:
        return self.derived(pa.array([f(v) for v in self.strings], pa.string()))


def _distinct_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (a, b) pairs of codes and, for each input pair, the index of its distinct pair."""
    if len(a) == 0:
        e = np.zeros(0, dtype=np.int64)
        return e, e, e
    width = np.int64(max(int(a.max()), int(b.max())) + 1)
    uniq, inv = np.unique(a * width + b, return_inverse=True)
    return uniq // width, uniq % width, inv.reshape(-1)


class _Levels:
    """Comparison levels of the pairs (pa[k], pb[k]) of records (positions into the coded columns)."""

    def __init__(self, cols: dict[str, _Codes], pa_: np.ndarray, pb_: np.ndarray) -> None:
        self.cols, self.pa, self.pb = cols, pa_, pb_
        self.n = len(pa_)
        self._memo: dict[str, np.ndarray] = {}
        self._sides: dict[str, tuple[np.ndarray, np.ndarray]] = {}

    def sides(self, c: str, col: _Codes | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The codes of both records of every pair (of column ``c``, or of ``col`` derived from it)."""
        if col is not None:
            return col.codes[self.pa], col.codes[self.pb]
        if c not in self._sides:
            codes = self.cols[c].codes
            self._sides[c] = (codes[self.pa], codes[self.pb])
        return self._sides[c]

    def present(self, c: str) -> np.ndarray:
        a, b = self.sides(c)
        return (a >= 0) & (b >= 0)

    def eq(self, c: str, col: _Codes | None = None) -> np.ndarray:
        a, b = self.sides(c, col)
        out: np.ndarray = (a >= 0) & (a == b)
        return out

    def score(self, c: str, kind: str) -> np.ndarray:
        """Jaro-Winkler similarity (``jw``) or Damerau-Levenshtein distance (``dl``) of the two values where
        both exist and differ (NaN elsewhere)."""
        key = f"{c}:{kind}"
        scorer = JaroWinkler.normalized_similarity if kind == "jw" else DamerauLevenshtein.distance
        if key not in self._memo:
            a, b = self.sides(c)
            out = np.full(self.n, np.nan)
            m = (a >= 0) & (b >= 0) & (a != b)
            if m.any():
                ua, ub, inv = _distinct_pairs(a[m], b[m])
                s = self.cols[c].strings
                got = cpdist(
                    [s[i] for i in ua.tolist()],
                    [s[i] for i in ub.tolist()],
                    scorer=scorer,
                    workers=-1,
                    dtype=np.float64,
                )
                vals = np.asarray(got, dtype=np.float64)
                out[m] = (np.round(vals, 9) if kind == "jw" else vals)[inv]
            self._memo[key] = out
        return self._memo[key]

    def jw(self, c: str) -> np.ndarray:
        """Jaro-Winkler, 1.0 for equal values, NaN when one is missing (``ADDRESS_SIMILARITIES``)."""
        return np.where(self.eq(c), 1.0, self.score(c, "jw"))

    def close(self, c: str) -> np.ndarray:
        """Equal or one Damerau edit apart (``_pc_close``); False when one is missing."""
        d = self.score(c, "dl")
        with np.errstate(invalid="ignore"):
            return self.eq(c) | (d <= 1)

    def level(self, name: str) -> np.ndarray:
        return np.asarray(getattr(self, f"_lv_{name}")(), dtype=np.int8)

    # --- one method per comparison, the rule of its SQL (see the Comparison's ``sql``) ----------------

    def _lv_name(self) -> np.ndarray:
        a, b = self.sides("name_toks")
        m = (a >= 0) & (b >= 0)
        out = np.zeros(self.n, dtype=np.int8)
        if m.any():
            ua, ub, inv = _distinct_pairs(a[m], b[m])
            out[m] = name_levels_coded(ua, ub, self.cols["name_toks"].values)[inv]
        return out

    def _lv_birth_date(self) -> np.ndarray:
        col = self.cols["dob"]
        year = col.derived_py(lambda s: s[:4])
        # month|day and day|month in one dictionary, so that their codes compare
        n = len(col.strings)
        md_dm = _Codes(
            pa.array(
                [s[4:6] + "|" + s[6:8] for s in col.strings] + [s[6:8] + "|" + s[4:6] for s in col.strings],
                pa.string(),
            )
        )
        # a missing birth date (code -1) reads the last entry: -1 against -2, never a swap
        md, dm = np.append(md_dm.codes[:n], -1), np.append(md_dm.codes[n:], -2)
        a, b = self.sides("dob")
        swap = self.eq("dob", year) & (md[a] == dm[b])
        d = self.score("dob", "dl")
        with np.errstate(invalid="ignore"):
            return np.select(
                [~self.present("dob"), self.eq("dob"), swap, d <= 1, d <= 2], [0, 1, 2, 2, 3], default=4
            )

    def _address_flags(self) -> dict[str, np.ndarray]:
        sjw, cjw = self.jw("street"), self.jw("city")
        num = self.cols["civic"].derived_py(_civic_number)
        with np.errstate(invalid="ignore"):
            s_eq, s_sim, ci_eq = sjw >= 0.92, sjw >= 0.8, cjw >= 0.9
        pc_a, pc_b = self.sides("postcode")
        ct_a, ct_b = self.sides("city")
        st_a, st_b = self.sides("street")
        return {
            "s_eq": s_eq,
            "s_sim": s_sim,
            "ci_eq": ci_eq,
            "c_eq": self.eq("civic", num),
            "c_miss": ~self.present("civic"),
            "pc_eq": self.eq("postcode"),
            "place": self.close("postcode") | ci_eq | ((pc_a < 0) & (ct_a < 0)) | ((pc_b < 0) & (ct_b < 0)),
            "none": ((st_a < 0) | (st_b < 0)) & ((pc_a < 0) | (pc_b < 0)) & ((ct_a < 0) | (ct_b < 0)),
        }

    def _lv_address(self) -> np.ndarray:
        f = self._address_flags()
        place = f["place"]
        return np.select(
            [
                f["none"],
                f["s_eq"] & f["c_eq"] & place,
                f["s_eq"] & f["c_miss"] & place,
                f["c_eq"] & f["s_sim"] & place,
                f["s_eq"] & place,
                f["pc_eq"],
                f["ci_eq"],
            ],
            [0, 1, 2, 2, 3, 4, 5],
            default=6,
        )

    def _lv_street(self) -> np.ndarray:
        s = self.score("street", "jw")
        with np.errstate(invalid="ignore"):
            return np.select(
                [~self.present("street"), self.eq("street"), s >= 0.92, s >= 0.8], [0, 1, 2, 3], default=4
            )

    def _lv_civic(self) -> np.ndarray:
        num = self.cols["civic"].derived_py(_civic_number)
        return np.select(
            [~self.present("civic"), self.eq("civic"), self.eq("civic", num)], [0, 1, 2], default=3
        )

    def _lv_postcode(self) -> np.ndarray:
        return np.select(
            [~self.present("postcode"), self.eq("postcode"), self.close("postcode")], [0, 1, 2], default=3
        )

    def _lv_city(self) -> np.ndarray:
        s = self.score("city", "jw")
        with np.errstate(invalid="ignore"):
            return np.select([~self.present("city"), self.eq("city"), s >= 0.9], [0, 1, 2], default=3)

    def _lv_email(self) -> np.ndarray:
        em_a, em_b = self.sides("email")
        return np.select(
            [
                ~self.present("email_local"),
                self.eq("email"),
                self.eq("email_local") & ((em_a < 0) | (em_b < 0)),
            ],
            [0, 1, 2],
            default=3,
        )

    def _lv_phone(self) -> np.ndarray:
        col = self.cols["phone"]
        n_chars = pc.utf8_length(col.values)
        long_ = pc.greater_equal(n_chars, 9)
        right9 = col.derived(pc.if_else(long_, pc.utf8_slice_codeunits(col.values, -9), None))
        short = col.derived(pc.if_else(long_, None, "short"))
        sa, sb = self.sides("phone", short)
        return np.select(
            [
                ~self.present("phone_tail"),
                self.eq("phone", right9),
                self.eq("phone_tail") & ((sa >= 0) | (sb >= 0)),
            ],
            [0, 1, 2],
            default=3,
        )


def _civic_number(civic: str) -> str:
    """``CIVIC_NUMBER`` in Python: the leading ASCII digits of a house number ('' when none)."""
    m = _LEADING_DIGITS.match(civic)
    return m.group(0) if m else ""


_LEADING_DIGITS = re.compile(r"[0-9]+")


def levels_select(
    pairs: str,
    records: str,
    extra: str = "",
    comps: tuple[Comparison, ...] = COMPARISONS,
) -> str:
    """SELECT rec_a, rec_b, lv_<comparison>... for every pair of ``pairs`` (columns rec_a, rec_b), in SQL.

    The reference of every rule (``levels_table`` computes the same levels in numpy, faster on DuckDB; a
    test compares them). ``extra``: more columns of ``pairs`` to carry through (``, p.x``)."""
    sides = ", ".join(f"{s}.{c} AS {s}_{c}" for s in "lr" for c in (*RECORD_COLUMNS, "civic_num"))
    carried = ", ".join(_carried(extra))
    sims = ", ".join(f"{v} AS {k}" for k, v in ADDRESS_SIMILARITIES.items())
    addr = ", ".join(f"{v} AS {k}" for k, v in ADDRESS_FEATURES.items())
    recs = f"(SELECT rec_id, {', '.join(RECORD_COLUMNS)}, {CIVIC_NUMBER} AS civic_num FROM {records})"
    cols = ", ".join(f"CAST({c.sql} AS TINYINT) AS lv_{c.name}" for c in comps)
    feats = ", ".join(f"{v} AS {k}" for k, v in name_features("l.name_toks", "r.name_toks").items())
    keep = ", ".join(f"{s}_{c}" for s in "lr" for c in (*RECORD_COLUMNS, "civic_num"))
    return f"""SELECT rec_a, rec_b, {cols}{", " + carried if carried else ""} FROM (
        SELECT rec_a, rec_b{", " + carried if carried else ""}, {keep}, nm_ini, {addr},
               round({_LR}, 9) AS nm_lr, round({_RL}, 9) AS nm_rl, ({_SHARED}) AS nm_shared, least(nm_na, nm_nb) AS nm_n
        FROM (SELECT *, {sims} FROM (SELECT p.rec_a, p.rec_b{extra}, {sides}, {feats}
              FROM {pairs} p JOIN {recs} l ON l.rec_id = p.rec_a JOIN {recs} r ON r.rec_id = p.rec_b)))"""
