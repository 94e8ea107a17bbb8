"""KPIs per team and end to end, side by side: portable SQL over ``episodes``, ``episode_contacts``,
``episode_events`` and ``friction`` (DuckDB dialect, transpiled for PostgreSQL and Spark; docs/ENGINES.md).

Every figure states its base (docs/JOURNEYS.md, "KPIs"). ``by`` is ``channel``, ``department``, ``intent``
or ``overall``: contact figures group contacts by the contact's own channel and department, episode
figures group needs by the channel and department of their first contact, and both by the need's intent.
:func:`department_view_sql` puts what a department sees of itself next to what its customers lived.

Examples:
    >>> from ordito.journeys.kpis import kpis          # doctest: +SKIP
    >>> kpis(ws.engine, by="department")               # doctest: +SKIP
"""

from __future__ import annotations

from typing import Any

from ..errors import InputError
from ..store.base import Engine
from .params import SERVICE_INTENTS, Params

__all__ = ["BY", "contact_kpis_sql", "department_view_sql", "episode_kpis_sql", "kpis"]

BY = ("overall", "channel", "department", "intent")
_SERVICE = "(" + ", ".join(f"'{i}'" for i in SERVICE_INTENTS) + ")"


def _check(by: str) -> None:
    if by not in BY:
        raise InputError(f"by must be one of {', '.join(BY)}, not {by!r}")


def contact_kpis_sql(by: str = "overall", params: Params | None = None) -> str:
    """Contacts: how many, how often the customer came back within the window, transfers, assisted
    contacts nobody answered, wait (voice: in queue; chat: to the first agent message; e-mail: to the
    reply, in hours), service level (answered within the long-wait threshold of the channel), handling
    time (voice: talk and hold; chat: first to last agent message)."""
    _check(by)
    p = params or Params()
    lw = p.long_wait_seconds
    key = {
        "overall": "'all'",
        "channel": "c.channel",
        "department": "coalesce(c.department, 'none')",
        "intent": "e.intent",
    }[by]
    sl = (
        f"CASE c.channel WHEN 'voice' THEN {float(lw.get('voice', 300))} "
        f"WHEN 'chat' THEN {float(lw.get('chat', 120))} WHEN 'email' THEN {float(lw.get('email', 172800))} END"
    )
    return f"""
WITH k AS (
    SELECT {key} AS grp, c.channel, c.assisted, c.answered, c.transferred, c.repeat_within_window, c.wait_seconds,
           c.handle_seconds, {sl} AS threshold
    FROM episode_contacts AS c
    JOIN episodes AS e ON e.episode_id = c.episode_id
)
SELECT
    grp AS key,
    count(*) AS contacts,
    count(CASE WHEN assisted THEN 1 END) AS assisted_contacts,
    CAST(count(CASE WHEN repeat_within_window THEN 1 END) AS DOUBLE) / nullif(count(*), 0) AS repeat_contact_rate,
    CAST(count(CASE WHEN transferred THEN 1 END) AS DOUBLE) / nullif(count(CASE WHEN assisted THEN 1 END), 0)
        AS transfer_rate,
    CAST(count(CASE WHEN assisted AND NOT answered THEN 1 END) AS DOUBLE)
        / nullif(count(CASE WHEN assisted THEN 1 END), 0) AS unanswered_rate,
    sum(CASE WHEN channel = 'voice' THEN wait_seconds END)
        / nullif(count(CASE WHEN channel = 'voice' THEN wait_seconds END), 0) AS voice_wait_seconds,
    sum(CASE WHEN channel = 'chat' THEN wait_seconds END)
        / nullif(count(CASE WHEN channel = 'chat' THEN wait_seconds END), 0) AS chat_wait_seconds,
    sum(CASE WHEN channel = 'email' THEN wait_seconds END) / 3600
        / nullif(count(CASE WHEN channel = 'email' THEN wait_seconds END), 0) AS email_reply_hours,
    CAST(count(CASE WHEN threshold IS NOT NULL AND answered AND wait_seconds <= threshold THEN 1 END) AS DOUBLE)
        / nullif(count(CASE WHEN threshold IS NOT NULL THEN 1 END), 0) AS service_level,
    sum(handle_seconds) / nullif(count(handle_seconds), 0) AS avg_handle_seconds
FROM k
GROUP BY grp
ORDER BY contacts DESC, key
"""


