"""Identity resolution, incremental by construction (docs/IDENTITY.md).

Stages, each reading and writing documented tables:

1. normalise every new raw identifier value once (``identifier_norm``) and register new canonical
   identifiers (``identifiers``), flagging placeholders and role mailboxes;
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

from ..store.duckdb import DuckDBEngine
from . import normalize as nz
from .cluster import Change, Edge, Node, assign_keys, components, constrained, violations
from .policy import ANCHOR_KINDS, EVENT_PRIORITY, LIMITS

ProgressFn = Callable[[str, float], None]


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


def _limit_case(col: str) -> str:
    whens = " ".join(f"WHEN {col} = '{k}' THEN {v}" for k, v in LIMITS.items())
    return f"(CASE {whens} ELSE 1000000 END)"


def _priority_case(col: str) -> str:
    whens = " ".join(f"WHEN {col} = '{k}' THEN {i}" for i, k in enumerate(EVENT_PRIORITY))
    return f"(CASE {whens} ELSE 99 END)"


class Resolver:
    def __init__(self, eng: DuckDBEngine, progress: ProgressFn | None = None) -> None:
        self.eng = eng
        self.progress = progress
        self.now = dt.datetime.now(dt.UTC).replace(tzinfo=None)

    def _step(self, name: str, res: ResolveResult, t0: float, frac: float) -> float:
        t = time.perf_counter()
        res.timings[name] = round(t - t0, 3)
        if self.progress:
            self.progress(name, frac)
        return t

    def watermark(self) -> int:
        row = self.eng.one("SELECT watermark_seq FROM stage_state WHERE stage = 'identity'")
        return int(row[0]) if row else 0

    def run(self, full: bool = False) -> ResolveResult:
        res = ResolveResult()
        t_start = t = time.perf_counter()
        e = self.eng
        w = 0 if full else self.watermark()
        top = int(e.scalar("SELECT coalesce(max(seq), 0) FROM events"))
        if top <= w and not full:
            res.customers = int(e.scalar("SELECT count(*) FROM customers WHERE status = 'active'"))
            return res
        e.execute("BEGIN TRANSACTION")
        try:
            if full:
                e.execute("DELETE FROM event_links")
                e.execute("DELETE FROM identity_links")
                e.execute(
                    "UPDATE identifiers SET n_events = 0, first_seen = NULL, last_seen = NULL "
                    "WHERE status NOT IN ('placeholder')"
                )
            # 1. identifiers of new events
            e.execute(f"""CREATE OR REPLACE TEMP TABLE _ei AS
                SELECT seq, occurred_at, i.kind AS kind, i.namespace AS namespace, i.raw AS raw, i.region AS region
                FROM (SELECT seq, occurred_at, unnest(identifiers) AS i FROM events WHERE seq > {w} AND seq <= {top})""")
            res.events = int(e.scalar(f"SELECT count(*) FROM events WHERE seq > {w} AND seq <= {top}"))
            t = self._step("read", res, t, 0.1)
            self._normalise_new(res)
            t = self._step("normalise", res, t, 0.3)
            new_ids = self._register_identifiers(res)
            t = self._step("identifiers", res, t, 0.4)
            self._link_events(w, top, full)
            t = self._step("link events", res, t, 0.5)
            self._link_identifiers(res)
            t = self._step("links", res, t, 0.6)
            touched = self._shared_by_neighbours(new_ids, res, full)
            t = self._step("merge protection", res, t, 0.7)
            changed_nodes = self._recluster(touched, full, res)
            t = self._step("cluster", res, t, 0.85)
            self._assign_events(w, top, changed_nodes, full)
            t = self._step("events", res, t, 0.95)
            self._customer_stats(changed_nodes, w, top, full)
            e.execute("INSERT OR REPLACE INTO stage_state VALUES ('identity', ?, ?)", [top, self.now])
            e.execute("COMMIT")
        except BaseException:
            e.execute("ROLLBACK")
            raise
        finally:
            for tmp in ("_ei", "_newlinks", "_pairs", "_touched", "_nodes", "_aff_seq", "_map_new", "_chg"):
                e.execute(f"DROP TABLE IF EXISTS {tmp}")
        self._step("stats", res, t, 1.0)
        res.customers = int(e.scalar("SELECT count(*) FROM customers WHERE status = 'active'"))
        res.seconds = round(time.perf_counter() - t_start, 3)
        return res

    # --- 1. normalisation ----------------------------------------------------------------------

    def _normalise_new(self, res: ResolveResult) -> None:
        e = self.eng
        new = e.arrow("""SELECT DISTINCT d.kind, d.namespace, d.raw, d.region FROM _ei d
            WHERE NOT EXISTS (SELECT 1 FROM identifier_norm n WHERE n.kind = d.kind AND n.namespace = d.namespace
                              AND n.raw = d.raw AND n.region = d.region)""")
        if new.num_rows == 0:
            return
        kinds = new.column("kind").to_pylist()
        nss = new.column("namespace").to_pylist()
        raws = new.column("raw").to_pylist()
        regions = new.column("region").to_pylist()
        values: list[str | None] = []
        valid: list[bool] = []
        reasons: list[str | None] = []
        cache: dict[tuple[str, str], nz.Normalized] = {}
        for k, ns, raw, rg in zip(kinds, nss, raws, regions, strict=True):
            if k == "phone":
                # national writings only depend on the region; international ones do not
                key = (raw, rg if not raw.lstrip().startswith(("+", "00")) else "")
                r = cache.get(key)
                if r is None:
                    r = cache[key] = nz.phone(raw, rg or None)
            else:
                r = nz.normalize(k, raw, ns, rg or None)
            values.append(r.value)
            valid.append(r.valid)
            reasons.append(r.reason)
        out = pa.table(
            {
                "kind": kinds,
                "namespace": nss,
                "raw": raws,
                "region": regions,
                "value": values,
                "valid": valid,
                "reason": reasons,
            }
        )
        e.register("_norm_in", out)
        try:
            e.execute(
                "INSERT INTO identifier_norm SELECT kind, namespace, raw, region, value, valid, reason FROM _norm_in"
            )
        finally:
            e.unregister("_norm_in")
        res.invalid_values = int(sum(1 for v in valid if not v))

    def _register_identifiers(self, res: ResolveResult) -> set[int]:
        e = self.eng
        new = e.arrow("""SELECT DISTINCT n.kind, CASE WHEN n.kind IN ('email', 'phone') THEN '' ELSE n.namespace END AS namespace,
                   n.value
            FROM (SELECT DISTINCT kind, namespace, raw, region FROM _ei) d
            JOIN identifier_norm n USING (kind, namespace, raw, region)
            WHERE n.valid AND NOT EXISTS (SELECT 1 FROM identifiers i WHERE i.kind = n.kind AND i.value = n.value)
            ORDER BY n.kind, n.value""")
        if new.num_rows == 0:
            return set()
        base = int(e.scalar("SELECT coalesce(max(identifier_id), 0) FROM identifiers"))
        kinds = new.column("kind").to_pylist()
        vals = new.column("value").to_pylist()
        status, reason = [], []
        for k, v in zip(kinds, vals, strict=True):
            p = nz.placeholder_reason(k, v)
            r = None if p else nz.role_reason(k, v)
            status.append("placeholder" if p else ("shared" if r else "active"))
            reason.append(p or r)
        ids = list(range(base + 1, base + 1 + new.num_rows))
        tbl = pa.table(
            {
                "identifier_id": ids,
                "kind": kinds,
                "namespace": new.column("namespace"),
                "value": vals,
                "status": status,
                "status_reason": reason,
            }
        )
        e.register("_idn", tbl)
        try:
            e.execute("""INSERT INTO identifiers (identifier_id, kind, namespace, value, n_events, status, status_reason)
                         SELECT identifier_id, kind, namespace, value, 0, status, status_reason FROM _idn""")
            e.execute(
                f"""INSERT INTO identity_changes
                SELECT {self._next_change()} + row_number() OVER (ORDER BY identifier_id), ?, NULL, 'shared', NULL, NULL,
                       identifier_id, status_reason, NULL
                FROM _idn WHERE status <> 'active'""",
                [self.now],
            )
        finally:
            e.unregister("_idn")
        res.new_identifiers = new.num_rows
        res.shared += sum(1 for s in status if s != "active")
        return set(ids)

    def _next_change(self) -> int:
        return int(self.eng.scalar("SELECT coalesce(max(change_id), 0) FROM identity_changes"))

    # --- 2. links ------------------------------------------------------------------------------

    def _link_events(self, w: int, top: int, full: bool) -> None:
        e = self.eng
        e.execute("""CREATE OR REPLACE TEMP TABLE _newlinks AS
            SELECT DISTINCT d.seq, i.identifier_id, d.occurred_at
            FROM _ei d JOIN identifier_norm n USING (kind, namespace, raw, region)
            JOIN identifiers i ON i.kind = n.kind AND i.value = n.value
            WHERE n.valid""")
        e.execute("INSERT INTO event_links SELECT seq, identifier_id FROM _newlinks")
        e.execute("""UPDATE identifiers SET n_events = identifiers.n_events + s.n,
                first_seen = least(coalesce(identifiers.first_seen, s.f), s.f),
                last_seen = greatest(coalesce(identifiers.last_seen, s.l), s.l)
            FROM (SELECT identifier_id, count(*) AS n, min(occurred_at) AS f, max(occurred_at) AS l
                  FROM _newlinks GROUP BY identifier_id) s
            WHERE identifiers.identifier_id = s.identifier_id""")

    def _link_identifiers(self, res: ResolveResult) -> None:
        e = self.eng
        e.execute("""CREATE OR REPLACE TEMP TABLE _pairs AS
            SELECT l1.identifier_id AS a, l2.identifier_id AS b, count(*) AS n, min(l1.seq) AS first_seq,
                   min(l1.occurred_at) AS f, max(l1.occurred_at) AS l
            FROM _newlinks l1 JOIN _newlinks l2 ON l1.seq = l2.seq AND l1.identifier_id < l2.identifier_id
            GROUP BY ALL""")
        e.execute("""UPDATE identity_links SET n_events = identity_links.n_events + p.n,
                first_seen = least(identity_links.first_seen, p.f), last_seen = greatest(identity_links.last_seen, p.l)
            FROM _pairs p WHERE identity_links.a = p.a AND identity_links.b = p.b AND identity_links.rule = 'same_record'""")
        e.execute("""INSERT INTO identity_links
            SELECT a, b, 'same_record', 1.0, first_seq, n, f, l FROM _pairs p
            WHERE NOT EXISTS (SELECT 1 FROM identity_links x WHERE x.a = p.a AND x.b = p.b AND x.rule = 'same_record')""")
        res.links = int(e.scalar("SELECT count(*) FROM _pairs"))

    # --- 3. merge protection -------------------------------------------------------------------

    def _shared_by_neighbours(self, new_ids: set[int], res: ResolveResult, full: bool) -> set[int]:
        """Mark shared every non-anchor identifier whose neighbours break a limit. Returns touched ids."""
        e = self.eng
        e.execute("""CREATE OR REPLACE TEMP TABLE _touched AS
            SELECT a AS id FROM _pairs UNION SELECT b FROM _pairs""")
        if new_ids:
            e.register("_newids", pa.table({"id": sorted(new_ids)}))
            try:
                e.execute("INSERT INTO _touched SELECT id FROM _newids EXCEPT SELECT id FROM _touched")
            finally:
                e.unregister("_newids")
        anchors = ", ".join(f"'{k}'" for k in sorted(ANCHOR_KINDS))
        scope = "" if full else "AND v.identifier_id IN (SELECT id FROM _touched)"
        rows = e.execute(f"""
            WITH nb AS (SELECT a AS v, b AS u FROM identity_links UNION ALL SELECT b AS v, a AS u FROM identity_links),
            c AS (
                SELECT nb.v, u.kind, CASE WHEN u.kind IN ('customer_id', 'loyalty_id', 'handle') THEN u.namespace ELSE '' END AS ns,
                       count(DISTINCT nb.u) AS n, list(DISTINCT u.value)[1:4] AS examples
                FROM nb JOIN identifiers u ON u.identifier_id = nb.u AND u.status <> 'placeholder'
                JOIN identifiers v ON v.identifier_id = nb.v
                WHERE v.status = 'active' AND v.kind NOT IN ({anchors}) {scope}
                GROUP BY ALL HAVING count(DISTINCT nb.u) > {_limit_case("u.kind")})
            SELECT v, kind, ns, n, examples FROM c ORDER BY v, kind, ns""")
        if not rows:
            return self._touched_set()
        first: dict[int, tuple[str, str, int, list[str]]] = {}
        for v, kind, ns, n, ex in rows:
            first.setdefault(int(v), (kind, ns, int(n), list(ex)))
        recs = []
        for v, (kind, ns, n, ex) in first.items():
            what = f"{kind} ({ns})" if ns else kind
            reason = (
                f"used with {n} different {what} values (e.g. {', '.join(ex[:3])}); a person has at most "
                f"{LIMITS.get(kind)}: shared by several people"
            )
            recs.append((v, reason, json.dumps({"kind": kind, "namespace": ns, "count": n, "examples": ex})))
        tbl = pa.table(
            {"id": [r[0] for r in recs], "reason": [r[1] for r in recs], "detail": [r[2] for r in recs]}
        )
        e.register("_sh", tbl)
        try:
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
        finally:
            e.unregister("_sh")
        res.shared += len(recs)
        return self._touched_set()

    def _touched_set(self) -> set[int]:
        return {int(r[0]) for r in self.eng.execute("SELECT id FROM _touched")}

    # --- 4. clustering and keys ----------------------------------------------------------------

    def _recluster(self, touched: set[int], full: bool, res: ResolveResult) -> set[int]:
        e = self.eng
        if full:
            e.execute("""CREATE OR REPLACE TEMP TABLE _nodes AS
                SELECT identifier_id AS id FROM identifiers UNION SELECT identifier_id FROM identity_map""")
        else:
            e.execute("CREATE OR REPLACE TEMP TABLE _nodes AS SELECT id FROM _touched")
            for _ in range(20):  # closure: members of affected customers, and their active neighbours
                before = int(e.scalar("SELECT count(*) FROM _nodes"))
                e.execute("""INSERT INTO _nodes
                    SELECT m.identifier_id FROM identity_map m WHERE m.customer_key IN (
                        SELECT customer_key FROM identity_map WHERE identifier_id IN (SELECT id FROM _nodes))
                    EXCEPT SELECT id FROM _nodes""")
                e.execute("""INSERT INTO _nodes
                    SELECT l.b FROM identity_links l JOIN identifiers i ON i.identifier_id = l.a AND i.status = 'active'
                    WHERE l.a IN (SELECT id FROM _nodes)
                    UNION SELECT l.a FROM identity_links l JOIN identifiers i ON i.identifier_id = l.b AND i.status = 'active'
                    WHERE l.b IN (SELECT id FROM _nodes)
                    EXCEPT SELECT id FROM _nodes""")
                if int(e.scalar("SELECT count(*) FROM _nodes")) == before:
                    break
        tn = e.arrow("""SELECT i.identifier_id, i.kind, i.namespace, i.value, i.status,
                               coalesce(i.first_seen, TIMESTAMP '9999-12-31') AS first_seen, m.customer_key
                        FROM _nodes n JOIN identifiers i ON i.identifier_id = n.id
                        LEFT JOIN identity_map m ON m.identifier_id = i.identifier_id
                        ORDER BY i.identifier_id""")
        ids = np.asarray(tn.column("identifier_id").to_numpy(), dtype=np.int64)
        status = tn.column("status").to_pylist()
        kinds = tn.column("kind").to_pylist()
        nss = tn.column("namespace").to_pylist()
        vals = tn.column("value").to_pylist()
        firsts = tn.column("first_seen").to_pylist()
        okeys = tn.column("customer_key").to_pylist()
        active_mask = np.array([s == "active" for s in status], dtype=bool)
        act_ids = ids[active_mask]
        nodes: dict[int, Node] = {}
        old_key: dict[int, str] = {}
        for i, k, ns, v, f, ok, s in zip(ids.tolist(), kinds, nss, vals, firsts, okeys, status, strict=True):
            if s == "active":
                nodes[i] = Node(i, k, ns, v, (f, v))
            if ok is not None:
                old_key[i] = ok
        te = e.arrow("""SELECT l.a, l.b, l.n_events, l.evidence_seq FROM identity_links l
                        JOIN identifiers ia ON ia.identifier_id = l.a AND ia.status = 'active'
                        JOIN identifiers ib ON ib.identifier_id = l.b AND ib.status = 'active'
                        WHERE l.a IN (SELECT id FROM _nodes) AND l.b IN (SELECT id FROM _nodes)""")
        ea = np.asarray(te.column("a").to_numpy(), dtype=np.int64)
        eb = np.asarray(te.column("b").to_numpy(), dtype=np.int64)
        labels = components(act_ids, ea, eb)
        order = np.argsort(labels, kind="stable")
        groups: list[list[int]] = []
        if len(order):
            sorted_labels = labels[order]
            cuts = np.flatnonzero(np.diff(sorted_labels)) + 1
            for chunk in np.split(act_ids[order], cuts):
                groups.append(chunk.tolist())
        # over-limit components: constrained re-clustering
        final: list[list[int]] = []
        bad = [g for g in groups if len(g) > 1 and violations(nodes[i] for i in g)]
        if bad:
            bad_set = {i for g in bad for i in g}
            edge_list: dict[int, list[Edge]] = {}
            comp_of = {i: gi for gi, g in enumerate(bad) for i in g}
            ne, nb_ = te.column("n_events").to_pylist(), te.column("evidence_seq").to_pylist()
            for a, b, n, s in zip(ea.tolist(), eb.tolist(), ne, nb_, strict=True):
                if a in bad_set:
                    edge_list.setdefault(comp_of[a], []).append(Edge(a, b, int(n), int(s or 0)))
            shared_now: dict[int, str] = {}
            refused: list[Change] = []
            for gi, g in enumerate(bad):
                sub, sh, rf = constrained({i: nodes[i] for i in g}, edge_list.get(gi, []))
                final.extend(sub)
                shared_now.update(sh)
                refused.extend(rf)
            good = [g for g in groups if not (len(g) > 1 and violations(nodes[i] for i in g))]
            groups = good + final
            if shared_now:
                self._mark_shared(shared_now)
                res.shared += len(shared_now)
            if refused:
                self._record([*refused])
        # keys
        key_rows = e.execute("SELECT customer_key, first_seen FROM customers")
        key_order = {k: (f or dt.datetime.max, k) for k, f in key_rows}
        taken = set(key_order)
        home_of: dict[str, int] = {}
        home_rank: dict[str, tuple[object, ...]] = {}
        for i, k in old_key.items():
            nd = nodes.get(i)
            rank = nd.order if nd else (dt.datetime.max, "")
            if k not in home_rank or rank < home_rank[k]:  # type: ignore[operator]
                home_rank[k], home_of[k] = rank, i
        all_nodes = dict(nodes)
        new_map, changes = assign_keys(groups, all_nodes, old_key, key_order, home_of, taken)
        # keys that kept no identifier (their identifiers all became shared)
        used = set(new_map.values())
        for k in sorted(set(old_key.values()) - used):
            if not any(c.action == "merge" and c.other_key == k for c in changes):
                changes.append(
                    Change(
                        "retired",
                        customer_key=k,
                        reason="all its identifiers are now shared by several people",
                    )
                )
        res.customers_created += sum(1 for c in changes if c.action in ("create", "split"))
        res.merges += sum(1 for c in changes if c.action == "merge")
        res.splits += sum(1 for c in changes if c.action == "split")
        changed = {i for i in set(old_key) | set(new_map) if old_key.get(i) != new_map.get(i)}
        self._write_map(new_map, old_key, changes, ids)
        self._record(changes)
        return changed

    def _mark_shared(self, shared: dict[int, str]) -> None:
        tbl = pa.table({"id": list(shared), "reason": list(shared.values())})
        self.eng.register("_sh2", tbl)
        try:
            self.eng.execute("""UPDATE identifiers SET status = 'shared', status_reason = s.reason
                                FROM _sh2 s WHERE identifiers.identifier_id = s.id""")
        finally:
            self.eng.unregister("_sh2")
        self._record([Change("shared", identifier_id=i, reason=r) for i, r in shared.items()])

    def _record(self, changes: list[Change]) -> None:
        if not changes:
            return
        base = self._next_change()
        tbl = pa.table(
            {
                "change_id": list(range(base + 1, base + 1 + len(changes))),
                "action": [c.action for c in changes],
                "customer_key": [c.customer_key for c in changes],
                "other_key": [c.other_key for c in changes],
                "identifier_id": pa.array([c.identifier_id for c in changes], pa.int64()),
                "reason": [c.reason for c in changes],
                "detail": [json.dumps(c.detail) if c.detail else None for c in changes],
            }
        )
        self.eng.register("_chg_in", tbl)
        try:
            self.eng.execute(
                """INSERT INTO identity_changes SELECT change_id, ?, NULL, action, customer_key, other_key,
                                identifier_id, reason, detail::JSON FROM _chg_in""",
                [self.now],
            )
        finally:
            self.eng.unregister("_chg_in")

    def _write_map(
        self, new_map: dict[int, str], old_key: dict[int, str], changes: list[Change], node_ids: np.ndarray
    ) -> None:
        e = self.eng
        ids = list(new_map)
        tbl = pa.table(
            {"identifier_id": pa.array(ids, pa.int64()), "customer_key": [new_map[i] for i in ids]}
        )
        e.register("_map_in", tbl)
        try:
            e.execute(
                """CREATE OR REPLACE TEMP TABLE _map_new AS
                SELECT n.identifier_id, n.customer_key,
                       CASE WHEN o.customer_key = n.customer_key THEN o.since ELSE ? END AS since
                FROM _map_in n LEFT JOIN identity_map o USING (identifier_id)""",
                [self.now],
            )
        finally:
            e.unregister("_map_in")
        e.execute("DELETE FROM identity_map WHERE identifier_id IN (SELECT id FROM _nodes)")
        e.execute("INSERT INTO identity_map SELECT identifier_id, customer_key, since FROM _map_new")
        # customers: new keys, merged and retired keys
        e.execute(
            """INSERT INTO customers (customer_key, status, created_at, updated_at)
            SELECT DISTINCT customer_key, 'active', ?, ? FROM _map_new
            WHERE customer_key NOT IN (SELECT customer_key FROM customers)""",
            [self.now, self.now],
        )
        e.execute("""UPDATE customers SET status = 'active', merged_into = NULL
                     WHERE customer_key IN (SELECT customer_key FROM _map_new) AND status <> 'active'""")
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

    # --- 5. events -----------------------------------------------------------------------------

    def _assign_events(self, w: int, top: int, changed: set[int], full: bool) -> None:
        e = self.eng
        if full:
            e.execute("DELETE FROM event_customer")
            e.execute(f"CREATE OR REPLACE TEMP TABLE _aff_seq AS SELECT seq FROM events WHERE seq <= {top}")
        else:
            e.execute(
                f"CREATE OR REPLACE TEMP TABLE _aff_seq AS SELECT seq FROM events WHERE seq > {w} AND seq <= {top}"
            )
            e.execute("""INSERT INTO _aff_seq SELECT DISTINCT l.seq FROM event_links l
                         WHERE l.identifier_id IN (SELECT id FROM _nodes)""")
            e.execute("DELETE FROM event_customer WHERE seq IN (SELECT seq FROM _aff_seq)")
        prio = _priority_case("i.kind")
        e.execute(f"""INSERT INTO event_customer
            SELECT s.seq,
                   arg_min(m.customer_key, {prio} * 1000000000000 + i.identifier_id) FILTER (WHERE m.customer_key IS NOT NULL),
                   arg_min(i.identifier_id, {prio} * 1000000000000 + i.identifier_id) FILTER (WHERE m.customer_key IS NOT NULL),
                   count(m.customer_key) = 0 AND count(i.identifier_id) > 0
            FROM (SELECT DISTINCT seq FROM _aff_seq) s
            LEFT JOIN event_links l ON l.seq = s.seq
            LEFT JOIN identifiers i ON i.identifier_id = l.identifier_id
            LEFT JOIN identity_map m ON m.identifier_id = i.identifier_id AND i.status = 'active'
            GROUP BY s.seq""")

    def _customer_stats(self, changed: set[int], w: int, top: int, full: bool) -> None:
        e = self.eng
        scope = (
            ""
            if full
            else """WHERE customer_key IN (
            SELECT customer_key FROM event_customer WHERE seq IN (SELECT seq FROM _aff_seq)
            UNION SELECT customer_key FROM identity_map WHERE identifier_id IN (SELECT id FROM _nodes))"""
        )
        e.execute(
            f"""UPDATE customers SET n_events = s.n, first_seen = s.f, last_seen = s.l, updated_at = ?,
                display_name = s.name
            FROM (SELECT c.customer_key, count(*) AS n, min(ev.occurred_at) AS f, max(ev.occurred_at) AS l,
                         arg_max(coalesce(ev.traits->>'name',
                                          nullif(concat_ws(' ', ev.traits->>'first_name', ev.traits->>'last_name'), '')),
                                 ev.occurred_at) FILTER (WHERE coalesce(ev.traits->>'name', ev.traits->>'first_name',
                                                                         ev.traits->>'last_name') IS NOT NULL) AS name
                  FROM event_customer c JOIN events ev ON ev.seq = c.seq
                  {scope.replace("customer_key IN", "c.customer_key IN")}
                  GROUP BY c.customer_key) s
            WHERE customers.customer_key = s.customer_key""",
            [self.now],
        )
        e.execute(f"""UPDATE customers SET n_identifiers = s.n FROM (
                SELECT customer_key, count(*) AS n FROM identity_map {scope} GROUP BY customer_key) s
            WHERE customers.customer_key = s.customer_key""")


def resolve(eng: DuckDBEngine, full: bool = False, progress: ProgressFn | None = None) -> ResolveResult:
    return Resolver(eng, progress).run(full=full)
