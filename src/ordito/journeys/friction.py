"""Friction detectors: each kind is one SQL statement over the episode's events and contacts.

Every detector writes rows to ``_jfr(ep, kind, occurred_at, severity, evidence, detail, channel, dept)``;
``evidence`` is the list of event seqs that prove it, in time order. Definitions, parameters and
severities are in docs/JOURNEYS.md ("Friction"); the parameters are :class:`~.params.Params` fields.

Detectors that depend on the end of the data (``as_of``: an e-mail still unanswered, a need still open)
run in :mod:`.stage` on the stored tables, for every episode, whenever ``as_of`` moves.
"""

from __future__ import annotations

from ..store.base import Engine
from ..store.sqlutil import lit
from .params import (
    ADDRESS_PATTERNS,
    FACT_KINDS,
    NOT_SYMPTOM,
    ORDER_NUMBER,
    PRODUCT_CODE,
    SYMPTOM_WORDS,
    Params,
)

KINDS = (
    "repeat_contact",
    "transfer",
    "department_bounce",
    "channel_hop",
    "digital_dead_end",
    "abandonment",
    "long_wait",
    "info_asked_twice",
    "unresolved",
    "negative_sentiment",
)

_CREATE = """CREATE OR REPLACE TEMP TABLE _jfr (
    ep BIGINT, kind VARCHAR, occurred_at TIMESTAMP, severity DOUBLE, evidence BIGINT[], detail VARCHAR,
    channel VARCHAR, dept VARCHAR)"""


def _hours(a: str, b: str) -> str:
    return f"round(CAST(date_diff('second', {a}, {b}) AS DOUBLE) / 3600, 1)"


def repeat_contact_sql(p: Params) -> str:
    w = p.repeat_window_days * 86400.0
    return f"""
INSERT INTO _jfr
SELECT ep, 'repeat_contact', t, 0.5 + 0.5 * (1 - least(gap / {w}, 1)), [prev_seq, seq],
       'contact ' || n_contact || ' after ' || round(gap / 3600, 1) || ' h', channel, dept
FROM (SELECT *, lag(seq) OVER w AS prev_seq,
             CAST(date_diff('second', lag(t) OVER w, t) AS DOUBLE) AS gap
      FROM _jcon WINDOW w AS (PARTITION BY ep ORDER BY t, seq))
WHERE prev_seq IS NOT NULL AND gap <= {w}
"""


def transfer_sql(p: Params) -> str:
    return """
INSERT INTO _jfr
SELECT ep, 'transfer', next_t, 0.4, [seq, next_seq],
       'call transferred from ' || coalesce(dept, '?') || ' to ' || coalesce(next_dept, '?'), 'voice', dept
FROM (SELECT *, lead(seq) OVER w AS next_seq, lead(t) OVER w AS next_t, lead(dept) OVER w AS next_dept
      FROM _jx WHERE channel = 'voice' AND thread IS NOT NULL
      WINDOW w AS (PARTITION BY ep, thread ORDER BY t, seq))
WHERE next_seq IS NOT NULL
"""


def department_bounce_sql(p: Params) -> str:
    k = int(p.bounce_departments)
    return f"""
INSERT INTO _jfr
WITH h AS (SELECT *, lag(dept) OVER (PARTITION BY ep ORDER BY t, seq) AS prev FROM _jh),
turns AS (SELECT ep, string_agg(dept, ' > ' ORDER BY t, seq) AS path FROM h
          WHERE prev IS NULL OR prev <> dept GROUP BY ep),
firsts AS (SELECT ep, dept, min(t) AS t, arg_min(seq, (t, seq)) AS seq,
                  arg_min(channel, (t, seq)) AS channel
           FROM h GROUP BY ep, dept),
ranked AS (SELECT *, row_number() OVER (PARTITION BY ep ORDER BY t, seq) AS k FROM firsts)
SELECT r.ep, 'department_bounce', max(r.t) FILTER (WHERE r.k = {k}), least(1.0, 0.5 + 0.15 * (count(*) - {k})),
       list(r.seq ORDER BY r.t, r.seq), count(*) || ' departments: ' || any_value(tu.path),
       arg_max(r.channel, r.t), arg_max(r.dept, r.t)
FROM ranked r JOIN turns tu USING (ep)
GROUP BY r.ep HAVING count(*) >= {k}
"""


