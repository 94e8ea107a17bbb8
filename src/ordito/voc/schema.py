"""Tables of the voice-of-the-customer stage (migration 5): ``voc``, ``voc_topics``, ``topic_labels``,
``surveys``, ``satisfaction_inferred``.

Documented in docs/DATA_MODEL.md ("Voice of the customer") and docs/VOC.md. Columns may be added, never
renamed or removed: the API and the journeys/drivers stages read them.
"""

from __future__ import annotations

from ..store.schema import register

STATEMENTS = [
    # One row per event with text: what the text says and how it says it.
    """CREATE TABLE IF NOT EXISTS voc (
        seq BIGINT NOT NULL, author VARCHAR NOT NULL, language VARCHAR, language_source VARCHAR,
        language_confidence DOUBLE, sentiment VARCHAR NOT NULL, sentiment_score DOUBLE NOT NULL,
        p_negative DOUBLE NOT NULL, p_neutral DOUBLE NOT NULL, p_positive DOUBLE NOT NULL,
        emotion VARCHAR, topics VARCHAR, n_chars BIGINT NOT NULL, model VARCHAR NOT NULL,
        analyzed_at TIMESTAMP NOT NULL)""",
    # The topics of each text (one row per text and topic): what SQL joins on.
    """CREATE TABLE IF NOT EXISTS voc_topics (seq BIGINT NOT NULL, topic_id VARCHAR NOT NULL, weight DOUBLE NOT NULL)""",
    # Readable labels of every topic in every language ordito writes them in.
    """CREATE TABLE IF NOT EXISTS topic_labels (
        topic_id VARCHAR NOT NULL, language VARCHAR NOT NULL, label VARCHAR NOT NULL, terms VARCHAR,
        origin VARCHAR NOT NULL)""",
    # One row per survey answer (an event of a survey): the metric, the score on its scale, the class.
    """CREATE TABLE IF NOT EXISTS surveys (
        seq BIGINT NOT NULL, customer_key VARCHAR, kind VARCHAR NOT NULL, survey VARCHAR,
        score DOUBLE NOT NULL, scale_min DOUBLE NOT NULL, scale_max DOUBLE NOT NULL, nps_class VARCHAR,
        top_box BOOLEAN, answered_at TIMESTAMP NOT NULL, sent_at TIMESTAMP, context_ref VARCHAR,
        context_seq BIGINT, channel VARCHAR, department VARCHAR, comment_seq BIGINT, language VARCHAR)""",
]

# Satisfaction inferred for episodes with a contact (ordito.voc.infer): never mixed with answers.
INFERRED_DDL = """CREATE TABLE IF NOT EXISTS satisfaction_inferred (
    episode_id VARCHAR NOT NULL, customer_key VARCHAR NOT NULL, intent VARCHAR, outcome VARCHAR,
    p_satisfied DOUBLE NOT NULL, satisfied BOOLEAN NOT NULL, answered BOOLEAN NOT NULL,
    answered_top_box BOOLEAN, inferred BOOLEAN NOT NULL, model VARCHAR NOT NULL, computed_at TIMESTAMP NOT NULL)"""
STATEMENTS.append(INFERRED_DDL)

register(5, STATEMENTS)
