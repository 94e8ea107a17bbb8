"""From threaded events to contacts, handled records and episode rows (engine SQL, DuckDB dialect).

Input: ``_jwt`` (the hits of threaded web and app sessions) and ``_jevo`` (event features, :mod:`.features`), ``_jee`` (seq -> episode number, unit role), ``_jep`` (episode ids).
Output temporary tables:

``_jx``   every event of the episodes, with the features the detectors read
``_jcon`` contacts: the customer's attempts to reach the brand (docs/JOURNEYS.md, "Contacts")
``_jh``   handled records: an agent, a store desk or social care working the need, with its department
``_jrow`` one row per episode, in the shape of the ``episodes`` table (outcome decided in :mod:`.stage`)
"""

from __future__ import annotations

from ..store.base import Engine
from ..store.sqlutil import lit
from .params import ASSISTED_CHANNELS, DEFER_WORDS, SOLVED_WORDS, Params


def _in(values: tuple[str, ...] | list[str]) -> str:
    return "(" + ", ".join(lit(v) for v in values) + ")"


def attach_sql(n_threaded: int) -> str:
    """Events of nobody (brand replies on social media, a ticket update with only a shared phone) that
    belong to a thread of an episode join that episode (one-unit episodes, ``ep`` from ``n_threaded`` on, are
    web sessions and relationship surveys: never such a thread)."""
    return f"""
INSERT INTO _jee
SELECT ev.seq, m.ep, 'attached' AS role
FROM events ev
JOIN (SELECT source, thread, min(ep) AS ep FROM _jevo JOIN _jee USING (seq)
      WHERE ep < {n_threaded} AND thread IS NOT NULL AND source NOT IN ('shop', 'pos', 'surveys')
      GROUP BY source, thread) m
  ON m.source = ev.source AND m.thread = ev.thread_id
WHERE NOT EXISTS (SELECT 1 FROM event_customer c WHERE c.seq = ev.seq AND c.customer_key IS NOT NULL)
  AND ev.seq NOT IN (SELECT seq FROM _jee WHERE ep < {n_threaded})
"""


def events_sql(params: Params, n_threaded: int) -> str:
    depts = params.channel_departments
    dept = (
        "coalesce(dept, CASE channel "
        + " ".join(f"WHEN {lit(c)} THEN {lit(d)}" for c, d in depts.items())
        + " END)"
    )
    return f"""
CREATE OR REPLACE TEMP TABLE _jx AS
SELECT seq, ep, urole, ukey, t, source, channel, type, {dept} AS dept, agent, queue, thread, direction, text,
       value, talk_s, hold_s, origin, signup_form, page_kind
FROM (
    -- episodes of one browsing session (or one newsletter visit) need none of this (ep >= n_threaded)
    SELECT j.seq, j.ep, j.role AS urole, j.ukey, w.occurred_at AS t, w.source, w.channel, w.type,
           NULL::VARCHAR AS dept,
           NULL::VARCHAR AS agent, NULL::VARCHAR AS queue, w.thread_id AS thread, 'inbound' AS direction,
           NULL::VARCHAR AS text, NULL::DOUBLE AS value, NULL::DOUBLE AS talk_s, NULL::DOUBLE AS hold_s,
           NULL::VARCHAR AS origin, coalesce(g.signup_form, false) AS signup_form, g.page_kind
    FROM _jwt j JOIN events w USING (seq) LEFT JOIN _jpw g ON g.properties = w.properties
    UNION ALL
    SELECT j.seq, j.ep, j.role AS urole, e.ukey, e.t, e.source, e.channel, e.type, e.dept, e.agent, e.queue, e.thread,
           e.direction, e.text, e.value, e.talk_s, e.hold_s, e.origin, e.signup_form, NULL
    FROM _jee j JOIN _jevo e USING (seq)
    WHERE j.ep < {n_threaded}
    UNION ALL
    SELECT j.seq, j.ep, 'attached', NULL, ev.occurred_at, ev.source, ev.channel, ev.type, ev.department, ev.agent_id,
           ev.queue, ev.thread_id, ev.direction, ev.text, ev.value, NULL, NULL, NULL, false, NULL
    FROM _jee j JOIN events ev USING (seq) WHERE j.role = 'attached'
)
"""


