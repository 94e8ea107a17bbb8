"""Settings as a table: each has a name, a default, an environment variable and help text.

The table drives the CLI help, validation and ``tests/test_docs.py`` (every setting is documented in
docs/SETTINGS.md). Values are read from the environment at call time, never cached at import.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    env: str
    default: str
    help: str


SETTINGS: tuple[Setting, ...] = (
    Setting(
        "workspace",
        "ORDITO_WORKSPACE",
        "./ordito.duckdb",
        "Workspace file (a DuckDB database). `--workspace` wins over the variable.",
    ),
    Setting("threads", "ORDITO_THREADS", "0", "Engine threads; 0 lets DuckDB use every core."),
    Setting(
        "memory_limit",
        "ORDITO_MEMORY_LIMIT",
        "",
        "Engine memory limit such as '6GB'; empty keeps DuckDB's default (80% of RAM).",
    ),
    Setting(
        "max_field_bytes",
        "ORDITO_MAX_FIELD_BYTES",
        "1048576",
        "A field longer than this (bytes) sends its record to quarantine.",
    ),
    Setting(
        "real_data",
        "ORDITO_REAL_DATA",
        "../shared/data",
        "Folder with the real public data sets used by tests and benchmarks.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get(name: str) -> str:
    s = _BY_NAME[name]
    return os.environ.get(s.env, s.default)


def get_int(name: str) -> int:
    raw = get(name)
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(
            f"Setting {name!r} ({_BY_NAME[name].env}) has value {raw!r}: not an integer"
        ) from None


def resolve_workspace(path: str | os.PathLike[str] | None = None) -> Path:
    """The workspace path: the argument, else ``ORDITO_WORKSPACE``, else ``./ordito.duckdb``."""
    chosen = str(path) if path not in (None, "") else get("workspace")
    p = Path(chosen).expanduser()
    if p.exists() and p.is_dir():
        p = p / "ordito.duckdb"
    return p


def sidecar_dir(workspace: Path) -> Path:
    """Folder beside the workspace file for the live inbox log and server state."""
    return workspace.with_name(workspace.name + ".d")
