"""Blocking: which pairs of person records are compared at all.

Every record emits a few keys; two records are a candidate pair when they share a key. Keys are chosen so
that a person's records share at least one even when several attributes are misspelt, and so that each
key holds few records:

| key | from |
|---|---|
| ``n`` | each name token (2+ letters) + postcode |
| ``d`` | birth date + the initial of each name token |
| ``a`` | house number (digits) + postcode |
| ``s`` | birth date + house number |
| ``c`` | each name token + city + house number (digits; empty when none) |
| ``t``, ``u`` | street + city, street + postcode |
| ``b`` | birth date + city |
| ``f`` | the whole name (sorted tokens) |
| ``e`` | the local part of an email (also a partial one) |
| ``p`` | the last nine digits of a phone |

A key held by more than ``cap`` records (default 12; 8 for a whole name) is not used (a very common name
in a big city): the cost then
grows with the number of records times the cap, not with its square. Keys are stored as 63-bit
integers (from md5, stable across engines and versions) in ``fuzzy_blocks``, the persisted blocking index
that new records are matched against without recomputing the old ones.
"""

from __future__ import annotations

DEFAULT_CAP = 12
#: the whole-name key (``f``) has a cap of its own: a common full name ("Giuseppe Russo") shared by a
#: dozen people is weak evidence; at 1M bench records it gave 3.2M of the 11M candidate pairs at cap 30
NAME_CAP = 8


def _k(expr: str) -> str:
    """63 bits of md5 of the key text; whole-name keys are stored negative (their cap is ``NAME_CAP``)."""
    return (
        f"(CASE WHEN starts_with({expr}, 'f|') THEN -1 ELSE 1 END * CAST(md5_number({expr}) >> 65 AS BIGINT))"
    )


def _cap(cap: int) -> str:
    return f"CASE WHEN key < 0 THEN {min(cap, NAME_CAP)} ELSE {cap} END"


#: Every key: (letter, SELECT rec_id, key text FROM t (one row per name token) or r (one per record)).
_KEYS: tuple[tuple[str, str], ...] = (
    (
        "n",
        "SELECT rec_id, 'n|' || tok || '|' || postcode AS k FROM t WHERE length(tok) > 1 AND postcode IS NOT NULL",
    ),
    (
        "c",
        "SELECT rec_id, 'c|' || tok || '|' || city || '|' || num FROM t WHERE length(tok) > 1 AND city IS NOT NULL",
    ),
    ("d", "SELECT rec_id, 'd|' || dob || '|' || ini FROM i"),
    (
        "a",
        "SELECT rec_id, 'a|' || regexp_extract(civic, '^\\d+') || '|' || postcode FROM r "
        "WHERE civic IS NOT NULL AND postcode IS NOT NULL",
    ),
    (
        "s",
        "SELECT rec_id, 's|' || dob || '|' || regexp_extract(civic, '^\\d+') FROM r "
        "WHERE civic IS NOT NULL AND dob IS NOT NULL",
    ),
    (
        "t",
        "SELECT rec_id, 't|' || street || '|' || city FROM r WHERE street IS NOT NULL AND city IS NOT NULL",
    ),
    (
        "u",
        "SELECT rec_id, 'u|' || street || '|' || postcode FROM r WHERE street IS NOT NULL AND postcode IS NOT NULL",
    ),
    ("b", "SELECT rec_id, 'b|' || dob || '|' || city FROM r WHERE dob IS NOT NULL AND city IS NOT NULL"),
    ("f", "SELECT rec_id, 'f|' || name_toks FROM r WHERE contains(name_toks, ' ')"),
    ("e", "SELECT rec_id, 'e|' || email_local FROM r WHERE length(email_local) >= 4"),
    ("p", "SELECT rec_id, 'p|' || right(phone, 9) FROM r WHERE length(phone) >= 9"),
)


