"""Tables of the agent workspace and access control (migration 6, docs/DATA_MODEL.md "Agent workspace").

Secrets are never stored in clear: passwords as scrypt hashes, API tokens and session ids as SHA-256
(both are 256-bit random values, so a fast hash is enough; a password is not, hence scrypt).
"""

from __future__ import annotations

from ..store.schema import register

VERSION = 6

STATEMENTS = [
    # People (kind 'person', log in with a password) and systems (kind 'system', API tokens only).
    """CREATE TABLE IF NOT EXISTS users (
        name VARCHAR PRIMARY KEY, display_name VARCHAR, role VARCHAR NOT NULL, kind VARCHAR NOT NULL,
        password_hash VARCHAR, created_at TIMESTAMP NOT NULL, disabled_at TIMESTAMP,
        last_login_at TIMESTAMP)""",
    # API tokens for systems (telephony screen pop, chat integrations): SHA-256 of the token only.
    """CREATE TABLE IF NOT EXISTS api_tokens (
        token_sha VARCHAR PRIMARY KEY, prefix VARCHAR NOT NULL, user_name VARCHAR NOT NULL, label VARCHAR,
        created_at TIMESTAMP NOT NULL, expires_at TIMESTAMP, revoked_at TIMESTAMP)""",
    # Web sessions: the signed cookie carries the session id; the table lets log-out and disabling a
    # user end it on the server.
    """CREATE TABLE IF NOT EXISTS web_sessions (
        session_sha VARCHAR PRIMARY KEY, user_name VARCHAR NOT NULL, created_at TIMESTAMP NOT NULL,
        expires_at TIMESTAMP NOT NULL, revoked_at TIMESTAMP, client VARCHAR)""",
    # Every read of a customer (and every sign-in), by whom, how, and what.
    """CREATE TABLE IF NOT EXISTS audit_log (
        logged_at TIMESTAMP NOT NULL, user_name VARCHAR, role VARCHAR, via VARCHAR NOT NULL, action VARCHAR NOT NULL,
        customer_key VARCHAR, detail VARCHAR, client VARCHAR, path VARCHAR)""",
    # The knowledge base (`ordito knowledge index FOLDER`): articles, and their chunks with an embedding
    # (a JSON array of 384 floats from multilingual-e5-small) for hybrid retrieval.
    """CREATE TABLE IF NOT EXISTS kb_articles (
        article_id VARCHAR PRIMARY KEY, language VARCHAR, title VARCHAR NOT NULL, path VARCHAR,
        tags VARCHAR, body VARCHAR NOT NULL, sha VARCHAR NOT NULL, indexed_at TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS kb_chunks (
        article_id VARCHAR NOT NULL, chunk_no BIGINT NOT NULL, text VARCHAR NOT NULL, model VARCHAR,
        embedding JSON)""",
]

register(VERSION, STATEMENTS)
