"""Vectorised normalisation: the rules of :mod:`ordito.identity.normalize` as SQL expressions.

Millions of distinct values are normalised in the engine instead of in a Python loop. The Python
functions stay the reference: ``tests/unit/test_normalize_sql.py`` checks both agree on thousands of
writings. Phone numbers take the SQL path only when it is certain to agree with ``phonenumbers``: written
internationally, or national in a region whose national prefix is a plain string, and (after the prefix)
matching the region's national number pattern and possible lengths from ``phonenumbers``' own metadata.
Every other phone goes to ``phonenumbers`` in Python (column ``needs_python``).
"""

from __future__ import annotations

import re

import phonenumbers

from ..store.sqlutil import lit
from .normalize import (
    _PLACEHOLDER_EMAIL_DOMAINS,
    _PLACEHOLDER_EMAIL_LOCAL,
    _WITHHELD,
    MASKED_RE,
    MASKED_REASON,
    ROLE_LOCAL_PARTS,
)

_EMAIL_RE = (
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)


def _in(values: frozenset[str] | set[str]) -> str:
    return "(" + ", ".join(lit(v) for v in sorted(values)) + ")"


def email_sql(raw: str) -> tuple[str, str]:
    """(value, reason) expressions; value NULL when invalid."""
    s = f"regexp_replace(lower(trim({raw}, ' \t\n\r<>\"''')), '^mailto:', '')"
    dom0 = f"rtrim(CASE WHEN strpos({s}, '@') > 0 THEN substr({s}, length({s}) - strpos(reverse({s}), '@') + 2) END, '.')"
    loc0 = f"CASE WHEN strpos({s}, '@') > 0 THEN left({s}, length({s}) - strpos(reverse({s}), '@')) END"
    dom = f"CASE WHEN {dom0} = 'googlemail.com' THEN 'gmail.com' ELSE {dom0} END"
    loc = f"CASE WHEN {dom} = 'gmail.com' THEN replace(split_part({loc0}, '+', 1), '.', '') ELSE {loc0} END"
    out = f"({loc} || '@' || {dom})"
    reason = (
        f"CASE WHEN {s} = '' THEN 'empty' WHEN strpos({s}, '@') = 0 THEN 'not an email address: no @' "
        f"WHEN length({out}) > 254 OR NOT regexp_full_match({out}, {lit(_EMAIL_RE)}) "
        f"THEN 'not an email address: invalid syntax' END"
    )
    return f"CASE WHEN ({reason}) IS NULL THEN {out} END", reason


def namespaced_sql(raw: str, ns: str) -> tuple[str, str]:
    s = f"trim({raw})"
    reason = f"CASE WHEN {s} = '' THEN 'empty' WHEN length({s}) > 256 THEN 'longer than 256 characters' END"
    return (
        f"CASE WHEN ({reason}) IS NULL THEN CASE WHEN {ns} = '' THEN {s} ELSE {ns} || ':' || {s} END END",
        reason,
    )


def loyalty_sql(raw: str, ns: str) -> tuple[str, str]:
    s = f"upper(regexp_replace(trim({raw}), '[\\s\\-./]', '', 'g'))"
    reason = f"CASE WHEN {s} = '' THEN 'empty' END"
    return f"CASE WHEN ({reason}) IS NULL THEN {ns} || ':' || {s} END", reason


def handle_sql(raw: str, ns: str) -> tuple[str, str]:
    s = f"lower(trim({raw}))"
    has_platform = f"(regexp_matches({s}, '^[a-z][a-z0-9_.-]*:.+$') AND NOT starts_with({s}, 'http'))"
    platform = (
        f"CASE WHEN {has_platform} THEN regexp_extract({s}, '^([a-z][a-z0-9_.-]*):', 1) ELSE lower({ns}) END"
    )
    name = f"ltrim(trim(CASE WHEN {has_platform} THEN regexp_replace({s}, '^[a-z][a-z0-9_.-]*:', '') ELSE {s} END), '@')"
    reason = f"CASE WHEN {name} = '' OR regexp_matches({name}, '\\s') THEN 'not a handle' END"
    return f"CASE WHEN ({reason}) IS NULL THEN {platform} || ':@' || {name} END", reason


def _region_rows(regions: list[str]) -> list[tuple[str, str, str, str, str]]:
    """(region, country code, plain national prefix, possible lengths regex, national pattern)."""
    rows = []
    for r in regions:
        md = phonenumbers.PhoneMetadata.metadata_for_region(r.upper()) if r else None
        if md is None or md.general_desc is None or not md.general_desc.national_number_pattern:
            continue
        prefix = md.national_prefix or ""
        parsing = md.national_prefix_for_parsing
        # only a plain prefix (or none) is handled in SQL; carrier codes and rewrites go to phonenumbers
        if parsing and not re.fullmatch(r"\d+(\|\d+)*", parsing):
            continue
        if re.search(r"\D", prefix):
            continue
        lengths = "|".join(str(n) for n in md.general_desc.possible_length)
        rows.append(
            (r.upper(), str(md.country_code), prefix, lengths, md.general_desc.national_number_pattern)
        )
    return rows


