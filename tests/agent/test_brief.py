"""The context brief: extractive, from evidence, in the customer's language; scored on the demo company."""

from __future__ import annotations

import datetime as dt

import pytest

from ordito.agent import brief as bf
from ordito.agent import extract as ex
from ordito.agent.scoring import score_briefs
from tests.agent.conftest import Demo


def test_facts_in_text() -> None:
    text = (
        "Buongiorno, aspetto ancora la lavastoviglie Elettra Serie 5 DW524W dell'ordine IT-2025-0011359: "
        "nessuno mi ha avvisato. Il nuovo indirizzo è Via Roma 164, 40106 Bologna (BO). Ho pagato 549,99 EUR "
        "il 12/03/2025."
    )
    got = {(f.kind, f.value) for f in ex.facts_in(text)}
    assert ("order_number", "IT-2025-0011359") in got
    assert ("product", "DW524W") in got
    assert ("address", "Via Roma 164, 40106 Bologna (BO)") in got
    assert ("amount", "549,99 EUR") in got and ("date", "12/03/2025") in got
    uk = ex.facts_in("My new address is Flat 3, 168 Windsor Road, Glasgow G3 2YG. Order UK-2026-0010821.")
    assert ("address", "Flat 3, 168 Windsor Road, Glasgow G3 2YG") in {(f.kind, f.value) for f in uk}
    note = ex.facts_in(
        "Chiamata per guasto. Modello CM310X. Problema: non monta il latte. Promesso richiamo."
    )
    assert ("problem", "non monta il latte") in {(f.kind, f.value) for f in note}
    # an order number's digits are not a model code, an agent id is not one either
    assert not [f for f in ex.facts_in("IT-2025-0011359 by MI1042") if f.kind == "product"]


def test_statements_drop_greetings_and_small_talk() -> None:
    said = ex.statements(
        "Salve, da qualche giorno la mia lavastoviglie non si accende. Grazie.\n\nSaluti,\nRoberta Sorrentino"
    )
    assert said == ["Da qualche giorno la mia lavastoviglie non si accende."]
    assert ex.statements("Ok.") == [] and ex.statements("Thanks, regards") == []
    assert ex.language_of(["Il cliente chiama per un problema"]) == "it"
    assert ex.language_of(["The customer called about the order"]) == "en"
    assert ex.need_of(["Aspetto ancora la consegna dell'ordine"])[0] == "delivery"
    assert ex.need_of(["My dishwasher won't switch on, can you repair it?"])[0] == "repair"


def test_every_line_has_evidence_and_the_language_follows_the_customer(demo: Demo) -> None:
    eng = demo.ws.engine
    seen = set()
    for (key,) in eng.execute(
        """SELECT c.customer_key FROM event_customer c JOIN events e ON e.seq = c.seq
           WHERE e.channel IN ('chat', 'email', 'voice') AND c.customer_key IS NOT NULL
           GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 40"""
    ):
        b = bf.build(eng, key)
        assert b.language in ("it", "en")
        seen.add(b.language)
        owned = {
            int(s) for (s,) in eng.execute("SELECT seq FROM event_customer WHERE customer_key = ?", [key])
        }
        for line in b.all_lines():
            assert line.seqs, line
            assert set(line.seqs) <= owned, line  # evidence is always this customer's own
        d = b.to_dict()
        for section in d["sections"].values():
            for line in section:
                assert line["event_ids"], line
        label = bf.LABELS[b.language]["facts"]
        assert label in (bf.LABELS["it"]["facts"], bf.LABELS["en"]["facts"])
    assert seen == {"it", "en"}


def test_the_brief_is_built_as_of_a_moment(demo: Demo) -> None:
    eng = demo.ws.engine
    key, first = eng.one(
        """SELECT c.customer_key, min(c.occurred_at) FROM event_customer c JOIN events e ON e.seq = c.seq
           WHERE e.channel = 'chat' AND c.customer_key IS NOT NULL GROUP BY 1 ORDER BY 1 LIMIT 1"""
    ) or ("", None)
    before = bf.build(eng, key, as_of=first)
    assert all(ln.at is None or ln.at < first for ln in before.all_lines())
    assert bf.build(eng, key, as_of=first + dt.timedelta(days=1)).n_events >= before.n_events


def test_brief_holds_what_customers_had_to_repeat(demo: Demo) -> None:
    """Of the facts customers gave again in a later contact, the share the brief held before that contact."""
    s = score_briefs(demo.ws.engine, demo.company / "ground_truth")
    assert s["facts_restated"] >= 80, s
    assert s["recall"] >= 0.9, {k: v for k, v in s.items() if k != "misses"}
    assert s["foreign_facts"] == 0, s["foreign_examples"]
    for kind in ("order_number", "product", "problem"):
        assert s["by_kind"][kind]["recall"] >= 0.85, s["by_kind"]


@pytest.mark.slow
def test_with_episodes_the_brief_is_the_open_episode_and_still_holds_the_facts(demo: Demo) -> None:
    """Once the journeys stage has run, the brief is scoped to the customer's open (else latest) episode."""
    import shutil

    from ordito.workspace import Workspace

    path = demo.ws.path.with_name("with_episodes.duckdb")
    demo.ws.engine.execute("CHECKPOINT")
    shutil.copy(demo.ws.path, path)
    ws = Workspace(path)
    try:
        ws.analyze()
        key = ws.sql(
            "SELECT customer_key FROM episodes WHERE n_contacts > 1 AND intent NOT IN ('browse', 'marketing') "
            "ORDER BY outcome = 'open' DESC, customer_key LIMIT 1"
        )[0][0]
        b = bf.build(ws.engine, key)
        assert b.scope == "episode" and b.episode is not None
        s = score_briefs(ws.engine, demo.company / "ground_truth")
        assert s["recall"] >= 0.9 and s["foreign_facts"] == 0, {k: v for k, v in s.items() if k != "misses"}
    finally:
        ws.close()
