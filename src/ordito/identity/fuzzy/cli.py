"""`ordito identity ...` (review queue, decisions, settings, training) and `ordito customer unmerge`.

Registered by ``ordito/cli.py``; the shared helpers (workspace, errors, console) are imported from there
when a command runs.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

identity_app = typer.Typer(
    no_args_is_help=True, help="Probabilistic identity: review queue, thresholds, model."
)


def _cli() -> Any:
    """The running CLI module (``python -m ordito.cli`` runs it as ``__main__``, with its own state)."""
    import sys

    main = sys.modules.get("__main__")
    if main is not None and str(getattr(main, "__file__", "")).replace("\\", "/").endswith("ordito/cli.py"):
        return main
    from ... import cli

    return cli


@identity_app.command("review")
def review_cmd(
    same: Annotated[
        tuple[int, int] | None,
        typer.Option("--same", help="Decide: these two identifier ids are one person."),
    ] = None,
    different: Annotated[
        tuple[int, int] | None,
        typer.Option("--different", help="Decide: these two identifier ids are different people."),
    ] = None,
    by: Annotated[str | None, typer.Option(help="Who decides (kept with the decision).")] = None,
    note: Annotated[str | None, typer.Option(help="Why (kept with the decision).")] = None,
    limit: Annotated[int, typer.Option(help="Pairs to list.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="JSON output.")] = False,
) -> None:
    """List the pairs waiting for a person, or record a decision (--same A B / --different A B)."""
    from .review import decide, queue

    c = _cli()
    with c._errors():
        ws = c._open()
        try:
            if same and different:
                raise typer.BadParameter("give --same or --different, not both")
            if same or different:
                pair = same or different
                assert pair is not None
                res = decide(ws.engine, pair[0], pair[1], "same" if same else "different", by=by, note=note)
                c.console.print(
                    f"decision recorded; {res.merges} merge(s), {res.splits} split(s), "
                    f"{res.fuzzy_refused} link(s) refused. {res.customers:,} customers."
                )
                return
            rows = queue(ws.engine, limit=limit)
            if as_json:
                c.console.print_json(json.dumps(rows, default=str))
                return
            if not rows:
                c.console.print("The review queue is empty.")
                return
            t = Table("p", "A (identifier id)", "record A", "B (identifier id)", "record B", box=None)
            for r in rows:
                t.add_row(
                    f"{r['probability']:.3f}",
                    f"{r['identifier_a']} ({r['node_a']})\n{r['customer_a']}",
                    f"{r['name_a']}\n{r['dob_a'] or '-'}  {r['address_a'] or '-'}",
                    f"{r['identifier_b']} ({r['node_b']})\n{r['customer_b']}",
                    f"{r['name_b']}\n{r['dob_b'] or '-'}  {r['address_b'] or '-'}",
                )
            c.console.print(t)
            c.console.print("Decide with: ordito identity review --same A B  (or --different A B)")
        finally:
            ws.close()


@identity_app.command("config")
def config_cmd(
    link_threshold: Annotated[
        float | None, typer.Option(help="Probability at or above which pairs link.")
    ] = None,
    review_threshold: Annotated[
        float | None, typer.Option(help="Probability at or above which (below link) pairs go to review.")
    ] = None,
    blocking_cap: Annotated[
        int | None, typer.Option(help="Blocking keys held by more records are not used.")
    ] = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled", help="Run the fuzzy stage.")] = None,
) -> None:
    """Show or change the fuzzy identity settings of the workspace (applied from the next resolve)."""
    from .stage import config, set_config

    c = _cli()
    with c._errors():
        ws = c._open()
        try:
            values = {
                k: v
                for k, v in {
                    "link_threshold": link_threshold,
                    "review_threshold": review_threshold,
                    "blocking_cap": blocking_cap,
                    "enabled": None if enabled is None else str(enabled).lower(),
                }.items()
                if v is not None
            }
            cfg = set_config(ws.engine, **values) if values else config(ws.engine)
            c.console.print_json(json.dumps(cfg))
        finally:
            ws.close()


@identity_app.command("model")
def model_cmd(
    train: Annotated[
        bool, typer.Option("--train", help="Retrain on every person record and rescore (resolve --full).")
    ] = False,
) -> None:
    """Show the match weights of the current model (and retrain it with --train)."""
    from .model import Model
    from .stage import current_model, model_summary

    c = _cli()
    with c._errors():
        ws = c._open()
        try:
            if train:
                from ..resolve import Resolver

                Resolver(ws.engine).run(full=True, retrain=True)
            m = current_model(ws.engine) or Model.default()
            c.console.print_json(json.dumps(model_summary(m), default=str))
        finally:
            ws.close()


def unmerge_cmd(
    ref: Annotated[str, typer.Argument(help="A merge's change id (identity_changes), or a customer key.")],
    by: Annotated[str | None, typer.Option(help="Who undoes it (kept with the decision).")] = None,
) -> None:
    """Undo a merge: the merged customer gets its key back, and the two stay apart from then on."""
    from .review import unmerge

    c = _cli()
    with c._errors():
        ws = c._open()
        try:
            out = unmerge(ws.engine, ref, by=by)
            c.console.print(
                f"unmerged {out['restored']} from {out['survivor']} (change {out['change_id']}); "
                f"{out['restored']} is {'active again' if out['restored_key_active'] else 'split off under a new key'}."
            )
        finally:
            ws.close()
