"""The fuzzy stage of ``ordito resolve``: person records of new events, scored against the resolved base.

Runs inside the resolver's transaction, after deterministic links and merge protection, before
clustering (docs/IDENTITY.md, "Probabilistic identity"):

1. every new event that carries person traits (name, birth date, address...) gives a *person record*,
   attached to a graph node: the event's best active identifier (customer id, loyalty card, email,
   phone...), or, when it has no valid identifier at all, a node of its own (kind ``record``,
   ``source:source_key``), so that records of silos without identifiers can join a customer;
2. records are deduplicated per node (the same name and address on every status of an order is one
   record) and their blocking keys appended to the persisted index ``fuzzy_blocks``;
3. candidate pairs of new records with every record (new or old) are scored with the stored model;
   pairs at or above the review threshold go to ``fuzzy_pairs``; at or above the link threshold they
   become ``identity_links`` with rule ``fuzzy`` and their probability (a person's ``same`` decision
   gives rule ``review``; ``different`` removes the link and forbids the merge);
4. their endpoints join ``_touched``, so the clustering revisits exactly those customers.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from ...store.duckdb import DuckDBEngine
from ...store.schema import recreate
from ..policy import EVENT_PRIORITY
from . import bulk
from .blocking import DEFAULT_CAP, keys_select, pairs_select
from .compare import SCHEMES, levels_table
from .linker import normalise, score_select, tf_table, train
from .model import Model

#: Settings of the stage (table ``fuzzy_config``; ``ordito identity config``).
DEFAULTS: dict[str, str] = {
    "enabled": "true",
    "link_threshold": "0.9",  # at or above: a fuzzy link (merges, subject to merge protection)
    "review_threshold": "0.5",  # at or above (and below link): the review queue
    "blocking_cap": str(DEFAULT_CAP),  # keys held by more records than this are not used
    "min_train_records": "1000",  # train a model once this many person records exist
}
FUZZY_RULES = ("fuzzy", "review")
_TRAITS = ("name", "first_name", "last_name", "birth_date", "address", "postcode", "city")


@dataclass
class FuzzyResult:
    records: int = 0
    record_nodes: int = 0
    pairs: int = 0
    links: int = 0
    review: int = 0
    model_version: int = 0
    trained: bool = False


def config(eng: DuckDBEngine) -> dict[str, str]:
    out = dict(DEFAULTS)
    for k, v in eng.execute("SELECT key, value FROM fuzzy_config"):
        out[str(k)] = str(v)
    return out


def set_config(eng: DuckDBEngine, **values: object) -> dict[str, str]:
    from ...errors import ConfigError

    for k, v in values.items():
        if k not in DEFAULTS:
            raise ConfigError(f"unknown fuzzy identity setting {k!r}; known: {sorted(DEFAULTS)}")
        if k.endswith("threshold"):
            f = float(str(v))
            if not 0.0 < f <= 1.0:
                raise ConfigError(f"{k} must be in (0, 1], got {v}")
        eng.execute("INSERT OR REPLACE INTO fuzzy_config VALUES (?, ?)", [k, str(v)])
    cfg = config(eng)
    if float(cfg["review_threshold"]) > float(cfg["link_threshold"]):
        raise ConfigError("review_threshold must not be above link_threshold")
    return cfg


def current_model(eng: DuckDBEngine) -> Model | None:
    row = eng.one("SELECT version, params FROM fuzzy_models ORDER BY version DESC LIMIT 1")
    if not row:
        return None
    return Model.from_json(str(row[1]), int(row[0]))


def save_model(eng: DuckDBEngine, model: Model, now: dt.datetime) -> Model:
    version = int(eng.scalar("SELECT coalesce(max(version), 0) + 1 FROM fuzzy_models"))
    model.version = version
    eng.execute("INSERT INTO fuzzy_models VALUES (?, ?, ?::JSON)", [version, now, model.to_json()])
    return model


def _prio(kind: str) -> str:
    whens = " ".join(f"WHEN {kind} = '{k}' THEN {i}" for i, k in enumerate(EVENT_PRIORITY))
    return f"(CASE {whens} ELSE 99 END)"


class FuzzyStage:
    def __init__(self, eng: DuckDBEngine, now: dt.datetime) -> None:
        self.eng = eng
        self.now = now

    def run(self, w: int, top: int, full: bool, retrain: bool = False) -> FuzzyResult:
        e = self.eng
        res = FuzzyResult()
        cfg = config(e)
        if cfg["enabled"].lower() not in ("1", "true", "yes", "on"):
            return res
        if full:
            for t in ("fuzzy_records", "fuzzy_blocks", "fuzzy_pairs"):
                recreate(e, t)
        probe = " OR ".join(f"contains(CAST(traits AS VARCHAR), '\"{t}\"')" for t in _TRAITS)
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _fz_ev AS
            SELECT seq, source, source_key, occurred_at, channel, department, identifiers,
                   traits->>'name' AS name, traits->>'first_name' AS first_name, traits->>'last_name' AS last_name,
                   traits->>'birth_date' AS birth_date, traits->>'address' AS address,
                   traits->>'postcode' AS postcode, traits->>'city' AS city
            FROM events WHERE seq > {w} AND seq <= {top} AND traits IS NOT NULL AND ({probe})""")
        if not e.scalar("SELECT count(*) FROM _fz_ev"):
            e.execute("DROP TABLE _fz_ev")
            return res
        res.record_nodes = self._record_nodes()
        self._records(res)
        if res.records:
            self._score(cfg, full, retrain, res)
        for t in (
            "_fz_ev",
            "_fz_new",
            "_fz_raw",
            "_fz_norm",
            "_fz_cand",
            "_fz_recs",
            "_fz_lv",
            "_fz_sc",
            "_fz_tf",
        ):
            e.execute(f"DROP TABLE IF EXISTS {t}")
        return res

    # --- 1. nodes ----------------------------------------------------------------------------------

    def _record_nodes(self) -> int:
        """A node of kind ``record`` for each traited event without any valid identifier."""
        e = self.eng
        e.execute("""CREATE OR REPLACE TEMP TABLE _fz_orph AS
            SELECT v.seq, v.source || ':' || v.source_key AS value, v.source, v.occurred_at, v.channel, v.department
            FROM _fz_ev v WHERE NOT EXISTS (SELECT 1 FROM event_links l WHERE l.seq = v.seq)""")
        n = int(e.scalar("SELECT count(*) FROM _fz_orph"))
        if not n:
            e.execute("DROP TABLE _fz_orph")
            return 0
        base = int(e.scalar("SELECT coalesce(max(identifier_id), 0) FROM identifiers"))
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _fz_oid AS
            SELECT {base} + row_number() OVER (ORDER BY value) AS identifier_id, 'record' AS kind,
                   any_value(source) AS namespace, value, 0 AS n_events, 'active' AS status
            FROM _fz_orph o WHERE NOT EXISTS (SELECT 1 FROM identifiers i WHERE i.kind = 'record' AND i.value = o.value)
            GROUP BY value""")
        bulk.copy(
            e,
            "identifiers (identifier_id, kind, namespace, value, n_events, status)",
            "_fz_oid",
            "identifier_id, kind, namespace, value, n_events, status",
        )
        e.execute("DROP TABLE _fz_oid")
        bulk.append(
            e,
            "event_links",
            """SELECT o.seq, i.identifier_id, o.occurred_at, 1, o.channel, o.department
            FROM _fz_orph o JOIN identifiers i ON i.kind = 'record' AND i.value = o.value""",
        )
        e.execute("""UPDATE identifiers SET n_events = identifiers.n_events + s.n,
                first_seen = least(coalesce(identifiers.first_seen, s.f), s.f),
                last_seen = greatest(coalesce(identifiers.last_seen, s.l), s.l)
            FROM (SELECT i.identifier_id, count(*) AS n, min(o.occurred_at) AS f, max(o.occurred_at) AS l
                  FROM _fz_orph o JOIN identifiers i ON i.kind = 'record' AND i.value = o.value GROUP BY 1) s
            WHERE identifiers.identifier_id = s.identifier_id""")
        bulk.append(
            e,
            "_touched",
            """SELECT DISTINCT i.identifier_id FROM _fz_orph o
               JOIN identifiers i ON i.kind = 'record' AND i.value = o.value""",
        )
        e.execute("DROP TABLE _fz_orph")
        return n

    # --- 2. records ----------------------------------------------------------------------------

    def _records(self, res: FuzzyResult) -> None:
        e = self.eng
        # the node of each event: its best active identifier (records without one got a node above)
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _fz_raw AS
            WITH node AS (
                SELECT l.seq, arg_min(l.identifier_id, {_prio("i.kind")} * 1000000000000 + l.identifier_id) AS node_id
                FROM event_links l JOIN identifiers i ON i.identifier_id = l.identifier_id AND i.status = 'active'
                WHERE l.seq IN (SELECT seq FROM _fz_ev) GROUP BY l.seq)
            SELECT v.seq AS rec_id, n.node_id, v.source AS src, v.name, v.first_name, v.last_name, v.birth_date,
                   v.address, v.postcode, v.city,
                   list_filter(v.identifiers, lambda i: i.kind = 'email')[1].raw AS email,
                   list_filter(v.identifiers, lambda i: i.kind = 'phone')[1].raw AS phone
            FROM _fz_ev v JOIN node n ON n.seq = v.seq""")
        cols = (
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
        sig = "md5(concat_ws('|', " + ", ".join(f"coalesce({c}, '')" for c in cols) + "))"
        other = " OR ".join(f"{c} IS NOT NULL" for c in cols[1:])
        # a customer's events repeat the same traits (every status of an order, every CRM update): when they
        # do, the distinct raw records of each node are normalised once (their earliest event, their count)
        n_raw, n_nodes = e.one("SELECT count(*), count(DISTINCT node_id) FROM _fz_raw") or (0, 0)
        if int(n_raw) > 1.5 * int(n_nodes):
            attrs = "node_id, name, first_name, last_name, birth_date, address, postcode, city, email, phone"
            e.execute(f"""CREATE OR REPLACE TEMP TABLE _fz_rawd AS
                SELECT min(rec_id) AS rec_id, arg_min(src, rec_id) AS src, count(*) AS n_raw, {attrs}
                FROM _fz_raw GROUP BY {attrs}""")
            e.execute("CREATE OR REPLACE TEMP TABLE _fz_rawn AS SELECT rec_id, n_raw FROM _fz_rawd")
            normalise(e, "_fz_rawd", "_fz_nr")
            e.execute("DROP TABLE _fz_rawd")
            count, source = "sum(x.n_raw)", "_fz_nr JOIN _fz_rawn x USING (rec_id)"
        else:
            normalise(e, "_fz_raw", "_fz_nr")
            count, source = "count(*)", "_fz_nr"
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _fz_norm AS
            SELECT node_id, {sig} AS sig, min(rec_id) AS first_seq, {count} AS n, arg_min(src, rec_id) AS src,
                   arg_min(name, rec_id) AS name, {", ".join(f"any_value({c}) AS {c}" for c in cols)}
            FROM {source} WHERE name_toks IS NOT NULL AND ({other})
            GROUP BY node_id, sig""")
        e.execute("DROP TABLE _fz_nr")
        e.execute("DROP TABLE IF EXISTS _fz_rawn")
        e.execute("""UPDATE fuzzy_records SET n_events = fuzzy_records.n_events + s.n FROM _fz_norm s
                     WHERE fuzzy_records.node_id = s.node_id AND fuzzy_records.sig = s.sig""")
        base = int(e.scalar("SELECT coalesce(max(rec_id), 0) FROM fuzzy_records"))
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _fz_new AS
            SELECT {base} + row_number() OVER (ORDER BY first_seq, node_id, sig) AS rec_id, s.*
            FROM _fz_norm s WHERE NOT EXISTS (
                SELECT 1 FROM fuzzy_records r WHERE r.node_id = s.node_id AND r.sig = s.sig)""")
        res.records = bulk.copy(
            e, "fuzzy_records", "_fz_new", f"rec_id, node_id, src, sig, first_seq, n, name, {', '.join(cols)}"
        )

    # --- 3. scoring ----------------------------------------------------------------------------

    def _score(self, cfg: dict[str, str], full: bool, retrain: bool, res: FuzzyResult) -> None:
        e = self.eng
        cap = int(cfg["blocking_cap"])
        bulk.append(e, "fuzzy_blocks", keys_select("_fz_new"))
        pairs = pairs_select("fuzzy_blocks", cap, new_only=None if full else "_fz_new", nodes="fuzzy_records")
        e.execute(f"CREATE OR REPLACE TEMP TABLE _fz_cand AS {pairs}")
        res.pairs = int(e.scalar("SELECT count(*) FROM _fz_cand"))
        model = current_model(e)
        scheme = model.scheme if model else "household"
        # the comparison levels of every candidate pair: computed once, for training and for scoring. The
        # records come from a temp copy: joins on a table written in the same transaction plan badly
        e.execute("""CREATE OR REPLACE TEMP TABLE _fz_recs AS SELECT * FROM fuzzy_records
                     WHERE rec_id IN (SELECT rec_a FROM _fz_cand UNION SELECT rec_b FROM _fz_cand)""")
        levels_table(
            e, "_fz_cand", "_fz_recs", "_fz_lv", ", p.node_a, p.node_b", SCHEMES[scheme], records_paired=True
        )
        n_records = int(e.scalar("SELECT count(*) FROM fuzzy_records"))
        if retrain or (model is None and n_records >= int(cfg["min_train_records"])):
            if not full:  # train on every record's pairs, not only the new ones
                e.execute(f"CREATE OR REPLACE TEMP TABLE _fz_allp AS {pairs_select('fuzzy_blocks', cap)}")
                model = train(e, "fuzzy_records", "_fz_allp", cap=cap, scheme=scheme).model
            else:
                model = train(e, "fuzzy_records", "_fz_cand", cap=cap, scheme=scheme, levels="_fz_lv").model
            model = save_model(e, model, self.now)
            e.execute("DROP TABLE IF EXISTS _fz_allp")
            res.trained = True
        if model is None:
            model = Model.default()
        res.model_version = model.version
        # frequencies over every record, of the names the pairs hold only (an incremental run scores a few
        # thousand names: no GROUP BY over every record)
        tf_table(e, "fuzzy_records", "_fz_tf", names="_fz_recs")
        low, high = float(cfg["review_threshold"]), float(cfg["link_threshold"])
        lv = " || ',' || ".join(f"lv_{c.name}" for c in model.comparisons)
        e.execute(f"""CREATE OR REPLACE TEMP TABLE _fz_sc AS
            SELECT rec_a, rec_b, node_a, node_b, {lv} AS levels, weight, probability
            FROM ({score_select(e, model, "_fz_cand", "_fz_recs", "_fz_tf", levels="_fz_lv")})
            WHERE probability >= {low}""")
        bulk.append(
            e,
            "fuzzy_pairs",
            f"""SELECT rec_a, rec_b, node_a, node_b, levels, weight, probability,
                   CASE WHEN probability >= {high} THEN 'link' ELSE 'review' END, {model.version}, ?::TIMESTAMP
            FROM _fz_sc""",
            [self.now],
        )
        res.review = int(e.scalar(f"SELECT count(*) FROM _fz_sc WHERE probability < {high}"))
        res.links = write_links(e, "_fz_sc", high)


