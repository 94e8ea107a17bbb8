"""What each event says about a need, computed in the engine (DuckDB) for the customers being analysed.

These temporary tables are built for the customers listed in ``_jscope(customer_key)``:

``_jevo`` (one row per event other than a web or app hit)
    the event's unit (the source's own thread: a call, a chat conversation, an e-mail thread, a ticket, an
    order), the product codes, order and ticket numbers it names, and one vote per need whose words its
    text contains (:data:`ordito.journeys.params.INTENT_WORDS`).

``_jwu`` (one row per web or app session, aggregated straight from the hits)
    the session's key and the seqs of its hits, what kind of pages or screens it showed (app events, which
    carry no session id, are cut into sessions by inactivity), its product codes and its role.

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


def _scope_events(where: str, paths: str | None, full: bool, wide: bool) -> str:
    """Events of the customers in scope, and events of shared identifiers whose candidates are in scope
    (``ck`` = '~': threaded later, among their candidates), with their properties parsed once (``p``) or,
    with ``paths`` None, the number of their properties in the dictionary ``_jprops`` (``pid``). A full
    run parses (or looks up) before joining the customers (moving the parsed values through the join, not
    the JSON); an incremental one joins first (it reads the events of a few customers)."""
    cols = "e.seq, e.occurred_at AS t, e.source, e.channel, e.type, e.thread_id AS thread, e.source_key"
    if wide:
        cols += ", e.department AS dept, e.agent_id AS agent, e.queue, e.direction, e.text, e.value"
    if paths is None:
        parsed, props = "d.pid", "events e LEFT JOIN _jprops d ON d.properties = e.properties"
    else:
        parsed, props = f"json_extract_string(e.properties, {paths}) AS p", "events e"
    if full:
        first = f"""
    SELECT x.*, c.customer_key AS ck
    FROM (SELECT {cols}, {parsed} FROM {props} WHERE {where}) x
    JOIN event_customer c ON c.seq = x.seq
    WHERE c.customer_key IS NOT NULL"""
    else:
        first = f"""
    SELECT {cols}, {parsed}, c.customer_key AS ck
    FROM event_customer c JOIN {props} ON e.seq = c.seq
    WHERE c.customer_key IN (SELECT customer_key FROM _jscope) AND {where}"""
    return f"""{first}
    UNION ALL
    SELECT {cols}, {parsed}, '~' AS ck
    FROM (SELECT DISTINCT seq FROM _jamb) a JOIN {props} ON e.seq = a.seq WHERE {where}"""


def _scope_properties(where: str, full: bool) -> str:
    """The distinct properties of the events of ``_scope_events``, with a channel of each."""
    if full:
        first = f"SELECT e.channel, e.properties FROM events e WHERE {where}"
    else:
        first = f"""SELECT e.channel, e.properties FROM event_customer c JOIN events e ON e.seq = c.seq
    WHERE c.customer_key IN (SELECT customer_key FROM _jscope) AND {where}"""
    return f"""SELECT properties, any_value(channel) AS channel FROM (
    {first}
    UNION ALL
    SELECT e.channel, e.properties FROM (SELECT DISTINCT seq FROM _jamb) a JOIN events e ON e.seq = a.seq
    WHERE {where}
) WHERE properties IS NOT NULL GROUP BY properties"""


_IS_ORDER = "(source = 'shop' OR type LIKE 'order%' OR type IN ('delivery_failed', 'refund_issued'))"
_REC = ", ".join(lit(s) for s in RECORD_UNITS)
#: web and app hits (sessions) vs everything else: the first are most events and need only their page
_WEB = "e.channel IN ('web', 'app') AND e.source NOT IN ('shop', 'pos', 'surveys')"


def web_events_sql(params: Params, full: bool) -> str:
    """Web and app sessions (``_jwu``, one row per session), aggregated straight from the hits: what pages
    or screens they show is read from a dictionary of the distinct properties (a company has hundreds of
    pages and millions of hits), and the hits are never materialised (each session keeps the list of its
    events' seqs). App events carry no session id: a new session starts after ``app_session_gap`` of
    inactivity (``_japp``: the session number of each app event)."""
    paths = "['$.page_url', '$.form_name', '$.referrer', '$.screen', '$.params.order_id', '$.params.sku']"
    service_page = (
        "CASE "
        + " ".join(f"WHEN page_kind = {lit(k)} THEN {lit(v)}" for k, v in SERVICE_PAGES.items())
        + " END"
    )
    gap = float(params.app_session_gap)
    sv = ", ".join(f"bool_or(service_page = {lit(v)}) AS sv_{v}" for v in _SV)
    pages = ", ".join(f"CASE WHEN sv_{v} THEN {lit(v)} END" for v in _SV)
    return f"""
CREATE OR REPLACE TEMP TABLE _japp AS
SELECT seq, sum(new_session) OVER (PARTITION BY ck ORDER BY t, seq) AS sess
FROM (SELECT e.seq, c.customer_key AS ck, e.occurred_at AS t,
             CASE WHEN date_diff('second', lag(e.occurred_at) OVER (PARTITION BY c.customer_key
                                                                     ORDER BY e.occurred_at, e.seq),
                                 e.occurred_at) <= {gap} THEN 0 ELSE 1 END AS new_session
      FROM event_customer c JOIN events e ON e.seq = c.seq
      WHERE e.channel = 'app' AND e.source NOT IN ('shop', 'pos', 'surveys') AND {"c.customer_key IS NOT NULL" if full else "c.customer_key IN (SELECT customer_key FROM _jscope)"});

-- web hits repeat a few thousand distinct properties (a page, a form, a referrer): parsed once each
CREATE OR REPLACE TEMP TABLE _jprops AS
WITH d AS ({_scope_properties(_WEB, full)}),
x AS (SELECT properties, channel, json_extract_string(properties, {paths}) AS p FROM d)
SELECT row_number() OVER () AS pid, properties, channel, coalesce(p[1], p[4]) AS page_key, p[2] AS form_name,
       p[3] AS referrer, p[5] AS app_order, upper(replace(p[6], '-', '')) AS app_code
FROM x;

CREATE OR REPLACE TEMP TABLE _jpage AS
WITH d AS (
    SELECT page_key, CASE WHEN any_value(channel) = 'app' THEN lower(page_key)
                          ELSE regexp_replace(lower(page_key), '^[a-z]+://[^/]+', '') END AS page
    FROM _jprops WHERE page_key IS NOT NULL GROUP BY page_key
),
k AS (SELECT page_key, page, {_page_kind_sql("page")} AS page_kind,
             replace(regexp_extract(upper(page), {lit(PRODUCT_CODE)}, 1), '-', '') AS code FROM d)
SELECT page_key, page, page_kind, {service_page} AS service_page, nullif(code, '') AS code FROM k;

-- what each distinct properties says: its page (kind, service page, product code), form, referrer, order
CREATE OR REPLACE TEMP TABLE _jpw AS
SELECT d.pid, d.properties, d.page_key, g.page, g.page_kind, g.service_page, d.form_name, d.referrer, d.app_order,
       coalesce(d.app_code, g.code) AS code,
       coalesce(d.form_name IS NOT NULL AND regexp_matches(lower(d.form_name), {lit(SIGNUP_FORMS)}), false)
           AS signup_form
FROM _jprops d LEFT JOIN _jpage g USING (page_key);

-- one row per session: its key (customer|source|session id, an app session customer|app|number, a hit
-- without a session its own source key), its hits' seqs, and what threading needs of it
CREATE OR REPLACE TEMP TABLE _jwu AS
WITH h AS (
    SELECT w.seq, w.ck, w.t, w.source, w.channel, w.type, coalesce(w.thread, w.source_key) AS k3,
           NULL::BIGINT AS sess, w.pid
    FROM ({_scope_events(_WEB + " AND e.channel <> 'app'", None, full, False)}) w
    UNION ALL
    SELECT w.seq, w.ck, w.t, w.source, w.channel, w.type, coalesce(w.thread, w.source_key), a.sess, w.pid
    FROM ({_scope_events(_WEB + " AND e.channel = 'app'", None, full, False)}) w LEFT JOIN _japp a ON a.seq = w.seq
),
g AS (
    SELECT h.seq, h.ck, h.t, h.source, h.channel, h.type, h.sess,
           CASE WHEN h.sess IS NULL THEN h.source ELSE 'app' END AS k2,
           CASE WHEN h.sess IS NULL THEN h.k3 ELSE CAST(h.sess AS VARCHAR) END AS k3,
           p.page_kind, p.service_page, p.referrer, p.app_order, p.code, coalesce(p.signup_form, false) AS signup_form
    FROM h LEFT JOIN _jpw p USING (pid)
),
u AS (
    SELECT ck, k2, k3, list(seq) AS seqs, min(seq) AS first_seq, any_value(source) AS source,
           any_value(channel) AS channel, min(t) AS t0, max(t) AS t1, count(*) AS n,
           max(app_order) AS app_order, {sv},
           bool_or(type = 'cart_abandoned') AS cart_abandoned,
           bool_or(type = 'add_to_cart') AS add_to_cart,
           bool_or(type IN ('checkout_started', 'order_placed') OR page_kind IN ('checkout', 'confirmation'))
               AS checkout,
           bool_or(type IN ('form_error', 'login_failed', 'contact_page')) AS dead_end,
           bool_or(type = 'form_submitted' AND NOT signup_form) AS form_request,
           bool_or(type = 'form_submitted' AND signup_form) AS signup,
           bool_or(referrer = 'newsletter' OR page_kind = 'newsletter') AS newsletter,
           -- product codes a session is about: added to the cart, or viewed twice, or an app's only product
           list(code) FILTER (WHERE code IS NOT NULL) AS code_hits,
           list(code) FILTER (WHERE code IS NOT NULL AND type = 'add_to_cart') AS carted,
           bool_or(channel = 'app') FILTER (WHERE code IS NOT NULL) AS app_codes,
           -- orders an app names other than by placing them (they end a delivery problem)
           list(app_order) FILTER (WHERE app_order IS NOT NULL AND type <> 'order_placed') AS named_orders
    FROM g GROUP BY ck, k2, k3
),
c AS (
    SELECT *, list_sort(list_distinct(code_hits)) AS codes FROM u
),
f AS (
    SELECT *,
           CASE WHEN len(codes) = 1 AND app_codes THEN codes
                ELSE list_filter(codes, lambda x: list_contains(coalesce(carted, []), x)
                                                  OR len(list_filter(code_hits, lambda y: y = x)) >= 2) END AS focus0
    FROM c
),
v AS (
    SELECT *, CASE WHEN len(focus0) > 0 THEN focus0 END AS focus,
           list_filter([{pages}], lambda x: x IS NOT NULL) AS service_pages,
           CASE WHEN app_order IS NULL THEN []::VARCHAR[] ELSE [app_order] END AS orders
    FROM f
)
SELECT ck || '|' || k2 || '|' || k3 AS ukey, ck, seqs, first_seq, source, channel, t0, t1, n, orders, codes, focus,
       service_pages, cart_abandoned, add_to_cart, checkout, dead_end, form_request, signup, newsletter, named_orders,
       CASE WHEN signup THEN 'signup' WHEN checkout THEN 'checkout' WHEN cart_abandoned THEN 'cart'
            WHEN len(service_pages) > 0 OR form_request OR dead_end THEN 'self_service'
            WHEN newsletter THEN 'newsletter' WHEN len(coalesce(focus, [])) > 0 THEN 'research'
            ELSE 'browse' END AS role
FROM v
"""


#: the service pages a session visited, in this order
_SV = ("refund", "repair", "address_change", "subscription", "delivery_problem", "other")


def other_events_sql(params: Params, full: bool) -> str:
    """Every other event (contacts, tickets, orders, receipts, surveys, posts): the need its words say,
    the product codes, order and ticket numbers it names."""
    paths = "[" + ", ".join(lit("$." + p) for p in _PROPS) + "]"
    return f"""
CREATE OR REPLACE TEMP TABLE _jevo AS
WITH b2 AS (
    SELECT seq, ck, t, source, channel, type, dept, agent, queue, thread, direction, text, value, source_key,
           p[{P["form_name"]}] AS form_name,
           p[{P["transferred_to"]}] AS transferred_to, p[{P["origin_channel"]}] AS origin,
           p[{P["category"]}] AS category, p[{P["subject"]}] AS subject, p[{P["order_ref"]}] AS order_ref,
           p[{P["survey"]}] AS survey, p[{P["items"]}] AS items,
           TRY_CAST(p[{P["talk_seconds"]}] AS DOUBLE) AS talk_s, TRY_CAST(p[{P["hold_seconds"]}] AS DOUBLE) AS hold_s
    FROM ({_scope_events("NOT (" + _WEB + ")", paths, full, True)})
),
b3 AS (
    SELECT *,
           -- the text that says what the need is: what the customer wrote, a call's notes, a ticket's
           -- category and subject (and a web form's words), an e-mail's subject
           lower(CASE
               WHEN channel = 'voice' THEN text
               WHEN channel = 'other' AND type LIKE 'ticket%'
                    THEN concat_ws(' ', category, subject,
                                   CASE WHEN origin = 'web_form' AND type = 'ticket_opened' THEN text END)
               WHEN channel = 'email' THEN concat_ws(' ', subject, CASE WHEN direction = 'inbound' THEN text END)
               WHEN channel IN ('chat', 'social', 'sms', 'review') AND direction = 'inbound' THEN text
               WHEN channel = 'store' THEN text
           END) AS need_text,
           -- references: in what the customer wrote, an agent's notes and answers, a ticket, a subject (not the
           -- bot's and the system's boilerplate)
           CASE WHEN direction = 'inbound' OR agent IS NOT NULL OR channel NOT IN ('chat', 'sms')
                THEN concat_ws(' ', text, subject, order_ref, thread) END AS ref_text,
           direction = 'inbound' OR agent IS NOT NULL OR channel NOT IN ('chat', 'sms') AS has_refs
    FROM b2
)
SELECT seq, ck, t, source, channel, type, dept, agent, queue, thread, direction, text, value, source_key,
       form_name, transferred_to, origin, category, subject, survey, talk_s, hold_s,
       coalesce(form_name IS NOT NULL AND regexp_matches(lower(form_name), {lit(SIGNUP_FORMS)}), false)
           AS signup_form,
       -- product codes: of the items of an order or a receipt, of a text
       list_distinct(list_transform(
           CASE WHEN items IS NOT NULL THEN regexp_extract_all(items, {lit(PRODUCT_CODE)}, 1)
                WHEN text IS NOT NULL AND has_refs THEN regexp_extract_all(text, {lit(PRODUCT_CODE)}, 1)
                ELSE [] END, lambda x: replace(x, '-', ''))) AS codes,
       CASE WHEN {_IS_ORDER} THEN [thread]
            WHEN ref_text IS NULL THEN []
            ELSE list_distinct(regexp_extract_all(ref_text, {lit(ORDER_NUMBER)}, 1)) END AS orders,
       CASE WHEN ref_text IS NULL THEN [] ELSE list_distinct(regexp_extract_all(ref_text, {lit(TICKET_NUMBER)}, 1))
            END AS tickets,
       {_votes_sql("need_text")},
       CASE WHEN {_IS_ORDER}
            -- an order's placing, payment, shipping and cancellation are one unit (its purchase)
            THEN ck || '|' || source || '|' || coalesce(thread, source_key) || '|' ||
                 CASE WHEN type IN ('order_placed', 'order_paid', 'order_shipped', 'order_cancelled')
                      THEN 'purchase' ELSE source_key END
            WHEN source IN ({_REC}) OR thread IS NULL THEN ck || '|' || source || '|' || source_key
            ELSE ck || '|' || source || '|' || thread END AS ukey
FROM b3
"""


#: unit roles decided in the engine that start an episode of their own (no threading needed)
TRIVIAL_ROLES = ("browse", "newsletter", "nps", "research_alone")


def _intent_case() -> str:
    top = "greatest(" + ", ".join(f"v_{i}" for i in INTENT_ORDER) + ")"
    whens = " ".join(f"WHEN v_{i} = {top} THEN {lit(i)}" for i in INTENT_ORDER)
    return f"CASE WHEN {top} = 0 THEN NULL {whens} END"


def units_sql(params: Params) -> str:
    """One row per unit, with the aggregates threading needs. Web sessions and app sessions get their role
    here; a browsing session or a newsletter visit is an episode of its own and never reaches Python."""
    votes = ", ".join(f"CAST(sum(v_{i}) AS INTEGER) AS v_{i}" for i in INTENT_ORDER)
    zero = ", ".join(f"0 AS v_{i}" for i in INTENT_ORDER)
    window = int(params.research_days * 86400)
    return f"""
CREATE OR REPLACE TEMP VIEW _jukey AS
SELECT unnest(seqs) AS seq, ukey FROM _jwu UNION ALL SELECT seq, ukey FROM _jevo;

-- an order's delivery belongs to its purchase unless something else names the order (a contact, a
-- ticket, a tracking screen) or its delivery failed: only then can it end a delivery problem
CREATE OR REPLACE TEMP TABLE _jorders_named AS
SELECT DISTINCT ck, o AS thread FROM (SELECT ck, unnest(orders) AS o FROM _jevo
                                      WHERE NOT {_IS_ORDER} AND len(orders) > 0)
