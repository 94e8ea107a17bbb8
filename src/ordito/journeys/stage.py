"""``ordito analyze``: episodes, contacts and friction, incremental by customer.

A run recomputes the customers whose events changed since the last run (new events, events that moved to
another customer when identities merged or split, events of nobody added to one of their threads) and
leaves everybody else's rows alone; the first run, a run with other parameters, or ``full=True`` rebuilds
everything. What depends on the end of the data (``as_of``: a need still open, an e-mail still
unanswered, open vs abandoned) is recomputed for every episode, from the stored tables. A full rebuild and
any sequence of incremental runs give the same tables (tested).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from ..store.base import Engine
from ..store.schema import recreate
from ..store.sqlutil import lit
from . import derive, episodes, features, friction
from .params import DAY, Params

STAGE = "journeys"
TABLES = ("episodes", "episode_events", "episode_contacts", "friction")


@dataclass
class AnalyzeResult:
    full: bool
    customers: int
    episodes: int
    frictions: int
    as_of: str
    seconds: float
    reason: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _state(engine: Engine) -> tuple[int | None, str | None, str | None]:
    row = engine.one("SELECT watermark_seq FROM stage_state WHERE stage = ?", [STAGE])
    fp = engine.scalar("SELECT value FROM meta WHERE key = 'journeys:params'")
    as_of = engine.scalar("SELECT value FROM meta WHERE key = 'journeys:as_of'")
    return (int(row[0]) if row else None), fp, as_of


#: the stages whose output the journeys read besides the events: who each event is (identity resolution
#: rewrites ``event_customer`` only in a run that stamps its ``stage_state`` row) and the texts' sentiment
#: (whose scores are also followed by their latest ``analyzed_at``, as the incremental scope does)
INPUT_STAGES = ("identity", "voc")


def _inputs(engine: Engine, has_voc: bool) -> str:
    """The ``stage_state`` rows of :data:`INPUT_STAGES` and the time of the latest sentiment score, as text:
    a run that finds them as the last run left them, and no event after its watermark, has nothing to do."""
    rows = engine.execute(
        "SELECT stage, watermark_seq, CAST(updated_at AS VARCHAR) FROM stage_state WHERE stage IN (?, ?) "
        "ORDER BY stage",
        list(INPUT_STAGES),
    )
    scored = engine.scalar("SELECT CAST(max(analyzed_at) AS VARCHAR) FROM voc") if has_voc else None
    return json.dumps([[list(r) for r in rows or []], scored])


def _affected_sql(watermark: int, voc_since: str | None) -> str:
    """Customers whose events changed since the last run (and, once the voice-of-the-customer stage has
    run, customers whose texts it analyzed since)."""
    voc = (
        f"""UNION ALL
    SELECT c.customer_key FROM voc v JOIN event_customer c ON c.seq = v.seq
    WHERE v.analyzed_at > CAST({lit(voc_since)} AS TIMESTAMP)"""
        if voc_since
        else ""
    )
    return f"""