def channel_hop_sql(p: Params) -> str:
    return """
INSERT INTO _jfr
WITH a AS (SELECT ep, arg_min(seq, (t, seq)) AS seq, min(t) AS t, arg_min(channel, (t, seq)) AS channel,
                  arg_min(dept, (t, seq)) AS dept
           FROM _jcon WHERE assisted GROUP BY ep),
s AS (SELECT ep, ukey, min(t) AS t0, arg_min(seq, (t, seq)) AS seq, any_value(channel) AS channel
      FROM _jx WHERE channel IN ('web', 'app') AND urole NOT IN ('order', 'attached') GROUP BY ep, ukey),
last_s AS (SELECT a.ep, arg_max(s.seq, s.t0) AS s_seq, arg_max(s.channel, s.t0) AS s_channel
           FROM a JOIN s ON s.ep = a.ep AND s.t0 < a.t GROUP BY a.ep)
SELECT a.ep, 'channel_hop', a.t, 0.3, [l.s_seq, a.seq], l.s_channel || ' then ' || a.channel, a.channel, a.dept
FROM a JOIN last_s l USING (ep)
"""


def digital_dead_end_sql(p: Params) -> str:
    w = float(p.dead_end_window)
    return f"""
INSERT INTO _jfr
WITH d AS (SELECT seq, ep, t, type FROM _jx
           WHERE urole = 'self_service' AND type IN ('form_error', 'login_failed', 'contact_page')),
c AS (SELECT seq, ep, t, channel, dept FROM _jcon WHERE channel IN ('voice', 'chat', 'email')),
m AS (SELECT d.*, c.seq AS cseq, c.t AS ct, c.channel AS cch, c.dept AS cdept,
             row_number() OVER (PARTITION BY d.seq ORDER BY c.t, c.seq) AS rn
      FROM d JOIN c ON c.ep = d.ep AND c.t > d.t AND date_diff('second', d.t, c.t) <= {w})
SELECT ep, 'digital_dead_end', ct, least(1.0, 0.4 + 0.1 * count(*)),
       list(seq ORDER BY t, seq) || [cseq],
       string_agg(type, ', ' ORDER BY t, seq) || ' then ' || cch, cch, cdept
FROM m WHERE rn = 1 GROUP BY ep, cseq, ct, cch, cdept
"""


def abandonment_sql(p: Params) -> str:
    return """
INSERT INTO _jfr
SELECT ep, 'abandonment', t, CASE WHEN type = 'cart_abandoned' THEN 0.3 ELSE 0.5 END, [seq],
       CASE type WHEN 'cart_abandoned' THEN 'cart abandoned'
                 WHEN 'call_abandoned' THEN CASE WHEN coalesce(value, 0) > 0 THEN 'call abandoned in queue after '
                                                      || CAST(value AS BIGINT) || ' s'
                                                 ELSE 'hung up in the IVR' END
                 ELSE 'chat abandoned' END, channel, dept
FROM _jx WHERE type IN ('cart_abandoned', 'call_abandoned', 'chat_abandoned')
"""


def long_wait_sql(p: Params) -> str:
    lw = p.long_wait_seconds
    v, c, e = float(lw.get("voice", 300)), float(lw.get("chat", 120)), float(lw.get("email", 172800))
    return f"""
INSERT INTO _jfr
SELECT ep, 'long_wait', t, least(1.0, value / {v} / 4 + 0.25), [seq],
       'voice wait ' || CAST(value AS BIGINT) || ' s', 'voice', dept
FROM _jx WHERE channel = 'voice' AND value > {v};

INSERT INTO _jfr
WITH agent AS (SELECT ep, thread, arg_min(seq, (t, seq)) AS seq FROM _jx
               WHERE channel IN ('chat', 'sms') AND agent IS NOT NULL GROUP BY ep, thread)
SELECT c.ep, 'long_wait', c.t, least(1.0, c.wait_seconds / {c} / 4 + 0.25),
       CASE WHEN c.answered THEN [c.seq, a.seq] ELSE [c.seq] END,
       'chat wait ' || CAST(c.wait_seconds AS BIGINT) || ' s' || CASE WHEN c.answered THEN '' ELSE ', no agent' END,
       c.channel, c.dept
FROM _jcon c LEFT JOIN agent a ON a.ep = c.ep AND a.thread = c.thread
WHERE c.channel IN ('chat', 'sms') AND c.wait_seconds > {c};

INSERT INTO _jfr
SELECT ep, 'long_wait', t, least(1.0, wait_seconds / {e} / 4 + 0.25), [seq, reply_seq],
       'email reply after ' || round(wait_seconds / 3600, 1) || ' h', channel, dept
FROM _jcon WHERE channel = 'email' AND wait_seconds > {e}
"""


