"""Journey maps against pm4py: directly-follows graph and variants on a 10M-event log.

    python -m bench.dfg_bench [--copies 39] [--repeat 3] [--skip-variants]

The log is a real one made large: the BPI Challenge 2012 log (262,200 events, 13,087 applications, from
$ORDITO_REAL_DATA/process-logs) written ``--copies`` times with the case ids suffixed (39 copies: 10.2M
events, 510k cases), then ingested into a fresh workspace through the user mapping
examples/mappings/bpic2012.yaml, exactly as a user would (both cached under bench/data, not committed).

Measured, on the same log, case notion ``thread`` (one application = one case), activity = event type:

* **ordito from events**: :func:`ordito.journeys.maps.dfg` on the workspace (DuckDB), the log cut from
  ``events``, coded and sorted inside the engine at every call; the timing starts from the workspace on
  disk. First the output pm4py's ``discover_dfg`` gives (edge frequencies, start and end activities:
  ``cases=False, nodes=False``), then the full map (cases per edge and per activity too), then variants.
* **ordito prepared**: ``maps.prepare`` (``ordito journeys prepare``) materialises the coded steps once
  (timed apart), then the same maps and variants read them.
* **pm4py**: ``pm4py.discover_dfg`` and ``pm4py.get_variants`` on a pandas DataFrame already in memory,
  already sorted by case and time, as ``pm4py.format_dataframe`` leaves it: the most favourable start for
  pm4py (the time to build that DataFrame is reported apart and not counted).

Edges, counts, start and end activities and variants are asserted equal; the result file records the
command, the machine and the load average (`uptime`) before and after. pm4py is AGPL and is a bench/test
dependency only: ``pip install -e '.[pm]'``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from bench.common import DATA, ROOT, write_result

T = TypeVar("T")
BPIC_EVENTS = 262_200


def uptime() -> str:
    try:
        return subprocess.run(["uptime"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "load average: {:.2f}, {:.2f}, {:.2f}".format(*os.getloadavg())


def timed(fn: Callable[[], T], repeat: int) -> tuple[T, list[float]]:
    times, out = [], None
    for _ in range(repeat):
        t = time.perf_counter()
        out = fn()
        times.append(round(time.perf_counter() - t, 3))
    assert out is not None
    return out, times


def build_workspace(copies: int) -> Path:
    """The replicated BPIC 2012 log, ingested through the user mapping (cached)."""
    import duckdb

    import ordito
    from ordito import settings

    src = Path(settings.get("real_data")) / "process-logs" / "bpic2012.csv.gz"
    if not src.exists():
        sys.exit(f"{src} not found: set ORDITO_REAL_DATA to the folder holding process-logs/")
    folder = DATA / f"bpic2012_x{copies}"
    ws_path = folder / "ws.duckdb"
    csv_path = folder / f"bpic2012_x{copies}.csv"
    done = folder / "ingested.ok"
    if done.exists():
        return ws_path
    folder.mkdir(parents=True, exist_ok=True)
    ws_path.unlink(missing_ok=True)
    t = time.perf_counter()
    con = duckdb.connect()
    cols = con.execute(f"SELECT * FROM read_csv('{src}', all_varchar = true) LIMIT 0").description
    names = [c[0] for c in cols]
    sel = ", ".join(
        f"\"{n}\" || '-r' || lpad(CAST(k AS VARCHAR), 2, '0') AS \"{n}\""
        if n == "case:concept:name"
        else f'"{n}"'
        for n in names
    )
    con.execute(
        f"COPY (SELECT {sel} FROM read_csv('{src}', all_varchar = true), range({copies}) AS r(k)) "
        f"TO '{csv_path}' (HEADER, DELIMITER ',')"
    )
    con.close()
    print(f"wrote {csv_path} in {time.perf_counter() - t:.1f} s", flush=True)
    with ordito.Workspace(ws_path) as ws:
        t = time.perf_counter()
        res = ws.ingest(csv_path, mapping=ROOT / "examples" / "mappings" / "bpic2012.yaml")
        print(f"ingested {res.total('events_new'):,} events in {time.perf_counter() - t:.1f} s", flush=True)
    csv_path.unlink()
    done.write_text("ok\n")
    return ws_path


def measure_refresh(ws_path: Path, n_new: int = 10_000) -> dict[str, Any]:
    """On a copy of the workspace: ingest ``n_new`` events (new cases and events of existing ones),
    refresh the prepared log, and check its map against the one computed from the events."""
    import shutil
    import tempfile

    import duckdb

    import ordito
    from ordito.journeys import maps

    with tempfile.TemporaryDirectory(prefix="dfg_bench_") as tmp:
        copy = Path(tmp) / "ws.duckdb"
        shutil.copy(ws_path, copy)
        extra = Path(tmp) / "bpic2012_extra.csv"
        src = Path(os.environ.get("ORDITO_REAL_DATA", "../shared/data")) / "process-logs" / "bpic2012.csv.gz"
        # the first applications again as a 40th copy (new cases), plus late events on copy 00's cases
        con = duckdb.connect()
        con.execute(
            f"""COPY (
                SELECT * EXCLUDE (n) REPLACE (
                    "case:concept:name" || CASE WHEN n % 2 = 0 THEN '-r99' ELSE '-r00' END AS "case:concept:name")
                FROM (SELECT *, row_number() OVER () AS n FROM read_csv('{src}', all_varchar = true)) AS x
                WHERE n <= {n_new}
            ) TO '{extra}' (HEADER, DELIMITER ',')"""
        )
        con.close()
        with ordito.Workspace(copy) as ws:
            ws.ingest(extra, mapping=ROOT / "examples" / "mappings" / "bpic2012.yaml")
            t = time.perf_counter()
            info = maps.prepare(ws.engine, "thread")
            seconds = round(time.perf_counter() - t, 2)
            print(
                f"ordito prepare after {n_new:,} new events: {info.mode}, {info.changed_cases:,} cases, {seconds} s"
            )
            warm = maps.dfg(ws.engine, "thread")
            cold = maps.dfg(ws.engine, "thread", use_prepared=False)
            assert warm.prepared and warm.edges == cold.edges and warm.nodes == cold.nodes
        return {
            "new_events": n_new,
            "mode": info.mode,
            "changed_cases": info.changed_cases,
            "seconds": seconds,
        }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--copies", type=int, default=39, help="copies of BPIC 2012 (39: 10.2M events)")
    ap.add_argument("--repeat", type=int, default=3, help="runs of each ordito measurement")
    ap.add_argument("--pm4py-repeat", type=int, default=2, help="runs of each pm4py measurement")
    ap.add_argument("--skip-variants", action="store_true")
    ap.add_argument(
        "--skip-refresh", action="store_true", help="skip the refresh measurement (copies the workspace)"
    )
    args = ap.parse_args()
    load_start = uptime()
    print(load_start, flush=True)
    ws_path = build_workspace(args.copies)

    import ordito
    from ordito.journeys import maps
    from ordito.journeys.log import event_log

    results: dict[str, Any] = {}
    with ordito.Workspace(ws_path, read_only=True) as ws:
        events, cases = ws.sql("SELECT count(*), count(DISTINCT thread_id) FROM events")[0]
        print(f"log: {events:,} events, {cases:,} cases", flush=True)

        # cold: from the events, every time
        core, t_core = timed(
            lambda: maps.dfg(ws.engine, "thread", cases=False, nodes=False, use_prepared=False), args.repeat
        )
        print("ordito dfg from events (pm4py's output)", t_core, flush=True)
        full, t_full = timed(lambda: maps.dfg(ws.engine, "thread", use_prepared=False), args.repeat)
        print("ordito dfg from events (cases, nodes, time)", t_full, flush=True)
        assert full.follows() == core.follows()
        if not args.skip_variants:
            var, t_var = timed(
                lambda: maps.variants(ws.engine, "thread", top=None, use_prepared=False), args.repeat
            )
            print("ordito variants from events", t_var, flush=True)
    # prepared: the coded steps materialised once in the workspace (`ordito journeys prepare`)
    with ordito.Workspace(ws_path) as ws:
        t = time.perf_counter()
        info = maps.prepare(ws.engine, "thread", full=True)  # a rebuild, even if a run left one
        t_prepare = round(time.perf_counter() - t, 2)
        print("ordito prepare", t_prepare, flush=True)
    with ordito.Workspace(ws_path, read_only=True) as ws:
        pcore, tp_core = timed(lambda: maps.dfg(ws.engine, "thread", cases=False, nodes=False), args.repeat)
        assert pcore.prepared == info.prefix and pcore.edges == core.edges
        print("ordito dfg from the prepared log (pm4py's output)", tp_core, flush=True)
        pfull, tp_full = timed(lambda: maps.dfg(ws.engine, "thread"), args.repeat)
        assert pfull.edges == full.edges and pfull.nodes == full.nodes
        print("ordito dfg from the prepared log (cases, nodes, time)", tp_full, flush=True)
        if not args.skip_variants:
            pvar, tp_var = timed(lambda: maps.variants(ws.engine, "thread", top=None), args.repeat)
            assert pvar.counts() == var.counts()
            print("ordito variants from the prepared log", tp_var, flush=True)
    refresh = {} if args.skip_refresh else measure_refresh(ws_path)
    with ordito.Workspace(ws_path, read_only=True) as ws:
        t = time.perf_counter()
        df = event_log(ws.engine, "thread").to_pandas()
        df = df.rename(
            columns={
                "case_id": "case:concept:name",
                "activity": "concept:name",
                "timestamp": "time:timestamp",
            }
        )
        t_df = round(time.perf_counter() - t, 1)
        print(f"pandas DataFrame for pm4py in {t_df} s (not counted)", flush=True)

    import pm4py

    (follows, starts, ends), t_pm = timed(lambda: pm4py.discover_dfg(df), args.pm4py_repeat)
    print("pm4py discover_dfg", t_pm, flush=True)
    assert follows == core.follows(), "edges or counts differ from pm4py"
    assert starts == core.start_activities() and ends == core.end_activities(), "start/end differ"
    med = statistics.median
    results["dfg"] = {
        "edges": len(follows),
        "pm4py_seconds": t_pm,
        "ordito_from_events_seconds": t_core,
        "ordito_from_events_full_map_seconds": t_full,
        "ordito_prepare_seconds": t_prepare,
        "ordito_refresh": refresh,
        "ordito_prepared_seconds": tp_core,
        "ordito_prepared_full_map_seconds": tp_full,
        "speedup_from_events": round(med(t_pm) / med(t_core), 1),
        "speedup_from_events_full_map": round(med(t_pm) / med(t_full), 1),
        "speedup_prepared": round(med(t_pm) / med(tp_core), 1),
        "speedup_prepared_full_map": round(med(t_pm) / med(tp_full), 1),
        "same_edges_and_counts": True,
    }
    if not args.skip_variants:
        pv, t_pv = timed(lambda: pm4py.get_variants(df), 1)
        print("pm4py get_variants", t_pv, flush=True)
        got = {k: (n if isinstance(n, int) else len(n)) for k, n in pv.items()}
        assert got == var.counts(), "variants differ from pm4py"
        results["variants"] = {
            "variants": var.variants,
            "pm4py_seconds": t_pv,
            "ordito_from_events_seconds": t_var,
            "ordito_prepared_seconds": tp_var,
            "speedup_from_events": round(med(t_pv) / med(t_var), 1),
            "speedup_prepared": round(med(t_pv) / med(tp_var), 1),
            "same_variants_and_counts": True,
        }
    load_end = uptime()
    print(load_end, flush=True)
    loads = [float(x) for x in load_start.rsplit("load average:", 1)[1].split(",")]
    target = 10.0
    payload = {
        "command": "python -m bench.dfg_bench " + " ".join(sys.argv[1:]),
        "log": {
            "what": f"BPI Challenge 2012 x {args.copies} (case ids suffixed), ingested with "
            "examples/mappings/bpic2012.yaml; case notion thread, activity = event type",
            "events": events,
            "cases": cases,
        },
        "uptime_start": load_start,
        "uptime_end": load_end,
        "loaded_machine": loads[0] > 1.5,
        "note": "pm4py times start from a sorted pandas DataFrame in memory (its build time, "
        f"{t_df} s, is not counted); ordito times start from the workspace file. The load average was "
        "above 1.5 at the start: other work shared the 2 cores, and DuckDB (which uses both) lost more "
        "to it than single-threaded pandas."
        if loads[0] > 1.5
        else "pm4py times start from a sorted pandas DataFrame in memory (its build time, "
        f"{t_df} s, is not counted); ordito times start from the workspace file.",
        "pandas_dataframe_seconds": t_df,
        "pm4py": pm4py.__version__,
        "results": results,
        "target": {
            "speedup": target,
            "met_from_events": results["dfg"]["speedup_from_events"] >= target,
            "met_prepared": results["dfg"]["speedup_prepared"] >= target,
        },
    }
    path = write_result("dfg", payload)
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