def phone_sql(raw: str, region: str, regions: list[str]) -> tuple[str, str, str]:
    """(value, reason, needs_python) expressions for phones; regions: the regions present in the data."""
    compact0 = f"regexp_replace(trim({raw}), '[\\s\\-./()]', '', 'g')"
    compact = f"CASE WHEN starts_with({compact0}, '00') THEN '+' || substr({compact0}, 3) ELSE {compact0} END"
    intl_ok = (
        f"(regexp_full_match({compact}, '^\\+[1-9]\\d{{7,14}}$') AND NOT starts_with({compact}, '+440'))"
    )
    withheld = f"lower(trim({raw})) IN {_in(set(_WITHHELD))}"
    cases = []
    for rg, cc, prefix, lengths, pattern in _region_rows(regions):
        digits = compact
        nat = (
            (
                f"CASE WHEN {lit(prefix)} <> '' AND starts_with({digits}, {lit(prefix)}) "
                f"AND regexp_full_match(substr({digits}, {len(prefix) + 1}), {lit('(?:' + pattern + ')')}) "
                f"THEN substr({digits}, {len(prefix) + 1}) ELSE {digits} END"
            )
            if prefix
            else digits
        )
        ok = (
            f"regexp_full_match({digits}, '^\\d+$') AND regexp_full_match({nat}, {lit('(?:' + pattern + ')')}) "
            f"AND regexp_full_match(length({nat})::VARCHAR, {lit('^(?:' + lengths + ')$')})"
        )
        cases.append(f"WHEN upper({region}) = {lit(rg)} AND {ok} THEN '+{cc}' || {nat}")
    national = f"CASE {' '.join(cases)} END" if cases else "NULL"
    masked = f"regexp_matches({raw}, {lit(MASKED_RE.pattern)})"
    value = (
        f"CASE WHEN trim({raw}) = '' OR {withheld} OR {masked} THEN NULL WHEN {intl_ok} THEN {compact} "
        f"WHEN NOT starts_with({compact}, '+') THEN {national} END"
    )
    reason = (
        f"CASE WHEN trim({raw}) = '' THEN 'empty' WHEN {withheld} THEN 'withheld or unknown number' "
        f"WHEN {masked} THEN {lit(MASKED_REASON)} END"
    )
    needs = f"({value}) IS NULL AND ({reason}) IS NULL"
    return value, reason, needs


def placeholder_sql(kind: str, value: str) -> str:
    """SQL giving the placeholder reason of a canonical value (NULL if it may name someone).

    ``kind`` and ``value`` are SQL expressions (usually column names).
    """
    ccs = sorted(str(c) for c in phonenumbers.COUNTRY_CODE_TO_REGION_CODE)
    c1 = {c for c in ccs if len(c) == 1}
    c2 = {c for c in ccs if len(c) == 2}
    d = f"ltrim({value}, '+')"
    cclen = f"CASE WHEN left({d}, 1) IN {_in(c1)} THEN 1 WHEN left({d}, 2) IN {_in(c2)} THEN 2 ELSE 3 END"
    nat = f"substr({d}, {cclen} + 1)"
    # RE2 has no back-references: "one digit repeated" compares with the first digit repeated
    phone = (
        f"CASE WHEN {nat} = repeat(left({nat}, 1), length({nat})) THEN 'placeholder number (one digit repeated)' "
        f"WHEN strpos('01234567890123456789', {nat}) > 0 OR strpos('98765432109876543210', {nat}) > 0 "
        "THEN 'placeholder number (a digit sequence)' "
        f"WHEN length({nat}) - length(replace({nat}, '0', '')) >= length({nat}) - 1 "
        "THEN 'placeholder number (zeros)' END"
    )
    local = f"split_part({value}, '@', 1)"
    domain = f"split_part({value}, '@', 2)"
    email = (
        f"CASE WHEN {local} IN {_in(set(_PLACEHOLDER_EMAIL_LOCAL))} "
        f"OR {domain} IN {_in(set(_PLACEHOLDER_EMAIL_DOMAINS))} "
        "THEN 'placeholder address (typed when the customer gave none)' "
        f"WHEN regexp_matches({domain}, '[.](invalid|test|example|localhost)$') "
        "THEN 'placeholder address (reserved test domain)' END"
    )
    v = f"lower(split_part({value}, ':', -1))"
    words = "('unknown', 'null', 'none', 'n/a', '-', 'undefined', 'anonymous')"
    ids = (
        f"CASE WHEN {kind} = 'customer_id' AND ltrim(split_part({value}, ':', -1), '0') = '' "
        f"THEN 'placeholder id (zeros)' WHEN {v} IN {words} THEN 'placeholder id' END"
    )
    return (
        f"CASE {kind} WHEN 'phone' THEN {phone} WHEN 'email' THEN {email} WHEN 'customer_id' THEN {ids} "
        f"WHEN 'loyalty_id' THEN {ids} WHEN 'anonymous_id' THEN {ids} END"
    )


def role_sql(value: str) -> str:
    local = f"split_part({value}, '@', 1)"
    base = f"regexp_extract({local}, '^[^.+_-]*')"
    roles = _in(set(ROLE_LOCAL_PARTS))
    return (
        f"CASE WHEN {local} IN {roles} OR ({base} IN {roles} AND length({local}) <= length({base}) + 3) "
        f"THEN 'role mailbox (' || {local} || '@): a team''s address, not a person''s' END"
    )
