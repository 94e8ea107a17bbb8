"""Write bench/RESULTS.md from bench/results/*.json (run by `make bench` after the benchmarks).

Every figure in RESULTS.md comes from a result file, which records the command and the machine.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"


def _load(name: str) -> dict[str, Any] | None:
    p = RESULTS / f"{name}.json"
    return json.loads(p.read_text()) if p.exists() else None


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _machine(m: dict[str, Any]) -> str:
    cpus = m.get("cpus") or m.get("nproc")
    mem = m.get("memory") or (f"{m['ram_gb']} GB" if "ram_gb" in m else "")
    load = m.get("load_average")
    busy = ""
    if load:
        busy = f", load average {load[0]} / {load[1]} / {load[2]}"
        if max(load) > 1.5:
            busy += " (**busy machine: other work ran at the same time, figures are pessimistic**)"
    return f"{cpus} CPUs ({m.get('cpu', '')}), {mem}, {m.get('date', '')}{busy}"


def main() -> None:
    lines = [
        "# Benchmark results",
        "",
        "Written by `python -m bench.report` from `bench/results/*.json` (each file has the command, the",
        "machine and the versions). Run everything with `make bench`.",
        "",
    ]
    ing = _load("ingest")
    if ing:
        lines += [
            "## File ingest",
            "",
            f"Command: `{ing['command']}`  ",
            f"Machine: {_machine(ing['machine'])}",
            "",
            "| format | rows | seconds | events/s | bare DuckDB copy (s) | ratio to bare copy | target |",
            "|---|---|---|---|---|---|---|",
        ]
        for fmt, r in ing["results"].items():
            target = ing["targets"][f"{fmt}_events_per_second"]
            lines.append(
                f"| {fmt} | {r['rows']:,} | {r['ordito_seconds']} | {r['events_per_second']:,} | "
                f"{r['bare_duckdb_copy_seconds']} | {r['ratio_to_bare_copy']} | ≥ {target:,}/s: "
                f"{_verdict(r['events_per_second'] >= target)} |"
            )
        lines.append("")
    idn = _load("identity")
    if idn:
        full, inc = idn["resolve_from_scratch"], idn["resolve_incremental_10k"]
        t = idn["targets"]
        lines += [
            "## Identity resolution and look-ups",
            "",
            f"Command: `{idn['command']}`  ",
            f"Machine: {_machine(idn['machine'])}  ",
            f"Workspace: {idn['workspace_events']:,} events",
            "",
            "| measure | result | target |",
            "|---|---|---|",
            f"| resolve from scratch | {full['seconds']:.1f} s, peak {full['peak_rss_gb']:.2f} GB | ≤ "
            f"{t['resolve_seconds']} s, ≤ {t['resolve_peak_gb']} GB: "
            f"{_verdict(full['seconds'] <= t['resolve_seconds'] and full['peak_rss_gb'] <= t['resolve_peak_gb'])} |",
            f"| resolve 10k new events incrementally | {inc['seconds']:.1f} s | |",
            f"| timeline, newest 50 events (p50 / p99) | {idn['timeline_ms']['p50']} / {idn['timeline_ms']['p99']} ms"
            f" | p99 ≤ {t['timeline_p99_ms']} ms: {_verdict(idn['timeline_ms']['p99'] <= t['timeline_p99_ms'])} |",
            f"| phone look-up, another writing (p50 / p99) | {idn['phone_lookup_ms']['p50']} / "
            f"{idn['phone_lookup_ms']['p99']} ms | |",
            "",
            "Stage timings of the from-scratch run (s): "
            + ", ".join(f"{k} {v}" for k, v in full.get("timings", {}).items()),
            "",
        ]
        if idn.get("ingest_whole_company"):
            ing_c = idn["ingest_whole_company"]
            lines += [
                f"Ingest of the whole demo company (ten silos, {ing_c['events']:,} events, "
                f"{ing_c['quarantined']:,} quarantined): {ing_c['seconds']} s"
                + (f" ({ing_c['note']})." if ing_c.get("note") else "."),
                "",
            ]
        if idn.get("notes"):
            lines += [f"Notes: {idn['notes']}", ""]
    fz = _load("fuzzy")  # probabilistic identity (bench/fuzzy_bench.py)
    if fz:
        full, inc, t = fz["resolve_from_scratch"], fz["resolve_incremental"], fz["targets"]
        lines += [
            "## Probabilistic identity (fuzzy person records)",
            "",
            f"Command: `{fz['command']}`  ",
            f"Machine: {_machine(fz['machine'])}; load at start {fz.get('load_average_at_start')}",
            "",
            "| measure | result | target |",
            "|---|---|---|",
            f"| {fz['data']['records']:,} person records resolved from scratch (model training included) | "
            f"{full['seconds']:.1f} s, peak {full['peak_rss_gb']:.2f} GB, {full['candidate_pairs']:,} candidate pairs | "
            f"≤ {t['from_scratch_seconds']} s: {_verdict(full['seconds'] <= t['from_scratch_seconds'])} |",
            f"| {fz['data']['new_records']:,} new records incrementally | {inc['seconds']:.1f} s | "
            f"≤ {t['incremental_seconds']} s: {_verdict(inc['seconds'] <= t['incremental_seconds'])} |",
            f"| existing records changing customer (not by a recorded merge) | "
            f"{fz['existing_records_changing_customer']} ({fz['changes_not_explained_by_a_recorded_merge']}) | (0) |",
            f"| pairwise precision / recall on the generated records | {fz['accuracy']['precision']} / "
            f"{fz['accuracy']['recall']} | |",
            "",
            "Stage timings from scratch (s): "
            + ", ".join(f"{k} {v}" for k, v in full.get("timings", {}).items()),
            "",
            "Stage timings incrementally (s): "
            + ", ".join(f"{k} {v}" for k, v in inc.get("timings", {}).items()),
            "",
        ]
        if fz.get("notes"):
            lines += [f"Notes: {fz['notes']}", ""]
    api = _load("api_load")
    if api:
        b, tr = api["batch"], api["track"]
        lines += [
            "## Live API (Segment spec)",
            "",
            f"Command: `{api['command']}`  ",
            f"Machine: {_machine({**api['machine'], 'date': api.get('date', '')})}",
            "",
            "| measure | result | target |",
            "|---|---|---|",
            f"| `/v1/batch`, 100 messages per request | {b['events_per_s']:,} events/s acknowledged (fsynced) | "
            f"≥ 50,000: {_verdict(b['events_per_s'] >= 50_000)} |",
            f"| `/v1/track` at {tr['target_rate']:.0f} req/s | p50 {tr['latency_ms']['p50']} ms, p99 "
            f"{tr['latency_ms']['p99']} ms | p99 ≤ 25 ms: {_verdict(tr['latency_ms']['p99'] <= 25)} |",
            "",
        ]
        if api.get("notes"):
            lines += [f"Notes: {api['notes']}", ""]
    jr = _load("journeys")  # episodes, friction and KPIs (bench/journeys_bench.py)
    if jr:
        full = jr["analyze_full"]
        # progress marks: features done, threading starts, threading done, friction starts, as of starts
        at = [0.0] + [m[1] for m in full.get("phases", [])] + [full["seconds"]]
        steps = (
            "features",
            "units to Python",
            "threading",
            "contacts and episode rows",
            "friction and writing",
        )
        spans = ", ".join(f"{name} {at[i + 1] - at[i]:.1f}" for i, name in enumerate(steps + ("as of",)))
        lines += [
            "## Journeys: episodes, friction and KPIs (`ordito analyze --full`)",
            "",
            f"Command: `{jr['command']}`  ",
            f"Machine: {_machine(jr['machine'])}; load at start {jr.get('load_average_at_start')}, "
            f"at end {jr.get('load_average_at_end')}  ",
            f"Workspace: {jr['workspace_events']:,} events, {jr['customers']:,} customers, "
            f"{jr['episodes']:,} episodes, {sum(jr['frictions_by_kind'].values()):,} frictions",
            "",
            "| measure | result | target |",
            "|---|---|---|",
            f"| episodes + friction + KPIs from scratch | {jr['episodes_plus_friction_plus_kpis_seconds']} s "
            f"(analyze {full['seconds']} s, peak {full['peak_rss_gb']} GB) | ≤ 60 s: "
            f"{_verdict(jr['episodes_plus_friction_plus_kpis_seconds'] <= 60)} |",
            f"| CPU of analyze (this process and its engine threads + the spawned threading process) | "
            f"{full['cpu_seconds']} + "
            f"{full.get('threading_workers_cpu_seconds', '?')} s | |",
            f"| KPIs by overall, channel, department, intent | {jr['kpis']['seconds']} s | |",
            f"| analyze with nothing new | {jr['analyze_nothing_new']['seconds']} s | |",
            "",
            f"Phases of analyze (s, wall): {spans}",
            "",
        ]
        if jr.get("before"):
            lines += [f"Before: {jr['before']}", ""]
        lines += [f"Notes: {jr['note']}", ""]
    dfg = _load("dfg")
    if dfg:
        d, v = dfg["results"]["dfg"], dfg["results"].get("variants")

        def _s(xs: list[float]) -> str:
            return " / ".join(f"{x:.2f}" for x in xs)

        lines += [
            "## Journey maps against pm4py (directly-follows graph, variants)",
            "",
            f"Command: `{dfg['command']}`  ",
            f"Machine: {_machine(dfg['machine'])}; {dfg['uptime_start']}  ",
            f"Log: {dfg['log']['what']}: {dfg['log']['events']:,} events, {dfg['log']['cases']:,} cases. "
            f"Edges, counts and variants asserted equal to pm4py {dfg['pm4py']}.",
            "",
            "| measure | seconds (each run) | ratio to pm4py (medians) | target ≥ 10x |",
            "|---|---|---|---|",
            f"| pm4py `discover_dfg` (sorted DataFrame in memory) | {_s(d['pm4py_seconds'])} | | |",
            f"| ordito DFG from events | {_s(d['ordito_from_events_seconds'])} | {d['speedup_from_events']}x | "
            f"{_verdict(d['speedup_from_events'] >= 10)} |",
            f"| ordito full map from events (+ cases, nodes) | {_s(d['ordito_from_events_full_map_seconds'])} | "
            f"{d['speedup_from_events_full_map']}x | |",
            f"| ordito `prepare` (once) | {d['ordito_prepare_seconds']:.2f} | | |",
        ]
        rf = d.get("ordito_refresh")
        if rf:
            lines.append(
                f"| ordito `prepare` again after {rf['new_events']:,} new events ({rf['mode']}: "
                f"{rf['changed_cases']:,} cases) | {rf['seconds']:.2f} | | |"
            )
        lines += [
            f"| ordito DFG from the prepared log | {_s(d['ordito_prepared_seconds'])} | {d['speedup_prepared']}x | "
            f"{_verdict(d['speedup_prepared'] >= 10)} |",
            f"| ordito full map from the prepared log | {_s(d['ordito_prepared_full_map_seconds'])} | "
            f"{d['speedup_prepared_full_map']}x | |",
        ]
        if v:
            lines += [
                f"| pm4py `get_variants` | {_s(v['pm4py_seconds'])} | | |",
                f"| ordito variants from events | {_s(v['ordito_from_events_seconds'])} | "
                f"{v['speedup_from_events']}x | |",
                f"| ordito variants from the prepared log | {_s(v['ordito_prepared_seconds'])} | "
                f"{v['speedup_prepared']}x | |",
            ]
        lines += ["", f"Notes: {dfg['note']}", ""]
    rep = _load("report")
    if rep:
        ws, best = rep["workspace"], rep["best_seconds"]
        lines += [
            "## Report generation (`ordito report`)",
            "",
            f"Command: `{rep['command']}`  ",
            f"Machine: {_machine(rep['machine'])}; {rep['uptime_start']}  ",
            f"Workspace: {ws['events']:,} events, {ws['episodes'] or 0:,} episodes, {ws['friction'] or 0:,} "
            f"frictions, {ws['voc'] or 0:,} analysed texts, {ws['surveys'] or 0:,} survey answers",
            "",
            "| measure | seconds | target |",
            "|---|---|---|",
            f"| every section, rendered and written (best of {len(rep['runs'])}) | {best:.1f} | ≤ "
            f"{rep['target_seconds']}: {_verdict(best <= rep['target_seconds'])} |",
            f"| `write_report` end to end | {rep['write_report_seconds']:.1f} | ≤ {rep['target_seconds']}: "
            f"{_verdict(rep['write_report_seconds'] <= rep['target_seconds'])} |",
        ]
        for pg in rep.get("analyst_pages", []):
            lines.append(
                f"| analyst page, filter {pg['filters']}: slowest view (views load in parallel) / a drill-down "
                f"page | {pg['slowest_view_seconds']:.1f} / {pg['drill_down_page_seconds']:.1f} | |"
            )
        fastest = min(rep["runs"], key=lambda r: r["seconds"])
        lines += [
            "",
            "Per section in the best run (s): "
            + ", ".join(f"{k} {v}" for k, v in fastest["sections"].items()),
            "",
            f"Notes: {rep['note']}",
            "",
        ]
    ctx = _load("context")
    if ctx:
        sq, cc = ctx["sequential"], ctx["concurrent_4_clients"]
        lines += [
            "## Screen pop (`GET /v1/context`)",
            "",
            f"Command: `{ctx['command']}`  ",
            f"Machine: {_machine(ctx['machine'])}",
            "",
            "| measure | result | target |",
            "|---|---|---|",
            f"| one client, {sq['requests']:,} requests | p50 {sq['p50_ms']} ms, p99 {sq['p99_ms']} ms | p99 ≤ "
            f"{ctx['target_p99_ms']} ms: {_verdict(sq['p99_ms'] <= ctx['target_p99_ms'])} |",
            f"| four clients at once | p50 {cc['p50_ms']} ms, p99 {cc['p99_ms']} ms | |",
            "",
            f"Notes: {ctx.get('note', '')} (docs/AGENT.md: where the time goes)",
            "",
        ]
    voc = _load("voc")
    if voc:
        r = voc["results"]
        fast, acc = r["pipeline_fast"], r["pipeline_accurate"]
        pack = voc.get("accuracy_of_the_measured_pack", {})

        def f1s(tier: str) -> str:  # the measured pack's test figures: it tweets / en tweets / en sentences
            got = [
                pack.get(name, {}).get(tier, {}).get(metric)
                for name, metric in (
                    ("it-umsab-tweets", "macro_f1"),
                    ("en-tweeteval", "macro_f1"),
                    ("en-uci-sentences", "accuracy"),
                )
            ]
            return f" (test: {' / '.join(str(x) for x in got)})" if any(got) else ""

        lines += [
            "## Text understanding (VoC)",
            "",
            f"Command: `{voc['command'].strip()}`  ",
            f"Machine: {_machine(voc['machine'])}",
            "",
            "| measure | texts/s | target |",
            "|---|---|---|",
            f"| fast tier, per-text pipeline{f1s('fast')} | {fast['texts_per_second']} | ≥ "
            f"{voc['target_texts_per_second']}: "
            f"{_verdict(fast['texts_per_second'] >= voc['target_texts_per_second'])} |",
            f"| accurate tier{f1s('accurate')} | {acc['texts_per_second']} | ≥ "
            f"{voc['target_texts_per_second']}: {_verdict(acc['texts_per_second'] >= voc['target_texts_per_second'])} |",
        ]
        ec = r.get("e5_cost")
        if ec:
            lines.append(
                f"| ceiling of one multilingual-e5-small pass per text ({ec['gmac_per_text']} GMAC) at numpy's "
                f"float32 rate on these cores ({ec['numpy_fp32_matmul_gflops']} GFLOP/s) | "
                f"{ec['ceiling_texts_per_second_at_numpy_rate']} | 500 texts/s needs {ec['gflops_needed_for_target']} GFLOP/s |"
            )
        lines += [
            "",
            "Test figures: macro-F1 Italian tweets (target 0.65) / macro-F1 English tweets (0.58) / accuracy English "
            "sentences (0.85). Per tier and language, and why no tier meets both targets: docs/VOC.md.",
            "",
        ]
    notes = ROOT / "bench" / "NOTES.md"
    if notes.exists():
        lines += [notes.read_text().strip(), ""]
    (ROOT / "bench" / "RESULTS.md").write_text("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
