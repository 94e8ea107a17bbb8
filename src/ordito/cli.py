"""The `ordito` command line: a thin layer over the Python API.

Errors a user can meet are ``OrditoError``s: printed as one clear message, exit status 1 (``--debug``
shows the traceback and the SQL). Every command works on the workspace chosen by ``--workspace``, else
``ORDITO_WORKSPACE``, else ``./ordito.duckdb``.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.tree import Tree

from . import settings
from .errors import OrditoError

app = typer.Typer(
    no_args_is_help=True,
    add_completion=False,
    rich_markup_mode=None,
    help="ordito: every channel's signals become one customer, one timeline, one journey.",
)
customer_app = typer.Typer(no_args_is_help=True, help="Find a customer and see their timeline.")
source_app = typer.Typer(no_args_is_help=True, help="Live API sources and their write keys.")
app.add_typer(customer_app, name="customer")
app.add_typer(source_app, name="source")

console = Console(highlight=False, soft_wrap=True)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class State:
    workspace: str | None = None
    debug: bool = False


state = State()


@app.callback()
def _main(
    workspace: Annotated[
        str | None,
        typer.Option(
            "--workspace", "-w", help="Workspace file (default: $ORDITO_WORKSPACE, else ./ordito.duckdb)."
        ),
    ] = None,
    debug: Annotated[bool, typer.Option("--debug", help="Show tracebacks and SQL on errors.")] = False,
) -> None:
    state.workspace = workspace
    state.debug = debug


def _open(read_only: bool = False) -> Any:
    from .workspace import Workspace

    return Workspace(state.workspace, read_only=read_only)


@contextmanager
def _errors() -> Iterator[None]:
    try:
        yield
    except OrditoError as exc:
        if state.debug:
            raise
        msg = str(exc)
        if "--- statement ---" in msg:
            msg = msg.split("--- statement ---")[0].strip() + "\n(run with --debug for the SQL)"
        err.print(f"[bold red]error:[/] {msg}", markup=True)
        raise typer.Exit(1) from None


def _progress() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[note]}"),
        TimeElapsedColumn(),
        console=err,
        transient=False,
        disable=not err.is_terminal and os.environ.get("ORDITO_PROGRESS") != "1",
    )


# --- generate -------------------------------------------------------------------------------------


@app.command()
def generate(
    out_dir: Annotated[Path, typer.Argument(help="Folder to write the demo company into.")],
    customers: Annotated[int, typer.Option(help="Number of customers.")] = 2000,
    seed: Annotated[int, typer.Option(help="Random seed: same seed, same bytes.")] = 7,
    fuzzy: Annotated[
        bool, typer.Option("--fuzzy", help="Also the fuzzy silos (names, birth dates, addresses only).")
    ] = False,
) -> None:
    """Write the demo company (Elettra Casa): each silo's export plus ground_truth/."""
    from .demo import generate as gen

    with _errors():
        if customers < 1:
            raise OrditoError("--customers must be at least 1")
        t0 = time.perf_counter()
        with _progress() as prog:
            task = prog.add_task("generating", total=None, note="")

            def cb(done: int, total: int) -> None:
                prog.update(task, completed=done, total=total, note="households")

            res = gen(out_dir, customers=customers, seed=seed, progress=cb, fuzzy=fuzzy)
        total = sum(res.rows.values())
        console.print(
            f"Wrote {total:,} records for {customers:,} customers to {out_dir} "
            f"in {time.perf_counter() - t0:.1f} s (seed {seed})."
        )
        t = Table("silo", "records", box=None)
        for k, v in sorted(res.rows.items()):
            t.add_row(k, f"{v:,}")
        console.print(t)


# --- ingest ---------------------------------------------------------------------------------------


