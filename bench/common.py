"""Shared helpers for benchmarks: machine description and result files."""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
DATA = Path(os.environ.get("ORDITO_BENCH_DATA", ROOT / "bench" / "data"))


def machine() -> dict[str, Any]:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    except OSError:
        pass
    import duckdb

    import ordito

    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
    ).stdout.strip()
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "duckdb": duckdb.__version__,
        "ordito": ordito.__version__,
        "commit": commit,
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        # other work on the machine skews every figure: the 1/5/15-minute load when the result was written
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def write_result(name: str, payload: dict[str, Any]) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    p = RESULTS / f"{name}.json"
    p.write_text(json.dumps({"machine": machine(), **payload}, indent=2, default=str) + "\n")
    return p


def demo_company(customers: int, seed: int = 11) -> Path:
    """A generated demo company, cached under bench/data (not committed)."""
    out = DATA / f"company_{customers}_{seed}"
    if (out / "ground_truth" / "manifest.json").exists():
        return out
    subprocess.run(
        [
            sys.executable,
            "-m",
            "ordito.cli",
            "generate",
            str(out),
            "--customers",
            str(customers),
            "--seed",
            str(seed),
        ],
        check=True,
    )
    return out