CREATE OR REPLACE TEMP TABLE _jscope AS
SELECT DISTINCT customer_key FROM (
    -- new events, events that moved to another customer, events that found a customer
    SELECT c.customer_key FROM event_customer c LEFT JOIN episode_events ee ON ee.seq = c.seq
    WHERE c.customer_key IS NOT NULL AND ee.customer_key IS DISTINCT FROM c.customer_key
    UNION ALL
    -- events that left a customer (merged away, split off, now shared)
    SELECT ee.customer_key FROM episode_events ee LEFT JOIN event_customer c ON c.seq = ee.seq
    WHERE ee.role NOT IN ('attached', 'adopted') AND c.customer_key IS DISTINCT FROM ee.customer_key
    UNION ALL
    -- new events of nobody in a thread of a customer (a brand reply, a ticket update)
    SELECT ee.customer_key FROM events n
    JOIN events o ON o.source = n.source AND o.thread_id = n.thread_id AND o.seq <= {watermark}
    JOIN episode_events ee ON ee.seq = o.seq
    WHERE n.seq > {watermark} AND n.thread_id IS NOT NULL AND n.channel NOT IN ('web', 'app')
      AND n.source NOT IN ('shop', 'pos', 'surveys')
      AND NOT EXISTS (SELECT 1 FROM event_customer c WHERE c.seq = n.seq AND c.customer_key IS NOT NULL)
    {voc}
) WHERE customer_key IS NOT NULL
"""


def _widen(engine: Engine, watermark: int) -> None:
    """Events of shared identifiers are threaded among all their candidates: new ones bring their
    candidates into scope, and a customer in scope brings the other candidates of their ambiguous events."""
    engine.execute(f"""INSERT INTO _jscope SELECT DISTINCT candidate FROM _jamb_all WHERE seq > {watermark}
                       AND candidate NOT IN (SELECT customer_key FROM _jscope)""")
    for _ in range(10):
        n = engine.execute("""INSERT INTO _jscope SELECT DISTINCT a.candidate FROM _jamb_all a
            WHERE a.seq IN (SELECT seq FROM _jamb_all WHERE candidate IN (SELECT customer_key FROM _jscope))
              AND a.candidate NOT IN (SELECT customer_key FROM _jscope)""")
        if not n or not n[0][0]:
            break


def _outcome_expr(params: Params, as_of: str) -> str:
    """Outcome: purchases are converted or abandoned; a plan sign-up without questions is converted; a
    need is resolved when it was met, else abandoned after ``abandon_after_days`` of silence before
    ``as_of``, else open. Browsing, newsletter visits and relationship surveys are resolved."""
    days = float(params.abandon_after_days) * DAY
    return f"""CASE
    WHEN intent IN ('browse', 'marketing', 'feedback') THEN 'resolved'
    WHEN intent = 'purchase' AND n_contacts = 0 THEN CASE WHEN bought AND NOT cancelled THEN 'converted'
                                                           ELSE 'abandoned' END
    WHEN intent = 'subscription' AND n_contacts = 0 AND bought THEN 'converted'
    WHEN resolved_at IS NOT NULL THEN 'resolved'
    WHEN date_diff('second', ended_at, CAST({lit(as_of)} AS TIMESTAMP)) > {days} THEN 'abandoned'
    ELSE 'open' END"""


def _as_of_outcome_sql(params: Params, as_of: str) -> str:
    """Open or abandoned: the only outcomes that move with ``as_of``, for every episode."""
    days = float(params.abandon_after_days) * DAY
    return f"""
UPDATE episodes SET outcome = CASE WHEN date_diff('second', ended_at, CAST({lit(as_of)} AS TIMESTAMP)) > {days}
                                   THEN 'abandoned' ELSE 'open' END
WHERE outcome IN ('open', 'abandoned') AND resolved_at IS NULL AND NOT (intent = 'purchase' AND n_contacts = 0)
"""


# Effort points per friction kind (docs/JOURNEYS.md, "Customer effort"): each contact after the first
# costs 1, each friction its weight; the score is 7 minus the points, floored at 1 (CES scale, 7 = easy).
EFFORT_WEIGHTS = {
    "transfer": 1.0,
    "department_bounce": 1.5,
    "channel_hop": 0.5,
    "digital_dead_end": 1.0,
    "abandonment": 0.5,
    "long_wait": 0.5,
    "info_asked_twice": 1.0,
    "unresolved": 2.0,
    "negative_sentiment": 0.5,
}


def _effort_sql() -> str:
    points = " + ".join(f"{w} * count(*) FILTER (WHERE kind = {lit(k)})" for k, w in EFFORT_WEIGHTS.items())
    return f"""
UPDATE episodes SET n_frictions = coalesce(f.n, 0),
       effort = CASE WHEN episodes.n_contacts = 0 THEN NULL
                     ELSE greatest(1.0, 7.0 - greatest(episodes.n_contacts - 1, 0) - coalesce(f.points, 0)) END
FROM (SELECT e.episode_id, f.n, f.points FROM episodes e
      LEFT JOIN (SELECT episode_id, count(*) AS n, {points} AS points FROM friction GROUP BY episode_id) f
      USING (episode_id) WHERE e.n_contacts > 0 OR f.n IS NOT NULL) f
