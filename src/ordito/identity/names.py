"""Person names as evidence against a merge.

Two records that name clearly different people ("Marta De Rosa" and "Samuele Pellegrini", or "Giulia
Rossi" and "Paolo Rossi") cannot be one person: an identifier seen on both is shared (a family phone, a
household email, a family computer). Names are compared by the tokens they do *not* share, so word order,
a missing surname, an initial, accents, case and small typos do not count as a conflict; different given
names do.
"""

from __future__ import annotations

import re
import unicodedata

from rapidfuzz.distance import JaroWinkler

_TITLES = frozenset(
    [
        "sig",
        "sig.ra",
        "sigra",
        "signor",
        "signora",
        "sig.na",
        "dott",
        "dott.ssa",
        "dr",
        "dr.",
        "mr",
        "mrs",
        "ms",
        "miss",
        "mx",
        "prof",
        "ing",
        "avv",
        "rag",
        "geom",
        "spett",
        "famiglia",
        "fam",
        "family",
    ]
)
_SPLIT = re.compile(r"[^a-z']+")


def tokens(name: str) -> frozenset[str]:
    """Lower-case, accent-free tokens of a name, without titles and initials."""
    s = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    out = set()
    for t in _SPLIT.split(s):
        t = t.strip("'")
        if len(t) >= 2 and t not in _TITLES:
            out.add(t)
    return frozenset(out)


def _similar(a: str, b: str) -> bool:
    if a == b:
        return True
    if len(a) >= 3 and len(b) >= 3 and (a.startswith(b) or b.startswith(a)):
        return True  # Ale / Alessandro, Fra / Francesca
    return JaroWinkler.similarity(a, b) >= 0.88


def conflict(a: frozenset[str], b: frozenset[str]) -> bool:
    """True when the two token sets name different people.

    Each name needs two tokens: "Barone" against "Federico" cannot tell a surname from a given name.
    """
    if len(a) < 2 or len(b) < 2:
        return False
    common = a & b
    ra, rb = a - common, b - common
    if not ra or not rb:
        return False
    return not any(_similar(x, y) for x in ra for y in rb)


def conflicting_pair(names: dict[str, int]) -> tuple[str, str] | None:
    """Two names (with their record counts given) that conflict, the most supported first; else None."""
    ordered = sorted(names, key=lambda n: (-names[n], n))
    toks = [(n, tokens(n)) for n in ordered]
    toks = [(n, t) for n, t in toks if t]
    for i, (n1, t1) in enumerate(toks):
        for n2, t2 in toks[i + 1 :]:
            if conflict(t1, t2):
                return n1, n2
    return None
