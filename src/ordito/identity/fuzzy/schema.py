"""Tables of the probabilistic identity stage (migration 7, docs/DATA_MODEL.md "Fuzzy identity")."""

from __future__ import annotations

from ...store.schema import register

STATEMENTS = [
    # One row per person record: the canonical attributes seen on events of one graph node (identifier).
    """CREATE TABLE IF NOT EXISTS fuzzy_records (
        rec_id BIGINT NOT NULL, node_id BIGINT NOT NULL, src VARCHAR, sig VARCHAR NOT NULL,
        first_seq BIGINT NOT NULL, n_events BIGINT NOT NULL, name VARCHAR, name_toks VARCHAR, dob VARCHAR,
        street VARCHAR, civic VARCHAR, postcode VARCHAR, city VARCHAR, email VARCHAR, email_local VARCHAR,
        phone VARCHAR, phone_tail VARCHAR)""",
    # The persisted blocking index: every key of every record (63-bit md5 of the key text).
    """CREATE TABLE IF NOT EXISTS fuzzy_blocks (key BIGINT NOT NULL, rec_id BIGINT NOT NULL)""",
    # Scored candidate pairs at or above the review threshold, with their comparison levels.
    """CREATE TABLE IF NOT EXISTS fuzzy_pairs (
        rec_a BIGINT NOT NULL, rec_b BIGINT NOT NULL, node_a BIGINT NOT NULL, node_b BIGINT NOT NULL,
        levels VARCHAR NOT NULL, weight DOUBLE NOT NULL, probability DOUBLE NOT NULL, band VARCHAR NOT NULL,
        model_version BIGINT NOT NULL, scored_at TIMESTAMP NOT NULL)""",
    # A person's decision on a pair of nodes: 'same' or 'different'; it wins over the model.
    """CREATE TABLE IF NOT EXISTS fuzzy_reviews (
        node_a BIGINT NOT NULL, node_b BIGINT NOT NULL, decision VARCHAR NOT NULL, decided_by VARCHAR,
        decided_at TIMESTAMP NOT NULL, note VARCHAR, probability DOUBLE)""",
    # Trained models (the newest is used); params is JSON with m, u, u_random, lambda, trained_on.
    """CREATE TABLE IF NOT EXISTS fuzzy_models (
        version BIGINT NOT NULL, trained_at TIMESTAMP NOT NULL, params JSON NOT NULL)""",
    # Settings of the stage per workspace (thresholds, blocking cap).
    """CREATE TABLE IF NOT EXISTS fuzzy_config (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL)""",
]

register(7, STATEMENTS)
