"""What each event says about a need, computed in the engine (DuckDB) for the customers being analysed.

Two temporary tables are built for the customers listed in ``_jscope(customer_key)``:

``_jev`` (one row per event)
    the event's unit (the source's own thread: a web session, a call, a chat conversation, an e-mail
    thread, a ticket; app events, which carry no session id, are cut into sessions by inactivity), what
    kind of page or screen it shows, the product codes, order and ticket numbers it names, and one vote
    per need whose words its text contains (:data:`ordito.journeys.params.INTENT_WORDS`).

``_junit`` (one row per unit)
    the same, aggregated: start and end, votes, the references, and flags (cart abandoned, checkout,
    self-service pages, dead ends, forms, newsletter landing, chat transferred...).

Only what a real silo export carries is read (events and their properties), never ground truth.
"""

from __future__ import annotations

from ..store.base import Engine
from ..store.sqlutil import lit
from .params import (
    INTENT_ORDER,
    INTENT_WORDS,
    ORDER_NUMBER,
    PAGE_KINDS,
    PRODUCT_CODE,
    SERVICE_PAGES,
    SIGNUP_FORMS,
    TICKET_NUMBER,
    Params,
)

# Properties read from the events (one JSON parse per row for all of them).
_PROPS = (
    "page_url",
    "form_name",
    "referrer",
    "screen",
    "params.order_id",
    "params.sku",
    "transferred_to",
    "origin_channel",
    "category",
    "subject",
    "order_ref",
    "survey",
    "items",
    "talk_seconds",
    "hold_seconds",
    "status",
)
#: Sources whose every record is its own unit (an order status, a receipt, a survey answer).
RECORD_UNITS = ("shop", "pos", "surveys")
P = {name: i + 1 for i, name in enumerate(_PROPS)}  # 1-based list index


def _page_kind_sql(col: str) -> str:
    whens = " ".join(f"WHEN regexp_matches({col}, {lit(rx)}) THEN {lit(kind)}" for kind, rx in PAGE_KINDS)
    return f"CASE WHEN {col} IS NULL THEN NULL {whens} ELSE NULL END"


def _votes_sql(col: str) -> str:
    return ",\n".join(
        f"CAST(regexp_matches({col}, {lit(INTENT_WORDS[i])}) AS INTEGER) AS v_{i}" for i in INTENT_ORDER
    )


