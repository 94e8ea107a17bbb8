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

from bisect import bisect_left

from .silos import Chunk

HardCase = tuple[str, str, str, str, str]  # source, source_key, person_id, case, island
NAMED = frozenset({"crm", "email", "chat", "social"})


def hard_cases(chunk: Chunk, bad: set[int], world_shared: frozenset[str]) -> list[HardCase]:
    """The hard cases of one chunk (``bad``: truth rows of broken records, web hits as ``-1 - index``)."""
    shared = chunk.shared
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        root = x
        while (up := parent.get(root, root)) != root:
            root = up
        while x != root:
            parent[x], x = root, parent[x]
        return root

    def join(keys: list[str]) -> str:
        r = find(keys[0])
        for k in keys[1:]:
            rk = find(k)
            if rk != r:
                parent[rk] = r
        return r

    truth, web = chunk.truth, chunk.web_truth
    # units: (person, first key or "", sources, keys, shared seen, records (truth rows; web: -1 - index))
    units: list[tuple[str, str, str, list[str], bool, list[int]]] = []
    links = dict(chunk.links)
    for i, row in enumerate(truth):
        pid = row[2]
        if pid is None or i in bad:
            continue
        keys = links.get(i, ())
        usable = [k for k in keys if k not in shared and k not in world_shared]
        if usable:
            join(usable)
        units.append((pid, usable[0] if usable else "", row[0], usable, len(usable) < len(keys), [i]))
    bad_web = sorted(-1 - b for b in bad if b < 0)
    for ti0, n, cookie, uid_from, shop_key, eid_key in chunk.web_links:
        hits = list(range(ti0, ti0 + n))
        if bad_web and (k := bisect_left(bad_web, ti0)) < len(bad_web) and bad_web[k] < ti0 + n:
            gone = set(bad_web)
            hits = [j for j in hits if j not in gone]
            if not hits:
                continue
        usable = [cookie]
        if uid_from >= 0 and hits[-1] >= uid_from:
            usable.append(shop_key)
        if eid_key and hits[0] == ti0:
            usable.append(eid_key)
        usable = [k for k in usable if k not in shared and k not in world_shared]
        if usable:
            join(usable)
        units.append((web[ti0][1], usable[0] if usable else "", "web", usable, False, [-1 - j for j in hits]))

    # components of each person, in the order they first appear
    people: dict[str, dict[str, list[int]]] = {}
    for u, (pid, first, _, _, _, recs) in enumerate(units):
        comp = find(first) if first else f"#{u}"
        comps = people.setdefault(pid, {})
        entry = comps.get(comp)
        if entry is None:
            comps[comp] = [len(recs), u]
        else:
            entry[0] += len(recs)
            entry.append(u)
    out: list[HardCase] = []
    typos = chunk.typos
    for pid, comps in people.items():
        if len(comps) < 2:
            continue
        ranked = sorted(comps.values(), key=lambda e: (-e[0], e[1]))
        for k, entry in enumerate(sorted(ranked[1:], key=lambda e: e[1]), start=1):
            members = [units[u] for u in entry[1:]]
            sources = {m[2] for m in members}
            values = {key for m in members for key in m[3]}
            case = _case(sources, {v[0] for v in values}, any(m[4] for m in members), bool(values & typos))
            island = f"{pid}-{k}"
            for m in members:
                for r in m[5]:
                    key = web[-1 - r][0] if r < 0 else truth[r][1]
                    out.append((m[2], key, pid, case, island))
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
