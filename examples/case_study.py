"""The figures of a process-log case study (docs/case-studies/), from a workspace that holds one log.

    python examples/case_study.py WORKSPACE [--case thread] [--activity type]

Everything comes from ordito's public API: the journey maps at activity and department level
(ordito.journeys.maps), the event log (ordito.journeys.log) and, when `ordito analyze` has run, the
episodes, frictions and KPIs tables. Printed: size and span; variants (top 5 and how many cover 80% of
cases); the busiest and the slowest edges; hand-offs between departments (and cases that come back to a
department they had left: ping-pong); rework (an activity done twice or more in a case); frictions found
by the journeys stage.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from typing import Any

import ordito
from ordito.journeys import maps
from ordito.journeys.log import event_log


def figures(ws: ordito.Workspace, case: str = "thread", activity: str = "type") -> dict[str, Any]:
    eng = ws.engine
    out: dict[str, Any] = {}
    m = maps.dfg(eng, case, "activity", activity)
    span = eng.one("SELECT min(occurred_at), max(occurred_at) FROM events")
    out["size"] = {
        "cases": m.cases,
        "events": m.events,
        "activities": len(m.nodes),
        "from": str(span[0]) if span else None,
        "to": str(span[1]) if span else None,
    }
    v = maps.variants(eng, case, "activity", activity, top=None)
    covered, k80 = 0, 0
    for x in v.items:
        covered += x.cases
        k80 += 1
        if covered >= 0.8 * v.cases:
            break
    out["variants"] = {
        "variants": v.variants,
        "singletons": sum(1 for x in v.items if x.cases == 1),
        "variants_for_80pct_of_cases": k80,
        "top": [x.to_dict() for x in v.items[:5]],
    }
    inner = [e for e in m.edges if e["source"] is not None and e["target"] is not None]
    out["busiest_edges"] = inner[:8]
    out["slowest_edges"] = sorted(
        (e for e in inner if e["frequency"] >= max(10, m.cases // 200)),
        key=lambda e: -(e["total_seconds"] or 0),
    )[:8]

    log = event_log(eng, case, "activity", activity).to_pandas()
    per_case = log.groupby("case_id")["activity"].apply(list)
    rework_cases = 0
    repeated: Counter[str] = Counter()
    for acts in per_case:
        c = Counter(acts)
        again = [a for a, n in c.items() if n > 1]
        if again:
            rework_cases += 1
            repeated.update(again)
    out["rework"] = {
        "cases_with_a_repeated_activity": rework_cases,
        "share": rework_cases / max(len(per_case), 1),
        "self_loops": [e for e in m.rework()][:6],
        "most_repeated": repeated.most_common(6),
    }

    d = maps.dfg(eng, case, "department")
    hand = sorted(d.handoffs(), key=lambda e: -e["frequency"])
    dlog = event_log(eng, case, "department").to_pandas()
    ping, handed = 0, 0
    for deps in dlog.groupby("case_id")["activity"].apply(list):
        runs = [x for i, x in enumerate(deps) if i == 0 or deps[i - 1] != x]
        if len(runs) > 1:
            handed += 1
        if len(runs) != len(set(runs)):
            ping += 1
    out["departments"] = {
        "departments": [n["activity"] for n in d.nodes],
        "cases": d.cases,
        "cases_handed_over": handed,
        "cases_ping_pong": ping,
        "handoffs": sum(e["frequency"] for e in hand),
        "top_handoffs": hand[:8],
    }
    try:
        out["frictions"] = [
            {"kind": k, "count": n, "episodes": e}
            for k, n, e in eng.execute(
                "SELECT kind, count(*), count(DISTINCT episode_id) FROM friction GROUP BY kind ORDER BY 2 DESC"
            )
        ]
        out["episodes"] = [
            {"outcome": o, "episodes": n}
            for o, n in eng.execute("SELECT outcome, count(*) FROM episodes GROUP BY outcome ORDER BY 2 DESC")
        ]
    except ordito.errors.StoreError:
        out["frictions"] = None
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workspace")
    ap.add_argument("--case", default="thread")
    ap.add_argument("--activity", default="type", help="type, or property:NAME")
    args = ap.parse_args()
    with ordito.Workspace(args.workspace, read_only=True) as ws:
        sys.stdout.write(json.dumps(figures(ws, args.case, args.activity), indent=1, default=str) + "\n")


if __name__ == "__main__":
    main()
