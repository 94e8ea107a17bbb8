"""Canonical person attributes, as SQL expressions (DuckDB dialect), computed once per person record.

Italian and English conventions:

- names: accents and case folded, apostrophes dropped (``D'Amico`` = ``Damico``, ``Nicolo'`` = ``Nicolò``),
  titles removed (``Sig.ra``, ``Dott.``, ``Mr``), particles joined to the surname they belong to
  (``De Rosa`` = ``DeRosa``, ``Dell'Acqua``), initials kept as one-letter tokens; the tokens are sorted, so
  surname-first (``RUSSO GIUSEPPE``) and given-first writings are the same name;
- addresses: ``V.``/``v``/``Via``, ``V.le``, ``C.so``, ``P.za``/``P.zza``, ``L.go``, ``Str.``, ``St``, ``Rd``,
  ``Ave``... expanded; the civic number (``12/A``, ``12 a``, ``n. 12``) is split from the street (``12a``,
  its base ``12`` kept for the looser level);
- birth dates: ``YYYY-MM-DD``, ``YYYYMMDD``, ``DD/MM/YYYY``, ``DD-MM-YYYY``, ``DD.MM.YYYY`` (day first, as
  in Italy and the UK) to ``YYYYMMDD``; an impossible date written as digits is kept (typos are evidence);
- postcodes upper-case without spaces (``SW11 2AB`` = ``SW112AB``); cities folded like names;
- emails: the full normalised address, and its local part without dots as the partial form (a record
  that has only ``giuseppe.russo71@`` still agrees with ``giuseppe.russo71@gmail.com``); phones: the
  digits, and the last four digits as the partial form (``333 *** 4567``).
"""

from __future__ import annotations

_TITLES = (
    "sig ra|sig na|dott ssa|prof ssa|sig|sigg|sigra|signor|signora|signorina|signa|dott|dottssa|dottoressa|dr|prof|profssa"
    "|ing|avv|rag|geom|arch|mr|mrs|ms|miss|mx|sir|dame|rev|spett|egr|gent|famiglia|fam|family|jr|snr|sr|jnr"
)
_PARTICLES = (
    "de|di|da|del|della|dello|dei|degli|delle|dal|dalla|dall|dell|lo|la|li|le|van|von|der|den|mac|mc|st"
)


def fold(expr: str) -> str:
    """Lower-case, accent-free, apostrophes dropped, other punctuation to spaces, spaces collapsed."""
    return (
        f"trim(regexp_replace(regexp_replace(replace(replace(strip_accents(lower({expr})), '''', ''), '’', ''),"
        " '[^a-z0-9/ ]+', ' ', 'g'), '\\s+', ' ', 'g'))"
    )


def name_tokens(expr: str) -> str:
    """Sorted name tokens joined by one space (NULL when nothing is left)."""
    f = fold(expr)
    no_titles = f"regexp_replace(' ' || {f} || ' ', ' (({_TITLES}) )+', ' ', 'g')"
    no_digits = f"regexp_replace({no_titles}, '[0-9/]+', ' ', 'g')"
    # particles join the word after them: "de la rosa" -> "delarosa", "dell acqua" -> "dellacqua"
    joined = f"regexp_replace({no_digits}, '\\b({_PARTICLES}) ', '\\1', 'g')"
    toks = (
        f"list_filter(string_split(trim(regexp_replace({joined}, '\\s+', ' ', 'g')), ' '), lambda t: t <> '')"
    )
    return f"nullif(array_to_string(list_sort({toks}), ' '), '')"


_ABBREV: tuple[tuple[str, str], ...] = (
    # Italian street types (before dots are removed: "v.le" is not "v." + "le")
    (r"\bv\.\s*le\b", "viale"),
    (r"\bc\.\s*so\b", "corso"),
    (r"\bp\.\s*zz?a\b", "piazza"),
    (r"\bp\.\s*le\b", "piazzale"),
    (r"\bl\.\s*go\b", "largo"),
    (r"\bv\.\s*lo\b", "vicolo"),
    (r"\bstr\.", "strada"),
    (r"\bloc\.", "localita"),
    (r"\bfraz\.", "frazione"),
    (r"\bv\.", "via "),
)
_WORDS: dict[str, str] = {
    "v": "via",
    "vle": "viale",
    "cso": "corso",
    "pza": "piazza",
    "pzza": "piazza",
    "p za": "piazza",
    "ple": "piazzale",
    "lgo": "largo",
    "st": "street",
    "str": "street",
    "rd": "road",
    "ave": "avenue",
    "av": "avenue",
    "ln": "lane",
    "dr": "drive",
    "cres": "crescent",
    "cr": "crescent",
    "pl": "place",
    "ct": "court",
    "sq": "square",
    "tce": "terrace",
    "terr": "terrace",
    "cl": "close",
    "gdns": "gardens",
    "pde": "parade",
    "hwy": "highway",
    "blvd": "boulevard",
    "cct": "circuit",
    "cir": "circuit",
    "mt": "mount",
}
_NOISE = ("n", "no", "nr", "num", "snc", "civico", "int", "interno", "scala", "piano")