def _statements_sql() -> str:
    """What the customer told the brand in a contact: call notes, their chat, e-mail, SMS and direct
    messages, a web form's words, a store desk's notes."""
    return """
SELECT x.seq, x.ep, x.t, x.text, p.intent FROM _jx x JOIN _jep p USING (ep)
WHERE x.text IS NOT NULL AND (
      (x.channel = 'voice' AND x.agent IS NOT NULL)
   OR (x.channel IN ('chat', 'sms', 'email') AND x.direction = 'inbound')
   OR (x.channel = 'social' AND x.type = 'social_message' AND x.direction = 'inbound')
   OR (x.type = 'ticket_opened' AND x.origin = 'web_form')
   OR (x.channel = 'store' AND x.seq IN (SELECT seq FROM _jcon WHERE channel = 'store')))
"""


def info_asked_twice_sql(p: Params) -> str:
    def intents(kind: str) -> str:
        return "(" + ", ".join(lit(i) for i, ks in FACT_KINDS.items() if kind in ks) + ")"

    addr = " UNION ALL ".join(
        f"""SELECT seq, ep, t, 'address' AS kind,
                   lower(regexp_replace(unnest(regexp_extract_all(text, {lit(rx)})), '[^A-Za-z0-9]', '', 'g')) AS value
            FROM st WHERE intent IN {intents("address")}"""
        for rx in ADDRESS_PATTERNS
    )
    return f"""
INSERT INTO _jfr
WITH st AS ({_statements_sql()}),
sentences AS (
    SELECT seq, ep, t, lower(regexp_replace(unnest(string_split_regex(text, '[.!?\\n]+')), '\\([^)]*\\)', '', 'g')) AS s
    FROM st WHERE intent IN {intents("problem")}
),
symptoms AS (
    SELECT seq, ep, t, trim(regexp_replace(regexp_extract(s, {lit("(" + SYMPTOM_WORDS + ")[^,;:]*")}, 0),
                                           ' (e|and|ma|but) .*$', '')) AS value
    FROM sentences
),
facts AS (
    SELECT seq, ep, t, 'order_number' AS kind, unnest(regexp_extract_all(text, {lit(ORDER_NUMBER)}, 1)) AS value
    FROM st WHERE intent IN {intents("order_number")}
    UNION ALL
    SELECT seq, ep, t, 'product' AS kind,
           replace(unnest(regexp_extract_all(text, {lit(PRODUCT_CODE)}, 1)), '-', '') AS value
    FROM st WHERE intent IN {intents("product")}
    UNION ALL {addr}
    UNION ALL
    SELECT seq, ep, t, 'problem' AS kind, value FROM symptoms
    WHERE value <> '' AND NOT regexp_matches(value, {lit(NOT_SYMPTOM)})
),
f AS (SELECT DISTINCT seq, ep, t, kind, value FROM facts WHERE value IS NOT NULL AND value <> '')
SELECT ep, 'info_asked_twice', max(t), least(1.0, 0.3 + 0.15 * (count(*) - 1)), list(seq ORDER BY t, seq),
       kind || ' ' || value || ' given ' || count(*) || ' times', NULL, NULL
FROM f GROUP BY ep, kind, value HAVING count(*) >= 2
"""


def negative_sentiment_sql(p: Params) -> str:
    """A customer text whose sentiment drops by ``sentiment_drop`` or more from the customer's previous
    text in the episode, ending negative (needs the ``voc`` table of the voice-of-the-customer stage)."""
    d = float(p.sentiment_drop)
    return f"""
INSERT INTO _jfr
WITH s AS (SELECT x.seq, x.ep, x.t, x.channel, x.dept, v.sentiment_score AS score,
                  lag(v.sentiment_score) OVER (PARTITION BY x.ep ORDER BY x.t, x.seq) AS prev,
                  lag(x.seq) OVER (PARTITION BY x.ep ORDER BY x.t, x.seq) AS prev_seq
           FROM _jx x JOIN voc v ON v.seq = x.seq WHERE x.direction = 'inbound')
SELECT ep, 'negative_sentiment', t, least(1.0, (prev - score) / 2), [prev_seq, seq],
       'sentiment ' || round(prev, 2) || ' -> ' || round(score, 2), channel, dept
FROM s WHERE prev IS NOT NULL AND prev - score >= {d} AND score < 0
"""


def detect(engine: Engine, params: Params, has_voc: bool) -> None:
    """Run every detector on the episodes in scope into ``_jfr`` (the ``as_of`` ones run in the stage)."""
    engine.execute(_CREATE)
    for build in (
        repeat_contact_sql,
        transfer_sql,
        department_bounce_sql,
        channel_hop_sql,
        digital_dead_end_sql,
        abandonment_sql,
        long_wait_sql,
        info_asked_twice_sql,
    ):
        for stmt in build(params).split(";\n\n"):
            engine.execute(stmt)
    if has_voc:
        engine.execute(negative_sentiment_sql(params))