@app.command()
def ingest(
    path: Annotated[Path, typer.Argument(help="A file, or a folder (a demo company is read whole).")],
    source: Annotated[str | None, typer.Option(help="Source name (or built-in mapping name).")] = None,
    mapping: Annotated[
        list[Path] | None, typer.Option(help="Mapping YAML (docs/MAPPINGS.md); repeatable.")
    ] = None,
) -> None:
    """Ingest files into the workspace. Bad records go to the quarantine; nothing is lost."""
    with _errors():
        ws = _open()
        try:
            with _progress() as prog:
                task = prog.add_task("ingesting", total=None, note="")

                def cb(label: str, i: int, n: int, frac: float | None) -> None:
                    prog.update(
                        task, total=n, completed=i + (frac or 0.0), note=Path(label).name if label else ""
                    )

                res = ws.ingest(path, source=source, mapping=list(mapping) if mapping else None, progress=cb)
            t = Table(
                "file", "source", "rows in", "new events", "duplicates", "quarantined", "seconds", box=None
            )
            for f in res.files:
                name = os.path.relpath(f.path, path) if Path(path).is_dir() else Path(f.path).name
                t.add_row(
                    name,
                    f.source,
                    f"{f.rows_in:,}",
                    f"{f.events_new:,}",
                    f"{f.duplicates:,}",
                    f"{f.quarantined:,}" if not f.quarantined else f"[yellow]{f.quarantined:,}[/]",
                    f"{f.seconds:.1f}",
                )
            console.print(t)
            rows, new, dup, bad = (
                res.total("rows_in"),
                res.total("events_new"),
                res.total("duplicates"),
                res.total("quarantined"),
            )
            console.print(f"rows in {rows:,} = new events {new:,} + duplicates {dup:,} + quarantined {bad:,}")
            if bad:
                console.print("See why with `ordito quarantine`.")
            for f in res.files:
                if f.status != "ok":
                    err.print(f"[yellow]warning:[/] {Path(f.path).name}: {f.message}")
            if res.skipped:
                err.print(f"[yellow]not ingested (no mapping claims them):[/] {', '.join(res.skipped)}")
        finally:
            ws.close()


# --- resolve --------------------------------------------------------------------------------------


@app.command()
def resolve(
    full: Annotated[
        bool, typer.Option("--full", help="Recompute from all events (keys stay stable).")
    ] = False,
) -> None:
    """Resolve identities of new events into customers (incremental)."""
    with _errors():
        ws = _open()
        try:
            with _progress() as prog:
                task = prog.add_task("resolving", total=1.0, note="")
                res = ws.resolve(
                    full=full, progress=lambda name, frac: prog.update(task, completed=frac, note=name)
                )
            console.print(
                f"{res.events:,} events resolved in {res.seconds:.1f} s: {res.new_identifiers:,} new identifiers, "
                f"{res.links:,} links, {res.shared:,} shared/placeholder identifiers kept out of merging, "
                f"{res.customers_created:,} customers created, {res.merges:,} merges, {res.splits:,} splits. "
                f"{res.customers:,} customers in all."
            )
        finally:
            ws.close()


# --- analyze (episodes, friction, KPIs: docs/JOURNEYS.md) -----------------------------------------