def events_sql(params: Params) -> str:
    """Features of every event of the customers in ``_jscope`` (a DuckDB statement)."""
    paths = "[" + ", ".join(lit("$." + p) for p in _PROPS) + "]"
    service_page = (
        "CASE "
        + " ".join(f"WHEN page_kind = {lit(k)} THEN {lit(v)}" for k, v in SERVICE_PAGES.items())
        + " END"
    )
    return f"""
CREATE OR REPLACE TEMP TABLE _jev AS
WITH base AS (
    SELECT e.seq, c.customer_key AS ck, e.occurred_at AS t, e.source, e.channel, e.type,
           e.department AS dept, e.agent_id AS agent, e.queue, e.thread_id AS thread, e.direction,
           e.text, e.value, e.source_key,
           CASE WHEN e.properties IS NULL THEN NULL ELSE json_extract_string(e.properties, {paths}) END AS p
    FROM event_customer c JOIN events e ON e.seq = c.seq
    WHERE c.customer_key IN (SELECT customer_key FROM _jscope)
    UNION ALL
    -- events of a shared identifier only (a family phone): threaded later, among their candidates
    SELECT e.seq, '~' AS ck, e.occurred_at AS t, e.source, e.channel, e.type,
           e.department AS dept, e.agent_id AS agent, e.queue, e.thread_id AS thread, e.direction,
           e.text, e.value, e.source_key,
           CASE WHEN e.properties IS NULL THEN NULL ELSE json_extract_string(e.properties, {paths}) END AS p
    FROM events e WHERE e.seq IN (SELECT seq FROM _jamb)
),
b2 AS (
    SELECT seq, ck, t, source, channel, type, dept, agent, queue, thread, direction, text, value, source_key,
           p[{P["page_url"]}] AS page_url, p[{P["form_name"]}] AS form_name, p[{P["referrer"]}] AS referrer,
           p[{P["screen"]}] AS screen, p[{P["params.order_id"]}] AS app_order, p[{P["params.sku"]}] AS app_sku,
           p[{P["transferred_to"]}] AS transferred_to, p[{P["origin_channel"]}] AS origin,
           p[{P["category"]}] AS category, p[{P["subject"]}] AS subject, p[{P["order_ref"]}] AS order_ref,
           p[{P["survey"]}] AS survey, p[{P["items"]}] AS items,
           TRY_CAST(p[{P["talk_seconds"]}] AS DOUBLE) AS talk_s, TRY_CAST(p[{P["hold_seconds"]}] AS DOUBLE) AS hold_s,
           p[{P["status"]}] AS status,
           CASE WHEN channel = 'app' THEN lower(p[{P["screen"]}])
                WHEN p[{P["page_url"]}] IS NOT NULL
                THEN regexp_replace(lower(p[{P["page_url"]}]), '^[a-z]+://[^/]+', '') END AS page
    FROM base
),
b3 AS (
    SELECT *, {_page_kind_sql("page")} AS page_kind,
           -- the text that says what the need is: what the customer wrote, a call's notes, a ticket's
           -- category and subject (and a web form's words), an e-mail's subject
           lower(CASE
               WHEN source = 'calls' OR (channel = 'voice') THEN text
               WHEN channel = 'other' AND type LIKE 'ticket%'
                    THEN concat_ws(' ', category, subject,
                                   CASE WHEN origin = 'web_form' AND type = 'ticket_opened' THEN text END)
               WHEN channel = 'email' THEN concat_ws(' ', subject, CASE WHEN direction = 'inbound' THEN text END)
               WHEN channel IN ('chat', 'social', 'sms', 'review') AND direction = 'inbound' THEN text
               WHEN channel = 'store' THEN text
           END) AS need_text,
           concat_ws(' ', text, subject, order_ref, app_order,
                     CASE WHEN channel NOT IN ('web', 'app') THEN thread END) AS ref_text
    FROM b2
)
SELECT seq, ck, t, source, channel, type, dept, agent, queue, thread, direction, text, value, source_key,
       page, page_kind, {service_page} AS service_page, form_name, referrer, transferred_to, origin, category,
       subject, survey, talk_s, hold_s, status,
       CASE WHEN form_name IS NOT NULL AND regexp_matches(lower(form_name), {lit(SIGNUP_FORMS)})
            THEN true ELSE false END AS signup_form,
       -- product codes: of a product page or screen, of the items of an order or a receipt, of a text
       list_distinct(list_transform(flatten([
           CASE WHEN page IS NOT NULL THEN regexp_extract_all(upper(page), {lit(PRODUCT_CODE)}, 1) ELSE [] END,
           CASE WHEN app_sku IS NOT NULL THEN [upper(app_sku)] ELSE [] END,
           CASE WHEN items IS NOT NULL THEN regexp_extract_all(items, {lit(PRODUCT_CODE)}, 1) ELSE [] END,
           CASE WHEN text IS NOT NULL AND channel NOT IN ('web', 'app')
                THEN regexp_extract_all(text, {lit(PRODUCT_CODE)}, 1) ELSE [] END
       ]), lambda x: replace(x, '-', ''))) AS codes,
       list_distinct(CASE WHEN source = 'shop' OR type LIKE 'order%' OR type IN ('delivery_failed', 'refund_issued')
                          THEN [thread] ELSE regexp_extract_all(coalesce(ref_text, ''), {lit(ORDER_NUMBER)}, 1) END)
           AS orders,
       list_distinct(regexp_extract_all(coalesce(ref_text, ''), {lit(TICKET_NUMBER)}, 1)) AS tickets,
       {_votes_sql("need_text")}
FROM b3
"""


def app_sessions_sql(params: Params) -> str:
    """App events carry no session id: a new session starts after ``app_session_gap`` of inactivity."""
    gap = float(params.app_session_gap)
    rec = ", ".join(lit(s) for s in RECORD_UNITS)
    return f"""
CREATE OR REPLACE TEMP TABLE _japp AS
SELECT seq, ck || '|app|' || CAST(sum(CASE WHEN prev IS NULL OR date_diff('second', prev, t) > {gap}
                                          THEN 1 ELSE 0 END) OVER (PARTITION BY ck ORDER BY t, seq) AS VARCHAR) AS ukey
FROM (SELECT seq, ck, t, lag(t) OVER (PARTITION BY ck ORDER BY t, seq) AS prev FROM _jev
      WHERE channel = 'app' AND source NOT IN ({rec}) AND ck <> '~')
"""


