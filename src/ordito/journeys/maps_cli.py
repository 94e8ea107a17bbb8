"""`ordito journeys map|variants|sankey|export`: journey maps and process-mining exports on the command line.

Registered on the main app by src/ordito/cli.py; the work is done by :mod:`ordito.journeys.maps` and
:mod:`ordito.journeys.export` (docs/JOURNEY_MAPS.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

app = typer.Typer(
    no_args_is_help=True, help="Journey maps (DFG, variants, Sankey) and XES / OCEL 2.0 export."
)

Case = Annotated[
    str,
    typer.Option(
        "--case", help="What one case is: thread (a ticket, call, chat), customer, episode (after analyze)."
    ),
]
Level = Annotated[str, typer.Option("--level", help="What an activity is: activity, channel, department.")]
Activity = Annotated[
    str, typer.Option("--activity", help="At level activity: type, or property:NAME (a key of properties).")
]
Sources = Annotated[
    list[str] | None, typer.Option("--source", help="Only events of this source; repeatable.")
]
AsJson = Annotated[bool, typer.Option("--json", help="JSON output.")]


def _cli() -> Any:
    from .. import cli

    return cli


def _dur(s: float | None) -> str:
    from .maps import format_seconds

    return "" if s is None else format_seconds(s)


@app.command("map")
def map_(
    case: Case = "thread",
    level: Level = "activity",
    activity: Activity = "type",
    source: Sources = None,
    top: Annotated[int, typer.Option(help="Edges to show (most frequent first).")] = 25,
    dot: Annotated[
        Path | None, typer.Option(help="Also write the graph as Graphviz DOT to this file.")
    ] = None,
    as_json: AsJson = False,
) -> None:
    """The directly-follows graph: every edge with its frequency, cases and time between the two events."""
    from .maps import dfg

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            m = dfg(ws.engine, case, level, activity, source)
        finally:
            ws.close()
        if dot is not None:
            dot.write_text(m.to_dot())
        if as_json:
            cli.console.print_json(json.dumps(m.to_dict(), default=str))
            return
        hand = m.handoffs()
        rework = m.rework()
        cli.console.print(
            f"[bold]{m.cases:,} cases[/], {m.events:,} events, {len(m.nodes)} {level} values, "
            f"{len(m.follows())} edges (case notion {case}, level {level})"
        )
        t = Table("from", "to", "frequency", "cases", "mean time", "max time", box=None)
        for e in m.edges[:top]:
            t.add_row(
                e["source"] or "[dim](start)[/]",
                e["target"] or "[dim](end)[/]",
                f"{e['frequency']:,}",
                f"{e['cases']:,}" if e["cases"] is not None else "",
                _dur(e["mean_seconds"]),
                _dur(e["max_seconds"]),
            )
        cli.console.print(t)
        if len(m.edges) > top:
            cli.console.print(f"({len(m.edges) - top} more edges; --top, --json or --dot for all)")
        n_hand = sum(e["frequency"] for e in hand)
        n_rework = sum(e["frequency"] for e in rework)
        cases_rework = sum(e["cases"] or 0 for e in rework)
        if level == "activity":
            cli.console.print(
                f"changes of activity: {n_hand:,}; an activity directly repeated (rework): {n_rework:,} times "
                f"({cases_rework:,} case-edges)"
            )
        else:
            cli.console.print(
                f"changes of {level} (handoffs): {n_hand:,} in {sum(e['cases'] or 0 for e in hand):,} "
                f"case-edges; consecutive events on the same {level}: {n_rework:,}"
            )
        if dot is not None:
            cli.console.print(f"wrote {dot} (render: dot -Tsvg {dot} -o map.svg)")


@app.command("variants")
def variants_(
    case: Case = "thread",
    level: Level = "activity",
    activity: Activity = "type",
    source: Sources = None,
    top: Annotated[int, typer.Option(help="Variants to show (most common first).")] = 10,
    as_json: AsJson = False,
) -> None:
    """The most common paths (sequences of activities) with their cases, share and duration."""
    from .maps import variants

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            v = variants(ws.engine, case, level, activity, source, top=top)
        finally:
            ws.close()
        if as_json:
            cli.console.print_json(json.dumps(v.to_dict(), default=str))
            return
        covered = sum(x.cases for x in v.items)
        cli.console.print(
            f"[bold]{v.variants:,} variants[/] in {v.cases:,} cases; the top {len(v.items)} cover "
            f"{covered / max(v.cases, 1):.1%}"
        )
        t = Table("#", "cases", "share", "events", "mean duration", "path", box=None)
        for x in v.items:
            path = " → ".join(x.activities)
            t.add_row(
                str(x.rank),
                f"{x.cases:,}",
                f"{x.share:.1%}",
                str(len(x.activities)),
                _dur(x.mean_seconds),
                path if len(path) <= 160 else path[:159] + "…",
            )
        cli.console.print(t)


@app.command("sankey")
def sankey_(
    case: Case = "episode",
    source: Sources = None,
    steps: Annotated[int, typer.Option(help="Channel steps to follow.")] = 5,
    as_json: AsJson = False,
) -> None:
    """Channel transitions inside cases, step by step (Sankey data: nodes and links with --json)."""
    from .maps import sankey

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            s = sankey(ws.engine, case, source, max_steps=steps)
        finally:
            ws.close()
        if as_json:
            out = {k: v for k, v in s.items() if k != "transitions"}
            cli.console.print_json(json.dumps(out, default=str))
            return
        t = Table("step", "channel", "next channel", "cases", box=None)
        for r in s["transitions"]:
            t.add_row(str(r["step"]), r["source"], r["target"] or "[dim](end)[/]", f"{r['cases']:,}")
        cli.console.print(t)


@app.command("prepare")
def prepare_(
    case: Case = "thread",
    level: Level = "activity",
    activity: Activity = "type",
    source: Sources = None,
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild instead of refreshing the changed cases.")
    ] = False,
) -> None:
    """Materialise a log's coded steps in the workspace so that its maps and variants are read, not
    recomputed (used until new events, a resolve or an analyze change the log; run again, it refreshes
    only the cases that changed)."""
    from .maps import prepare

    cli = _cli()
    with cli._errors():
        ws = cli._open()
        try:
            info = prepare(ws.engine, case, level, activity, source, full=full)
        finally:
            ws.close()
        how = {
            "built": "built",
            "refreshed": f"refreshed ({info.changed_cases:,} cases changed)",
            "current": "already current",
        }[info.mode]
        cli.console.print(
            f"prepared {info.prefix} {how}: {info.cases:,} cases, {info.events:,} events in {info.seconds:.1f} s"
        )


@app.command("export")
def export_(
    out: Annotated[Path, typer.Argument(help="File to write (.xes, .xes.gz, .jsonocel).")],
    format: Annotated[str, typer.Option("--format", help="xes or ocel (OCEL 2.0 JSON).")] = "xes",
    case: Case = "thread",
    level: Level = "activity",
    activity: Activity = "type",
    source: Sources = None,
) -> None:
    """Export the journeys for process-mining tools (pm4py, ProM, Celonis, ...): XES or OCEL 2.0."""
    from .export import export

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            with cli._progress() as prog:
                task = prog.add_task("exporting", total=None, note=format)
                res = export(
                    ws.engine,
                    out,
                    format,
                    case,
                    level,
                    activity,
                    source,
                    progress=lambda done, total: prog.update(task, completed=done, total=total),
                )
        finally:
            ws.close()
        objects = f", {res.objects:,} objects" if res.format == "ocel" else ""
        cli.console.print(
            f"wrote {res.path}: {res.cases:,} cases, {res.events:,} events{objects} in {res.seconds:.1f} s"
        )


@app.command("frictions")
def frictions_(
    case: Case = "thread",
    activity: Activity = "type",
    source: Sources = None,
    resource: Annotated[
        str, typer.Option("--resource", help="Ping-pong between: department or agent.")
    ] = "department",
    wait_quantile: Annotated[
        float, typer.Option(help="A wait is long above this quantile of the same step's waits.")
    ] = 0.95,
    min_wait_hours: Annotated[float, typer.Option(help="... and above this many hours.")] = 24.0,
    top: Annotated[int, typer.Option(help="Rows to show per kind.")] = 5,
    as_json: AsJson = False,
) -> None:
    """Friction in a process log (back-office work): rework, ping-pong between resources, long waits
    between steps (docs/JOURNEYS.md, "Friction in process logs")."""
    from .process import PROCESS_KINDS, ProcessParams, process_frictions

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            params = ProcessParams(resource, wait_quantile, min_wait_hours)
            rows = process_frictions(ws.engine, case, activity, source, params).to_pylist()
        finally:
            ws.close()
        if as_json:
            cli.console.print_json(json.dumps(rows, default=str))
            return
        cases = {r["case_id"] for r in rows}
        cli.console.print(f"{len(rows):,} frictions in {len(cases):,} cases")
        for kind in PROCESS_KINDS:
            of_kind = [r for r in rows if r["kind"] == kind]
            table = Table(title=f"{kind}: {len(of_kind):,} in {len({r['case_id'] for r in of_kind}):,} cases")
            for c in ("case", "when", "detail", "evidence (seq)"):
                table.add_column(c)
            for r in of_kind[:top]:
                table.add_row(
                    r["case_id"], str(r["occurred_at"]), r["detail"], ",".join(map(str, r["evidence"]))
                )
            cli.console.print(table)
