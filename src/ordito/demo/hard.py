"""The records no exact-matching linker can join to their person: ``ground_truth/identity_hard_cases.csv``.

An exact-matching linker joins two records when they carry the same identifier value, as ordito
normalises what is written, and that value belongs to one person only: values shared on purpose (family
phones, office switchboards, generic mailboxes, placeholders) join nobody. Broken records (those listed
in ``expected_quarantine.csv``) are not ingested, so they join nothing either. The records of a person
that such a linker connects form components: the largest one is the person as exact matching sees them;
every other component is an *island*, and each of its records is a hard case, with why (``case``):

=========================  =============================================================================
case                       the island
=========================  =============================================================================
typo_email_alone           carries a misspelt email address, and no value that reaches the person
cookie_never_identified    web hits (and chats) of a cookie that never logged in, clicked a newsletter
                           link of an identified cookie, or went with an email to the chat
device_never_identified    app events of a device whose owner never logged in
anonymous_receipt          a till receipt with no loyalty card and no e-receipt address
loyalty_card_alone         till receipts of a card whose owner never gave it anywhere else
handle_never_linked        social posts of a handle that social care never linked to a ticket
withheld_number            a call from a withheld number that the agent did not identify
only_shared_identifiers    carries only values several people share (family phone, switchboard...)
only_name_and_address      an order whose contact details appear nowhere else: the customer's name and
                           shipping address are what could join it
only_name                  tickets, emails, chats whose contact details appear nowhere else: a name
value_known_nowhere_else   a phone or address given once (a call, a survey) and seen nowhere else
=========================  =============================================================================

``island`` names the island (``P00001232-1``): records of one island are joined to each other, not to
the rest of their person. The same computation over the ingested data gives ``score``'s
``exact_match_ceiling``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter

from .silos import Chunk

HardCase = tuple[str, str, str, str, str]  # source, source_key, person_id, case, island
NAMED = frozenset({"crm", "email", "chat", "social"})


def hard_cases(chunk: Chunk, bad: set[int], world_shared: frozenset[str]) -> list[HardCase]:
    """The hard cases of one chunk (``bad``: truth rows of broken records, web hits as ``-1 - index``).

    Values are joined once per distinct set of identifiers; a person whose records all reach one value
    (nearly everybody) is passed over, the others are counted record by record."""
    shared = chunk.shared
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while (up := parent.get(root)) is not None:
            root = up
        while x != root:
            parent[x], x = root, parent[x]
        return root

    all_ids = chunk.ids
    usable: dict[tuple[str, ...], tuple[str, ...]] = {}
    carried = Counter(all_ids)  # by how many records that are not broken
    for b in bad:
        if b >= 0:
            carried[all_ids[b]] -= 1
    for ids, n in carried.items():  # the order of joins changes the roots, never the components
        u = usable[ids] = tuple(v for v in ids if v not in shared and v not in world_shared)
        if len(u) > 1 and n > 0:
            r = find(u[0])
            for v in u[1:]:
                if (rv := find(v)) != r:
                    parent[rv] = r
    truth, web = chunk.truth, chunk.web_truth
    links = chunk.web_links
    bad_web = {-1 - b for b in bad if b < 0}
    broken: dict[int, list[int]] = {}  # session -> its hits that are not broken, when some are
    if bad_web:
        starts = [link[0] for link in links]
        for j in bad_web:
            k = bisect_right(starts, j) - 1
            if k >= 0 and j < starts[k] + links[k][1]:
                broken[k] = []
        for k in broken:
            ti0, n = links[k][0], links[k][1]
            broken[k] = [j for j in range(ti0, ti0 + n) if j not in bad_web]
    sessions: list[tuple[int, int, tuple[str, ...]]] = []  # (first hit, hits, usable keys)
    for k, (ti0, n, cookie, uid_from, shop_key, eid_key) in enumerate(links):
        left = broken.get(k)
        keys: tuple[str, ...]
        if left is None:
            keys = (cookie, shop_key) if uid_from >= 0 else (cookie,)
            if eid_key:
                keys = (*keys, eid_key)
        elif not left:
            keys = ()
        else:  # the link goes with the hits that carried it
            keys = (cookie, shop_key) if uid_from >= 0 and left[-1] >= uid_from else (cookie,)
            if eid_key and left[0] == ti0:
                keys = (*keys, eid_key)
        if len(keys) > 1:  # cookies, shop ids and eids belong to one person: never shared
            r = find(keys[0])
            for v in keys[1:]:
                if (rv := find(v)) != r:
                    parent[rv] = r
        sessions.append((ti0, n, keys))
    roots: dict[tuple[str, ...], str] = {}

    def root_of(u: tuple[str, ...]) -> str:
        r = roots.get(u)
        if r is None:
            r = roots[u] = find(u[0])
        return r

    # the records of each person: runs of truth rows (a person's records are written together), sessions
    runs: dict[str, list[tuple[int, int]]] = {}
    prev, a = None, 0
    for i, row in enumerate(truth):
        if row[2] != prev:
            if prev is not None:
                runs.setdefault(prev, []).append((a, i))
            prev, a = row[2], i
    if prev is not None:
        runs.setdefault(prev, []).append((a, len(truth)))
    person_sessions: dict[str, list[int]] = {}
    for k, (ti0, _, _) in enumerate(sessions):
        person_sessions.setdefault(web[ti0][1], []).append(k)
    root_t = {t: find(u[0]) for t, u in usable.items() if u}  # of each distinct set of identifiers
    root_s = [find(u[0]) if u else "" for _, _, u in sessions]
    bad_people = {truth[b][2] for b in bad if b >= 0} | {web[j][1] for j in bad_web}

    out: list[HardCase] = []
    typos = chunk.typos
    for pid in sorted(runs.keys() | person_sessions.keys()):
        own = runs.get(pid, [])
        mine = person_sessions.get(pid, [])
        if pid not in bad_people:  # the fast way: one value reached by every record
            distinct: set[tuple[str, ...]] = set()
            for a, b in own:
                distinct.update(all_ids[a:b])
            found = {root_t.get(t, "") for t in distinct}
            found.update(root_s[k] for k in mine)
            if len(found) == 1 and "" not in found:
                continue
        # record by record: (root, records, first seen) of each component
        comps: dict[str, list[int]] = {}
        recs: list[tuple[str, str, str, tuple[str, ...]]] = []  # (root, source, key, keys)
        for a, b in own:
            for i in range(a, b):
                if i in bad:
                    continue
                u = usable[all_ids[i]]
                r = root_of(u) if u else f"#{i}"
                recs.append((r, truth[i][0], truth[i][1], all_ids[i]))
        for k in mine:
            ti0, n, u = sessions[k]
            r = root_of(u) if u else f"#w{ti0}"
            recs += [(r, "web", web[j][0], u) for j in range(ti0, ti0 + n) if j not in bad_web]
        for r, _, _, _ in recs:
            e = comps.get(r)
            if e is None:
                comps[r] = [1, len(comps)]
            else:
                e[0] += 1
        if len(comps) < 2:
            continue
        main = min(comps.items(), key=lambda kv: (-kv[1][0], kv[1][1]))[0]
        number = {
            r: k for k, r in enumerate(sorted((r for r in comps if r != main), key=lambda r: comps[r][1]), 1)
        }
        for r, k in number.items():
            members = [x for x in recs if x[0] == r]
            values = {v for x in members for v in x[3]}
            use = {v for v in values if v not in shared and v not in world_shared}
            sources = {x[1] for x in members}
            case = _case(sources, {v[0] for v in use}, len(use) < len(values), bool(use & typos))
            out += [(x[1], x[2], pid, case, f"{pid}-{k}") for x in members]
    return out


def _case(sources: set[str], letters: set[str], shared: bool, typo: bool) -> str:
    if typo:
        return "typo_email_alone"
    if not letters:
        if shared:
            return "only_shared_identifiers"
        if sources == {"pos"}:
            return "anonymous_receipt"
        if sources == {"calls"}:
            return "withheld_number"
        return "no_identifier"
    if letters <= {"a", "i"}:
        return "device_never_identified" if sources == {"app"} else "cookie_never_identified"
    if letters == {"l"}:
        return "loyalty_card_alone"
    if letters == {"h"}:
        return "handle_never_linked"
    if "shop" in sources:
        return "only_name_and_address"
    if sources & NAMED:
        return "only_name"
    return "value_known_nowhere_else"