@app.command()
def analyze(
    full: Annotated[bool, typer.Option("--full", help="Rebuild every customer's episodes.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    drivers: Annotated[
        bool,
        typer.Option(
            "--drivers/--no-drivers",
            help="Refit what drives detractors and lapsing afterwards (read by the report; seconds to minutes).",
        ),
    ] = True,
) -> None:
    """Voice of the customer, then episodes and friction (incremental: only the customers whose events
    changed since the last run), then the drivers of detractors and lapsing."""
    with _errors():
        ws = _open()
        try:
            from dataclasses import asdict

            from .voc.cli import print_result, run_stage  # VoC first: journeys' friction reads sentiment

            voc_res = run_stage(ws, full=full)
            with _progress() as prog:
                task = prog.add_task("analyzing", total=1.0, note="")
                res = ws.analyze(
                    full=full, progress=lambda name, frac: prog.update(task, completed=frac, note=name)
                )
            drv: dict[str, Any] | None = None
            if drivers:
                from .report.drivers import refresh

                with console.status("drivers of detractors and lapsing (bootstrap refits)"):
                    drv = refresh(ws.engine)
            if as_json:
                out = {**res.as_dict(), "voc": asdict(voc_res), "drivers": drv}
                sys.stdout.write(json.dumps(out, indent=2, default=str) + "\n")
                return
            print_result(voc_res)
            console.print(
                f"{res.customers:,} customers analyzed ({res.reason}) in {res.seconds:.1f} s: "
                f"{res.episodes:,} episodes rebuilt, {res.frictions:,} frictions in all (as of {res.as_of})."
            )
            t = Table("friction", "count", "episodes", "customers")
            for kind, n, eps, cus in ws.sql(
                """SELECT kind, count(*), count(DISTINCT episode_id), count(DISTINCT customer_key)
                   FROM friction GROUP BY kind ORDER BY 2 DESC, 1"""
            ):
                t.add_row(kind, f"{n:,}", f"{eps:,}", f"{cus:,}")
            console.print(t)
            if drv is not None:
                console.print(
                    f"drivers: {drv['drivers']} stored (ordito voc drivers shows them)"
                    if drv.get("reason") is None
                    else f"drivers: not estimated: {drv['reason']}"
                )
        finally:
            ws.close()


@app.command()
def kpis(
    by: Annotated[
        str, typer.Option("--by", help="overall, channel, department (own view vs lived) or intent.")
    ] = "overall",
    as_json: Annotated[bool, typer.Option("--json", help="Print the rows as JSON.")] = False,
) -> None:
    """KPIs per team and end to end: FCR, repeat contacts, transfers, waits, resolution, containment,
    leakage, effort (definitions in docs/JOURNEYS.md)."""
    with _errors():
        ws = _open(read_only=True)
        try:
            rows = ws.kpis(by).to_pylist()
            if as_json:
                sys.stdout.write(json.dumps(rows, indent=2, default=str) + "\n")
                return
            # one column per group, one row per figure: readable in a terminal
            keys = [str(r["key"]) for r in rows]
            figures = [c for c in (rows[0].keys() if rows else []) if c != "key"]
            t = Table(f"by {by}", *keys)
            for f in figures:
                cells = []
                for r in rows:
                    v = r.get(f)
                    cells.append("" if v is None else f"{v:.3f}" if isinstance(v, float) else f"{v:,}")
                t.add_row(f, *cells)
            console.print(t)
        finally:
            ws.close()


# --- customer -------------------------------------------------------------------------------------


def _pick(ws: Any, query: str) -> str:
    from .timeline import lookup

    matches = lookup(ws.engine, query)
    keys = sorted({m.customer_key for m in matches if m.customer_key})
    if len(keys) == 1:
        return keys[0]
    if not matches:
        raise OrditoError(f"No customer found for {query!r} (read as: email, phone, id, handle)")
    t = Table("customer", "identifier", "read as", "status", box=None)
    for m in matches:
        who = m.customer_key or ("shared by " + ", ".join(m.candidates[:5]) if m.candidates else "-")
        t.add_row(who, f"{m.kind} {m.value}", m.how, m.status)
    console.print(t)
    raise OrditoError(f"{query!r} matches {len(keys)} customers; pass one customer key (cus_...)")


@customer_app.command("show")
def customer_show(
    query: Annotated[str, typer.Argument(help="Email, phone, id or customer key, written any way.")],
    limit: Annotated[int, typer.Option(help="Events to show.")] = 30,
    channel: Annotated[list[str] | None, typer.Option(help="Only these channels.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Find a customer and print their cross-channel timeline, newest first."""
    from .timeline import profile, timeline

    with _errors():
        ws = _open(read_only=True) if Path(settings.resolve_workspace(state.workspace)).exists() else _open()
        try:
            key = _pick(ws, query)
            prof = profile(ws.engine, key)
            tl = timeline(ws.engine, key, limit=limit, channels=channel)
            if as_json:
                console.print_json(json.dumps({"profile": prof, "timeline": tl}, default=str))
                return
            name = prof.get("display_name") or "(no name on record)"
            console.print(
                f"[bold]{name}[/]  {prof['customer_key']}  {prof['n_events'] or 0:,} events, "
                f"{prof['first_seen']:%Y-%m-%d} → {prof['last_seen']:%Y-%m-%d}"
            )
            if prof["merged_keys"]:
                console.print(f"also known as: {', '.join(prof['merged_keys'])}")
            ids = ", ".join(f"{i['kind']} {i['value']}" for i in prof["identifiers"][:12])
            more = len(prof["identifiers"]) - 12
            console.print(f"identifiers: {ids}" + (f" (+{more} more)" if more > 0 else ""))
            if prof["shared_identifiers"]:
                console.print(
                    "[yellow]shared, not used to merge:[/] "
                    + "; ".join(
                        f"{s['kind']} {s['value']} ({s['status_reason']})"
                        for s in prof["shared_identifiers"][:5]
                    )
                )
            console.print("channels: " + ", ".join(f"{c['channel']} {c['events']}" for c in prof["channels"]))
            t = Table("when (UTC)", "channel", "type", "department", "source", "text", box=None)
            for it in tl["items"]:
                text = (it["text"] or "").replace("\n", " ")
                t.add_row(
                    f"{it['occurred_at']:%Y-%m-%d %H:%M}",
                    it["channel"],
                    it["type"],
                    it["department"] or "",
                    f"{it['source']}:{it['source_key']}",
                    text[:70] + ("…" if len(text) > 70 else ""),
                )
            console.print(t)
            if tl["next_cursor"]:
                console.print(f"(showing the latest {limit}; --limit for more)")
        finally:
            ws.close()


@customer_app.command("explain")
def customer_explain(
    key: Annotated[str, typer.Argument(help="Customer key, or any identifier of the customer.")],
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """Why each identifier belongs to the customer, which were kept out and why, and the merge history."""
    from .identity.explain import explain

    with _errors():
        ws = _open(read_only=True) if Path(settings.resolve_workspace(state.workspace)).exists() else _open()
        try:
            ckey = _pick(ws, key)
            ex = explain(ws.engine, ckey)
            if as_json:
                console.print_json(json.dumps(ex, default=str))
                return
            tree = Tree(f"[bold]{ex['customer_key']}[/]")
            stack: list[Tree] = [tree]
            for st in ex["identifiers"]:
                while len(stack) > st["depth"] + 1:
                    stack.pop()
                node = stack[-1].add(
                    f"[bold]{st['identifier']}[/] ({st['records']} records): {st['because']}"
                )
                stack.append(node)
            console.print(tree)
            if ex["not_used"]:
                console.print("[yellow]Seen with this customer but not used to merge:[/]")
                for s in ex["not_used"]:
                    console.print(f"  {s['kind']} {s['value']} [{s['status']}]: {s['reason']}")
            if ex["history"]:
                console.print("History:")
                for h in ex["history"]:
                    ident = f" {h['kind']} {h['value']}" if h["kind"] else ""
                    console.print(f"  {h['changed_at']:%Y-%m-%d %H:%M} {h['action']}{ident}: {h['reason']}")
        finally:
            ws.close()


# --- score, summary, quarantine --------------------------------------------------------------------


@app.command()
def score(
    ground_truth: Annotated[Path, typer.Argument(help="The ground_truth/ folder of a generated company.")],
) -> None:
    """Precision and recall of every stage that exists, against a ground truth, as JSON."""
    from .score import score as do_score

    with _errors():
        ws = _open()
        try:
            out = do_score(ws.engine, ground_truth)
            from .journeys.score import has_episodes, score_episodes, score_friction

            if has_episodes(ws.engine):  # `ordito analyze` has run: score episodes and friction too
                out["episodes"] = score_episodes(ws.engine, Path(ground_truth))
                out["friction"] = score_friction(ws.engine, Path(ground_truth))
                notes = out.get("notes") or {}
                notes.pop("episodes", None)
                notes.pop("friction", None)
            sys.stdout.write(json.dumps(out, indent=2, default=str) + "\n")
        finally:
            ws.close()


@app.command()
def report(
    out: Annotated[Path, typer.Argument(help="The HTML file to write (self-contained, opens offline).")],
    since: Annotated[str | None, typer.Option(help="First day of the period (YYYY-MM-DD).")] = None,
    until: Annotated[str | None, typer.Option(help="Last day of the period, included (YYYY-MM-DD).")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print it to PDF with headless Chromium.")] = False,
) -> None:
    """One HTML report of the whole experience: summary, journey map, friction, KPIs, VoC, funnels, quality."""
    import datetime as dt

    from .report import write_report

    def day(v: str | None, name: str) -> dt.date | None:
        if v is None:
            return None
        try:
            return dt.date.fromisoformat(v)
        except ValueError:
            raise OrditoError(f"--{name} {v!r}: expected a date as YYYY-MM-DD") from None

    with _errors():
        ws = _open(read_only=True)
        try:
            res = write_report(
                ws.engine,
                out,
                since=day(since, "since"),
                until=day(until, "until"),
                pdf=pdf,
                workspace=str(ws.path),
            )
        finally:
            ws.close()
        missing = [k for k, ok in res["sections"].items() if not ok]
        console.print(f"Report written to {res['html']} (period {res['period']})")
        if res["pdf"]:
            console.print(f"PDF written to {res['pdf']}")
        if missing:
            console.print(f"Sections without data yet: {', '.join(missing)} (run `ordito analyze`)")


@app.command()
def summary() -> None:
    """What the workspace holds, and a few customers worth looking at."""
    from .summary import summarize

    with _errors():
        ws = _open()
        try:
            s = summarize(ws.engine)
            console.print(f"[bold]Workspace[/] {ws.path}")
            console.print(
                f"events {s['events']:,} from {len(s['sources'])} sources, quarantined {s['quarantined']:,}"
            )
            t = Table("source", "events", "channels", "from", "to", box=None)
            for r in s["sources"]:
                t.add_row(
                    r["source"],
                    f"{r['events']:,}",
                    r["channels"],
                    f"{r['first']:%Y-%m-%d}",
                    f"{r['last']:%Y-%m-%d}",
                )
            console.print(t)
            idn = s["identity"]
            console.print(
                f"customers {idn['customers']:,} (from {idn['identifiers']:,} identifiers; {idn['shared']:,} shared "
                f"and {idn['placeholder']:,} placeholders kept out of merging); events with a customer "
                f"{idn['events_resolved_pct']:.1f}%, across channels: {idn['multichannel_pct']:.1f}% of customers "
                f"use 2+ channels"
            )
            if s["worth_a_look"]:
                console.print("\nCustomers worth a look:")
                default = settings.resolve_workspace(None).resolve()
                ws_opt = "" if ws.path.resolve() == default else f"-w {ws.path} "
                for c in s["worth_a_look"]:
                    console.print(f"  ordito {ws_opt}customer show '{c['identifier']}'   # {c['why']}")
                console.print(
                    f"  ordito {ws_opt}customer explain '{s['worth_a_look'][0]['identifier']}'"
                    "   # why each identifier belongs to that customer"
                )
        finally:
            ws.close()


@app.command()
def quarantine(
    source: Annotated[str | None, typer.Option(help="Only this source.")] = None,
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
) -> None:
    """Rejected records with their reason (raw records are kept in the `quarantine` table)."""
    with _errors():
        ws = _open()
        try:
            where, params = ("WHERE source = ?", [source]) if source else ("", [])
            rows = ws.engine.execute(
                f"SELECT source, reason, count(*) FROM quarantine {where} GROUP BY ALL ORDER BY 3 DESC",
                params,
            )
            t = Table("source", "reason", "records", box=None)
            for s, r, n in rows:
                t.add_row(s, r[:100], f"{n:,}")
            console.print(t)
            rows = ws.engine.execute(
                f"SELECT source, source_key, reason, left(coalesce(raw, ''), 120) FROM quarantine "
                f"{where} ORDER BY quarantined_at DESC LIMIT {int(limit)}",
                params,
            )
            t = Table("source", "record", "reason", "raw", box=None)
            for r in rows:
                t.add_row(*[str(x) for x in r])
            console.print(t)
        finally:
            ws.close()


# --- sources and serve ----------------------------------------------------------------------------


@source_app.command("add")
def source_add(
    name: Annotated[str, typer.Argument(help="Source name, kept on every event it sends.")],
    namespace: Annotated[
        str | None, typer.Option(help="System of its userId values (default: the name).")
    ] = None,
    label: Annotated[str | None, typer.Option(help="A note for people.")] = None,
) -> None:
    """Create a write key for the live API. It is shown once."""
    from .api.keys import create_write_key

    with _errors():
        ws = _open()
        try:
            key = create_write_key(ws, name, namespace=namespace, label=label)
            console.print(f"write key for source {name!r}: {key}")
            console.print("Send with HTTP Basic auth, the key as user name (Segment's convention).")
        finally:
            ws.close()


@source_app.command("list")
def source_list() -> None:
    """Write keys (hashes only) and their sources."""
    from .api.keys import list_write_keys

    with _errors():
        ws = _open()
        try:
            t = Table("source", "label", "created", "revoked", box=None)
            for k in list_write_keys(ws):
                t.add_row(
                    str(k.get("source")),
                    str(k.get("label") or ""),
                    str(k.get("created_at")),
                    str(k.get("revoked_at") or ""),
                )
            console.print(t)
        finally:
            ws.close()


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port.")] = 8765,
    demo: Annotated[bool, typer.Option(help="Print demo credentials and customers worth a look.")] = False,
) -> None:
    """Serve the live API (Segment spec), customer lookups and the web app. Ctrl-C stops it."""
    from .api import serve as do_serve

    with _errors():
        do_serve(settings.resolve_workspace(state.workspace), host, port, demo=demo)


@app.command()
def publish(
    target: Annotated[
        str,
        typer.Argument(help="postgresql://user@host:port/db[?schema=ordito] or spark:///path/to/warehouse"),
    ],
    table: Annotated[list[str] | None, typer.Option("--table", help="Only this table; repeatable.")] = None,
) -> None:
    """Copy the canonical tables to PostgreSQL or Spark for analytics there (replaces the previous copy)."""
    with _errors():
        ws = _open(read_only=True)
        try:
            with _progress() as prog:
                task = prog.add_task("publishing", total=None, note="")
                res = ws.publish(
                    target,
                    tables=table,
                    progress=lambda name, done, total: prog.update(
                        task, completed=done, total=total, note=name
                    ),
                )
            t = Table("table", "rows", "seconds", box=None)
            for p in res.tables:
                t.add_row(p.name, f"{p.rows:,}", f"{p.seconds:.1f}")
            console.print(t)
            console.print(f"{res.rows:,} rows published to {res.target} in {res.seconds:.1f} s.")
        finally:
            ws.close()


# --- users, API tokens, knowledge base (ordito.agent.cli) ------------------------------------------
from .agent.cli import knowledge_app, user_app  # noqa: E402 - after the helpers those commands use

app.add_typer(user_app, name="user")
app.add_typer(knowledge_app, name="knowledge")

# --- journey maps and process-mining export (ordito.journeys.maps_cli) ------------------------------
from .journeys.maps_cli import app as journeys_app  # noqa: E402 - after the helpers those commands use

app.add_typer(journeys_app, name="journeys")

# --- voice of the customer (ordito.voc.cli) ---------------------------------------------------------
from .voc.cli import app as voc_app  # noqa: E402 - after the helpers those commands use

app.add_typer(voc_app, name="voc")

# --- probabilistic identity: review queue, thresholds, model; customer unmerge (ordito.identity.fuzzy.cli)
from .identity.fuzzy.cli import identity_app, unmerge_cmd  # noqa: E402 - after the helpers those commands use

app.add_typer(identity_app, name="identity")
customer_app.command("unmerge")(unmerge_cmd)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
