"""The documented tables (docs/DATA_MODEL.md) and their migrations.

DDL is written in a portable subset (types that PostgreSQL and Spark also have: BIGINT, VARCHAR, DOUBLE,
BOOLEAN, TIMESTAMP, UUID/JSON map to text where missing). Timestamps are UTC, stored without zone.
Each migration is applied once and recorded in ``meta``; a workspace made by a newer ordito is refused.
"""

from __future__ import annotations

from .base import Engine

_V1 = [
    """CREATE TABLE IF NOT EXISTS meta (key VARCHAR PRIMARY KEY, value VARCHAR)""",
    # One row per ingest run (a file, a folder's silo, or a batch of live API messages).
    """CREATE TABLE IF NOT EXISTS ingest_runs (
        run_id BIGINT PRIMARY KEY, source VARCHAR NOT NULL, kind VARCHAR NOT NULL, path VARCHAR,
        mapping VARCHAR, mapping_sha VARCHAR, started_at TIMESTAMP NOT NULL, finished_at TIMESTAMP,
        rows_in BIGINT, events_new BIGINT, duplicates BIGINT, quarantined BIGINT,
        first_seq BIGINT, last_seq BIGINT, status VARCHAR NOT NULL, message VARCHAR)""",
    # Append-only canonical events. seq is the ingest sequence (monotonic); event_id is the key of
    # idempotency: md5(source || chr(31) || source_key) as a UUID.
    """CREATE TABLE IF NOT EXISTS events (
        seq BIGINT NOT NULL, event_id UUID NOT NULL, source VARCHAR NOT NULL, source_key VARCHAR NOT NULL,
        run_id BIGINT NOT NULL, channel VARCHAR NOT NULL, type VARCHAR NOT NULL,
        occurred_at TIMESTAMP NOT NULL, received_at TIMESTAMP NOT NULL,
        department VARCHAR, agent_id VARCHAR, queue VARCHAR, thread_id VARCHAR, direction VARCHAR,
        text VARCHAR, language VARCHAR, value DOUBLE, currency VARCHAR,
        identifiers STRUCT(kind VARCHAR, namespace VARCHAR, raw VARCHAR, region VARCHAR)[],
        traits JSON, properties JSON)""",
    # Identifiers as written on each event (raw), with the phone region to read them in.
    """CREATE OR REPLACE VIEW event_identifiers AS
        SELECT seq, i.kind AS kind, i.namespace AS namespace, i.raw AS raw, i.region AS region
        FROM (SELECT seq, unnest(identifiers) AS i FROM events)""",
    # Rejected input. Nothing rejected is dropped: raw keeps the record (raw_bytes when not UTF-8).
    """CREATE TABLE IF NOT EXISTS quarantine (
        quarantine_id UUID NOT NULL, run_id BIGINT NOT NULL, source VARCHAR NOT NULL,
        source_key VARCHAR NOT NULL, reason VARCHAR NOT NULL, detail VARCHAR, raw VARCHAR, raw_bytes BLOB,
        quarantined_at TIMESTAMP NOT NULL)""",
    # Live API write keys (stored hashed) and the source name they write as.
    """CREATE TABLE IF NOT EXISTS write_keys (
        key_sha VARCHAR PRIMARY KEY, source VARCHAR NOT NULL, label VARCHAR, created_at TIMESTAMP NOT NULL,
        revoked_at TIMESTAMP)""",
    # --- identity ---
    # Cache of normalisation: one row per distinct (kind, namespace, raw, region) ever seen.
    """CREATE TABLE IF NOT EXISTS identifier_norm (
        kind VARCHAR NOT NULL, namespace VARCHAR NOT NULL, raw VARCHAR NOT NULL, region VARCHAR NOT NULL,
        value VARCHAR, valid BOOLEAN NOT NULL, reason VARCHAR, identifier_id BIGINT)""",
    # Normalised identifiers (graph nodes). status: active | shared | invalid.
    """CREATE TABLE IF NOT EXISTS identifiers (
        identifier_id BIGINT NOT NULL, kind VARCHAR NOT NULL, namespace VARCHAR NOT NULL, value VARCHAR NOT NULL,
        first_seen TIMESTAMP, last_seen TIMESTAMP, n_events BIGINT NOT NULL DEFAULT 0,
        status VARCHAR NOT NULL DEFAULT 'active', status_reason VARCHAR, status_detail JSON,
        updated_seq BIGINT)""",
    # Normalised identifiers on each event.
    """CREATE TABLE IF NOT EXISTS event_links (
        seq BIGINT NOT NULL, identifier_id BIGINT NOT NULL, occurred_at TIMESTAMP NOT NULL,
        n_ids INTEGER NOT NULL, channel VARCHAR, department VARCHAR)""",
    # Why two identifiers belong together: the rule, its score (1.0 deterministic), the evidence.
    """CREATE TABLE IF NOT EXISTS identity_links (
        a BIGINT NOT NULL, b BIGINT NOT NULL, rule VARCHAR NOT NULL, score DOUBLE NOT NULL,
        evidence_seq BIGINT, n_events BIGINT NOT NULL, first_seen TIMESTAMP, last_seen TIMESTAMP)""",
    # The resolved person of every (non-shared) identifier.
    """CREATE TABLE IF NOT EXISTS identity_map (
        identifier_id BIGINT NOT NULL, customer_key VARCHAR NOT NULL, since TIMESTAMP NOT NULL)""",
    """CREATE TABLE IF NOT EXISTS customers (
        customer_key VARCHAR PRIMARY KEY, status VARCHAR NOT NULL, merged_into VARCHAR,
        created_at TIMESTAMP NOT NULL, updated_at TIMESTAMP NOT NULL, display_name VARCHAR,
        n_identifiers BIGINT, n_events BIGINT, first_seen TIMESTAMP, last_seen TIMESTAMP)""",
    # Every change of the identity graph: create, merge, split, shared, attach. Reversible by replay.
    """CREATE TABLE IF NOT EXISTS identity_changes (
        change_id BIGINT NOT NULL, changed_at TIMESTAMP NOT NULL, run_seq BIGINT, action VARCHAR NOT NULL,
        customer_key VARCHAR, other_key VARCHAR, identifier_id BIGINT, reason VARCHAR, detail JSON)""",
    # The customer of every event (NULL customer_key: only shared identifiers; candidates in detail).
    """CREATE TABLE IF NOT EXISTS event_customer (
        seq BIGINT NOT NULL, customer_key VARCHAR, via_identifier_id BIGINT, ambiguous BOOLEAN NOT NULL,
        occurred_at TIMESTAMP NOT NULL, channel VARCHAR, department VARCHAR)""",
    # Watermarks of incremental stages.
    """CREATE TABLE IF NOT EXISTS stage_state (
        stage VARCHAR PRIMARY KEY, watermark_seq BIGINT NOT NULL, updated_at TIMESTAMP NOT NULL)""",
]