def contacts_sql(params: Params) -> str:
    """Contacts and their figures. A call is one contact (its first leg); a chat conversation one (its
    first customer message); every inbound e-mail, social direct message and SMS one; a store desk visit
    that drops off or returns something one (a repair's pick-up is not); a web form that asks to be
    served one (self-service)."""
    assisted = _in(ASSISTED_CHANNELS)
    window = float(params.repeat_window_days) * 86400.0
    return f"""
CREATE OR REPLACE TEMP TABLE _jcon AS
WITH x AS (
    SELECT *,
           row_number() OVER (PARTITION BY ep, source, thread ORDER BY t, seq) AS k_thread,
           row_number() OVER (PARTITION BY ep, source, thread, direction ORDER BY t, seq) AS k_dir,
           row_number() OVER (PARTITION BY ep, channel, type ORDER BY t, seq) AS k_type
    FROM _jx
    WHERE channel IN ('voice', 'chat', 'sms', 'email', 'social', 'store')
       OR (channel IN ('web', 'app') AND type = 'form_submitted')
),
c AS (
    SELECT seq, ep, t, source, channel, type, dept, thread, direction, value,
           channel IN {assisted} AS assisted
    FROM x
    WHERE (channel = 'voice' AND k_thread = 1)
       OR (channel IN ('chat', 'sms') AND direction = 'inbound' AND k_dir = 1)
       OR (channel = 'email' AND direction = 'inbound')
       OR (channel = 'social' AND type = 'social_message' AND direction = 'inbound')
       OR (channel = 'store' AND (type = 'store_return' OR (type = 'service_desk' AND k_type % 2 = 1)))
       OR (channel IN ('web', 'app') AND type = 'form_submitted' AND NOT signup_form
           -- a web form is a contact when it reached the brand: the CRM opened a case from it
           AND EXISTS (SELECT 1 FROM _jx w WHERE w.ep = x.ep AND w.type = 'ticket_opened' AND w.origin = 'web_form'
                       AND w.t >= x.t AND date_diff('second', x.t, w.t) <= 600))
),
voice AS (
    SELECT ep, source, thread, bool_or(agent IS NOT NULL) AS answered,
           arg_max(lower(text), t) AS last_note, max(t) AS last_t,
           sum(coalesce(talk_s, 0) + coalesce(hold_s, 0)) AS handle_s,
           count(*) > 1 OR bool_or(type = 'call_transferred') AS transferred,
           arg_min(value, (t, seq)) AS wait_s
    FROM _jx WHERE channel = 'voice' GROUP BY ep, source, thread
),
conv AS (
    SELECT ep, source, thread,
           min(t) FILTER (WHERE direction = 'inbound') AS first_in,
           min(t) FILTER (WHERE agent IS NOT NULL) AS first_agent,
           max(t) FILTER (WHERE agent IS NOT NULL) AS last_agent,
           max(t) AS last_t,
           bool_or(type = 'chat_ended' AND direction = 'internal') AS transferred,
           lower(string_agg(text, ' ') FILTER (WHERE agent IS NOT NULL)) AS agent_text
    FROM _jx WHERE channel IN ('chat', 'sms') GROUP BY ep, source, thread
),
mail AS (
    SELECT c.seq, min(o.t) AS reply_t, arg_min(o.seq, (o.t, o.seq)) AS reply_seq,
           lower(arg_min(o.text, (o.t, o.seq))) AS reply_text
    FROM (SELECT seq, ep, thread, t, lead(t) OVER (PARTITION BY ep, thread ORDER BY t, seq) AS next_in
          FROM _jx WHERE channel IN ('email', 'social') AND direction = 'inbound'
                     AND (channel = 'email' OR type = 'social_message')) c
    JOIN _jx o ON o.ep = c.ep AND o.thread = c.thread AND o.direction = 'outbound' AND o.t > c.t
              AND (c.next_in IS NULL OR o.t <= c.next_in) AND o.channel IN ('email', 'social')
    GROUP BY c.seq
),
f AS (
    SELECT c.seq, c.ep, c.t, c.channel, c.dept, c.assisted, c.thread, m.reply_seq,
           CASE WHEN c.channel = 'voice' THEN v.answered
                WHEN c.channel IN ('chat', 'sms') THEN cv.first_agent IS NOT NULL
                WHEN c.channel IN ('email', 'social') THEN m.reply_t IS NOT NULL
                WHEN c.channel = 'store' THEN true
                ELSE false END AS answered,
           CASE WHEN c.channel = 'voice' THEN v.wait_s
                WHEN c.channel IN ('chat', 'sms')
                THEN CAST(date_diff('millisecond', cv.first_in, coalesce(cv.first_agent, cv.last_t)) AS DOUBLE) / 1000
                WHEN c.channel IN ('email', 'social') AND m.reply_t IS NOT NULL
                THEN CAST(date_diff('second', c.t, m.reply_t) AS DOUBLE) END AS wait_seconds,
           CASE WHEN c.channel = 'voice' THEN v.handle_s
                WHEN c.channel IN ('chat', 'sms') AND cv.first_agent IS NOT NULL
                THEN CAST(date_diff('second', cv.first_agent, cv.last_agent) AS DOUBLE) END AS handle_seconds,
           coalesce(CASE WHEN c.channel = 'voice' THEN v.transferred
                         WHEN c.channel IN ('chat', 'sms') THEN cv.transferred END, false) AS transferred,
           -- the contact itself met the need: the call's notes say so, the agent's answer defers nothing
           CASE WHEN c.channel = 'voice' THEN coalesce(v.answered AND regexp_matches(v.last_note, {lit(SOLVED_WORDS)}), false)
                WHEN c.channel IN ('chat', 'sms') THEN cv.first_agent IS NOT NULL AND NOT coalesce(cv.transferred, false)
                     AND NOT regexp_matches(coalesce(cv.agent_text, ''), {lit(DEFER_WORDS)})
                WHEN c.channel IN ('email', 'social') THEN m.reply_t IS NOT NULL
                     AND NOT regexp_matches(coalesce(m.reply_text, ''), {lit(DEFER_WORDS)})
                ELSE false END AS resolved_here,
           CASE WHEN c.channel = 'voice' THEN v.last_t WHEN c.channel IN ('chat', 'sms') THEN cv.last_agent
                ELSE m.reply_t END AS answered_at
    FROM c
    LEFT JOIN voice v ON c.channel = 'voice' AND v.ep = c.ep AND v.source = c.source AND v.thread = c.thread
    LEFT JOIN conv cv ON c.channel IN ('chat', 'sms') AND cv.ep = c.ep AND cv.source = c.source
                         AND cv.thread = c.thread
    LEFT JOIN mail m ON m.seq = c.seq
)
SELECT *, row_number() OVER (PARTITION BY ep ORDER BY t, seq) AS n_contact,
       coalesce(date_diff('second', t, lead(t) OVER (PARTITION BY ep ORDER BY t, seq)) <= {window}, false)
           AS repeat_within_window
FROM f
"""