def write_links(e: DuckDBEngine, scored: str, high: float) -> int:
    """Fuzzy links of the scored pairs at or above ``high`` (one per node pair, the best pair's score),
    unless a person decided they are different; their endpoints join ``_touched``."""
    e.execute(f"""CREATE OR REPLACE TEMP TABLE _fz_lk AS
        SELECT least(node_a, node_b) AS a, greatest(node_a, node_b) AS b, max(probability) AS score,
               arg_max(least(rec_a, rec_b), probability) AS rec
        FROM {scored} s WHERE probability >= {high}
          AND NOT EXISTS (SELECT 1 FROM fuzzy_reviews r WHERE r.node_a = least(s.node_a, s.node_b)
                          AND r.node_b = greatest(s.node_a, s.node_b))
        GROUP BY 1, 2""")
    e.execute("""UPDATE identity_links SET score = greatest(identity_links.score, k.score), n_events = identity_links.n_events + 1
                 FROM _fz_lk k WHERE identity_links.a = k.a AND identity_links.b = k.b AND identity_links.rule = 'fuzzy'""")
    bulk.append(
        e,
        "identity_links",
        """SELECT k.a, k.b, 'fuzzy', k.score, r.first_seq, 1, ev.occurred_at, ev.occurred_at
        FROM _fz_lk k JOIN fuzzy_records r ON r.rec_id = k.rec LEFT JOIN events ev ON ev.seq = r.first_seq
        WHERE NOT EXISTS (SELECT 1 FROM identity_links x WHERE x.a = k.a AND x.b = k.b AND x.rule = 'fuzzy')""",
    )
    n = int(e.scalar("SELECT count(*) FROM _fz_lk"))
    bulk.append(
        e, "_touched", "SELECT a FROM _fz_lk UNION SELECT b FROM _fz_lk EXCEPT SELECT id FROM _touched"
    )
    e.execute("DROP TABLE _fz_lk")
    return n


def review_links(e: DuckDBEngine) -> None:
    """Identity links of the pairs a person decided are the same (rule ``review``, score 1)."""
    e.execute("DELETE FROM identity_links WHERE rule = 'review'")
    bulk.append(
        e,
        "identity_links",
        """SELECT node_a, node_b, 'review', 1.0, NULL, 1, decided_at, decided_at FROM fuzzy_reviews
        WHERE decision = 'same'""",
    )
    e.execute("""DELETE FROM identity_links WHERE rule = 'fuzzy' AND EXISTS (
        SELECT 1 FROM fuzzy_reviews r WHERE r.decision = 'different' AND r.node_a = identity_links.a
        AND r.node_b = identity_links.b)""")


def model_summary(model: Model) -> dict[str, object]:
    return {
        "version": model.version,
        "lambda": model.lam,
        "trained_on": model.trained_on,
        "weights": {
            c.name: {c.levels[i - 1]: round(model.weight(c.name, i), 2) for i in range(1, c.n_levels)}
            for c in model.comparisons
        },
    }


def dumps(obj: object) -> str:
    return json.dumps(obj, default=str)