# v2: a write key names the namespace of its userId values (customer_id identifiers); NULL = the source.
_V2 = ["ALTER TABLE write_keys ADD COLUMN IF NOT EXISTS user_namespace VARCHAR"]

#: Point-lookup indexes (ART). Bulk loads drop and rebuild the ones on the tables they rewrite (building
#: is cheaper than maintaining them row by row): see drop_indexes / create_indexes.
INDEXES: dict[str, tuple[str, str]] = {
    "events_seq": ("events", "seq"),
    "event_customer_key": ("event_customer", "customer_key"),
    "identifiers_value": ("identifiers", "value"),
    "identifiers_id": ("identifiers", "identifier_id"),
    "identity_map_identifier": ("identity_map", "identifier_id"),
    "identity_map_customer": ("identity_map", "customer_key"),
}


def recreate(engine: Engine, table: str) -> None:
    """Drop a table and create it empty again from its DDL (its indexes go with it: create_indexes later).

    A rebuild of a large derived table this way costs seconds; DELETE of every row costs minutes at COMMIT
    in DuckDB (measured: 69 s for 12M rows).
    """
    import re

    for stmts in MIGRATIONS.values():
        for stmt in stmts:
            if re.match(rf"\s*CREATE TABLE IF NOT EXISTS {table}\s*\(", stmt):
                engine.execute(f"DROP TABLE IF EXISTS {table}")
                engine.execute(stmt)
                return
    raise KeyError(table)


def drop_indexes(engine: Engine, table: str) -> list[str]:
    dropped = []
    for name, (t, _) in INDEXES.items():
        if t == table:
            engine.execute(f"DROP INDEX IF EXISTS {name}")
            dropped.append(name)
    return dropped


def create_indexes(engine: Engine, table: str | None = None) -> None:
    for name, (t, col) in INDEXES.items():
        if table is None or t == table:
            engine.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {t} ({col})")


# 3: the person name written on an event, if any (from traits): evidence for merges and display names
_V3 = ["""CREATE TABLE IF NOT EXISTS event_names (seq BIGINT NOT NULL, name VARCHAR NOT NULL)"""]

MIGRATIONS: dict[int, list[str]] = {1: _V1, 2: _V2, 3: _V3}
# Numbers reserved for the modules built in parallel (each lands its own): 4 journeys (episodes, friction,
# KPIs), 5 voice of the customer, 6 agent workspace and access control, 7 probabilistic identity, 8 stored
# analysis results of the report (drivers).
# Each migration is recorded on its own (meta 'migration:N'), so one that lands after a higher number
# is still applied to existing workspaces.


def register(version: int, statements: list[str]) -> None:
    """Add a module's migration (modules call this at import; see the reserved numbers above)."""
    if version in MIGRATIONS and MIGRATIONS[version] is not statements:
        raise ValueError(f"migration {version} is already registered")
    MIGRATIONS[version] = statements


# Modules that own tables register their migration from these modules (imported by migrate()).
MODULE_SCHEMAS = (
    "ordito.journeys.schema",
    "ordito.voc.schema",
    "ordito.agent.schema",
    "ordito.identity.fuzzy.schema",
    "ordito.report.schema",
)


def _load_modules() -> None:
    import importlib

    for name in MODULE_SCHEMAS:
        try:
            importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name is None or not name.startswith(exc.name):
                raise  # the module exists but one of its imports is missing: a real error


def schema_version() -> int:
    _load_modules()
    return max(MIGRATIONS)


def migrate(engine: Engine) -> int:
    """Apply every migration the workspace lacks. Returns the schema version found before."""
    from ..errors import ConfigError

    engine.execute(_V1[0])
    row = engine.one("SELECT value FROM meta WHERE key = 'schema_version'")
    found = int(row[0]) if row else 0
    latest = schema_version()
    if found > latest:
        raise ConfigError(
            f"This workspace has schema version {found}; this ordito knows up to {latest}. "
            "Upgrade ordito to open it."
        )
    applied = {
        int(k.split(":")[1]) for (k,) in engine.execute("SELECT key FROM meta WHERE key LIKE 'migration:%'")
    }
    for version in sorted(MIGRATIONS):
        if version in applied or (version <= 3 and version <= found):
            continue
        for stmt in MIGRATIONS[version]:
            engine.execute(stmt)
        engine.execute("INSERT OR REPLACE INTO meta VALUES (?, 'applied')", [f"migration:{version}"])
        engine.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(max(version, found))])
        found = max(version, found)
    create_indexes(engine)  # also restores any a crashed bulk load had dropped
    return found
