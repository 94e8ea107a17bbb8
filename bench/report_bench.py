"""Time `ordito report` on a large analysed workspace.

    python -m bench.report_bench --workspace PATH [--runs 2]

PATH must have been ingested, resolved and analysed (`ordito analyze`), e.g. the workspace that
bench/journeys_bench.py builds from the 200k-customer demo company (about 12M events). Writes
bench/results/report.json with the seconds per section, the total and the HTML size.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from tempfile import TemporaryDirectory

from bench.common import write_result


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--workspace", type=Path, required=True)
    ap.add_argument("--runs", type=int, default=2)
    args = ap.parse_args()
    import ordito
    from ordito.report import render_html, sections

    with ordito.Workspace(args.workspace, read_only=True) as ws:
        events = int(ws.sql("SELECT count(*) FROM events")[0][0])
        episodes = int(ws.sql("SELECT count(*) FROM episodes")[0][0])
        runs = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            sc = sections.make_scope(ws.engine)
            assert sc is not None
            per: dict[str, float] = {}
            out = []
            for sid in sections.BY_ID:
                t = time.perf_counter()
                out.append(sections.build_section(ws.engine, sc, sid))
                per[sid] = round(time.perf_counter() - t, 2)
            t = time.perf_counter()
            html = render_html({"period": sc.period.label(), "generated_at": "", "sections": out})
            with TemporaryDirectory() as d:
                (Path(d) / "r.html").write_text(html, encoding="utf-8")
            per["render"] = round(time.perf_counter() - t, 2)
            runs.append(
                {"seconds": round(time.perf_counter() - t0, 2), "sections": per, "html_bytes": len(html)}
            )
    result = {
        "command": f"python -m bench.report_bench --workspace {args.workspace} --runs {args.runs}",
        "workspace_events": events,
        "workspace_episodes": episodes,
        "runs": runs,
        "best_seconds": min(r["seconds"] for r in runs),
        "target_seconds": 60,
    }
    print(result)
    write_result("report", result)


if __name__ == "__main__":
    main()
