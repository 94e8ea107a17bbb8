"""Golden snapshots of the analytics SQL as PostgreSQL and Spark receive it.

A change of a builder, of a fix-up or of sqlglot shows up here as a diff to review. Regenerate with
``ORDITO_UPDATE_SNAPSHOTS=1 pytest tests/engines/test_snapshots.py`` and read the diff before committing.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import pytest

from ordito.analytics import builders
from ordito.store.dialect import check_portable, transpile

from .conftest import SNAPSHOTS

UPDATE = os.environ.get("ORDITO_UPDATE_SNAPSHOTS") == "1"
BUILDERS = builders()


def test_public_names() -> None:
    import ordito.analytics

    assert sorted(ordito.analytics.__all__) == [
        "builders",
        "channel_mix",
        "channel_mix_sql",
        "coverage_sql",
        "customers_by_channels_sql",
        "events_by_source_sql",
        "identifiers_by_kind_sql",
        "overview",
        "quarantine_reasons_sql",
    ]


def test_there_are_builders() -> None:
    assert {"channel_mix_sql", "events_by_source_sql", "quarantine_reasons_sql"} <= set(BUILDERS)


@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_builder_is_portable(name: str) -> None:
    """Every builder stays inside the tested portable subset (docs/ENGINES.md)."""
    assert check_portable(BUILDERS[name]()) == []


@pytest.mark.parametrize("target", ["postgres", "spark"])
@pytest.mark.parametrize("name", sorted(BUILDERS))
def test_snapshot(name: str, target: str) -> None:
    build: Callable[[], str] = BUILDERS[name]
    got = transpile(build(), target, pretty=True) + "\n"
    path = SNAPSHOTS / f"{name}.{target}.sql"
    if UPDATE or not path.exists():
        path.write_text(got)
        if not UPDATE:
            pytest.fail(f"new snapshot written: {path.name} (review and commit it)")
    assert got == path.read_text(), f"{path.name} differs: ORDITO_UPDATE_SNAPSHOTS=1 to accept"


def test_no_stale_snapshots() -> None:
    expected = {f"{n}.{t}.sql" for n in BUILDERS for t in ("postgres", "spark")}
    stale = sorted(p.name for p in SNAPSHOTS.glob("*.sql") if p.name not in expected)
    assert not stale, f"snapshots of builders that no longer exist: {stale}"
