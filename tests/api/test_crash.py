"""kill -9 right after acknowledgements: every acknowledged message is in `events` exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

from ordito.api import create_write_key
from ordito.workspace import Workspace

from .test_sdks import free_port


def start(ws_path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    code = f"from ordito.api import serve; serve({str(ws_path)!r}, '127.0.0.1', {port}, log_level='warning', resolve=True)"
    with log.open("ab") as out:
        proc = subprocess.Popen([sys.executable, "-c", code], stdout=out, stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 30
    while True:
        assert proc.poll() is None, log.read_text()
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        assert time.monotonic() < deadline, "server did not come up"
        time.sleep(0.05)


def test_kill_9_loses_no_acknowledged_message(tmp_path: Path) -> None:
    ws_path = tmp_path / "ordito.duckdb"
    with Workspace(ws_path) as ws:
        key = create_write_key(ws, "web")
    port = free_port()
    url = f"http://127.0.0.1:{port}/v1/batch"
    log = tmp_path / "server.log"
    proc = start(ws_path, port, log)
    acked: set[str] = set()
    lock = threading.Lock()
    stop = threading.Event()

    def sender(worker: int) -> None:
        with httpx.Client(auth=(key, ""), timeout=5) as c:
            n = 0
            while not stop.is_set():
                ids = [f"w{worker}-b{n}-m{i}" for i in range(100)]
                batch = [
                    {"type": "track", "userId": f"u{i}", "event": "Clicked", "messageId": m}
                    for i, m in enumerate(ids)
                ]
                n += 1
                try:
                    r = c.post(url, json={"batch": batch})
                except httpx.HTTPError:
                    return  # the server died under us: this batch was never acknowledged
                if r.status_code == 200:
                    with lock:
                        acked.update(ids)

    threads = [threading.Thread(target=sender, args=(w,)) for w in range(4)]
    for t in threads:
        t.start()
    # long enough for the loader to have sealed and loaded once while traffic goes on
    t0 = time.monotonic()
    while (len(acked) < 3000 or time.monotonic() - t0 < 1.6) and time.monotonic() - t0 < 20:
        time.sleep(0.01)
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: requests in flight, segments open, maybe a load running
    proc.wait()
    stop.set()
    for t in threads:
        t.join()
    assert len(acked) >= 3000

    proc = start(ws_path, port, log)  # recovery: repairs the inbox, loads what the first run had not
    proc.send_signal(signal.SIGTERM)  # graceful stop loads whatever is pending
    # uvicorn re-raises the signal once shut down: -SIGTERM is a clean exit here
    assert proc.wait(30) in (0, -signal.SIGTERM), log.read_text()
    assert "Traceback" not in log.read_text(), log.read_text()

    with Workspace(ws_path, read_only=True) as ws:
        rows = ws.sql("SELECT source_key, count(*) FROM events GROUP BY 1")
        torn = ws.sql("SELECT count(*) FROM quarantine WHERE reason NOT LIKE 'torn write%'")[0][0]
    counts = dict(rows)
    missing = acked - set(counts)
    assert not missing, f"{len(missing)} acknowledged messages lost, e.g. {sorted(missing)[:3]}"
    assert max(counts.values()) == 1
    assert torn == 0
