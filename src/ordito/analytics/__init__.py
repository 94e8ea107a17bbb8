"""Portable analytics: written once as DuckDB-dialect SQL, run on DuckDB, PostgreSQL or Spark.

Every analysis is a private module with pure builders (``*_sql()`` functions, each returning one SQL
statement) and a thin runner that executes them through any :class:`ordito.store.Engine` and shapes the
rows. The builders are snapshot-tested after transpiling (tests/engines/snapshots/) and their results are
compared on the three real engines. The rules for portable SQL are in docs/ENGINES.md.

Examples:
    >>> from ordito.analytics import overview, channel_mix        # doctest: +SKIP
    >>> overview(ws.engine)["coverage"]                          # doctest: +SKIP
    >>> channel_mix(connect("postgresql://me@db/cx"))             # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Callable

from . import _channel_mix, _overview
from ._channel_mix import channel_mix, channel_mix_sql
from ._overview import (
    coverage_sql,
    customers_by_channels_sql,
    events_by_source_sql,
    identifiers_by_kind_sql,
    overview,
    quarantine_reasons_sql,
)

__all__ = [
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

_MODULES = (_overview, _channel_mix)


def builders() -> dict[str, Callable[[], str]]:
    """Every SQL builder of the package by name: what the snapshot and portability tests run.

    A builder is a public ``*_sql`` function of an analytics module; it takes no argument (or only
    arguments with defaults) and returns one DuckDB-dialect statement.
    """
    out: dict[str, Callable[[], str]] = {}
    for module in _MODULES:
        for name in module.__all__:
            if name.endswith("_sql"):
                out[name] = getattr(module, name)
    return out
