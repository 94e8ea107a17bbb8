"""Tables of the journeys stage (migration 4): episodes, their events and contacts, friction.

Documented in docs/DATA_MODEL.md ("Journeys") and docs/JOURNEYS.md. The first columns of ``episodes``,
``episode_events`` and ``friction`` are a contract other stages build on (journey maps, exports): columns
may be added, never renamed or removed.
"""

from __future__ import annotations

from ..store.schema import register

STATEMENTS = [
    # One row per episode: a journey for one need of one customer.
    """CREATE TABLE IF NOT EXISTS episodes (
        episode_id VARCHAR NOT NULL, customer_key VARCHAR NOT NULL, intent VARCHAR NOT NULL,
        started_at TIMESTAMP NOT NULL, ended_at TIMESTAMP NOT NULL, outcome VARCHAR NOT NULL,
        n_events BIGINT NOT NULL, n_contacts BIGINT NOT NULL, channels VARCHAR, departments VARCHAR,
        intent_source VARCHAR, first_contact_at TIMESTAMP, resolved_at TIMESTAMP,
        n_assisted BIGINT NOT NULL DEFAULT 0, n_self_service BIGINT NOT NULL DEFAULT 0,
        n_transfers BIGINT NOT NULL DEFAULT 0, n_frictions BIGINT NOT NULL DEFAULT 0,
        effort DOUBLE, first_seq BIGINT NOT NULL)""",
    # Every event of a resolved customer, in exactly one episode (seq = events.seq).
    """CREATE TABLE IF NOT EXISTS episode_events (
        episode_id VARCHAR NOT NULL, seq BIGINT NOT NULL, customer_key VARCHAR NOT NULL,
        role VARCHAR)""",
    # One row per contact: a customer's attempt to reach the brand about the episode's need.
    """CREATE TABLE IF NOT EXISTS episode_contacts (
        seq BIGINT NOT NULL, episode_id VARCHAR NOT NULL, customer_key VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL, channel VARCHAR NOT NULL, department VARCHAR,
        assisted BOOLEAN NOT NULL, answered BOOLEAN NOT NULL, wait_seconds DOUBLE, handle_seconds DOUBLE,
        transferred BOOLEAN NOT NULL, n_contact BIGINT NOT NULL, repeat_within_window BOOLEAN NOT NULL,
        thread_id VARCHAR)""",
    # One row per detected friction, with its evidence (event seqs) and the parameters that fired it.
    """CREATE TABLE IF NOT EXISTS friction (
        friction_id VARCHAR NOT NULL, episode_id VARCHAR NOT NULL, customer_key VARCHAR NOT NULL,
        kind VARCHAR NOT NULL, occurred_at TIMESTAMP NOT NULL, severity DOUBLE NOT NULL, evidence JSON NOT NULL,
        detail VARCHAR, channel VARCHAR, department VARCHAR)""",
]

register(4, STATEMENTS)