def handled_sql() -> str:
    """Records of a department working the need: answered call legs, the first agent message of each
    chat conversation, e-mail replies, store desk drop-offs and returns, social care's direct replies."""
    return """
CREATE OR REPLACE TEMP TABLE _jh AS
WITH x AS (
    SELECT *, row_number() OVER (PARTITION BY ep, source, thread, agent IS NOT NULL ORDER BY t, seq) AS k_agent
    FROM _jx WHERE channel IN ('voice', 'chat', 'sms', 'email', 'social') AND dept IS NOT NULL
)
SELECT seq, ep, t, channel, dept FROM x
WHERE dept IS NOT NULL AND (
      (channel = 'voice' AND agent IS NOT NULL)
   OR (channel IN ('chat', 'sms') AND agent IS NOT NULL AND k_agent = 1)
   OR (channel = 'email' AND direction = 'outbound')
   OR (channel = 'social' AND type = 'social_message' AND direction = 'outbound'))
UNION ALL
SELECT seq, ep, t, channel, dept FROM _jcon WHERE channel = 'store' AND dept IS NOT NULL
"""


def resolutions_sql() -> str:
    """When each episode's need was met, if it was: the last resolution signal with no contact after it.

    Signals: a ticket marked solved; the delivery that ends a delivery problem; the refund that ends a
    refund; a return refunded at the till; a repair picked up at the desk; an address changed with the
    website's form."""
    return """
CREATE OR REPLACE TEMP TABLE _jres AS
WITH sig AS (
    SELECT x.ep, max(CASE WHEN c.resolved_here THEN c.answered_at ELSE x.t END) AS t
    FROM _jx x JOIN _jep p ON p.ep = x.ep LEFT JOIN _jcon c ON c.seq = x.seq
    WHERE x.type = 'ticket_resolved'
       OR x.seq IN (SELECT seq FROM _jcon WHERE resolved_here)
       OR (x.type = 'order_delivered' AND p.intent = 'delivery_problem')
       OR (x.type = 'refund_issued' AND p.intent = 'refund')
       OR (x.type = 'store_return')
       OR (x.type = 'service_desk' AND p.intent = 'repair'
           AND x.seq NOT IN (SELECT seq FROM _jcon WHERE channel = 'store'))
       OR (x.type = 'form_submitted' AND p.intent = 'address_change' AND NOT x.signup_form)
    GROUP BY x.ep
),
last_contact AS (SELECT ep, max(t) AS t FROM _jcon GROUP BY ep)
SELECT s.ep, CASE WHEN lc.t IS NULL OR s.t >= lc.t THEN s.t END AS resolved_at
FROM sig s LEFT JOIN last_contact lc USING (ep)
"""