def units_sql() -> str:
    """One row per unit, with the aggregates threading needs."""
    votes = ", ".join(f"CAST(sum(v_{i}) AS INTEGER) AS v_{i}" for i in INTENT_ORDER)
    rec = ", ".join(lit(s) for s in RECORD_UNITS)
    return f"""
CREATE OR REPLACE TEMP TABLE _jukey AS
SELECT e.seq,
       CASE WHEN a.ukey IS NOT NULL THEN a.ukey
            WHEN e.source IN ({rec}) OR e.thread IS NULL THEN e.ck || '|' || e.source || '|' || e.source_key
            ELSE e.ck || '|' || e.source || '|' || e.thread END AS ukey
FROM _jev e LEFT JOIN _japp a ON a.seq = e.seq;

CREATE OR REPLACE TEMP TABLE _junit AS
WITH f AS (
    -- product codes a session is about: added to the cart, or viewed twice, or the only one viewed
    SELECT ukey, code, count(*) AS n, bool_or(type = 'add_to_cart') AS carted
    FROM (SELECT k.ukey, e.type, unnest(e.codes) AS code FROM _jev e JOIN _jukey k USING (seq)
          WHERE e.channel IN ('web', 'app'))
    GROUP BY ukey, code
),
fc AS (
    SELECT ukey, list(code ORDER BY code) FILTER (WHERE carted OR n >= 2 OR n_codes = 1) AS focus
    FROM (SELECT *, count(*) OVER (PARTITION BY ukey) AS n_codes FROM f)
    GROUP BY ukey
)
SELECT k.ukey, any_value(e.ck) AS ck, min(e.seq) AS first_seq, any_value(e.source) AS source,
       mode(e.channel) AS channel, min(e.t) AS t0, max(e.t) AS t1, count(*) AS n,
       {votes},
       list_distinct(flatten(list(e.orders))) AS orders,
       list_distinct(flatten(list(e.tickets) || list(CASE WHEN e.source = 'surveys' AND e.thread IS NOT NULL
                                                         THEN [e.thread] ELSE [] END))) AS tickets,
       list_distinct(flatten(list(e.codes))) AS codes,
       any_value(fc.focus) AS focus,
       list_distinct(list(e.service_page) FILTER (WHERE e.service_page IS NOT NULL)) AS service_pages,
       bool_or(e.type = 'cart_abandoned') AS cart_abandoned,
       bool_or(e.type = 'add_to_cart') AS add_to_cart,
       bool_or(e.type IN ('checkout_started', 'order_placed') AND e.channel IN ('web', 'app')
               OR e.page_kind IN ('checkout', 'confirmation')) AS checkout,
       bool_or(e.type IN ('form_error', 'login_failed', 'contact_page')) AS dead_end,
       bool_or(e.type = 'form_submitted' AND NOT e.signup_form) AS form_request,
       bool_or(e.type = 'form_submitted' AND e.signup_form) AS signup,
       bool_or(e.referrer = 'newsletter' OR e.page_kind = 'newsletter') AS newsletter,
       bool_or(e.page_kind IN ('product', 'search') OR len(e.codes) > 0) AS catalog,
       string_agg(DISTINCT e.type, ',' ORDER BY e.type) AS types,
       any_value(e.survey) AS survey,
       any_value(CASE WHEN e.source = 'surveys' THEN e.thread END) AS context_ref,
       bool_or(e.type = 'chat_ended' AND e.direction = 'internal') AS chat_transferred,
       bool_or(e.direction = 'inbound' AND e.channel NOT IN ('web', 'app')) AS inbound,
       bool_or(e.agent IS NOT NULL) AS answered,
       any_value(e.value) FILTER (WHERE e.channel = 'review') AS rating,
       any_value(e.origin) AS origin,
       list(e.source_key) FILTER (WHERE e.channel = 'email') AS keys
FROM _jev e JOIN _jukey k USING (seq) LEFT JOIN fc ON fc.ukey = k.ukey
GROUP BY k.ukey
"""


def ambiguous_sql() -> str:
    """Events that resolve to nobody because their only identifiers are shared (a family phone, an office
    switchboard), with the customers behind those identifiers: ``_jamb_all(seq, candidate)``."""
    return """
CREATE OR REPLACE TEMP TABLE _jamb_all AS
WITH amb AS (SELECT l.seq, l.identifier_id FROM event_customer c JOIN event_links l ON l.seq = c.seq
             WHERE c.customer_key IS NULL AND c.ambiguous),
nb AS (SELECT a AS id, b AS other FROM identity_links UNION ALL SELECT b AS id, a AS other FROM identity_links)
SELECT DISTINCT amb.seq, m.customer_key AS candidate
FROM amb JOIN nb ON nb.id = amb.identifier_id JOIN identity_map m ON m.identifier_id = nb.other
"""


def build(engine: Engine, params: Params) -> None:
    """Build ``_jev``, ``_jukey`` and ``_junit`` for the customers in ``_jscope`` (and ``_jamb``: the
    ambiguous events whose candidates they are)."""
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE _jamb AS SELECT * FROM _jamb_all
           WHERE candidate IN (SELECT customer_key FROM _jscope)"""
    )
    engine.execute(events_sql(params))
    engine.execute(app_sessions_sql(params))
    for stmt in units_sql().split(";\n\n"):
        engine.execute(stmt)