def episode_kpis_sql(by: str = "overall", params: Params | None = None) -> str:
    """Needs (service episodes with a contact or a self-service visit): first-contact resolution, time to
    resolution, self-service containment, digital-to-assisted leakage, customer effort, friction."""
    _check(by)
    key = {
        "overall": "'all'",
        "channel": "coalesce(f.channel, 'self-service only')",
        "department": "coalesce(f.department, 'none')",
        "intent": "e.intent",
    }[by]
    return f"""
WITH first_contact AS (
    SELECT episode_id, channel, department, repeat_within_window
    FROM episode_contacts WHERE n_contact = 1
),
self_service AS (
    SELECT DISTINCT episode_id FROM episode_events WHERE role = 'self_service'
),
fr AS (
    SELECT episode_id, count(*) AS n FROM friction GROUP BY episode_id
),
k AS (
    SELECT {key} AS grp, e.episode_id, e.n_contacts, e.n_assisted, e.resolved_at, e.first_contact_at, e.effort,
           e.outcome, f.repeat_within_window,
           CASE WHEN s.episode_id IS NOT NULL THEN 1 ELSE 0 END AS tried_self_service,
           CASE WHEN e.channels LIKE 'web%' OR e.channels LIKE 'app%' THEN 1 ELSE 0 END AS started_digital,
           coalesce(fr.n, 0) AS frictions
    FROM episodes AS e
    LEFT JOIN first_contact AS f ON f.episode_id = e.episode_id
    LEFT JOIN self_service AS s ON s.episode_id = e.episode_id
    LEFT JOIN fr ON fr.episode_id = e.episode_id
    WHERE e.intent IN {_SERVICE} AND (e.n_contacts > 0 OR s.episode_id IS NOT NULL)
)
SELECT
    grp AS key,
    count(*) AS episodes,
    count(CASE WHEN n_contacts > 0 THEN 1 END) AS episodes_with_contact,
    CAST(count(CASE WHEN n_contacts > 0 AND NOT repeat_within_window AND resolved_at IS NOT NULL THEN 1 END) AS DOUBLE)
        / nullif(count(CASE WHEN n_contacts > 0 THEN 1 END), 0) AS fcr,
    CAST(count(CASE WHEN resolved_at IS NOT NULL THEN 1 END) AS DOUBLE) / nullif(count(*), 0) AS resolved_rate,
    CAST(sum(CASE WHEN resolved_at IS NOT NULL AND first_contact_at IS NOT NULL
                  THEN date_diff('second', first_contact_at, resolved_at) END) AS DOUBLE) / 3600
        / nullif(count(CASE WHEN resolved_at IS NOT NULL AND first_contact_at IS NOT NULL THEN 1 END), 0)
        AS avg_hours_to_resolution,
    CAST(count(CASE WHEN tried_self_service = 1 AND n_assisted = 0 THEN 1 END) AS DOUBLE)
        / nullif(count(CASE WHEN tried_self_service = 1 THEN 1 END), 0) AS self_service_containment,
    CAST(count(CASE WHEN started_digital = 1 AND n_assisted > 0 THEN 1 END) AS DOUBLE)
        / nullif(count(CASE WHEN started_digital = 1 THEN 1 END), 0) AS digital_to_assisted_leakage,
    sum(effort) / nullif(count(effort), 0) AS avg_effort,
    CAST(sum(frictions) AS DOUBLE) / nullif(count(*), 0) AS frictions_per_episode,
    CAST(sum(n_contacts) AS DOUBLE) / nullif(count(*), 0) AS contacts_per_episode
FROM k
GROUP BY grp
ORDER BY episodes DESC, key
"""


def department_view_sql(params: Params | None = None) -> str:
    """Per department: what it sees of itself (its contacts, whether the customer came back *to it*
    within the window) next to what the customer lived (came back to anybody, the need met in the end)."""
    p = params or Params()
    w = int(p.repeat_window_days * 86400)
    return f"""
WITH c AS (
    SELECT c.episode_id, c.seq, c.occurred_at, c.department,
           lead(c.occurred_at) OVER (PARTITION BY c.episode_id ORDER BY c.occurred_at, c.seq) AS next_any,
           lead(c.occurred_at) OVER (PARTITION BY c.episode_id, c.department ORDER BY c.occurred_at, c.seq)
               AS next_same
    FROM episode_contacts AS c
    WHERE c.assisted AND c.department IS NOT NULL
),
k AS (
    SELECT c.department AS dept, e.resolved_at, e.n_contacts,
           CASE WHEN c.next_same IS NOT NULL AND date_diff('second', c.occurred_at, c.next_same) <= {w}
                THEN 1 ELSE 0 END AS back_to_us,
           CASE WHEN c.next_any IS NOT NULL AND date_diff('second', c.occurred_at, c.next_any) <= {w}
                THEN 1 ELSE 0 END AS back_to_anyone,
           CASE WHEN c.next_any IS NULL THEN 1 ELSE 0 END AS last_contact
    FROM c JOIN episodes AS e ON e.episode_id = c.episode_id
)
SELECT
    dept AS department,
    count(*) AS contacts,
    CAST(count(CASE WHEN back_to_us = 0 THEN 1 END) AS DOUBLE) / nullif(count(*), 0) AS own_view_resolution,
    CAST(count(CASE WHEN back_to_anyone = 0 AND resolved_at IS NOT NULL THEN 1 END) AS DOUBLE)
        / nullif(count(*), 0) AS lived_resolution,
    CAST(count(CASE WHEN back_to_us = 1 THEN 1 END) AS DOUBLE) / nullif(count(*), 0) AS own_repeat_rate,
    CAST(count(CASE WHEN back_to_anyone = 1 THEN 1 END) AS DOUBLE) / nullif(count(*), 0) AS lived_repeat_rate,
    CAST(sum(n_contacts) AS DOUBLE) / nullif(count(*), 0) AS lived_contacts_per_need
FROM k
GROUP BY dept
ORDER BY contacts DESC, department
"""


def kpis(engine: Engine, by: str = "overall", params: Params | None = None) -> list[dict[str, Any]]:
    """Contact and episode KPIs per ``by`` value, merged into one row per key (and, by department, the
    department's own view next to what its customers lived)."""
    _check(by)
    rows: dict[str, dict[str, Any]] = {}
    for r in engine.records(contact_kpis_sql(by, params)):
        rows.setdefault(r["key"], {"key": r["key"]}).update(r)
    for r in engine.records(episode_kpis_sql(by, params)):
        rows.setdefault(r["key"], {"key": r["key"]}).update(r)
    if by == "department":
        for r in engine.records(department_view_sql(params)):
            d = rows.setdefault(r["department"], {"key": r["department"]})
            d.update({k: v for k, v in r.items() if k not in ("department", "contacts")})
            own, lived = r["own_view_resolution"], r["lived_resolution"]
            d["resolution_gap"] = None if own is None or lived is None else own - lived
    return sorted(
        rows.values(), key=lambda d: (-(d.get("contacts") or d.get("episodes") or 0), str(d["key"]))
    )
