"""Placeholder: the generator lands with the demo-company work (see docs/DEMO_COMPANY.md)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class GenerateResult:
    out_dir: Path
    customers: int
    seed: int
    rows: dict[str, int] = field(default_factory=dict)


def generate(
    out_dir: str | Path,
    customers: int,
    seed: int,
    progress: Callable[[int, int], None] | None = None,
) -> GenerateResult:
    raise NotImplementedError("the demo generator is not written yet")
