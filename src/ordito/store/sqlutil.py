"""Tiny helpers for building SQL text safely."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


def ints(values: Iterable[Any]) -> str:
    """The body of an IN list of integers (each cast with ``int``, so nothing else gets in)."""
    return ", ".join(str(int(v)) for v in values)


def q(name: str) -> str:
    """Quote an SQL identifier."""
    return '"' + name.replace('"', '""') + '"'


def lit(value: str) -> str:
    """An SQL string literal."""
    return "'" + value.replace("'", "''") + "'"