UNION SELECT DISTINCT ck, o FROM (SELECT ck, unnest(named_orders) AS o FROM _jwu WHERE named_orders IS NOT NULL)
UNION SELECT DISTINCT ck, thread FROM _jevo WHERE type = 'delivery_failed';

UPDATE _jevo SET ukey = ck || '|' || source || '|' || coalesce(thread, source_key) || '|purchase'
WHERE type = 'order_delivered' AND ck <> '~'
  AND NOT EXISTS (SELECT 1 FROM _jorders_named n WHERE n.ck = _jevo.ck AND n.thread = _jevo.thread);

-- the other units (calls, chats, e-mail threads, tickets, orders...)
CREATE OR REPLACE TEMP TABLE _juo AS
WITH x AS (
SELECT e.ukey, any_value(e.ck) AS ck, min(e.seq) AS first_seq, any_value(e.source) AS source,
       any_value(e.channel) AS channel, min(e.t) AS t0, max(e.t) AS t1, count(*) AS n,
       {votes},
       list_distinct(flatten(list(e.orders) FILTER (WHERE len(e.orders) > 0))) AS orders,
       list_distinct(flatten(list(e.tickets) FILTER (WHERE len(e.tickets) > 0)
                             || list([e.thread]) FILTER (WHERE e.source = 'surveys' AND e.thread IS NOT NULL)))
           AS tickets,
       list_distinct(flatten(list(e.codes) FILTER (WHERE len(e.codes) > 0))) AS codes, NULL::VARCHAR[] AS focus,
       NULL::VARCHAR[] AS service_pages, false AS cart_abandoned, false AS add_to_cart, false AS checkout,
       bool_or(e.type IN ('form_error', 'login_failed', 'contact_page')) AS dead_end,
       bool_or(e.type = 'form_submitted' AND NOT e.signup_form) AS form_request,
       bool_or(e.type = 'form_submitted' AND e.signup_form) AS signup, false AS newsletter, array_to_string(list_sort(list_distinct(list(e.type))), ',') AS types,
       any_value(e.survey) AS survey,
       any_value(CASE WHEN e.source = 'surveys' THEN e.thread END) AS context_ref,
       bool_or(e.type = 'chat_ended' AND e.direction = 'internal') AS chat_transferred,
       bool_or(e.direction = 'inbound') AS inbound,
       bool_or(e.agent IS NOT NULL) AS answered,
       list(e.source_key) FILTER (WHERE e.channel = 'email') AS keys,
       CASE WHEN any_value(e.source) = 'surveys' AND any_value(e.thread) IS NULL THEN 'nps' END AS role
FROM _jevo e
GROUP BY e.ukey
)
-- the need the unit's words say: most votes, ties to the more specific need (INTENT_ORDER)
SELECT *, {_intent_case()} AS intent FROM x;

