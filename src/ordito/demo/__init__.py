"""The demo company generator (docs/DEMO_COMPANY.md): silo exports plus ground truth."""

from __future__ import annotations

from .generator import GenerateResult, generate

__all__ = ["GenerateResult", "generate"]
