"""`ordito analyze` is incremental: new events, merges and splits update only the customers they touch,
and the result equals a rebuild from scratch."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

import ordito
from ordito.cli import app as cli_app
from ordito.demo import generate
from ordito.journeys import episodes
from ordito.journeys.features import ambiguous_sql
from ordito.journeys.stage import TABLES

STAGES = [
    ["web", "app", "shop"],
    ["crm", "calls", "chat"],
    ["email", "pos", "surveys"],
    ["social"],
]


def snapshot(ws: ordito.Workspace) -> dict[str, list[tuple[Any, ...]]]:
    out = {}
    for t in TABLES:
        cols = [r[0] for r in ws.sql(f"DESCRIBE {t}")]
        order = ", ".join(cols)
        out[t] = ws.sql(f"SELECT {order} FROM {t} ORDER BY {order}")
    return out


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("inc_company")
    generate(out, customers=150, seed=4)
    return out


def test_incremental_runs_equal_a_full_rebuild(
    company: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with ordito.Workspace(tmp_path / "inc.duckdb") as ws:
        scopes = []
        for silos in STAGES:
            for silo in silos:
                ws.ingest(company, source=silo)
            ws.resolve()
            res = ws.analyze()
            scopes.append((res.full, res.customers))
        n_customers = ws.sql("SELECT count(DISTINCT customer_key) FROM event_customer")[0][0]
        assert scopes[0][0] and not any(full for full, _ in scopes[1:])
        assert 0 < scopes[-1][1] < n_customers  # social posts touch a few customers, not everybody
        again = ws.analyze()
        assert again.customers == 0  # nothing new: nothing recomputed
        assert again.reason == "nothing new"  # ... and nothing checked (no event after the watermark)
        inc = snapshot(ws)
        assert all(inc[t] for t in TABLES)
        # identities re-resolved without a new event: the run checks what moved (here nothing)
        ws.resolve(full=True)
        checked = ws.analyze()
        assert checked.reason == "incremental" and checked.customers == 0
        assert snapshot(ws) == inc
        assert ws.analyze().reason == "nothing new"
        full = ws.analyze(full=True)
        assert full.full
        assert snapshot(ws) == inc
        # threading in two processes (what large workspaces do) gives the same tables
        monkeypatch.setattr(episodes, "PARALLEL_MIN_UNITS", 0)
        ws.analyze(full=True)
        assert snapshot(ws) == inc


def test_only_the_touched_customers_are_recomputed(company: Path, tmp_path: Path) -> None:
    with ordito.Workspace(tmp_path / "one.duckdb") as ws:
        ws.ingest(company)
        ws.resolve()
        ws.analyze()
        before = snapshot(ws)
        # one live event for one customer: a new call of theirs
        # a customer with a phone of their own and no event of a shared identifier that could be theirs
        ws.engine.execute(ambiguous_sql())
        key, phone = (
            ws.sql("""SELECT m.customer_key, i.value FROM identity_map m JOIN identifiers i USING (identifier_id)
                               WHERE i.kind = 'phone' AND i.status = 'active'
                                 AND m.customer_key NOT IN (SELECT candidate FROM _jamb_all)
                               ORDER BY 1 LIMIT 1""")[0]
        )
        calls = tmp_path / "calls.csv"
        calls.write_text(
            "call_id;leg;site;start_time;ani;ivr_path;queue;department;wait_seconds;talk_seconds;hold_seconds;"
            "agent_id;transferred_to;disposition;crm_customer_id;notes\n"
            f"C999999999;1;MILANO;29/06/2026 10:00:00;{phone};2>1;MI_TECH;technical_support;400;300;0;MI1001;;"
            "callback_promised;;Cliente chiama per guasto. Problema: non si accende. Promesso richiamo entro 48h.\n"
        )
        ws.ingest(calls, source="calls")
        ws.resolve()
        res = ws.analyze()
        assert res.customers == 1
        after = snapshot(ws)
        changed = {r[1] for r in set(after["episodes"]) ^ set(before["episodes"])}
        assert changed == {key}
        new_fr = set(after["friction"]) - set(before["friction"])
        assert any(r[3] == "long_wait" and r[2] == key for r in new_fr)  # 400 s in queue
        full = ws.analyze(full=True)
        assert full.full and snapshot(ws) == after


def test_cli_ingest_resolve_analyze_score(company: Path, tmp_path: Path) -> None:
    """The commands a user runs, end to end (``ordito analyze`` runs the voice-of-the-customer stage first)."""
    runner = CliRunner()
    w = ["-w", str(tmp_path / "cli.duckdb")]
    for cmd in (["ingest", str(company)], ["resolve"]):
        r = runner.invoke(cli_app, [*w, *cmd])
        assert r.exit_code == 0, r.output
    r = runner.invoke(cli_app, [*w, "analyze", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["full"] and out["episodes"] > 0
    r = runner.invoke(cli_app, [*w, "score", str(company / "ground_truth")])
    assert r.exit_code == 0, r.output
    s = json.loads(r.output)
    assert s["episodes"]["f1"] >= 0.95, s["episodes"]
    assert set(s["friction"]["kinds"]) >= {"repeat_contact", "transfer", "unresolved"}
    r = runner.invoke(cli_app, [*w, "kpis", "--by", "intent"])
    assert r.exit_code == 0 and "fcr" in r.output