def rows_sql() -> str:
    """One row per episode (outcome, effort and friction counts are filled in by the stage)."""
    return """
CREATE OR REPLACE TEMP TABLE _jrow AS
WITH ch AS (
    SELECT ep, string_agg(channel, ';' ORDER BY t0, channel) AS channels
    FROM (SELECT ep, channel, min(t) AS t0 FROM _jx WHERE channel <> 'other' GROUP BY ep, channel)
    GROUP BY ep
),
dp AS (
    SELECT ep, string_agg(dept, ';' ORDER BY t0, dept) AS departments
    FROM (SELECT ep, dept, min(t) AS t0 FROM (
              SELECT ep, dept, t FROM _jh
              UNION ALL SELECT ep, dept, t FROM _jx
              WHERE channel = 'email' AND direction = 'inbound' AND dept IS NOT NULL)
          GROUP BY ep, dept)
    GROUP BY ep
),
con AS (
    SELECT ep, count(*) AS n_contacts, min(t) AS first_contact_at,
           count(*) FILTER (WHERE assisted) AS n_assisted, count(*) FILTER (WHERE NOT assisted) AS n_self,
           count(*) FILTER (WHERE transferred) AS n_transfers
    FROM _jcon GROUP BY ep
),
ev AS (
    SELECT ep, min(t) AS started_at, max(t) AS ended_at, count(*) AS n_events,
           bool_or(type = 'order_placed' AND source = 'shop' OR type = 'store_purchase') AS bought,
           bool_or(type = 'order_cancelled') AS cancelled
    FROM _jx GROUP BY ep
)
SELECT p.episode_id, p.customer_key, p.intent, p.kind, p.intent_source, p.first_seq, p.ep,
       ev.started_at, ev.ended_at, ev.n_events, coalesce(con.n_contacts, 0) AS n_contacts,
       ch.channels, dp.departments, con.first_contact_at, r.resolved_at,
       coalesce(con.n_assisted, 0) AS n_assisted, coalesce(con.n_self, 0) AS n_self_service,
       coalesce(con.n_transfers, 0) AS n_transfers, ev.bought, ev.cancelled
FROM _jep p JOIN ev USING (ep) LEFT JOIN ch USING (ep) LEFT JOIN dp USING (ep) LEFT JOIN con USING (ep)
LEFT JOIN _jres r USING (ep)
UNION ALL
-- an episode of one unit: its figures are the unit's
SELECT p.episode_id, p.customer_key, p.intent, p.kind, p.intent_source, p.first_seq, p.ep,
       u.t0, u.t1, u.n, 0, u.channel, NULL, NULL, NULL, 0, 0, 0, false, false
FROM _jtriv t JOIN _junit u USING (ukey) JOIN _jep p ON p.ep = t.ep
"""


def build(engine: Engine, params: Params, n_threaded: int) -> None:
    engine.execute(attach_sql(n_threaded))
    engine.execute(events_sql(params, n_threaded))
    engine.execute(contacts_sql(params))
    engine.execute(handled_sql())
    engine.execute(resolutions_sql())
    engine.execute(rows_sql())
