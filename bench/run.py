"""`make bench`: every benchmark, results in bench/results/*.json, summarised in bench/RESULTS.md."""

from __future__ import annotations

import subprocess
import sys


def main() -> None:
    for mod in ("bench.ingest_bench", "bench.identity_bench", "bench.api_load"):
        print(f"== {mod}", flush=True)
        subprocess.run([sys.executable, "-m", mod], check=True)
    subprocess.run([sys.executable, "-m", "bench.report"], check=True)


if __name__ == "__main__":
    main()
