"""A throwaway PostgreSQL 15 server from Debian's package, for tests (no mocks: the real server).

The cluster's default collation is ICU ``en-US`` when the build has ICU (Debian's has), so a test that
forgets ``COLLATE "C"`` sorts differently from DuckDB and fails, as it would on a real deployment.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

PG_BIN = Path(os.environ.get("ORDITO_PG_BIN", "/usr/lib/postgresql/15/bin"))


@dataclass
class PgServer:
    root: Path
    port: int
    run_as: str | None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _cmd(self, *args: str) -> list[str]:
        return ["runuser", "-u", self.run_as, "--", *args] if self.run_as else list(args)

    def stop(self) -> None:
        subprocess.run(
            self._cmd(str(PG_BIN / "pg_ctl"), "-D", str(self.root / "data"), "-m", "immediate", "stop"),
            capture_output=True,
            check=False,
        )
        shutil.rmtree(self.root, ignore_errors=True)


def available() -> str | None:
    """None when a server can be started here, else why not."""
    if not (PG_BIN / "initdb").exists():
        return f"PostgreSQL 15 is not installed ({PG_BIN} is absent): apt-get install postgresql"
    if os.geteuid() == 0 and shutil.which("runuser") is None:
        return "running as root without runuser: initdb refuses root"
    return None


def start() -> PgServer:
    """initdb a cluster in a fresh temporary folder and start it on a free port (about a second)."""
    root = Path(tempfile.mkdtemp(prefix="ordito-pg-"))
    run_as = "postgres" if os.geteuid() == 0 else None  # initdb refuses root
    if run_as:
        shutil.chown(root, user=run_as)
    server = PgServer(root, _free_port(), run_as)
    base = [str(PG_BIN / "initdb"), "-D", str(root / "data"), "-A", "trust", "-U", "postgres", "-E", "UTF8"]
    base += ["--locale=C.UTF-8", "--no-sync", "--no-instructions"]
    icu = subprocess.run(
        server._cmd(*base, "--locale-provider=icu", "--icu-locale=en-US"), capture_output=True, text=True
    )
    if icu.returncode != 0:  # a build without ICU
        shutil.rmtree(root / "data", ignore_errors=True)
        _check(subprocess.run(server._cmd(*base), capture_output=True, text=True), "initdb")
    opts = f"-c listen_addresses=127.0.0.1 -p {server.port} -k {root} -c fsync=off -c full_page_writes=off"
    _check(
        subprocess.run(
            server._cmd(
                str(PG_BIN / "pg_ctl"),
                "-D",
                str(root / "data"),
                "-o",
                opts,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            ),
            capture_output=True,
            text=True,
        ),
        "pg_ctl start",
        root / "log",
    )
    return server


def _check(proc: subprocess.CompletedProcess[str], what: str, log: Path | None = None) -> None:
    if proc.returncode != 0:
        extra = log.read_text(errors="replace")[-2000:] if log and log.exists() else ""
        raise RuntimeError(f"{what} failed ({proc.returncode}): {proc.stderr or proc.stdout}\n{extra}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port