def keys_select(records: str, where: str = "", kinds: str = "") -> str:
    """SELECT DISTINCT key, rec_id for the records of ``records`` (optionally filtered; ``kinds``: only
    the keys of these letters, for training sessions: the others are not computed)."""
    w = f"WHERE {where}" if where else ""
    parts = [sql for letter, sql in _KEYS if not kinds or letter in kinds]
    # no key repeats for a record (a name's distinct tokens, distinct initials; one key of each other
    # letter): no DISTINCT over the ten million keys of a million records
    return f"""WITH r AS (SELECT * FROM {records} {w}),
        t AS (SELECT rec_id, unnest(list_distinct(string_split(name_toks, ' '))) AS tok, postcode, city,
                     coalesce(regexp_extract(civic, '^\\d+'), '') AS num
              FROM r WHERE name_toks IS NOT NULL),
        i AS (SELECT rec_id, dob,
                     unnest(list_distinct(list_transform(string_split(name_toks, ' '), lambda x: left(x, 1)))) AS ini
              FROM r WHERE name_toks IS NOT NULL AND dob IS NOT NULL),
        k (rec_id, k) AS ({" UNION ALL ".join(parts)})
        SELECT {_k("k")} AS key, rec_id FROM k"""


def pairs_select(
    blocks: str,
    cap: int,
    new_only: str | None = None,
    cross_src: str | None = None,
    nodes: str | None = None,
) -> str:
    """SELECT DISTINCT rec_a < rec_b sharing a key held by at most ``cap`` records.

    ``new_only``: a table of rec_id; only pairs with at least one of them (incremental runs).
    ``cross_src``: a records table; only pairs from different ``src`` (linking two files, not deduplicating).
    ``nodes``: a records table (rec_id, node_id); the pairs of records of different nodes, with their
    ``node_a``, ``node_b`` (the node is joined to each key's records, not twice to every pair).
    """
    node = ", r.node_id" if nodes else ""
    join = f" JOIN {nodes} r ON r.rec_id = b.rec_id" if nodes else ""
    if new_only:
        keys = f"""(SELECT b.key FROM {blocks} b SEMI JOIN {new_only} n ON n.rec_id = b.rec_id)"""
        small = (
            f"""(SELECT key FROM {blocks} WHERE key IN {keys} GROUP BY key HAVING count(*) <= {_cap(cap)})"""
        )
        cand = f"(SELECT b.key, b.rec_id{node} FROM {blocks} b SEMI JOIN {small} s ON s.key = b.key{join})"
        new_side = f"(SELECT c.* FROM {cand} c SEMI JOIN {new_only} n ON n.rec_id = c.rec_id)"
        if nodes:
            base = f"""SELECT DISTINCT least(x.rec_id, y.rec_id) AS rec_a, greatest(x.rec_id, y.rec_id) AS rec_b,
                    CASE WHEN x.rec_id < y.rec_id THEN x.node_id ELSE y.node_id END AS node_a,
                    CASE WHEN x.rec_id < y.rec_id THEN y.node_id ELSE x.node_id END AS node_b
                FROM {new_side} x JOIN {cand} y ON x.key = y.key AND x.rec_id <> y.rec_id AND x.node_id <> y.node_id"""
        else:
            base = f"""SELECT DISTINCT least(x.rec_id, y.rec_id) AS rec_a, greatest(x.rec_id, y.rec_id) AS rec_b
                FROM {new_side} x JOIN {cand} y ON x.key = y.key AND x.rec_id <> y.rec_id"""
    else:
        small = f"(SELECT key FROM {blocks} GROUP BY key HAVING count(*) BETWEEN 2 AND {_cap(cap)})"
        cand = f"(SELECT b.key, b.rec_id{node} FROM {blocks} b SEMI JOIN {small} s ON s.key = b.key{join})"
        if nodes:
            base = f"""SELECT DISTINCT x.rec_id AS rec_a, y.rec_id AS rec_b, x.node_id AS node_a, y.node_id AS node_b
                FROM {cand} x JOIN {cand} y ON x.key = y.key AND x.rec_id < y.rec_id AND x.node_id <> y.node_id"""
        else:
            base = f"""SELECT DISTINCT x.rec_id AS rec_a, y.rec_id AS rec_b
                FROM {cand} x JOIN {cand} y ON x.key = y.key AND x.rec_id < y.rec_id"""
    if cross_src:
        return f"""SELECT q.* FROM ({base}) q JOIN {cross_src} a ON a.rec_id = q.rec_a
            JOIN {cross_src} b ON b.rec_id = q.rec_b WHERE a.src <> b.src"""
    return base