def _address_folded(expr: str) -> str:
    s = f"strip_accents(lower({expr}))"
    for pat, rep in _ABBREV:
        s = f"regexp_replace({s}, '{pat}', '{rep}', 'g')"
    return fold(s)


def address_folded(expr: str) -> str:
    """The address lower-case, accent-free, abbreviations of street types expanded (input of street/civic)."""
    return _address_folded(expr)


def civic(expr: str, folded: bool = False) -> str:
    """The civic number with its letter (``12/A`` -> ``12a``), NULL when the address has none."""
    f = expr if folded else _address_folded(expr)
    m = f"regexp_extract({f}, '(^|\\s)(\\d+)\\s*/?\\s*([a-z])?(\\s|$)', ['x', 'n', 'l', 'y'])"
    return f"nullif(ltrim({m}.n, '0') || coalesce({m}.l, ''), '')"


def street(expr: str, folded: bool = False) -> str:
    """The street without civic number, abbreviations expanded (``V. Roma 12/A`` -> ``via roma``)."""
    f = expr if folded else _address_folded(expr)
    no_num = f"regexp_replace({f}, '(^|\\s)\\d+\\s*/?\\s*([a-z](\\s|$))?', ' ', 'g')"
    toks = f"string_split(trim(regexp_replace({no_num}, '[/0-9]+|\\s+', ' ', 'g')), ' ')"
    words = ", ".join(f"'{k}': '{v}'" for k, v in _WORDS.items())
    noise = ", ".join(f"'{w}'" for w in _NOISE)
    mapped = (
        f"list_transform(list_filter({toks}, lambda t: t <> '' AND t NOT IN ({noise})), "
        f"lambda t: coalesce(MAP {{{words}}}[t], t))"
    )
    return f"nullif(array_to_string({mapped}, ' '), '')"


def birth_date(expr: str) -> str:
    """YYYYMMDD from the usual writings (day first); NULL when it does not look like a date."""
    s = f"trim(CAST({expr} AS VARCHAR))"
    return f"""(CASE
        WHEN regexp_full_match({s}, '\\d{{4}}-\\d{{1,2}}-\\d{{1,2}}.*') THEN
            split_part({s}, '-', 1) || lpad(split_part({s}, '-', 2), 2, '0') || lpad(left(split_part({s}, '-', 3), 2), 2, '0')
        WHEN regexp_full_match({s}, '\\d{{8}}') THEN {s}
        WHEN regexp_full_match({s}, '\\d{{1,2}}[/.-]\\d{{1,2}}[/.-]\\d{{4}}') THEN
            right(regexp_replace({s}, '[.-]', '/', 'g'), 4)
            || lpad(split_part(regexp_replace({s}, '[.-]', '/', 'g'), '/', 2), 2, '0')
            || lpad(split_part(regexp_replace({s}, '[.-]', '/', 'g'), '/', 1), 2, '0')
        END)"""


def postcode(expr: str) -> str:
    return f"nullif(upper(regexp_replace(CAST({expr} AS VARCHAR), '[^A-Za-z0-9]', '', 'g')), '')"


def city(expr: str) -> str:
    return f"nullif({fold(expr)}, '')"


def email_local(expr: str) -> str:
    """The local part of an address (or of a partial one, ``giuseppe.russo71@``) without dots and +tags."""
    local = f"split_part(split_part(lower(trim({expr})), '@', 1), '+', 1)"
    return f"nullif(regexp_replace({local}, '[^a-z0-9]', '', 'g'), '')"


def phone_digits(expr: str) -> str:
    """Digits of a phone (00 prefix dropped); a masked number keeps only the digits it shows."""
    d = f"regexp_replace(CAST({expr} AS VARCHAR), '[^0-9]', '', 'g')"
    return f"nullif(CASE WHEN starts_with({d}, '00') THEN substr({d}, 3) ELSE {d} END, '')"


def phone_tail(expr: str) -> str:
    """The last four digits of a phone, also of a masked one (``333 *** 4567`` -> ``4567``)."""
    d = f"regexp_replace(CAST({expr} AS VARCHAR), '[^0-9*xX]', '', 'g')"
    return f"CASE WHEN regexp_full_match(right({d}, 4), '\\d{{4}}') THEN right({d}, 4) END"