WHERE f.episode_id = episodes.episode_id
"""


def _as_of_frictions_sql(params: Params, as_of: str) -> list[str]:
    """Frictions that depend on the end of the data, for every episode, from the stored tables."""
    e = float(params.long_wait_seconds.get("email", 172800))
    days = float(params.unresolved_days)
    return [
        "DELETE FROM friction WHERE kind = 'unresolved' OR (kind = 'long_wait' AND detail = 'email never answered')",
        f"""INSERT INTO friction
        SELECT 'fr_' || substr(md5('long_wait:' || CAST(seq AS VARCHAR)), 1, 16), episode_id, customer_key,
               'long_wait', occurred_at, 1.0, CAST(to_json([seq]) AS JSON), 'email never answered', channel, department
        FROM episode_contacts WHERE channel = 'email' AND NOT answered
          AND date_diff('second', occurred_at, CAST({lit(as_of)} AS TIMESTAMP)) > {e}""",
        f"""INSERT INTO friction
        WITH first AS (SELECT episode_id, arg_min(seq, (occurred_at, seq)) AS seq, min(occurred_at) AS t,
                              arg_min(channel, (occurred_at, seq)) AS channel,
                              arg_min(department, (occurred_at, seq)) AS dept
                       FROM episode_contacts GROUP BY episode_id),
        -- the brand knew of the need: a case (ticket), an order or a store visit is part of the episode
        known AS (SELECT DISTINCT ee.episode_id FROM episode_events ee JOIN events ev ON ev.seq = ee.seq
                  WHERE ev.type LIKE 'ticket%' OR ev.type LIKE 'order%' OR ev.type IN ('delivery_failed', 'refund_issued')
                     OR ev.channel = 'store'),
        d AS (SELECT f.*, e.customer_key, e.resolved_at,
                     CAST(date_diff('second', f.t, coalesce(e.resolved_at, CAST({lit(as_of)} AS TIMESTAMP)))
                          AS DOUBLE) / 86400 AS days
              FROM first f JOIN episodes e USING (episode_id) WHERE f.episode_id IN (SELECT episode_id FROM known))
        SELECT 'fr_' || substr(md5('unresolved:' || CAST(seq AS VARCHAR)), 1, 16), episode_id, customer_key,
               'unresolved', t + INTERVAL {int(days * DAY)} SECOND, least(1.0, days / ({days} * 4)),
               CAST(to_json([seq]) AS JSON),
               CASE WHEN resolved_at IS NULL THEN 'open after ' || CAST(floor(days) AS BIGINT) || ' days'
                    ELSE 'resolved after ' || round(days, 1) || ' days' END, channel, dept
        FROM d WHERE days > {days}""",
    ]


def analyze(
    engine: Engine,
    params: Params | None = None,
    *,
    full: bool = False,
    progress: Callable[[str, float], None] | None = None,
) -> AnalyzeResult:
    """Build or update episodes, contacts and friction. Returns what was done."""
    # DuckDB keeps the order of the rows a query inserts unless told not to, which costs the stage's
    # temporary tables of millions of rows a good part of their time (measured, D23); every read of them
    # that needs an order says so (ORDER BY)
    with engine.setting("preserve_insertion_order", False):
        return _analyze(engine, params, full=full, progress=progress)


def _analyze(
    engine: Engine,
    params: Params | None,
    *,
    full: bool,
    progress: Callable[[str, float], None] | None,
) -> AnalyzeResult:
    t_start = time.perf_counter()
    params = params or Params()
    fp = params.fingerprint()
    top = engine.scalar("SELECT max(seq) FROM events")
    watermark_now = int(top) if top is not None else 0
    as_of = params.as_of or str(engine.scalar("SELECT max(occurred_at) FROM events") or "1970-01-01 00:00:00")
    watermark, old_fp, old_as_of = _state(engine)
    has_voc = _has_voc(engine)
    inputs = _inputs(engine, has_voc)
    if (
        not full
        and watermark is not None
        and watermark == watermark_now
        and old_fp == fp
        and old_as_of == as_of
        and engine.scalar("SELECT value FROM meta WHERE key = 'journeys:inputs'") == inputs
    ):
        # nothing new: no event since the last run, and neither identities nor texts changed
        return AnalyzeResult(
            full=False,
            customers=0,
            episodes=0,
            frictions=int(engine.scalar("SELECT count(*) FROM friction") or 0),
            as_of=as_of,
            seconds=round(time.perf_counter() - t_start, 3),
            reason="nothing new",
        )
    reason = (
        "requested"
        if full
        else "first run"
        if watermark is None
        else "parameters changed"
        if old_fp != fp
        else ""
    )
    full = bool(reason)
    if full:
        engine.execute("""CREATE OR REPLACE TEMP TABLE _jscope AS SELECT DISTINCT customer_key FROM event_customer
                          WHERE customer_key IS NOT NULL""")
    else:
        last_run = engine.scalar(
            "SELECT CAST(updated_at AS VARCHAR) FROM stage_state WHERE stage = ?", [STAGE]
        )
        engine.execute(_affected_sql(int(watermark or 0), str(last_run) if has_voc and last_run else None))
        reason = "incremental"
    engine.execute(features.ambiguous_sql())
    if not full:
        _widen(engine, int(watermark or 0))
    n_scope = int(engine.scalar("SELECT count(*) FROM _jscope") or 0)
    n_eps = 0
    if n_scope or full:
        n_threaded = episodes.thread_scope(engine, params, progress, full=full)
        n_eps = int(engine.scalar("SELECT count(*) FROM _jep") or 0)
        derive.build(engine, params, n_threaded)
        if progress:
            progress("friction", 0.85)
        friction.detect(engine, params, has_voc=has_voc)
        _write(engine, full, _outcome_expr(params, as_of))
    if progress:
        progress("as of", 0.95)
    if full or n_scope or old_as_of != as_of:
        for stmt in _as_of_frictions_sql(params, as_of):
            engine.execute(stmt)
        if old_as_of != as_of:
            engine.execute(_as_of_outcome_sql(params, as_of))
        engine.execute(_effort_sql())
    engine.execute(
        "INSERT OR REPLACE INTO stage_state VALUES (?, ?, CAST(now() AS TIMESTAMP))", [STAGE, watermark_now]
    )
    engine.execute("INSERT OR REPLACE INTO meta VALUES ('journeys:params', ?)", [fp])
    engine.execute("INSERT OR REPLACE INTO meta VALUES ('journeys:as_of', ?)", [as_of])
    engine.execute("INSERT OR REPLACE INTO meta VALUES ('journeys:inputs', ?)", [inputs])
    engine.execute(
        "INSERT OR REPLACE INTO meta VALUES ('journeys:params_json', ?)",
        [json.dumps(asdict(params), sort_keys=True)],
    )
    n_fr = int(engine.scalar("SELECT count(*) FROM friction") or 0)
    _drop_temps(engine)
    return AnalyzeResult(
        full=full,
        customers=n_scope,
        episodes=n_eps,
        frictions=n_fr,
        as_of=as_of,
        seconds=round(time.perf_counter() - t_start, 3),
        reason=reason,
    )


def _has_voc(engine: Engine) -> bool:
    try:
        engine.execute("SELECT seq, sentiment_score FROM voc LIMIT 0")
        return True
    except Exception:
        return False


def _write(engine: Engine, full: bool, outcome: str) -> None:
    """Replace the rows of the customers in scope (everything on a full run)."""
    if full:
        for t in TABLES:
            recreate(engine, t)
    else:
        for t in TABLES:
            engine.execute(f"DELETE FROM {t} WHERE customer_key IN (SELECT customer_key FROM _jscope)")
    engine.execute(f"""INSERT INTO episodes (episode_id, customer_key, intent, started_at, ended_at, outcome,
            n_events, n_contacts, channels, departments, intent_source, first_contact_at, resolved_at,
            n_assisted, n_self_service, n_transfers, n_frictions, effort, first_seq)
        SELECT episode_id, customer_key, intent, started_at, ended_at, {outcome}, n_events, n_contacts, channels,
               departments, intent_source, first_contact_at, resolved_at, n_assisted, n_self_service,
               n_transfers, 0, NULL, first_seq
        FROM _jrow""")
    engine.execute("""INSERT INTO episode_events
        SELECT p.episode_id, j.seq, p.customer_key, j.role FROM _jee j JOIN _jep p USING (ep)""")
    engine.execute("""INSERT INTO episode_contacts
        SELECT c.seq, p.episode_id, p.customer_key, c.t, c.channel, c.dept, c.assisted, c.answered,
               c.wait_seconds, c.handle_seconds, c.transferred, c.n_contact, c.repeat_within_window, c.thread
        FROM _jcon c JOIN _jep p USING (ep)""")
    engine.execute("""INSERT INTO friction
        SELECT 'fr_' || substr(md5(f.kind || ':' || array_to_string(f.evidence, ',')), 1, 16), p.episode_id,
               p.customer_key, f.kind, f.occurred_at, round(f.severity, 3), CAST(to_json(f.evidence) AS JSON),
               f.detail, f.channel, f.dept
        FROM _jfr f JOIN _jep p USING (ep)""")


def _drop_temps(engine: Engine) -> None:
    for v in ("_jukey", "_junit"):
        engine.execute(f"DROP VIEW IF EXISTS {v}")
    for t in (
        "_jamb_all",
        "_jamb",
        "_jwu",
        "_jwt",
        "_jprops",
        "_jpw",
        "_jpage",
        "_jevo",
        "_japp",
        "_jorders_named",
        "_jpc",
        "_juo",
        "_jtriv",
        "_jee",
        "_jep",
        "_jx",
        "_jcon",
        "_jh",
        "_jres",
        "_jrow",
        "_jfr",
    ):
        engine.execute(f"DROP TABLE IF EXISTS {t}")
