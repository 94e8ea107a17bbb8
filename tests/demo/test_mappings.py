"""The built-in mappings parse, read columns the company has, and ingest it as the ground truth says."""

from __future__ import annotations

import re
from pathlib import Path

import duckdb
import pytest

import ordito
from ordito.demo.fuzzy import REPAIRS, WARRANTY
from ordito.demo.silos import SILOS
from ordito.model import EVENT_TYPES
from ordito.sources.mapping import BUILTIN_DIR, builtin_mappings, load_mapping, referenced_columns


def describe(root: Path, source: str) -> dict[str, str]:
    """Column -> DuckDB type of a silo's file, read the way its format is read."""
    silo = next(s for s in SILOS if s.source == source)
    path = str(root / silo.path)
    if silo.fmt == "csv":
        header = (
            (root / silo.path).read_bytes().split(b"\n", 1)[0].decode(silo.encoding).split(silo.delimiter)
        )
        return {c: "VARCHAR" for c in header}
    reader = {
        "jsonl": f"read_json('{path}', format='newline_delimited', ignore_errors=true)",
        "json": f"read_json('{path}', format='array')",
        "parquet": f"read_parquet('{path}')",
    }[silo.fmt]
    return {r[0]: str(r[1]) for r in duckdb.sql(f"DESCRIBE SELECT * FROM {reader}").fetchall()}


def has_column(columns: dict[str, str], name: str) -> bool:
    head, _, rest = name.partition(".")
    if head not in columns:
        return False
    return not rest or re.search(rf"\b{re.escape(rest)}\b", columns[head]) is not None


#: silos written only by `ordito generate --fuzzy` (docs/DEMO_COMPANY.md); tests/identity_fuzzy ingests them
FUZZY_SILOS = {"warranty": WARRANTY, "repairs": REPAIRS}


def test_one_builtin_mapping_per_silo() -> None:
    files = sorted(p.stem for p in BUILTIN_DIR.glob("*.yaml"))
    assert files == sorted([s.source for s in SILOS] + list(FUZZY_SILOS))
    for p in BUILTIN_DIR.glob("*.yaml"):
        m = load_mapping(p)
        assert m.source == p.stem and m.files and m.key


def test_every_referenced_column_exists(root: Path) -> None:
    for source, m in builtin_mappings().items():
        if source in FUZZY_SILOS:
            assert m.files and Path(FUZZY_SILOS[source]).match(m.files)
            continue
        silo = next(s for s in SILOS if s.source == source)
        assert m.format == silo.fmt and tuple(m.key or ()) == silo.key
        assert list(root.glob(m.files or "")) == [root / silo.path]
        columns = describe(root, source)
        missing = [c for c in referenced_columns(m) if not has_column(columns, c)]
        assert not missing, (source, missing, columns)


def test_event_types_are_the_well_known_ones() -> None:
    for source, m in builtin_mappings().items():
        typ = m.event["type"]
        names = set((typ.map or {}).values()) | ({str(typ.const)} if typ.const else set())
        names |= set(re.findall(r"'([a-z_]+)'", typ.expr or "")) - {"abandoned"}
        unknown = names - EVENT_TYPES - {"app_open", "push_open", "order_paid"}
        assert not unknown, (source, unknown)


@pytest.fixture(scope="module")
def ingested(root: Path, tmp_path_factory: pytest.TempPathFactory) -> ordito.Workspace:
    ws = ordito.Workspace(tmp_path_factory.mktemp("ws") / "ws.duckdb")
    ws.ingest(root)
    yield ws
    ws.close()


def test_ingest_quarantines_exactly_the_dirty_records(root: Path, ingested: ordito.Workspace) -> None:
    got = ingested.engine.execute(
        "SELECT source, CAST(regexp_extract(detail, 'record (\\d+)', 1) AS INTEGER) FROM quarantine"
    )
    want = duckdb.sql(
        f"SELECT source, record_no FROM read_csv('{root}/ground_truth/expected_quarantine.csv')"
    ).fetchall()
    assert sorted(map(tuple, got)) == sorted(want)


def test_ingest_reads_every_time_right(root: Path, ingested: ordito.Workspace) -> None:
    rows = ingested.engine.execute(
        f"""SELECT e.source, count(*), count(*) FILTER (WHERE e.occurred_at = g.occurred_at)
            FROM events e JOIN read_parquet('{root}/ground_truth/records.parquet') g USING (source, source_key)
            GROUP BY 1"""
    )
    per_source = {r[0]: (r[1], r[2]) for r in rows}
    assert set(per_source) == {s.source for s in SILOS}
    for source, (n, same) in per_source.items():
        assert n == same, source
    n_events = ingested.engine.execute("SELECT count(*) FROM events")[0][0]
    assert n_events == sum(n for n, _ in per_source.values())  # every event is a record of the truth