-- every unit: sessions (no words, no votes) and the others
CREATE OR REPLACE TEMP VIEW _junit AS
SELECT ukey, ck, first_seq, source, channel, t0, t1, n, {zero},
       orders, []::VARCHAR[] AS tickets, codes, focus, service_pages, cart_abandoned, add_to_cart, checkout,
       dead_end, form_request, signup, newsletter, '' AS types, NULL::VARCHAR AS survey, NULL::VARCHAR AS context_ref,
       false AS chat_transferred, false AS inbound, false AS answered, []::VARCHAR[] AS keys, role,
       NULL::VARCHAR AS intent
FROM _jwu
UNION ALL
SELECT * FROM _juo;

-- a research session no other purchase step shares a product with (within the research window) is a
-- purchase episode of its own: it needs no threading
CREATE OR REPLACE TEMP TABLE _jpc AS
SELECT ukey, ck, t0, t1, role, unnest(CASE WHEN len(coalesce(focus, [])) > 0 THEN focus ELSE coalesce(codes, []) END)
           AS code
FROM _junit WHERE ck <> '~' AND (role IN ('research', 'cart', 'checkout') OR source IN ('pos', 'shop'));

UPDATE _jwu SET role = 'research_alone'
WHERE role = 'research' AND ukey NOT IN (
    SELECT a.ukey FROM _jpc a JOIN _jpc b ON a.ck = b.ck AND a.code = b.code AND a.ukey <> b.ukey
    WHERE a.role = 'research' AND b.t0 <= a.t1 + INTERVAL {window} SECOND
      AND b.t1 >= a.t0 - INTERVAL {window} SECOND)
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


def build(engine: Engine, params: Params, full: bool = False) -> None:
    """Build ``_jwu``, ``_jevo``, ``_jukey`` and ``_junit`` for the customers in ``_jscope`` (every customer with
    ``full``; and ``_jamb``: the ambiguous events whose candidates they are)."""
    engine.execute(
        """CREATE OR REPLACE TEMP TABLE _jamb AS SELECT * FROM _jamb_all
           WHERE candidate IN (SELECT customer_key FROM _jscope)"""
    )
    for stmt in web_events_sql(params, full).split(";\n\n"):
        if full and "TEMP TABLE _jwu" in stmt:
            # every web hit is joined to its customer: DuckDB's last join optimizer, which picks the side to
            # hash from estimated sizes, hashed the hits (their whole properties, 5 GB) instead of
            # ``event_customer`` (two narrow columns); without it the statement took about a fifth less CPU
            # (interleaved runs on the 12.5M-event workspace). A full run only: an incremental one reads the
            # events of a few customers
            with engine.setting("disabled_optimizers", "build_side_probe_side"):
                engine.execute(stmt)
        else:
            engine.execute(stmt)
    engine.execute(other_events_sql(params, full))
    for stmt in units_sql(params).split(";\n\n"):
        engine.execute(stmt)
