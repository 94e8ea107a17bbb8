"""The `ordito` command line (placeholder while the spine lands)."""

from __future__ import annotations

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help="ordito: one customer, one timeline.")


def main() -> None:
    app()
