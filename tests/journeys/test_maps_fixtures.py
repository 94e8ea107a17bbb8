"""The synthetic log shared by the journey-map and export tests (no tests here).

Two silos (tickets and calls) that number their tickets alike, rows shuffled, ties in time (the ingest
order decides), events without a ticket, a department or an agent, and a property ``step``.
"""

from __future__ import annotations

import csv
import random
from datetime import datetime, timedelta
from pathlib import Path

import ordito

ACTIVITIES = ["open", "triage", "call back", "wait", "fix", "resolve", "close", "reopen", 'pay <&> "now" è']
DEPARTMENTS = ["care", "tech", "billing", ""]
CHANNELS = ["web", "voice", "email", "chat"]

MAPPING = """
source: {source}
format: csv
files: "{source}.csv"
key: [rec]
timestamp: {{column: ts}}
event:
  channel: channel
  type: activity
  department: dept
  agent_id: agent
  thread_id: ticket
identifiers:
  - {{kind: customer_id, namespace: shop, column: cust}}
properties: rest
require_identifier: false
"""


def _rows(source: str, seed: int, n_tickets: int) -> list[dict[str, str]]:
    rnd = random.Random(seed)
    base = datetime(2025, 1, 1, 8, 0, 0)
    rows: list[dict[str, str]] = []
    for t in range(n_tickets):
        ts = base + timedelta(hours=rnd.randint(0, 2000))
        length = rnd.choice([1, 2, 3, 3, 4, 4, 4, 5, 6, 9])
        cust = f"C{rnd.randint(0, n_tickets // 3)}" if rnd.random() > 0.05 else ""
        # the same ticket numbers in both sources: cases must stay apart (source:thread_id)
        ticket = f"T{t}" if rnd.random() > 0.03 else ""
        for k in range(length):
            if rnd.random() < 0.2:
                step = timedelta(0)  # ties in time: the ingest order (seq) decides
            else:
                step = timedelta(seconds=rnd.choice([1, 59, 61, 3600, 86_401]) + rnd.random())
            ts = ts + step
            rows.append(
                {
                    "rec": f"{source}-{len(rows)}",
                    "ticket": ticket,
                    "cust": cust,
                    "ts": ts.isoformat(timespec="milliseconds"),
                    "activity": "open" if k == 0 else rnd.choice(ACTIVITIES[1:]),
                    "channel": rnd.choice(CHANNELS[:2]) if k < 2 else rnd.choice(CHANNELS),
                    "dept": rnd.choice(DEPARTMENTS),
                    "agent": f"a{rnd.randint(1, 9)}" if rnd.random() > 0.3 else "",
                    "step": f"s{k % 3}",
                }
            )
    rnd.shuffle(rows)  # files are not in case order; timestamps decide
    return rows


def build_synth(folder: Path) -> ordito.Workspace:
    """Write the two silos into ``folder``, ingest and resolve them into ``folder/ws.duckdb``."""
    maps_: list[Path] = []
    for source, seed, n in (("tickets", 1, 260), ("calls", 2, 140)):
        rows = _rows(source, seed, n)
        with (folder / f"{source}.csv").open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(rows[0]))
            w.writeheader()
            w.writerows(rows)
        m = folder / f"{source}.yaml"
        m.write_text(MAPPING.format(source=source))
        maps_.append(m)
    ws = ordito.Workspace(folder / "ws.duckdb")
    res = ws.ingest(folder, mapping=list(maps_))
    assert res.total("quarantined") == 0
    ws.resolve()
    return ws
