"""Episodes, friction and KPIs on a large workspace (the journeys stage, docs/JOURNEYS.md).

    python -m bench.journeys_bench [--customers 200000] [--workspace /tmp/ordito_bench/journeys_200000.duckdb]

Builds (once) a workspace of the generated demo company of --customers customers (200k customers is about
12.5M events) outside the repository, ingested and resolved, then, each in a fresh process:

- ``analyze(full=True)``: every customer's episodes, contacts and friction from scratch (wall time, CPU time
  of the process and its engine threads, CPU time of the two threading processes, peak memory, and for each
  phase the wall and CPU seconds at which it started: features, threading, threading done, friction, as of);
- the KPIs per overall, channel, department and intent (``Workspace.kpis``);
- ``analyze()`` again with nothing new (the cost of an incremental run's checks).

Writes bench/results/journeys.json with the command, the machine and its load average.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.common import demo_company, write_result

_CHILD = r"""
import json, os, resource, sys, time
import ordito
ws = ordito.Workspace(sys.argv[1])
phases = []
t0 = time.perf_counter()
def progress(name, frac):
    phases.append((name, round(time.perf_counter() - t0, 2), round(time.process_time(), 2)))
mode = sys.argv[2]
out = {}
if mode == "full":
    c0 = time.process_time()
    r = ws.analyze(full=True, progress=progress)
    ch = resource.getrusage(resource.RUSAGE_CHILDREN)
    out = {"seconds": round(time.perf_counter() - t0, 2), "cpu_seconds": round(time.process_time() - c0, 2),
           "threading_workers_cpu_seconds": round(ch.ru_utime + ch.ru_stime, 2),
           "result": r.as_dict(), "phases": phases}
elif mode == "kpis":
    for by in ("overall", "channel", "department", "intent"):
        t = time.perf_counter()
        n = ws.kpis(by).num_rows
        out[by] = {"seconds": round(time.perf_counter() - t, 2), "rows": n}
    out["seconds"] = round(time.perf_counter() - t0, 2)
else:
    r = ws.analyze(progress=progress)
    out = {"seconds": round(time.perf_counter() - t0, 2), "result": r.as_dict()}
out["peak_rss_gb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024, 2)
ws.close()
print(json.dumps(out, default=str))
"""


def _child(ws: Path, mode: str) -> dict[str, Any]:
    out = subprocess.run(
        [sys.executable, "-c", _CHILD, str(ws), mode], check=True, capture_output=True, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=200_000)
    ap.add_argument(
        "--workspace", type=Path, default=None, help="where to build the workspace (not in the repo)"
    )
    args = ap.parse_args()
    ws_path = args.workspace or Path(f"/tmp/ordito_bench/journeys_{args.customers}.duckdb")
    ws_path.parent.mkdir(parents=True, exist_ok=True)
    load_start = [round(x, 2) for x in os.getloadavg()]
    import ordito

    build: dict[str, Any] = {}
    with ordito.Workspace(ws_path) as ws:
        empty = ws.sql("SELECT count(*) FROM events")[0][0] == 0
    if empty:
        company = demo_company(args.customers)
        with ordito.Workspace(ws_path) as ws:
            t = time.perf_counter()
            ws.ingest(company)
            build["ingest_seconds"] = round(time.perf_counter() - t, 1)
            t = time.perf_counter()
            ws.resolve()
            build["resolve_seconds"] = round(time.perf_counter() - t, 1)
    with ordito.Workspace(ws_path, read_only=True) as ws:
        events, customers = ws.sql(
            "SELECT (SELECT count(*) FROM events), (SELECT count(DISTINCT customer_key) FROM event_customer)"
        )[0]
    full = _child(ws_path, "full")
    print(f"analyze(full=True): {full['seconds']} s ({full['cpu_seconds']} s CPU)", flush=True)
    kpis = _child(ws_path, "kpis")
    print(f"kpis: {kpis['seconds']} s", flush=True)
    again = _child(ws_path, "again")
    print(f"analyze() with nothing new: {again['seconds']} s", flush=True)
    with ordito.Workspace(ws_path, read_only=True) as ws:
        counts = dict(ws.sql("SELECT kind, count(*) FROM friction GROUP BY 1 ORDER BY 1"))
        n_eps = ws.sql("SELECT count(*) FROM episodes")[0][0]
    path = write_result(
        "journeys",
        {
            "command": "python -m bench.journeys_bench " + " ".join(sys.argv[1:]),
            "load_average_at_start": load_start,
            "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
            "workspace": str(ws_path),
            "workspace_events": events,
            "customers": customers,
            "build": build,
            "analyze_full": full,
            "kpis": kpis,
            "analyze_nothing_new": again,
            "episodes_plus_friction_plus_kpis_seconds": round(full["seconds"] + kpis["seconds"], 2),
            "episodes": n_eps,
            "frictions_by_kind": counts,
            "note": "analyze() is the journeys stage alone; `ordito analyze` also runs the voice-of-the-customer "
            "stage first (bench/results of the voc issue). Load average > 1.5 means other work shared the 2 cores.",
        },
    )
    print(path)


if __name__ == "__main__":
    main()
