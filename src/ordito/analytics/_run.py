"""The thin runner shared by the analytics: execute a builder's SQL on an engine, return plain rows."""

from __future__ import annotations

from typing import Any

from ..store.base import Engine


def rows(engine: Engine, sql: str) -> list[dict[str, Any]]:
    """Run one statement on ``engine`` and return its rows as dicts (column name -> Python value).

    Values are what Arrow gives on every engine: ``int`` for counts, ``float`` for shares,
    ``datetime.date`` for dates, ``str`` for text, ``None`` for NULL.
    """
    return engine.records(sql)
