"""Screen-pop latency: ``GET /v1/context?phone=|email=|id=`` against a real ``ordito serve``.

    .venv/bin/python -m bench.context_bench --workspace /tmp/ws_copy.duckdb [--requests 2000] [--clients 4]

The workspace must be a copy you may write to (the bench adds a system user and its API token, the
server writes the audit log): never the original of a shared benchmark. The server runs in its own process
(``python -m ordito.cli serve``); this process is the client, over loopback with keep-alive, one request at
a time (latency), then ``--clients`` at once (latency under load). Each request asks about a different
customer (no brief cache hits), with the identifier written another way than stored: phones as
``0039 333 1234567`` or nationally, emails in capitals, ids with their namespace. Then the sequential
queries again in this process, without HTTP or the server (what the engine and Python cost). Result:
bench/results/context.json (command, machine, load average at start and end, percentiles).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import httpx

from bench.common import ROOT, machine

TARGET_P99_MS = 50.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def rewrite(kind: str, value: str, rng: random.Random) -> tuple[str, str]:
    """(parameter, value written another way than the workspace stores it)."""
    if kind == "phone":
        digits = value.lstrip("+")
        if value.startswith("+39") and rng.random() < 0.5:
            n = digits[2:]
            return "phone", f"{n[:3]} {n[3:6]} {n[6:]}"  # national, as a caller ID shows it
        if value.startswith("+44") and rng.random() < 0.5:
            n = "0" + digits[2:]
            return "phone", f"{n[:5]} {n[5:]}"
        return "phone", "00" + digits[:2] + " " + digits[2:5] + " " + digits[5:]
    if kind == "email":
        local, _, dom = value.partition("@")
        return "email", f" {local.upper()}@{dom.capitalize()} "
    return "id", value


def sample(ws_path: Path, n: int, seed: int) -> list[tuple[str, str]]:
    import duckdb

    con = duckdb.connect(str(ws_path), read_only=True)
    rows = con.execute(
        """SELECT i.kind, i.value FROM identifiers i JOIN identity_map m USING (identifier_id)
           WHERE i.status = 'active' AND i.kind IN ('phone', 'email', 'customer_id')
             AND i.value NOT LIKE 'eid:%'
           ORDER BY hash(i.identifier_id + ?) LIMIT ?""",
        [seed, n * 3],
    ).fetchall()
    con.close()
    rng = random.Random(seed)
    by_kind: dict[str, list[str]] = {}
    for k, v in rows:
        by_kind.setdefault(k, []).append(v)
    out = []
    for i in range(n):
        r = rng.random()
        kind = "phone" if r < 0.6 else "email" if r < 0.9 else "customer_id"
        pool = by_kind.get(kind) or next(iter(by_kind.values()))
        out.append(rewrite(kind, pool[i % len(pool)], rng))
    return out


def pct(xs: list[float], p: float) -> float:
    s = sorted(xs)
    return round(s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))], 2) if s else 0.0


def summary(lat: list[float], codes: dict[int, int], seconds: float) -> dict[str, Any]:
    return {
        "requests": len(lat),
        "seconds": round(seconds, 2),
        "requests_per_s": round(len(lat) / seconds, 1) if seconds else 0,
        "status_codes": {str(k): v for k, v in sorted(codes.items())},
        "p50_ms": pct(lat, 50),
        "p90_ms": pct(lat, 90),
        "p99_ms": pct(lat, 99),
        "max_ms": round(max(lat), 2) if lat else 0,
        "mean_ms": round(sum(lat) / len(lat), 2) if lat else 0,
    }


def run(base: str, token: str, queries: list[tuple[str, str]], clients: int) -> dict[str, Any]:
    lat: list[float] = []
    codes: dict[int, int] = {}
    lock = threading.Lock()
    chunks = [queries[i::clients] for i in range(clients)]

    def worker(qs: list[tuple[str, str]]) -> None:
        with httpx.Client(base_url=base, headers={"Authorization": f"Bearer {token}"}, timeout=30) as c:
            for param, value in qs:
                t0 = time.perf_counter()
                r = c.get("/v1/context", params={param: value})
                ms = (time.perf_counter() - t0) * 1000
                with lock:
                    lat.append(ms)
                    codes[r.status_code] = codes.get(r.status_code, 0) + 1

    t0 = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(ch,)) for ch in chunks]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return summary(lat, codes, time.perf_counter() - t0)


def in_process(ws_path: Path, queries: list[tuple[str, str]]) -> dict[str, Any]:
    """The endpoint's work without HTTP, the server or its niced engine threads: look-up, header, brief,
    JSON (what a screen pop costs in the engine and in Python)."""
    import orjson

    from ordito.agent import brief as bf
    from ordito.agent.customer import customer_identifiers, customer_refs, header
    from ordito.store.duckdb import DuckDBEngine
    from ordito.timeline import lookup

    eng = DuckDBEngine(ws_path, read_only=True)
    lat: list[float] = []
    codes: dict[int, int] = {}
    t_all = time.perf_counter()
    for param, value in queries:
        t0 = time.perf_counter()
        matches = lookup(eng, value, kind=param)
        keys = sorted({m.customer_key for m in matches if m.customer_key})
        status = 404 if not matches else 200
        if len(keys) == 1:
            refs = customer_refs(eng, keys[0])
            idents = customer_identifiers(eng, keys[0])
            head = header(eng, keys[0], None, set(), shared=False, refs=refs, value=False, identifiers=idents)
            b = bf.build(eng, keys[0], refs=refs, identifiers=idents)
            orjson.dumps({"customer": head, "brief": b.to_dict()}, default=str)
        lat.append((time.perf_counter() - t0) * 1000)
        codes[status] = codes.get(status, 0) + 1
    eng.close()
    return summary(lat, codes, time.perf_counter() - t_all)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workspace", type=Path, required=True, help="a copy of a workspace (written to)")
    ap.add_argument("--requests", type=int, default=2000)
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients of the second phase")
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "context.json")
    args = ap.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]

    import duckdb

    from ordito.agent.auth import add_user, create_token, get_user
    from ordito.errors import NotFoundError
    from ordito.store.duckdb import DuckDBEngine
    from ordito.store.schema import migrate

    eng = DuckDBEngine(args.workspace)
    migrate(eng)
    try:
        get_user(eng, "bench-pbx")
    except NotFoundError:
        add_user(eng, "bench-pbx", "agent", kind="system")
    token = create_token(eng, "bench-pbx", label="context_bench", days=1)
    events = eng.scalar("SELECT count(*) FROM events")
    customers = eng.scalar("SELECT count(*) FROM customers WHERE status = 'active'")
    eng.close()
    del duckdb

    queries = sample(args.workspace, args.warmup + 2 * args.requests, args.seed)
    port = free_port()
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = open(args.workspace.with_suffix(".bench-serve.log"), "w")  # noqa: SIM115 - closed below
    server = subprocess.Popen(
        [sys.executable, "-m", "ordito.cli", "-w", str(args.workspace), "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                if httpx.get(base + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise SystemExit("the server did not start: see " + log.name)
            time.sleep(0.5)
        w = args.warmup
        run(base, token, queries[:w], 1)
        sequential = run(base, token, queries[w : w + args.requests], 1)
        concurrent = run(base, token, queries[w + args.requests :], args.clients)
    finally:
        server.terminate()
        server.wait(30)
        log.close()
    inproc = in_process(args.workspace, queries[w : w + args.requests])
    load_end = [round(x, 2) for x in os.getloadavg()]
    busy = max(load_start + load_end) > 1.5
    result = {
        "benchmark": "screen pop GET /v1/context (ordito serve, 1 uvicorn worker, loopback, keep-alive)",
        "command": "python -m bench.context_bench " + " ".join(sys.argv[1:]),
        "machine": machine(),
        "load_average_start": load_start,
        "load_average_end": load_end,
        "note": (
            "busy machine: other processes were running during the run (load average above 1.5), so the "
            "figures are pessimistic"
            if busy
            else "quiet machine"
        ),
        "workspace": {"path": str(args.workspace), "events": events, "customers": customers},
        "queries": "different customer each request; identifiers written another way than stored "
        "(60% phones, 30% emails, 10% namespaced ids)",
        "target_p99_ms": TARGET_P99_MS,
        "sequential": sequential,
        f"concurrent_{args.clients}_clients": concurrent,
        "in_process_same_queries": inproc,
        "met": sequential["p99_ms"] <= TARGET_P99_MS,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2, default=str) + "\n")
    sys.stdout.write(
        json.dumps(
            {
                k: result[k]
                for k in (
                    "sequential",
                    f"concurrent_{args.clients}_clients",
                    "in_process_same_queries",
                    "met",
                    "note",
                )
            },
            indent=2,
        )
        + "\n"
    )


if __name__ == "__main__":
    main()
