"""Identity resolution and timeline lookups on a large workspace.

    python -m bench.identity_bench [--customers 200000]

Builds (once) a workspace from a generated demo company of --customers customers (about 50 records each:
200k customers is about 10M events), then:
- resolves it from scratch in a child process, reporting wall time and peak memory (ru_maxrss);
- resolves 10k more events incrementally (web hits with keys never seen: the run works on a copy of the
  cached workspace, so a second run of the bench again resolves 10k new events, not 0);
- times 1,000 timeline lookups (newest 50 events of a random customer) and 1,000 identifier lookups
  (a phone written in another format), reporting p50/p99.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

from bench.common import DATA, demo_company, write_result


def _child(ws: Path, full: bool) -> dict[str, float]:
    code = (
        "import json,time,resource,ordito;"
        f"w=ordito.Workspace({str(ws)!r});t=time.perf_counter();r=w.resolve(full={full});"
        "d=time.perf_counter()-t;w.close();"
        "print(json.dumps({'seconds':d,'peak_rss_gb':resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024/1024,"
        "'events':r.events,'customers':r.customers,'timings':r.timings,'person_records':r.fuzzy.records,"
        "'candidate_pairs':r.fuzzy.pairs,'fuzzy_links':r.fuzzy.links,'fuzzy_edges':r.fuzzy_edges}))"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return json.loads(out.strip().splitlines()[-1])  # type: ignore[no-any-return]


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--customers", type=int, default=200_000)
    args = ap.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]
    company = demo_company(args.customers)
    base_path = DATA / f"ws_{args.customers}.duckdb"  # the ingested company, cached
    ws_path = DATA / f"ws_{args.customers}_run.duckdb"  # this run's copy
    import ordito

    ingest_info: dict[str, object] = {}
    sidecar = DATA / f"ws_{args.customers}.ingest.json"  # the ingest figures of the cached workspace
    with ordito.Workspace(base_path) as ws:
        empty = ws.sql("SELECT count(*) FROM events")[0][0] == 0
    if empty:
        with ordito.Workspace(base_path) as ws:
            t = time.perf_counter()
            res = ws.ingest(company)
            ingest_info = {
                "seconds": round(time.perf_counter() - t, 1),
                "events": res.total("events_new"),
                "quarantined": res.total("quarantined"),
            }
        sidecar.write_text(
            json.dumps(
                {
                    **ingest_info,
                    "built_at": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                    "load_average": [round(x, 2) for x in os.getloadavg()],
                }
            )
        )
    elif sidecar.exists():  # the figures of the run that built the cached workspace
        built = json.loads(sidecar.read_text())
        ingest_info = {k: built[k] for k in ("seconds", "events", "quarantined") if k in built}
        ingest_info["note"] = (
            f"measured when the cached workspace was built ({built.get('built_at', '?')}, load "
            f"{built.get('load_average', '?')}); this run reused that workspace"
        )
    for f in (ws_path, Path(str(ws_path) + ".wal")):
        f.unlink(missing_ok=True)
    shutil.copyfile(base_path, ws_path)
    with ordito.Workspace(ws_path) as ws:
        events = int(ws.sql("SELECT count(*) FROM events")[0][0])
        ws.sql("DELETE FROM stage_state")  # the from-scratch run below must process everything
    full = _child(ws_path, True)
    # incremental: 10k new events from a slice of the web export with keys never seen (a prefix of this
    # run: the cached workspace may hold an older run's)
    with ordito.Workspace(ws_path) as ws:
        inc_csv = DATA / "identity_inc_web.csv"
        ws.sql(
            f"""COPY (SELECT * REPLACE ('inc{int(time.time())}_' || hit_id AS hit_id)
                      FROM read_csv(?, all_varchar = true, ignore_errors = true) LIMIT 10000) TO '{inc_csv}' (HEADER)""",
            [str(company / "web" / "web_analytics.csv")],
        )
        ws.ingest(inc_csv, source="web")
    inc = _child(ws_path, False)
    if inc["events"] < 9000:
        raise SystemExit(f"the incremental run saw {inc['events']} new events, not about 10,000")
    with ordito.Workspace(ws_path, read_only=True) as ws:
        from ordito.timeline import lookup, timeline

        keys = [
            r[0]
            for r in ws.sql("SELECT customer_key FROM customers WHERE status = 'active' USING SAMPLE 1000")
        ]
        phones = [
            r[0]
            for r in ws.sql("""SELECT r.raw FROM identifier_norm r JOIN identifiers i
                                         ON i.kind = r.kind AND i.value = r.value WHERE i.kind = 'phone'
                                         AND i.status = 'active' USING SAMPLE 1000""")
        ]
        rng = random.Random(1)
        for k in keys[:20]:
            timeline(ws.engine, k)  # warm-up
        tl: list[float] = []
        for k in keys:
            t = time.perf_counter()
            timeline(ws.engine, k, limit=50)
            tl.append((time.perf_counter() - t) * 1000)
        lk: list[float] = []
        for p in phones:
            q = p.replace(" ", "") if rng.random() < 0.5 else p
            t = time.perf_counter()
            lookup(ws.engine, q)
            lk.append((time.perf_counter() - t) * 1000)
    result = {
        "command": f"python -m bench.identity_bench --customers {args.customers}",
        "load_average_at_start": load_start,
        "workspace_events": events,
        "ingest_whole_company": ingest_info,
        "resolve_from_scratch": full,
        "resolve_incremental_10k": inc,
        "timeline_ms": {"p50": round(pct(tl, 50), 2), "p99": round(pct(tl, 99), 2), "n": len(tl)},
        "phone_lookup_ms": {"p50": round(pct(lk, 50), 2), "p99": round(pct(lk, 99), 2), "n": len(lk)},
        "targets": {"resolve_seconds": 30, "resolve_peak_gb": 6, "timeline_p99_ms": 10},
        "self_peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024 / 1024,
    }
    print(json.dumps(result, indent=2, default=str))
    write_result("identity", result)


if __name__ == "__main__":
    main()
