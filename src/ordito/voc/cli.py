"""`ordito voc run|train|summary|topics|customer`: voice of the customer on the command line.

Registered on the main app by src/ordito/cli.py; the work is done by :mod:`ordito.voc.stage`,
:mod:`ordito.voc.train` and :mod:`ordito.voc.report` (docs/VOC.md).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

app = typer.Typer(no_args_is_help=True, help="Voice of the customer: sentiment, topics, surveys.")
AsJson = Annotated[bool, typer.Option("--json", help="JSON output.")]


def _cli() -> Any:
    from .. import cli

    return cli


def _dump(obj: Any) -> None:
    _cli().console.print_json(json.dumps(obj, default=str))


def run_stage(ws: Any, *, full: bool = False, tier: str | None = None) -> Any:
    """Run the VoC stage with a progress bar (also what `ordito analyze` calls)."""
    from .stage import run

    cli = _cli()
    with cli._progress() as bar:
        task = bar.add_task("voc: texts", total=None, note="")

        def cb(label: str, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        res = run(ws.engine, full=full, tier=tier, progress=cb)
    return res


def print_result(res: Any) -> None:
    cli = _cli()
    rate = res.texts / res.seconds if res.seconds else 0.0
    cli.console.print(
        f"voc: {res.texts:,} texts, {res.surveys:,} survey answers in {res.seconds:.1f} s ({rate:,.0f} texts/s); "
        f"model {res.model}; watermark {res.watermark}"
    )
    for model, n in sorted(res.tiers.items()):
        cli.console.print(f"  {model}: {n:,}")
    if res.surveys_unrecognised:
        cli.console.print(f"  {res.surveys_unrecognised} survey answers not recognised (kind or scale)")
    if res.fallback:
        cli.err.print(
            "note: no trained sentiment model; the hand-written lexicons answered (lower accuracy). "
            "Run `ordito voc train` where the labelled data is (docs/VOC.md)."
        )


@app.command("run")
def run_cmd(
    full: Annotated[
        bool, typer.Option("--full", help="Rebuild every row instead of the new events only.")
    ] = False,
    tier: Annotated[
        str | None, typer.Option("--tier", help="fast (default), auto or accurate (ORDITO_VOC_TIER).")
    ] = None,
) -> None:
    """Analyse new texts (language, sentiment, emotion, topics) and survey answers."""
    cli = _cli()
    with cli._errors():
        ws = cli._open()
        try:
            print_result(run_stage(ws, full=full, tier=tier))
        finally:
            ws.close()


@app.command("train")
def train_cmd(
    data: Annotated[
        str | None, typer.Option("--data", help="Real-data folder (default: ORDITO_REAL_DATA).")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Model folder (default: ORDITO_VOC_MODELS).")
    ] = None,
    fast_only: Annotated[bool, typer.Option("--fast-only", help="Skip the embedding head.")] = False,
) -> None:
    """Train the sentiment model from the labelled data and print its test figures."""
    from .train import train

    cli = _cli()
    with cli._errors():
        res = train(data, out, accurate=not fast_only, progress=lambda m: cli.err.print(m))
        cli.console.print(f"model written to {res.path}")
        t = Table("data set", "tier", "macro-F1", "accuracy", "n")
        for name, tiers in res.meta["test"].items():
            for tier, f in tiers.items():
                t.add_row(name, tier, str(f.get("macro_f1", "")), str(f.get("accuracy", "")), str(f["n"]))
        cli.console.print(t)


@app.command("summary")
def summary_cmd(as_json: AsJson = False) -> None:
    """Customer sentiment, survey metrics with intervals, response rates."""
    from .report import summary

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            s = summary(ws.engine)
        finally:
            ws.close()
        if as_json:
            _dump(s)
            return
        cs = s["customer_sentiment"]
        cli.console.print(
            f"customer texts: {cs['texts']:,}  negative {cs['negative'] or 0:.1%}  neutral {cs['neutral'] or 0:.1%}  "
            f"positive {cs['positive'] or 0:.1%}  mean score {cs['mean_score'] or 0:+.3f}"
        )
        sv = s["surveys"]
        if "nps" in sv and sv["nps"].get("n"):
            n = sv["nps"]
            cli.console.print(
                f"NPS {n['nps']:+.1f} (95% {n['ci95'][0]:+.1f} to {n['ci95'][1]:+.1f}, n={n['n']})"
            )
        if "csat" in sv and sv["csat"].get("n"):
            c = sv["csat"]
            cli.console.print(
                f"CSAT top-2-box {c['top2_share']:.1%} (95% {c['top2_share_ci95'][0]:.1%}-{c['top2_share_ci95'][1]:.1%}, n={c['n']})"
            )
        if "ces" in sv and sv["ces"].get("n"):
            c = sv["ces"]
            cli.console.print(
                f"CES mean {c['mean']:.2f} of 7 (95% {c['mean_ci95'][0]:.2f}-{c['mean_ci95'][1]:.2f}, n={c['n']})"
            )
        r = s["response"]
        if r["customers"]:
            cli.console.print(
                f"response rate {r['rate']:.1%} of {r['customers']:,} contacted customers; by mood:"
            )
            for b in r["by_mood"]:
                cli.console.print(f"  {b['mood_band']:<14} {b['rate']:.1%} of {b['customers']:,}")
        cli.console.print(f"model: {s['model']['name']}" + (" (fallback)" if s["model"]["fallback"] else ""))


@app.command("topics")
def topics_cmd(
    language: Annotated[str, typer.Option("--language", "-l", help="Language of the labels.")] = "en",
    discover: Annotated[bool, typer.Option("--discover", help="Also cluster texts without a theme.")] = False,
    as_json: AsJson = False,
) -> None:
    """Themes of what customers write, with readable labels."""
    from .report import discovered, topic_report

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            rows = topic_report(ws.engine, language=language)
            found = discovered(ws.engine, language=language) if discover else []
        finally:
            ws.close()
        if as_json:
            _dump({"topics": rows, "discovered": found})
            return
        t = Table("topic", "texts", "share", "negative", "mean score", "customers")
        for r in rows:
            t.add_row(
                r["label"],
                f"{r['texts']:,}",
                f"{r['share']:.1%}",
                f"{r['negative_share']:.1%}",
                f"{r['mean_score']:+.2f}",
                f"{r['customers']:,}",
            )
        cli.console.print(t)
        for c in found:
            cli.console.print(f"discovered: {c['label']} ({c['texts']} texts) e.g. {c['examples'][0]!r}")


@app.command("customer")
def customer_cmd(key: str, as_json: AsJson = False) -> None:
    """What one customer said and answered."""
    from .report import customer_voc

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            v = customer_voc(ws.engine, key)
        finally:
            ws.close()
        if as_json:
            _dump(v)
            return
        cli.console.print(
            f"{v['customer_key']}: {v['said']['texts']} texts, mean score {v['said']['mean_score'] or 0:+.2f}"
        )
        for a in v["surveys"]:
            cli.console.print(f"  {a['answered_at']} {a['kind'].upper()} {a['score']:g} {a['comment'] or ''}")
        for t in v["texts"][:20]:
            topics = ", ".join(x["label"] for x in t["topics"])
            cli.console.print(
                f"  {t['occurred_at']} {t['channel']:<7} {t['sentiment']:<8} {t['text'][:80]!r} {topics}"
            )


@app.command("score")
def score_cmd(ground_truth: Path, as_json: AsJson = False) -> None:
    """Score sentiment, language and topics against a demo company's ground truth."""
    from .score import score

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            s = score(ws.engine, ground_truth)
        finally:
            ws.close()
        if as_json:
            _dump(s)
            return
        for author, figs in s["sentiment"].items():
            for k, f in figs.items():
                if f["n"]:
                    cli.console.print(
                        f"sentiment {author:<8} {k:<3} accuracy {f['accuracy']:.3f}  macro-F1 {f['macro_f1']:.3f}  n={f['n']:,}"
                    )
        cli.console.print(f"language accuracy {s['language_accuracy']:.4f}")
        cli.console.print(f"topic recall by conversation {s['topic_recall_by_thread']['all']:.3f}")
        cli.console.print(f"models: {', '.join(s['models'])}")


