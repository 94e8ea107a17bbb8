"""Identity resolution, incremental by construction (docs/IDENTITY.md).

Stages, each reading and writing documented tables:

1. normalise every new raw identifier value once (``identifier_norm``, in SQL; ``phonenumbers`` only for
   phones the SQL rules cannot settle) and register new canonical identifiers (``identifiers``), flagging
   placeholders and role mailboxes;
2. link events to identifiers (``event_links``) and identifiers to each other when they appear on the same
   record (``identity_links``, with the first evidence event and a count);
3. merge protection: an identifier whose neighbours break a per-kind limit is *shared* (kept, explained);
4. re-cluster only the customers touched by new links (``identity_map``, ``customers``), keeping keys
   stable and recording every create/merge/split/shared in ``identity_changes``;
5. give every affected event its customer (``event_customer``).

A full run (``full=True``) recomputes links and clusters from all events but keeps existing keys.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..store.duckdb import DuckDBEngine
from ..store.schema import create_indexes, drop_indexes, recreate
from . import cluster
from . import normalize as nz
from . import normalize_sql as ns
from .cluster import Change, Edge, Node, assign_keys, components, constrained
from .fuzzy import stage as fz
from .fuzzy import union as fu
from .names import conflicting_pair
from .policy import ANCHOR_KINDS, EVENT_PRIORITY, LIMITS, TRUST

ProgressFn = Callable[[str, float], None]

_TEMPS = (
    "_ei",
    "_newraw",
    "_normnew",
    "_newid",
    "_pairs",
    "_touched",
    "_nodes",
    "_comp",
    "_aff_seq",
    "_map_new",
    "_keys",
    "_ckeys",
    "_idkey",
    "_changed",
    "_map_final",
    "_normd",
)


@dataclass
class ResolveResult:
    events: int = 0  # events processed in this run
    new_identifiers: int = 0
    invalid_values: int = 0
    links: int = 0
    shared: int = 0
    customers_created: int = 0
    merges: int = 0
    splits: int = 0
    customers: int = 0
    seconds: float = 0.0
    timings: dict[str, float] = field(default_factory=dict)
    fuzzy: fz.FuzzyResult = field(default_factory=fz.FuzzyResult)
    fuzzy_merges: int = 0  # unions along fuzzy links that joined customers or new records
    fuzzy_refused: int = 0
    fuzzy_edges: int = 0  # fuzzy/reviewed links between components considered by the union
    fuzzy_fast_edges: int = 0  # of those, in components without a conflict (united vectorised)


class _KeysInUse(set[str]):
    """Customer keys in use, as ``assign_keys`` asks: the keys it adds, the keys among ``checked`` that
    exist (``known``), and any other key looked up in the workspace when asked."""

    def __init__(self, eng: DuckDBEngine, checked: set[str], known: set[str]) -> None:
        super().__init__(known)
        self.eng, self.checked = eng, checked

    def __contains__(self, key: object) -> bool:
        if super().__contains__(key) or key in self.checked:
            return super().__contains__(key)
        return bool(
            self.eng.one(
                "SELECT 1 FROM customers WHERE customer_key = ? UNION ALL SELECT 1 FROM _map_new WHERE customer_key = ?",
                [key, key],
            )
        )


def _case(col: str, mapping: dict[str, int], default: int) -> str:
    whens = " ".join(f"WHEN {col} = '{k}' THEN {v}" for k, v in mapping.items())
    return f"(CASE {whens} ELSE {default} END)"


def _limit_ns(kind: str, namespace: str) -> str:
    return f"CASE WHEN {kind} IN ('customer_id', 'loyalty_id', 'handle') THEN {namespace} ELSE '' END"


LIMIT_CASE = _case("kind", LIMITS, 1_000_000)
#: Order of identifiers for the home of a customer: earliest first; at a tie, accounts before emails before
#: phones and cookies, then by value. The same order in SQL (HOME_ORDER) and Python (home_order).
TRUST_RANK = _case("kind", {k: 10 - v for k, v in TRUST.items()}, 10)


def home_order(first_seen: object, kind: str, value: str) -> tuple[object, int, str]:
    return (first_seen, 10 - TRUST.get(kind, 0), value)


def _home_sql(f: str, kind: str, value: str) -> str:
    return f"({f}, {TRUST_RANK.replace('kind', kind)}, {value})"


PRIORITY_CASE = _case("kind", {k: i for i, k in enumerate(EVENT_PRIORITY)}, 99)


class Resolver:
    def __init__(self, eng: DuckDBEngine, progress: ProgressFn | None = None) -> None:
        self.eng = eng
        self.progress = progress
        self.now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        self.full = False
        self.retrain = False
        #: identifiers to re-cluster even without new events (review decisions, unmerge)
        self.extra_touched: list[int] = []
        #: home identifier -> merged customer key to bring back when its group splits off (unmerge)
        self.revive: dict[int, str] = {}
        #: fuzzy components without a conflict are united vectorised (False: all through ``fu.merge``)
        self.fast_union = True

    def _step(self, name: str, res: ResolveResult, t0: float, frac: float) -> float:
        t = time.perf_counter()
        res.timings[name] = round(t - t0, 3)
        if self.progress:
            self.progress(name, frac)
        return t

    def watermark(self) -> int:
        row = self.eng.one("SELECT watermark_seq FROM stage_state WHERE stage = 'identity'")
        return int(row[0]) if row else 0

    def run(self, full: bool = False, retrain: bool = False) -> ResolveResult:
        res = ResolveResult()
        self.retrain = retrain
        t_start = t = time.perf_counter()
        e = self.eng
        w = 0 if full else self.watermark()
        if w == 0 and not e.scalar("SELECT count(*) FROM (SELECT 1 FROM identity_map LIMIT 1)"):
            full = True  # a first run is a full run (cheaper paths, same result)
        top = int(e.scalar("SELECT coalesce(max(seq), 0) FROM events"))
        if top <= w and not full and not self.extra_touched and not retrain:
            res.customers = int(e.scalar("SELECT count(*) FROM customers WHERE status = 'active'"))
            return res
        self.full = full
        e.execute("BEGIN TRANSACTION")
        try:
            if full:
                for table in ("event_customer", "identity_map", "identifiers"):
                    drop_indexes(e, table)
                recreate(e, "event_links")
                recreate(e, "identity_links")
                recreate(e, "event_names")
                e.execute("UPDATE identifiers SET n_events = 0, first_seen = NULL, last_seen = NULL")
            e.execute(f"""CREATE OR REPLACE TEMP TABLE _ei AS
                SELECT seq, occurred_at, n_ids, channel, department, i.kind AS kind, i.namespace AS namespace,
                       i.raw AS raw, i.region AS region
                FROM (SELECT seq, occurred_at, channel, department, len(identifiers) AS n_ids,
                             unnest(identifiers) AS i FROM events
                      WHERE seq > {w} AND seq <= {top})""")
            res.events = int(e.scalar(f"SELECT count(*) FROM events WHERE seq > {w} AND seq <= {top}"))
            t = self._step("read", res, t, 0.05)
            self._normalise_new(res)
            t = self._step("normalise", res, t, 0.2)
            self._register_identifiers(res)
            t = self._step("identifiers", res, t, 0.3)
            self._link_events(w, top)
            t = self._step("link events", res, t, 0.45)
            self._names(w, top)
            self._link_identifiers(res, w, top)
            t = self._step("links", res, t, 0.55)
            self._shared_by_neighbours(res, full)
            self._shared_by_names(res, full)
            t = self._step("merge protection", res, t, 0.6)
            self._fuzzy(w, top, full, res)
            t = self._step("fuzzy", res, t, 0.65)
            self._recluster(full, res)
            t = self._step("cluster", res, t, 0.8)
            self._assign_events(w, top, full)
            t = self._step("events", res, t, 0.9)
            self._customer_stats(full)
            e.execute("INSERT OR REPLACE INTO stage_state VALUES ('identity', ?, ?)", [top, self.now])
            e.execute(
                "INSERT OR REPLACE INTO meta SELECT 'phone_regions', coalesce(string_agg(region, ',' ORDER BY n DESC), '') "
                "FROM (SELECT region, count(*) AS n FROM identifier_norm WHERE kind = 'phone' AND region <> '' GROUP BY 1)"
            )
            # namespaces of ids ("crm", "shop", a handle's platform...), for look-ups of a bare id in any system
            e.execute(
                "INSERT OR REPLACE INTO meta SELECT 'id_namespaces', coalesce(string_agg(DISTINCT ns, ','), '') FROM "
                "(SELECT DISTINCT split_part(value, ':', 1) || ':' AS ns FROM identifiers "
                "WHERE kind IN ('customer_id', 'loyalty_id', 'handle') OR (kind = 'anonymous_id' AND namespace <> ''))"
            )
            e.execute("COMMIT")
        except BaseException:
            e.execute("ROLLBACK")
            raise
        finally:
            for tmp in _TEMPS:
                e.execute(f"DROP TABLE IF EXISTS {tmp}")
            if full:
                create_indexes(e)  # after the commit: built on committed data, and restored after a failure
        self._step("stats", res, t, 1.0)
        res.customers = int(e.scalar("SELECT count(*) FROM customers WHERE status = 'active'"))
        res.seconds = round(time.perf_counter() - t_start, 3)
        return res

    # --- 1. normalisation ----------------------------------------------------------------------

    def _normalise_new(self, res: ResolveResult) -> None:
        e = self.eng
        e.execute("CREATE OR REPLACE TEMP TABLE _normnew AS SELECT * FROM identifier_norm LIMIT 0")
        e.execute("""CREATE OR REPLACE TEMP TABLE _newraw AS
            SELECT DISTINCT kind, namespace, raw, region FROM _ei d
            WHERE NOT EXISTS (SELECT 1 FROM identifier_norm n WHERE n.kind = d.kind AND n.namespace = d.namespace
                              AND n.raw = d.raw AND n.region = d.region)""")
        if not e.scalar("SELECT count(*) FROM _newraw"):
            return
        regions = [r[0] for r in e.execute("SELECT DISTINCT region FROM _newraw WHERE kind = 'phone'")]
        res.invalid_values = normalise_table(e, "_newraw", regions, dest="_normnew")

    def _register_identifiers(self, res: ResolveResult) -> None:
        e = self.eng
        e.execute("""CREATE OR REPLACE TEMP TABLE _newid AS
            SELECT DISTINCT n.kind, CASE WHEN n.kind IN ('email', 'phone') THEN '' ELSE n.namespace END AS namespace,
                   n.value
            FROM _normnew n
            WHERE n.valid AND NOT EXISTS (SELECT 1 FROM identifiers i WHERE i.kind = n.kind AND i.value = n.value)""")
        n = int(e.scalar("SELECT count(*) FROM _newid") or 0)
        if n:
            base = int(e.scalar("SELECT coalesce(max(identifier_id), 0) FROM identifiers"))
            e.execute(f"""CREATE OR REPLACE TEMP TABLE _newid2 AS
                SELECT {base} + row_number() OVER (ORDER BY kind, value) AS identifier_id, kind, namespace, value
                FROM _newid""")
            e.execute("""INSERT INTO identifiers (identifier_id, kind, namespace, value, n_events, status)
                         SELECT identifier_id, kind, namespace, value, 0, 'active' FROM _newid2""")
            # placeholders and role mailboxes, one statement per kind (a CASE over kinds evaluates every branch)
            for kind in ("phone", "email", "customer_id", "loyalty_id", "anonymous_id"):
                reason = ns.placeholder_sql(f"'{kind}'", "value")
                e.execute(f"""UPDATE identifiers SET status = 'placeholder', status_reason = s.r FROM (
                        SELECT identifier_id, {reason} AS r FROM _newid2 WHERE kind = '{kind}') s
                    WHERE s.r IS NOT NULL AND identifiers.identifier_id = s.identifier_id""")
            e.execute(f"""UPDATE identifiers SET status = 'shared', status_reason = s.r FROM (
                    SELECT identifier_id, {ns.role_sql("value")} AS r FROM _newid2 WHERE kind = 'email') s
                WHERE s.r IS NOT NULL AND identifiers.identifier_id = s.identifier_id AND identifiers.status = 'active'""")
            e.execute("DROP TABLE _newid2")
            first = self._next_change()
            shared = e.execute(
                f"""INSERT INTO identity_changes
                SELECT {first} + row_number() OVER (ORDER BY identifier_id), ?, NULL, 'shared', NULL, NULL,
                       identifier_id, status_reason, NULL
                FROM identifiers WHERE identifier_id > {base} AND status <> 'active'""",
                [self.now],
            )
            res.shared += int(shared[0][0]) if shared else 0
        res.new_identifiers = n
        # cache the identifier of every normalised raw value (one join instead of two when linking)
        e.execute("""INSERT INTO identifier_norm
            SELECT n.kind, n.namespace, n.raw, n.region, n.value, n.valid, n.reason, i.identifier_id
            FROM _normnew n LEFT JOIN identifiers i ON n.valid AND i.kind = n.kind AND i.value = n.value""")

    def _next_change(self) -> int:
        return int(self.eng.scalar("SELECT coalesce(max(change_id), 0) FROM identity_changes"))

    # --- 2. links ------------------------------------------------------------------------------

    def _link_events(self, w: int, top: int) -> None:
        e = self.eng
        # an event written with one identifier links it once; only several can repeat one (Mario@x, mario@x)
        e.execute("""INSERT INTO event_links
            SELECT d.seq, n.identifier_id, d.occurred_at, d.n_ids, d.channel, d.department
            FROM _ei d JOIN identifier_norm n USING (kind, namespace, raw, region)
            WHERE n.identifier_id IS NOT NULL AND d.n_ids = 1
            UNION ALL
            SELECT d.seq, n.identifier_id, any_value(d.occurred_at), any_value(d.n_ids), any_value(d.channel),
                   any_value(d.department)
            FROM _ei d JOIN identifier_norm n USING (kind, namespace, raw, region)
            WHERE n.identifier_id IS NOT NULL AND d.n_ids > 1
            GROUP BY d.seq, n.identifier_id""")
        e.execute("DROP TABLE _ei")  # the largest temporary table: free it before the next steps
        e.execute(f"""UPDATE identifiers SET n_events = identifiers.n_events + s.n,
                first_seen = least(coalesce(identifiers.first_seen, s.f), s.f),
                last_seen = greatest(coalesce(identifiers.last_seen, s.l), s.l)
            FROM (SELECT identifier_id, count(*) AS n, min(occurred_at) AS f, max(occurred_at) AS l
                  FROM event_links WHERE seq > {w} AND seq <= {top} GROUP BY identifier_id) s
            WHERE identifiers.identifier_id = s.identifier_id""")

    def _names(self, w: int, top: int) -> None:
        """The person name on each new event (the substring test skips the JSON of most web hits)."""
        self.eng.execute(f"""INSERT INTO event_names
            SELECT seq, nm FROM (
                SELECT seq, coalesce(traits->>'name',
                                     nullif(concat_ws(' ', traits->>'first_name', traits->>'last_name'), '')) AS nm
                FROM events WHERE seq > {w} AND seq <= {top} AND traits IS NOT NULL
                  AND contains(CAST(traits AS VARCHAR), 'name"'))
            WHERE nm IS NOT NULL""")

    def _link_identifiers(self, res: ResolveResult, w: int, top: int) -> None:
        e = self.eng
        # only events written with several identifiers can link two (most web hits carry one cookie)
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _pairs AS
            WITH l AS (SELECT * FROM event_links WHERE n_ids > 1 AND seq > {w} AND seq <= {top})
            SELECT l1.identifier_id AS a, l2.identifier_id AS b, count(*) AS n, min(l1.seq) AS first_seq,
                   min(l1.occurred_at) AS f, max(l1.occurred_at) AS l
            FROM l l1 JOIN l l2 ON l1.seq = l2.seq AND l1.identifier_id < l2.identifier_id
            GROUP BY ALL""")
        e.execute("""UPDATE identity_links SET n_events = identity_links.n_events + p.n,
                first_seen = least(identity_links.first_seen, p.f), last_seen = greatest(identity_links.last_seen, p.l)
            FROM _pairs p WHERE identity_links.a = p.a AND identity_links.b = p.b AND identity_links.rule = 'same_record'""")
        e.execute("""INSERT INTO identity_links
            SELECT a, b, 'same_record', 1.0, first_seq, n, f, l FROM _pairs p
            WHERE NOT EXISTS (SELECT 1 FROM identity_links x WHERE x.a = p.a AND x.b = p.b AND x.rule = 'same_record')""")
        res.links = int(e.scalar("SELECT count(*) FROM _pairs"))
        e.execute("""CREATE OR REPLACE TEMP TABLE _touched AS
            SELECT a AS id FROM _pairs UNION SELECT b FROM _pairs
            UNION SELECT i.identifier_id FROM _newid n JOIN identifiers i USING (kind, value)""")

    # --- 3. merge protection -------------------------------------------------------------------

    def _shared_by_neighbours(self, res: ResolveResult, full: bool) -> None:
        """Mark shared every non-account identifier whose neighbours break a limit."""
        e = self.eng
        anchors = ", ".join(f"'{k}'" for k in sorted(ANCHOR_KINDS))
        scope = "" if full else "AND v.identifier_id IN (SELECT id FROM _touched)"
        rows = e.execute(f"""
            WITH sl AS (SELECT a, b FROM identity_links WHERE rule = 'same_record'),
            nb AS (SELECT a AS v, b AS u FROM sl UNION ALL SELECT b AS v, a AS u FROM sl),
            c AS (
                SELECT nb.v, u.kind, {_limit_ns("u.kind", "u.namespace")} AS ns, count(DISTINCT nb.u) AS n,
                       min(u.value) AS ex1, max(u.value) AS ex2
                FROM nb JOIN identifiers u ON u.identifier_id = nb.u AND u.status <> 'placeholder'
                JOIN identifiers v ON v.identifier_id = nb.v
                WHERE v.status = 'active' AND v.kind NOT IN ({anchors}) {scope}
                GROUP BY ALL HAVING count(DISTINCT nb.u) > {LIMIT_CASE.replace("kind", "u.kind")})
            SELECT v, kind, ns, n, ex1, ex2 FROM c ORDER BY v, kind, ns""")
        if not rows:
            return
        first: dict[int, tuple[str, str, int, str, str]] = {}
        for v, kind, nsp, n, ex1, ex2 in rows:
            first.setdefault(int(v), (kind, nsp, int(n), ex1, ex2))
        recs = []
        for v, (kind, nsp, n, ex1, ex2) in first.items():
            what = f"{kind} ({nsp})" if nsp else kind
            reason = (
                f"used with {n} different {what} values (e.g. {ex1}, {ex2}); a person has at most "
                f"{LIMITS.get(kind)}: shared by several people"
            )
            recs.append(
                (v, reason, json.dumps({"kind": kind, "namespace": nsp, "count": n, "examples": [ex1, ex2]}))
            )
        tbl = pa.table(
            {"id": [r[0] for r in recs], "reason": [r[1] for r in recs], "detail": [r[2] for r in recs]}
        )
        with e.registered("_sh", tbl):
            e.execute("""UPDATE identifiers SET status = 'shared', status_reason = s.reason, status_detail = s.detail
                         FROM _sh s WHERE identifiers.identifier_id = s.id""")
            base = self._next_change()
            e.execute(
                f"""INSERT INTO identity_changes
                SELECT {base} + row_number() OVER (ORDER BY id), ?, NULL, 'shared', NULL, NULL, id, reason, detail::JSON
                FROM _sh""",
                [self.now],
            )
            e.execute("INSERT INTO _touched SELECT id FROM _sh EXCEPT SELECT id FROM _touched")
        res.shared += len(recs)

    def _shared_by_names(self, res: ResolveResult, full: bool) -> None:
        """Mark shared every non-account identifier seen on records that name different people."""
        e = self.eng
        anchors = ", ".join(f"'{k}'" for k in sorted(ANCHOR_KINDS))
        # an incremental run looks at the identifiers it touched only (in both scans: the inner one counted
        # every identifier's names in the workspace)
        scope, scope2 = (
            ("", "") if full else (f"AND {x}.identifier_id IN (SELECT id FROM _touched)" for x in ("l", "l2"))
        )
        rows = e.execute(f"""
            WITH named AS (SELECT seq, name AS nm FROM event_names)
            SELECT l.identifier_id, n.nm, count(*) AS records
            FROM event_links l JOIN named n ON n.seq = l.seq
            JOIN identifiers i ON i.identifier_id = l.identifier_id AND i.status = 'active' AND i.kind NOT IN ({anchors})
            WHERE n.nm IS NOT NULL {scope}
              AND l.identifier_id IN (SELECT l2.identifier_id FROM event_links l2 JOIN named n2 ON n2.seq = l2.seq
                                      WHERE n2.nm IS NOT NULL {scope2} GROUP BY 1 HAVING count(DISTINCT n2.nm) > 1)
            GROUP BY 1, 2""")
        by_id: dict[int, dict[str, int]] = {}
        for iid, nm, n in rows:
            by_id.setdefault(int(iid), {})[str(nm)] = int(n)
        found: dict[int, tuple[str, str]] = {}
        for iid, names in by_id.items():
            pair = conflicting_pair(names)
            if pair:
                found[iid] = (
                    f"seen on records of {pair[0]!r} ({names[pair[0]]}) and {pair[1]!r} "
                    f"({names[pair[1]]}): different people",
                    json.dumps({"names": names}),
                )
        if not found:
            return
        tbl = pa.table(
            {
                "id": pa.array(list(found), pa.int64()),
                "reason": [v[0] for v in found.values()],
                "detail": [v[1] for v in found.values()],
            }
        )
        with e.registered("_shn", tbl):
            e.execute("""UPDATE identifiers SET status = 'shared', status_reason = s.reason, status_detail = s.detail
                         FROM _shn s WHERE identifiers.identifier_id = s.id""")
            base = self._next_change()
            e.execute(
                f"""INSERT INTO identity_changes
                SELECT {base} + row_number() OVER (ORDER BY id), ?, NULL, 'shared', NULL, NULL, id, reason, detail::JSON
                FROM _shn""",
                [self.now],
            )
            e.execute("INSERT INTO _touched SELECT id FROM _shn EXCEPT SELECT id FROM _touched")
        res.shared += len(found)

    # --- 3b. probabilistic links (identity/fuzzy) -------------------------------------------------

    def _fuzzy(self, w: int, top: int, full: bool, res: ResolveResult) -> None:
        e = self.eng
        if self.extra_touched:
            with e.registered("_xt", pa.table({"id": pa.array(self.extra_touched, pa.int64())})):
                e.execute("INSERT INTO _touched SELECT id FROM _xt EXCEPT SELECT id FROM _touched")
        if full or self.extra_touched:
            fz.review_links(e)  # a full run recreated identity_links; decisions may have changed
        res.fuzzy = fz.FuzzyStage(e, self.now).run(w, top, full, self.retrain)

    def _fuzzy_union(self, res: ResolveResult) -> None:
        """Join deterministic components along fuzzy/reviewed links, with merge protection (fuzzy/union.py).

        The groups are split into *fuzzy components* (connected over the links). A component without any
        conflict (per-kind totals within the limits, compatible birth dates, no conflicting names, no pair
        decided apart) is united whole and its recorded unions are Kruskal's forest in ``merge``'s order,
        both vectorised; only components with a conflict take ``merge``, the careful Python path. Both give
        the same clusters and merge history (``fast_union = False`` sends every component through
        ``merge``: tests compare the two)."""
        e = self.eng
        rules = ", ".join(f"'{r}'" for r in fz.FUZZY_RULES)
        # the links of the nodes in play only (an incremental run re-clusters a few thousand nodes, not the
        # million links); the customers of both ends before this run: a union they already made is kept
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _fzl AS SELECT a, b, score, rule FROM identity_links
                      WHERE rule IN ({rules}) AND a IN (SELECT id FROM _comp) AND b IN (SELECT id FROM _comp)""")
        te = e.arrow("""SELECT l.a, l.b, c1.comp AS ga, c2.comp AS gb, l.score, l.rule = 'review' AS review,
                               ma.customer_key AS ka, mb.customer_key AS kb
                        FROM _fzl l JOIN _comp c1 ON c1.id = l.a JOIN _comp c2 ON c2.id = l.b
                        LEFT JOIN identity_map ma ON ma.identifier_id = l.a
                        LEFT JOIN identity_map mb ON mb.identifier_id = l.b
                        WHERE c1.comp <> c2.comp""")
        e.execute("DROP TABLE _fzl")
        res.fuzzy_edges = te.num_rows
        if te.num_rows == 0:
            return
        col = {
            c: te.column(c).to_numpy(zero_copy_only=False) for c in ("a", "b", "ga", "gb", "score", "review")
        }
        a, b = col["a"].astype(np.int64), col["b"].astype(np.int64)
        ga, gb = col["ga"].astype(np.int64), col["gb"].astype(np.int64)
        score, review = col["score"].astype(np.float64), col["review"].astype(bool)
        # both ends already in one customer (a union accepted earlier: kept)
        same = pc.fill_null(pc.equal(te.column("ka"), te.column("kb")), False)
        sticky = np.asarray(same.to_numpy(zero_copy_only=False), dtype=bool)
        rank = fu.edge_order(sticky, review, score, a, b)
        gids = np.unique(np.concatenate([ga, gb]))
        ia, ib = np.searchsorted(gids, ga), np.searchsorted(gids, gb)
        fc = components(np.arange(len(gids), dtype=np.int64), ia, ib)  # fuzzy component of each group
        clean = self._clean_components(gids, fc) if self.fast_union else np.zeros(int(fc.max()) + 1, bool)
        edge_clean = clean[fc[ia]]
        res.fuzzy_fast_edges = int(edge_clean.sum())
        root = gids.copy()  # group -> root group
        accepted = np.zeros(0, dtype=np.int64)
        if edge_clean.any():
            # every group of a clean component joins its smallest group; the unions: Kruskal's forest
            first = np.full(len(clean), np.iinfo(np.int64).max, dtype=np.int64)
            np.minimum.at(first, fc, gids)
            g_clean = clean[fc]
            root[g_clean] = first[fc[g_clean]]
            sel = np.flatnonzero(edge_clean)
            accepted = sel[fu.forest(len(gids), ia[sel], ib[sel], rank[sel])]
        # the decided edges (indices) and, for each, None (united) or the refusal reason
        dec_k = [accepted]
        reasons: list[str | None] = [None] * len(accepted)
        if not edge_clean.all():
            hard = np.flatnonzero(~edge_clean)
            got = self._merge_careful(hard, a, b, ga, gb, score, review, sticky)
            if got is not None:
                groot, hard_decisions = got
                pos = np.searchsorted(gids, np.fromiter(groot.keys(), np.int64, len(groot)))
                root[pos] = np.fromiter(groot.values(), np.int64, len(groot))
                dec_k.append(np.fromiter((k for k, _ in hard_decisions), np.int64, len(hard_decisions)))
                reasons.extend(reason for _, reason in hard_decisions)
        moved = root != gids
        if moved.any():
            with e.registered("_fzm", pa.table({"comp": gids[moved], "root": root[moved]})):
                e.execute("UPDATE _comp SET comp = m.root FROM _fzm m WHERE _comp.comp = m.comp")
        k_all = np.concatenate(dec_k)
        refusal = pa.array(reasons, pa.string())
        # record the unions that join what was apart (new records, other customers) and every refusal, in
        # the order they were decided
        keep = ~(sticky[k_all] & np.asarray(pc.is_null(refusal).to_numpy(zero_copy_only=False), dtype=bool))
        k_keep, refusal = k_all[keep], refusal.filter(pa.array(keep))
        by_rank = np.argsort(rank[k_keep], kind="stable")
        k_keep, refusal = k_keep[by_rank], refusal.take(pa.array(by_rank))
        n_united = int(refusal.null_count)
        res.fuzzy_merges += n_united
        res.fuzzy_refused += len(refusal) - n_united
        self._record_decisions(te, k_keep, refusal)

    def _record_decisions(self, te: pa.Table, k: np.ndarray, refusal: pa.Array) -> None:
        """Changes ``fuzzy_link`` (refusal NULL) and ``refused_link`` of the edges ``k`` (rows of ``te``), in
        this order: built by the engine, not by a Python loop (600k decisions on a million records)."""
        if len(k) == 0:
            return
        base = self._next_change()
        sel = pa.array(k)
        tbl = pa.table(
            {
                "ord": pa.array(np.arange(1, len(k) + 1, dtype=np.int64)),
                "a": te.column("a").take(sel),
                "b": te.column("b").take(sel),
                "score": te.column("score").take(sel),
                "review": te.column("review").take(sel),
                "ka": te.column("ka").take(sel),
                "kb": te.column("kb").take(sel),
                "refusal": refusal,
            }
        )
        with self.eng.registered("_dec_in", tbl):
            self.eng.execute(
                f"""INSERT INTO identity_changes
                SELECT {base} + ord, ?, NULL, CASE WHEN refusal IS NULL THEN 'fuzzy_link' ELSE 'refused_link' END,
                       CASE WHEN refusal IS NULL THEN coalesce(ka, kb) ELSE ka END,
                       CASE WHEN refusal IS NULL THEN (CASE WHEN ka IS NOT NULL THEN kb END) ELSE kb END,
                       a,
                       CASE WHEN refusal IS NULL THEN printf('%s match (p=%.4f) joins identifier %d to %d', rl, score, b, a)
                            ELSE printf('%s match (p=%.4f) refused: %s', rl, score, refusal) END,
                       printf('{{"a": %d, "b": %d, "rule": "%s", "score": %s}}', a, b, rl,
                              CAST(round(score, 6) AS VARCHAR))::JSON
                FROM (SELECT *, CASE WHEN review THEN 'review' ELSE 'fuzzy' END AS rl FROM _dec_in)
                ORDER BY ord""",
                [self.now],
            )

    def _clean_components(self, gids: np.ndarray, fc: np.ndarray) -> np.ndarray:
        """Per fuzzy component: True when no two of its groups could be refused (see ``_fuzzy_union``)."""
        e = self.eng
        clean = np.ones(int(fc.max()) + 1, dtype=bool)
        limited = ", ".join(f"'{k}'" for k in LIMITS)
        with e.registered("_fzg_in", pa.table({"comp": gids, "fc": fc})):
            e.execute("CREATE OR REPLACE TEMP TABLE _fzg AS SELECT comp, fc FROM _fzg_in")
        try:
            over = e.arrow(f"""SELECT DISTINCT fc FROM (
                    SELECT g.fc, i.kind, {_limit_ns("i.kind", "i.namespace")} AS ns, count(*) AS n
                    FROM _fzg g JOIN _comp c ON c.comp = g.comp JOIN identifiers i ON i.identifier_id = c.id
                    WHERE i.kind IN ({limited}) GROUP BY ALL) WHERE n > {LIMIT_CASE}""")
            clean[over.column("fc").to_numpy()] = False
            apart = e.arrow("""SELECT DISTINCT g1.fc FROM fuzzy_reviews r
                JOIN _comp c1 ON c1.id = r.node_a JOIN _fzg g1 ON g1.comp = c1.comp
                JOIN _comp c2 ON c2.id = r.node_b JOIN _fzg g2 ON g2.comp = c2.comp
                WHERE r.decision = 'different' AND g1.fc = g2.fc""")
            clean[apart.column("fc").to_numpy()] = False
            for attr, ok in (("dob", fu.dobs_clean), ("name_toks", fu.names_clean)):
                # components with two different values or more; the pairs are judged in Python
                t = e.arrow(f"""SELECT fc, list(v) AS vs FROM (
                        SELECT DISTINCT g.fc, r.{attr} AS v FROM _fzg g JOIN _comp c ON c.comp = g.comp
                        JOIN fuzzy_records r ON r.node_id = c.id WHERE r.{attr} IS NOT NULL AND r.{attr} <> '')
                    GROUP BY fc HAVING count(*) > 1""")
                fcs = t.column("fc").to_pylist()
                vals = t.column("vs").to_pylist()
                bad = [f for f, vs in zip(fcs, vals, strict=True) if clean[f] and not ok(vs)]
                clean[np.asarray(bad, dtype=np.int64)] = False
        finally:
            e.execute("DROP TABLE IF EXISTS _fzg")
        return clean

    def _merge_careful(
        self,
        sel: np.ndarray,
        a: np.ndarray,
        b: np.ndarray,
        ga: np.ndarray,
        gb: np.ndarray,
        score: np.ndarray,
        review: np.ndarray,
        sticky: np.ndarray,
    ) -> tuple[dict[int, int], list[tuple[int, str | None]]] | None:
        """``fu.merge`` over the edges ``sel`` (indices): (group -> root, [(edge index, reason)])."""
        e = self.eng
        edges = [
            fu.FuzzyEdge(x, y, gx, gy, sc, "review" if rv else "fuzzy", bool(st))
            for x, y, gx, gy, sc, rv, st in zip(
                a[sel].tolist(),
                b[sel].tolist(),
                ga[sel].tolist(),
                gb[sel].tolist(),
                score[sel].tolist(),
                review[sel].tolist(),
                sticky[sel].tolist(),
                strict=True,
            )
        ]
        index = {(x.a, x.b, x.rule): int(k) for x, k in zip(edges, sel.tolist(), strict=True)}
        with e.registered(
            "_fzg",
            pa.table({"comp": pa.array(sorted({x.ga for x in edges} | {x.gb for x in edges}), pa.int64())}),
        ):
            members = e.arrow("""SELECT c.comp, c.id, i.kind, i.namespace FROM _comp c
                                 JOIN identifiers i ON i.identifier_id = c.id WHERE c.comp IN (SELECT comp FROM _fzg)""")
            attrs = e.arrow("""SELECT c.comp, r.dob, r.name_toks FROM _comp c JOIN fuzzy_records r ON r.node_id = c.id
                               WHERE c.comp IN (SELECT comp FROM _fzg)""")
            cannot = {
                (int(x), int(y))
                for x, y in e.execute("""SELECT node_a, node_b FROM fuzzy_reviews WHERE decision = 'different'
                    AND node_a IN (SELECT c.id FROM _comp c WHERE c.comp IN (SELECT comp FROM _fzg))""")
            }
        kinds: dict[int, list[tuple[str, str]]] = {}
        nodes: dict[int, list[int]] = {}
        for comp, i, k, nsp in zip(
            *(members.column(c).to_pylist() for c in members.column_names), strict=True
        ):
            kinds.setdefault(comp, []).append((k, nsp))
            nodes.setdefault(comp, []).append(i)
        dobs: dict[int, list[str]] = {}
        names: dict[int, list[str]] = {}
        for comp, dob, nm in zip(*(attrs.column(c).to_pylist() for c in attrs.column_names), strict=True):
            if dob:
                dobs.setdefault(comp, []).append(dob)
            if nm:
                names.setdefault(comp, []).append(nm)
        groups = {
            g: fu.group_of(kinds.get(g, []), dobs.get(g, []), names.get(g, []), nodes.get(g, []))
            for g in kinds
        }
        edges = [x for x in edges if x.ga in groups and x.gb in groups]
        if not edges:
            return None
        root, decisions = fu.merge(groups, edges, cannot)
        return root, [(index[(d.a, d.b, d.rule)], reason) for d, reason in decisions]

    # --- 4. clustering and keys ----------------------------------------------------------------

    def _node_set(self, full: bool) -> None:
        e = self.eng
        if full:
            e.execute("""CREATE OR REPLACE TEMP TABLE _nodes AS
                SELECT identifier_id AS id FROM identifiers UNION SELECT identifier_id FROM identity_map""")
            return
        e.execute("CREATE OR REPLACE TEMP TABLE _nodes AS SELECT id FROM _touched")
        # closure: members of affected customers, and their active neighbours on the same records. Fuzzy
        # links are not followed: new ones put both ends in _touched, old ones inside a customer come with its
        # members, and old ones between customers (refused or ambiguous) chain through every namesake in the
        # workspace (a 10k-record incremental run re-clustered 21k nodes in 178 s)
        for _ in range(50):
            before = int(e.scalar("SELECT count(*) FROM _nodes"))
            e.execute("""INSERT INTO _nodes
                SELECT m.identifier_id FROM identity_map m WHERE m.customer_key IN (
                    SELECT customer_key FROM identity_map WHERE identifier_id IN (SELECT id FROM _nodes))
                EXCEPT SELECT id FROM _nodes""")
            e.execute("""INSERT INTO _nodes
                SELECT l.b FROM identity_links l JOIN identifiers i ON i.identifier_id = l.a AND i.status = 'active'
                WHERE l.a IN (SELECT id FROM _nodes) AND l.rule = 'same_record'
                UNION SELECT l.a FROM identity_links l JOIN identifiers i ON i.identifier_id = l.b AND i.status = 'active'
                WHERE l.b IN (SELECT id FROM _nodes) AND l.rule = 'same_record'
                EXCEPT SELECT id FROM _nodes""")
            if int(e.scalar("SELECT count(*) FROM _nodes")) == before:
                break

    def _recluster(self, full: bool, res: ResolveResult) -> None:
        e = self.eng
        self._node_set(full)
        act = e.arrow("""SELECT n.id FROM _nodes n JOIN identifiers i ON i.identifier_id = n.id
                         WHERE i.status = 'active' ORDER BY n.id""")
        act_ids = np.asarray(act.column("id").to_numpy(), dtype=np.int64)
        te = e.arrow("""SELECT l.a, l.b FROM identity_links l
                        JOIN identifiers ia ON ia.identifier_id = l.a AND ia.status = 'active'
                        JOIN identifiers ib ON ib.identifier_id = l.b AND ib.status = 'active'
                        WHERE l.a IN (SELECT id FROM _nodes) AND l.b IN (SELECT id FROM _nodes)
                          AND l.rule = 'same_record'""")
        labels = components(
            act_ids,
            np.asarray(te.column("a").to_numpy(), dtype=np.int64),
            np.asarray(te.column("b").to_numpy(), dtype=np.int64),
        )
        with e.registered("_comp_in", pa.table({"id": act_ids, "comp": labels})):
            e.execute("CREATE OR REPLACE TEMP TABLE _comp AS SELECT id, comp FROM _comp_in")
        self._split_over_limit(res)
        self._fuzzy_union(res)
        self._assign_keys(res)

    def _split_over_limit(self, res: ResolveResult) -> None:
        """Components breaking a per-kind limit are re-clustered by the constrained union-find."""
        e = self.eng
        bad = e.arrow(f"""
            WITH k AS (SELECT c.comp, i.kind, {_limit_ns("i.kind", "i.namespace")} AS ns, count(*) AS n
                       FROM _comp c JOIN identifiers i ON i.identifier_id = c.id GROUP BY ALL)
            SELECT DISTINCT comp FROM k WHERE n > {LIMIT_CASE}""")
        if bad.num_rows == 0:
            return
        with e.registered("_badc", bad):
            tn = e.arrow("""SELECT c.comp, i.identifier_id, i.kind, i.namespace, i.value,
                                   coalesce(i.first_seen, TIMESTAMP '9999-12-31') AS first_seen
                            FROM _comp c JOIN identifiers i ON i.identifier_id = c.id
                            WHERE c.comp IN (SELECT comp FROM _badc) ORDER BY c.comp, i.identifier_id""")
            te = e.arrow("""SELECT c.comp, l.a, l.b, l.n_events, l.evidence_seq FROM identity_links l
                            JOIN _comp c ON c.id = l.a JOIN _comp c2 ON c2.id = l.b AND c2.comp = c.comp
                            WHERE c.comp IN (SELECT comp FROM _badc)""")
        nodes_by: dict[int, dict[int, Node]] = {}
        for comp, i, k, nsp, v, f in zip(*(tn.column(c).to_pylist() for c in tn.column_names), strict=True):
            nodes_by.setdefault(comp, {})[i] = Node(i, k, nsp, v, home_order(f, k, v))
        edges_by: dict[int, list[Edge]] = {}
        for comp, a, b, n, s in zip(*(te.column(c).to_pylist() for c in te.column_names), strict=True):
            edges_by.setdefault(comp, []).append(Edge(a, b, int(n), int(s or 0)))
        next_comp = int(e.scalar("SELECT coalesce(max(comp), 0) + 1 FROM _comp"))
        new_ids, new_comps = [], []
        shared_now: dict[int, str] = {}
        refused: list[Change] = []
        for comp in sorted(nodes_by):
            groups, sh, rf = constrained(nodes_by[comp], edges_by.get(comp, []))
            shared_now.update(sh)
            refused.extend(rf)
            for g in groups:
                for i in g:
                    new_ids.append(i)
                    new_comps.append(next_comp)
                next_comp += 1
        with e.registered(
            "_recomp",
            pa.table({"id": pa.array(new_ids, pa.int64()), "comp": pa.array(new_comps, pa.int64())}),
        ):
            # drop the over-limit components (their new bridges included) and add their parts
            e.execute(
                "DELETE FROM _comp WHERE comp IN (SELECT comp FROM _comp WHERE id IN (SELECT id FROM _recomp))"
            )
            e.execute("INSERT INTO _comp SELECT id, comp FROM _recomp")
        if shared_now:
            self._mark_shared(shared_now)
            res.shared += len(shared_now)
        self._record(refused)

    def _assign_keys(self, res: ResolveResult) -> None:
        """Keys for every component: simple cases in SQL, merges and splits through ``assign_keys``."""
        e = self.eng
        # the home identifier of every old customer whose identifiers are in play: its earliest identifier
        # that is still active (a home that became shared passes to the next one)
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _keys AS
            WITH old AS (SELECT m.customer_key, m.identifier_id, i.kind, i.value,
                                coalesce(i.first_seen, TIMESTAMP '9999-12-31') AS f,
                                m.identifier_id IN (SELECT id FROM _comp) AS alive
                         FROM identity_map m JOIN identifiers i USING (identifier_id)
                         WHERE m.customer_key IN (SELECT customer_key FROM identity_map
                                                  WHERE identifier_id IN (SELECT id FROM _nodes)))
            SELECT customer_key, arg_min(identifier_id, {_home_sql("f", "kind", "value")}) FILTER (WHERE alive) AS home,
                   count(*) AS members
            FROM old GROUP BY customer_key""")
        # per component: its home identifier, old keys it holds, old keys whose home it holds
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _ckeys AS
            WITH ci AS (SELECT c.comp, c.id, i.kind, i.value, coalesce(i.first_seen, TIMESTAMP '9999-12-31') AS f,
                               m.customer_key AS old_key, h.customer_key AS home_of
                        FROM _comp c JOIN identifiers i ON i.identifier_id = c.id
                        LEFT JOIN identity_map m ON m.identifier_id = c.id
                        LEFT JOIN _keys h ON h.home = c.id)
            SELECT comp, arg_min(kind || ':' || value, {_home_sql("f", "kind", "value")}) AS home_value,
                   count(DISTINCT old_key) AS n_old, count(DISTINCT home_of) AS n_home, min(old_key) AS any_old,
                   min(home_of) AS any_home
            FROM ci GROUP BY comp""")
        # simple cases: no old key -> a new key from the home identifier; exactly one old key, whose home
        # identifier is here -> it keeps that key (fragments split off elsewhere take the slow path)
        e.execute("""CREATE OR REPLACE TEMP TABLE _map_new AS
            SELECT c.id, CASE WHEN k.n_old = 0 THEN 'cus_' || left(md5(k.home_value), 16) ELSE k.any_old END AS customer_key,
                   k.n_old = 0 AS created
            FROM _comp c JOIN _ckeys k USING (comp)
            WHERE k.n_old = 0 OR (k.n_old = 1 AND k.n_home = 1 AND k.any_home = k.any_old)""")
        # new keys must not collide with any existing key (or with each other): such components go the slow way
        e.execute("""DELETE FROM _map_new WHERE created AND customer_key IN (
            SELECT customer_key FROM customers
            UNION ALL SELECT customer_key FROM (SELECT customer_key, count(DISTINCT comp) AS n FROM _map_new m
                JOIN _comp c ON c.id = m.id WHERE m.created GROUP BY 1) WHERE n > 1)""")
        # the rest: merges, splits, moves, collisions
        rest = e.arrow("""SELECT c.comp, i.identifier_id, i.kind, i.namespace, i.value,
                                 coalesce(i.first_seen, TIMESTAMP '9999-12-31') AS first_seen, m.customer_key
                          FROM _comp c JOIN identifiers i ON i.identifier_id = c.id
                          LEFT JOIN identity_map m ON m.identifier_id = c.id
                          WHERE c.id NOT IN (SELECT id FROM _map_new) ORDER BY c.comp, i.identifier_id""")
        changes: list[Change] = []
        created = int(e.scalar("SELECT count(DISTINCT customer_key) FROM _map_new WHERE created") or 0)
        if created:
            first = self._next_change()
            e.execute(
                f"""INSERT INTO identity_changes
                SELECT {first} + row_number() OVER (ORDER BY customer_key), ?, NULL, 'create', customer_key, NULL,
                       NULL, 'new person', NULL
                FROM (SELECT DISTINCT customer_key FROM _map_new WHERE created)""",
                [self.now],
            )
        if rest.num_rows:
            cols = [rest.column(c).to_pylist() for c in rest.column_names]
            nodes: dict[int, Node] = {}
            old_key: dict[int, str] = {}
            groups_d: dict[int, list[int]] = {}
            for comp, i, k, nsp, v, f, ok in zip(*cols, strict=True):
                nodes[i] = Node(i, k, nsp, v, home_order(f, k, v))
                groups_d.setdefault(comp, []).append(i)
                if ok is not None:
                    old_key[i] = ok
            in_play = """SELECT DISTINCT m.customer_key FROM identity_map m JOIN _comp c ON c.id = m.identifier_id
                         WHERE c.id NOT IN (SELECT id FROM _map_new)"""
            homes = {
                k: int(h)
                for k, h in e.execute(
                    f"SELECT customer_key, home FROM _keys WHERE home IS NOT NULL AND customer_key IN ({in_play})"
                )
            }
            key_order: dict[str, tuple[object, ...]] = {
                k: (f or dt.datetime.max, k)
                for k, f in e.execute(
                    f"SELECT customer_key, first_seen FROM customers WHERE customer_key IN ({in_play})"
                )
            }
            taken = self._taken_keys(list(groups_d.values()), nodes)
            mapping, changes = assign_keys(list(groups_d.values()), nodes, old_key, key_order, homes, taken)
            for c in changes:  # the merged customer's home: what `customer unmerge` separates again
                if c.action == "merge" and c.other_key in homes:
                    c.detail = {**c.detail, "home_identifier": homes[c.other_key]}
            if self.revive:
                self._revive(mapping, changes)
            ids = list(mapping)
            with e.registered(
                "_slow",
                pa.table({"id": pa.array(ids, pa.int64()), "customer_key": [mapping[i] for i in ids]}),
            ):
                e.execute("INSERT INTO _map_new SELECT id, customer_key, false FROM _slow")
        # keys whose identifiers all became shared
        for (k,) in e.execute("""SELECT customer_key FROM _keys WHERE customer_key NOT IN
                                 (SELECT customer_key FROM _map_new)"""):
            if not any(c.action == "merge" and c.other_key == k for c in changes):
                changes.append(
                    Change(
                        "retired",
                        customer_key=k,
                        reason="all its identifiers are now shared by several people",
                    )
                )
        res.customers_created += created + sum(1 for c in changes if c.action in ("create", "split"))
        res.merges += sum(1 for c in changes if c.action == "merge")
        res.splits += sum(1 for c in changes if c.action == "split")
        self._write_map(changes)
        self._record(changes)

    def _taken_keys(self, groups: list[list[int]], nodes: dict[int, Node]) -> set[str]:
        """The existing keys ``new_key`` must avoid, without reading every customer key: the first two
        candidates of every member's (any may become a home) are looked up at once, any other key when
        asked (``_KeysInUse``)."""
        e = self.eng
        cands = sorted(
            {
                cluster.key_candidate(f"{nodes[n].kind}:{nodes[n].value}", i)
                for g in groups
                for n in g
                for i in range(2)
            }
        )
        with e.registered("_kc", pa.table({"k": pa.array(cands, pa.string())})):
            known = {
                str(r[0])
                for r in e.execute("""SELECT customer_key FROM customers WHERE customer_key IN (SELECT k FROM _kc)
                    UNION SELECT customer_key FROM _map_new WHERE customer_key IN (SELECT k FROM _kc)""")
            }
        return _KeysInUse(e, set(cands), known)

    def _revive(self, mapping: dict[int, str], changes: list[Change]) -> None:
        """A group split off that holds the home identifier of a merged customer gets its old key back."""
        for c in changes:
            if c.action != "split" or c.customer_key is None:
                continue
            members = [i for i, k in mapping.items() if k == c.customer_key]
            old = next((self.revive[i] for i in members if i in self.revive), None)
            if old is None:
                continue
            for i in members:
                mapping[i] = old
            c.reason = f"unmerged from {c.other_key}: {old} is back"
            c.action, c.customer_key = "unmerge", old

    def _mark_shared(self, shared: dict[int, str]) -> None:
        tbl = pa.table({"id": pa.array(list(shared), pa.int64()), "reason": list(shared.values())})
        with self.eng.registered("_sh2", tbl):
            self.eng.execute("""UPDATE identifiers SET status = 'shared', status_reason = s.reason
                                FROM _sh2 s WHERE identifiers.identifier_id = s.id""")
        self._record([Change("shared", identifier_id=i, reason=r) for i, r in shared.items()])

    def _record(self, changes: list[Change]) -> None:
        """Append ``changes`` to identity_changes, numbered after the last one."""
        if not changes:
            return
        base = self._next_change()
        tbl = pa.table(
            {
                "change_id": pa.array(range(base + 1, base + 1 + len(changes)), pa.int64()),
                "action": pa.array([c.action for c in changes], pa.string()),
                "customer_key": pa.array([c.customer_key for c in changes], pa.string()),
                "other_key": pa.array([c.other_key for c in changes], pa.string()),
                "identifier_id": pa.array([c.identifier_id for c in changes], pa.int64()),
                "reason": pa.array([c.reason for c in changes], pa.string()),
                "detail": pa.array(
                    [json.dumps(c.detail) if c.detail else None for c in changes], pa.string()
                ),
            }
        )
        with self.eng.registered("_chg_in", tbl):
            self.eng.execute(
                """INSERT INTO identity_changes SELECT change_id, ?, NULL, action, customer_key, other_key,
                                identifier_id, reason, detail::JSON FROM _chg_in""",
                [self.now],
            )

    def _write_map(self, changes: list[Change]) -> None:
        e = self.eng
        e.execute(
            """CREATE OR REPLACE TEMP TABLE _map_final AS
            SELECT n.id AS identifier_id, n.customer_key,
                   CASE WHEN o.customer_key = n.customer_key THEN o.since ELSE ? END AS since,
                   o.customer_key IS DISTINCT FROM n.customer_key AS changed
            FROM _map_new n LEFT JOIN identity_map o ON o.identifier_id = n.id""",
            [self.now],
        )
        # identifiers whose customer changed (or that left the map): their events need a new customer
        e.execute("""CREATE OR REPLACE TEMP TABLE _changed AS
            SELECT identifier_id FROM _map_final WHERE changed
            UNION SELECT identifier_id FROM identity_map WHERE identifier_id IN (SELECT id FROM _nodes)
                  AND identifier_id NOT IN (SELECT identifier_id FROM _map_final)""")
        if self.full:
            recreate(e, "identity_map")
        else:
            e.execute("DELETE FROM identity_map WHERE identifier_id IN (SELECT id FROM _nodes)")
        e.execute("INSERT INTO identity_map SELECT identifier_id, customer_key, since FROM _map_final")
        e.execute(
            """INSERT INTO customers (customer_key, status, created_at, updated_at)
            SELECT DISTINCT customer_key, 'active', ?, ? FROM _map_final
            WHERE customer_key NOT IN (SELECT customer_key FROM customers)""",
            [self.now, self.now],
        )
        e.execute("""UPDATE customers SET status = 'active', merged_into = NULL
                     WHERE customer_key IN (SELECT customer_key FROM _map_final) AND status <> 'active'""")
        for c in changes:
            if c.action == "merge":
                e.execute(
                    "UPDATE customers SET status = 'merged', merged_into = ?, updated_at = ? WHERE customer_key = ?",
                    [c.customer_key, self.now, c.other_key],
                )
                e.execute(
                    "UPDATE customers SET merged_into = ? WHERE merged_into = ?",
                    [c.customer_key, c.other_key],
                )
            elif c.action == "retired":
                e.execute(
                    "UPDATE customers SET status = 'retired', updated_at = ? WHERE customer_key = ?",
                    [self.now, c.customer_key],
                )
        e.execute("DROP TABLE IF EXISTS _map_final")

    # --- 5. events -----------------------------------------------------------------------------

    def _assign_events(self, w: int, top: int, full: bool) -> None:
        e = self.eng
        if full:
            recreate(e, "event_customer")
            scope = ""
        else:
            e.execute(f"""CREATE OR REPLACE TEMP TABLE _aff_seq AS
                SELECT seq FROM events WHERE seq > {w} AND seq <= {top}
                UNION SELECT l.seq FROM event_links l WHERE l.identifier_id IN (SELECT identifier_id FROM _changed)
                UNION SELECT l.seq FROM event_links l WHERE l.identifier_id IN
                      (SELECT id FROM _touched t JOIN identifiers i ON i.identifier_id = t.id AND i.status <> 'active')""")
            e.execute("DELETE FROM event_customer WHERE seq IN (SELECT seq FROM _aff_seq)")
            scope = "WHERE l.seq IN (SELECT seq FROM _aff_seq)"
        # rank of each identifier as the name of an event's customer; NULL key for shared/placeholder ones
        # (an incremental run: only the identifiers of the events it assigns, not the million-row table)
        only = (
            ""
            if full
            else "WHERE i.identifier_id IN (SELECT identifier_id FROM event_links WHERE seq IN (SELECT seq FROM _aff_seq))"
        )
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _idkey AS
            SELECT i.identifier_id, m.customer_key, {PRIORITY_CASE.replace("kind", "i.kind")} * 1000000000000
                   + i.identifier_id AS rank
            FROM identifiers i LEFT JOIN identity_map m ON m.identifier_id = i.identifier_id AND i.status = 'active'
            {only}""")
        # events with one identifier: a join; with several: the best-ranked identifier with a customer
        cond = "" if not scope else " AND " + scope.removeprefix("WHERE ")
        e.execute(f"""INSERT INTO event_customer
            SELECT l.seq, k.customer_key, CASE WHEN k.customer_key IS NOT NULL THEN k.identifier_id END,
                   k.customer_key IS NULL, l.occurred_at, l.channel, l.department
            FROM event_links l JOIN _idkey k ON k.identifier_id = l.identifier_id WHERE l.n_ids = 1 {cond}""")
        e.execute(f"""INSERT INTO event_customer
            SELECT l.seq, arg_min(k.customer_key, k.rank) FILTER (WHERE k.customer_key IS NOT NULL),
                   arg_min(k.identifier_id, k.rank) FILTER (WHERE k.customer_key IS NOT NULL),
                   count(k.customer_key) = 0, min(l.occurred_at), min(l.channel), min(l.department)
            FROM event_links l JOIN _idkey k ON k.identifier_id = l.identifier_id
            WHERE l.n_ids > 1 {cond}
            GROUP BY l.seq""")
        e.execute("DROP TABLE IF EXISTS _changed")

    def _customer_stats(self, full: bool) -> None:
        e = self.eng
        scope = (
            ""
            if full
            else """WHERE customer_key IN (
            SELECT customer_key FROM event_customer WHERE seq IN (SELECT seq FROM _aff_seq)
            UNION SELECT customer_key FROM _map_new UNION SELECT customer_key FROM _keys)"""
        )
        e.execute(
            "UPDATE customers SET n_events = 0, n_identifiers = 0 WHERE status <> 'active' AND n_events <> 0"
        )
        # every figure into one temp table first, then one UPDATE: an UPDATE whose FROM is a join over
        # tables rewritten in the same transaction can get a very slow plan (64 s instead of 0.4 s)
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _cstats AS
            WITH ev AS (
                SELECT customer_key, count(*) AS n, min(occurred_at) AS f, max(occurred_at) AS l
                FROM event_customer {scope} GROUP BY customer_key),
            nm AS (
                SELECT c.customer_key, arg_max(t.name, c.occurred_at) AS name
                FROM event_names t JOIN (SELECT seq, customer_key, occurred_at FROM event_customer {scope}) c
                     ON c.seq = t.seq
                WHERE t.name IS NOT NULL GROUP BY c.customer_key),
            ids AS (SELECT customer_key, count(*) AS n FROM identity_map {scope} GROUP BY customer_key)
            SELECT coalesce(ev.customer_key, ids.customer_key) AS customer_key, ev.n, ev.f, ev.l,
                   nm.name, ids.n AS n_ids
            FROM ev FULL JOIN ids ON ids.customer_key = ev.customer_key
            LEFT JOIN nm ON nm.customer_key = coalesce(ev.customer_key, ids.customer_key)""")
        e.execute(
            """UPDATE customers SET n_events = coalesce(s.n, customers.n_events),
                first_seen = coalesce(s.f, customers.first_seen), last_seen = coalesce(s.l, customers.last_seen),
                display_name = coalesce(s.name, customers.display_name),
                n_identifiers = coalesce(s.n_ids, customers.n_identifiers), updated_at = ?
            FROM _cstats s WHERE customers.customer_key = s.customer_key""",
            [self.now],
        )
        e.execute("DROP TABLE IF EXISTS _cstats")


def normalise_table(e: DuckDBEngine, table: str, regions: list[str], dest: str = "identifier_norm") -> int:
    """Normalise the distinct raw values of ``table`` (kind, namespace, raw, region) into ``dest``.

    ``dest`` has identifier_norm's columns (the resolver writes to a temporary table first, so identifier ids
    are filled in by the INSERT into identifier_norm, not by an UPDATE of millions of rows).

    SQL for everything it can settle, one statement per kind (a CASE over kinds would evaluate every
    branch); ``phonenumbers`` for the remaining phones. Returns the number of invalid values.
    """
    rules: dict[str, tuple[str, str]] = {
        "email": ns.email_sql("raw"),
        "customer_id": ns.namespaced_sql("raw", "namespace"),
        "anonymous_id": ns.namespaced_sql("raw", "namespace"),
        "loyalty_id": ns.loyalty_sql("raw", "namespace"),
        "handle": ns.handle_sql("raw", "namespace"),
    }
    for kind, (value, reason) in rules.items():
        e.execute(f"""INSERT INTO {dest}
            SELECT kind, namespace, raw, region, v, v IS NOT NULL, CASE WHEN v IS NULL THEN coalesce(r, 'invalid') END,
                   NULL
            FROM (SELECT kind, namespace, raw, region, {value} AS v, {reason} AS r FROM {table} WHERE kind = '{kind}')""")
    e.execute(f"""INSERT INTO {dest}
        SELECT kind, namespace, raw, region, NULL, false, 'unknown identifier kind ' || kind, NULL FROM {table}
        WHERE kind NOT IN ('phone', {", ".join(f"'{k}'" for k in rules)})""")
    pv, pr, pn = ns.phone_sql("raw", "region", regions)
    e.execute(f"""CREATE OR REPLACE TEMP TABLE _normd AS
        SELECT kind, namespace, raw, region, v, r, v IS NULL AND r IS NULL AS py
        FROM (SELECT kind, namespace, raw, region, {pv} AS v, {pr} AS r FROM {table} WHERE kind = 'phone')""")
    e.execute(f"""INSERT INTO {dest}
        SELECT kind, namespace, raw, region, v, v IS NOT NULL, CASE WHEN v IS NULL THEN r END, NULL
        FROM _normd WHERE NOT py""")
    rest = e.arrow("SELECT kind, namespace, raw, region FROM _normd WHERE py")
    out_ok: list[bool] = []
    if rest.num_rows:
        cache: dict[tuple[str, str], nz.Normalized] = {}
        out_v: list[str | None] = []
        out_r: list[str | None] = []
        for raw, rg in zip(rest.column("raw").to_pylist(), rest.column("region").to_pylist(), strict=True):
            key = (raw, rg if not raw.lstrip().startswith(("+", "00")) else "")
            r = cache.get(key)
            if r is None:
                r = cache[key] = nz.phone(raw, rg or None)
            out_v.append(r.value)
            out_ok.append(r.valid)
            out_r.append(r.reason)
        tbl = (
            rest.append_column("value", pa.array(out_v, pa.string()))
            .append_column("valid", pa.array(out_ok))
            .append_column("reason", pa.array(out_r, pa.string()))
        )
        with e.registered("_pyn", tbl):
            e.execute(
                f"INSERT INTO {dest} SELECT kind, namespace, raw, region, value, valid, reason, NULL FROM _pyn"
            )
    e.execute("DROP TABLE IF EXISTS _normd")
    del pn
    return int(
        e.scalar(
            f"SELECT count(*) FROM {dest} n SEMI JOIN {table} t USING (kind, namespace, raw, region) "
            "WHERE NOT n.valid"
        )
        or 0
    )