@app.command("infer")
def infer_cmd(as_json: AsJson = False) -> None:
    """Infer CSAT satisfaction for episodes nobody answered about (needs `ordito analyze`); validated on
    held-out respondents."""
    from dataclasses import asdict

    from .infer import run

    cli = _cli()
    with cli._errors():
        ws = cli._open()
        try:
            res = run(ws.engine)
        finally:
            ws.close()
        if as_json:
            _dump(asdict(res))
            return
        v = res.validation
        cli.console.print(
            f"validated on {v['respondents']} answered episodes ({v['folds']}): AUC {v['auc']:.3f} "
            f"(95% {v['auc_ci95'][0]:.3f}-{v['auc_ci95'][1]:.3f}), Brier {v['brier']:.3f}; "
            f"baselines: friction count {v['baselines']['friction_count_auc']:.3f}, text sentiment "
            f"{v['baselines']['text_sentiment_auc']:.3f}"
        )
        i = res.inferred
        cli.console.print(
            f"answered: {res.answered['satisfied_share']:.1%} satisfied of {res.answered['episodes']} episodes; "
            f"INFERRED for {i['episodes']:,} unanswered episodes: {i['satisfied_share']:.1%} "
            f"(95% {i['ci95'][0]:.1%}-{i['ci95'][1]:.1%})"
        )


@app.command("drivers")
def drivers_cmd(
    top: Annotated[int, typer.Option("--top", help="How many drivers to list.")] = 15,
    as_json: AsJson = False,
) -> None:
    """Which frictions, topics and departments drive detractors and lapses: "fix this first" (needs
    `ordito analyze`)."""
    from dataclasses import asdict

    from .drivers import run

    cli = _cli()
    with cli._errors():
        ws = cli._open(read_only=True)
        try:
            res = run(ws.engine)
        finally:
            ws.close()
        if as_json:
            _dump(asdict(res))
            return
        cli.console.print(
            f"{res.customers:,} customers with a service episode; {res.respondents:,} NPS respondents; "
            f"{res.lapse_base:,} in the lapse base"
        )
        t = Table(
            "#", "driver", "exposed", "NPS pts if removed (95%)", "lapse change", "revenue kept/yr (EUR, 95%)"
        )
        for d in res.drivers[:top]:
            g, gi = d["nps_gain_if_removed"], d["nps_gain_if_removed_ci95"]
            r, ri = d["revenue_kept_per_year_eur"], d["revenue_kept_per_year_eur_ci95"]
            t.add_row(
                str(d["rank"]),
                d["driver"],
                f"{d['customers_exposed']:,}",
                f"{g:+.1f} ({gi[0]:+.1f} to {gi[1]:+.1f})",
                f"{d['lapse_probability_change']:+.3f}",
                f"{r:,.0f} ({ri[0]:,.0f} to {ri[1]:,.0f})",
            )
        cli.console.print(t)
        for note in res.notes:
            cli.console.print(f"note: {note}")
