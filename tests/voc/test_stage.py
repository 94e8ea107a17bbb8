"""The VoC stage on a small demo company: every text and survey answer is analysed, incremental runs give
the rows a full rebuild gives, language and topics agree with the ground truth, the API answers.

Ground truth is read only to score (never to train or to set a rule)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import ordito
from ordito import voc
from ordito.demo import generate
from ordito.voc import metrics, report

CUSTOMERS = 300
SEED = 31
INTENT_TOPIC = {
    "delivery_problem": "delivery",
    "refund": "refund",
    "repair": "repair",
    "address_change": "address",
    "subscription": "subscription",
}


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("voc_company")
    generate(out, customers=CUSTOMERS, seed=SEED)
    return out


@pytest.fixture(scope="module")
def ws(company: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    # hermetic: no trained pack (the lexicon fallback answers), whatever this machine has in its cache
    mp = pytest.MonkeyPatch()
    mp.setenv("ORDITO_VOC_MODELS", str(tmp_path_factory.mktemp("no_models")))
    w = ordito.Workspace(tmp_path_factory.mktemp("voc_ws") / "ws.duckdb")
    w.ingest(company)
    w.resolve()
    w.engine.execute(
        f"CREATE TEMP TABLE gt AS SELECT * FROM read_parquet('{company / 'ground_truth' / 'records.parquet'}')"
    )
    voc.run(w.engine, tier="fast")
    yield w
    w.close()
    mp.undo()


def _rows(ws: ordito.Workspace, table: str) -> list[tuple[Any, ...]]:
    cols = {
        "voc": "seq, author, language, sentiment, sentiment_score, emotion, topics, model",
        "voc_topics": "seq, topic_id, weight",
        "surveys": "seq, customer_key, kind, score, nps_class, top_box, context_seq, channel, department",
    }[table]
    return ws.engine.execute(f"SELECT {cols} FROM {table} ORDER BY ALL")


def test_every_text_and_every_answer_is_analysed(ws: ordito.Workspace) -> None:
    e = ws.engine
    n_text = e.scalar("SELECT count(*) FROM events WHERE text IS NOT NULL AND trim(text) <> ''")
    assert e.scalar("SELECT count(*) FROM voc") == n_text > 500
    n_answers = e.scalar("SELECT count(*) FROM events WHERE type = 'survey_response' AND value IS NOT NULL")
    assert e.scalar("SELECT count(*) FROM surveys") == n_answers > 10
    kinds = {r[0] for r in e.execute("SELECT DISTINCT kind FROM surveys")}
    assert kinds == {"nps", "csat", "ces"}
    # answers about a contact found the contact (its channel and department)
    linked = e.scalar(
        "SELECT avg(CASE WHEN context_seq IS NOT NULL THEN 1.0 ELSE 0 END) FROM surveys WHERE context_ref IS NOT NULL"
    )
    assert linked > 0.9
    assert e.scalar("SELECT count(*) FROM surveys WHERE customer_key IS NULL") <= 0.05 * n_answers
    assert e.scalar("SELECT count(*) FROM topic_labels WHERE origin = 'taxonomy'") >= 2 * 10


def test_incremental_equals_full(ws: ordito.Workspace) -> None:
    e = ws.engine
    before = {t: _rows(ws, t) for t in ("voc", "voc_topics", "surveys")}
    cut = e.scalar("SELECT quantile_disc(seq, 0.5) FROM voc")
    for t in ("voc", "voc_topics", "surveys"):
        e.execute(f"DELETE FROM {t} WHERE seq > ?", [cut])
    e.execute("UPDATE stage_state SET watermark_seq = ? WHERE stage = 'voc'", [cut])
    res = voc.run(e, tier="fast")
    assert res.texts > 0
    assert {t: _rows(ws, t) for t in before} == before
    assert voc.run(e, tier="fast").texts == 0  # nothing new: nothing done
    voc.run(e, tier="fast", full=True)
    assert {t: _rows(ws, t) for t in before} == before


def test_language_matches_ground_truth(ws: ordito.Workspace) -> None:
    acc, n = ws.engine.one(
        """SELECT avg(CASE WHEN v.language = g.language THEN 1.0 ELSE 0 END), count(*)
           FROM voc v JOIN events e USING (seq) JOIN gt g ON g.source = e.source AND g.source_key = e.source_key
           WHERE g.language IS NOT NULL"""
    ) or (0, 0)
    assert n > 500 and acc >= 0.98


def test_threads_get_the_topic_of_their_need(ws: ordito.Workspace) -> None:
    """Per conversation (thread) of a customer, the themes of what they wrote include the theme of the need
    the ground truth says it was about. Follow-up threads ("any news?") name no theme at all, so the bound
    is well below 1 (measured 0.72 at 300 customers, seed 31); episodes carry the theme across threads."""
    rows = ws.engine.records(
        """
        WITH t AS (
            SELECT e.thread_id, any_value(g.intent) AS intent, string_agg(coalesce(v.topics, ''), ';') AS topics
            FROM voc v JOIN events e USING (seq) JOIN gt g ON g.source = e.source AND g.source_key = e.source_key
            WHERE v.author = 'customer' AND e.thread_id IS NOT NULL AND g.intent IS NOT NULL
            GROUP BY e.thread_id
        )
        SELECT intent, topics FROM t
        """
    )
    hits: dict[str, list[bool]] = {}
    for r in rows:
        want = INTENT_TOPIC.get(r["intent"])
        if want:
            hits.setdefault(want, []).append(want in r["topics"].split(";"))
    recall = sum(sum(v) for v in hits.values()) / sum(len(v) for v in hits.values())
    assert recall >= 0.65, {k: sum(v) / len(v) for k, v in hits.items()}


def test_survey_metrics_by_every_grouping(ws: ordito.Workspace) -> None:
    overall = metrics.survey_metrics(ws.engine)["all"]
    nps = overall["nps"]
    assert -100 <= nps["ci95"][0] <= nps["nps"] <= nps["ci95"][1] <= 100
    assert nps["promoters"] + nps["passives"] + nps["detractors"] == nps["n"]
    # the NPS is the one computed by hand from the answers
    p, d, n = ws.engine.one(
        "SELECT sum(CASE WHEN score >= 9 THEN 1 ELSE 0 END), sum(CASE WHEN score <= 6 THEN 1 ELSE 0 END), count(*) "
        "FROM surveys WHERE kind = 'nps'"
    ) or (0, 0, 1)
    assert nps["nps"] == round(100 * (p - d) / n, 1)
    by_channel = metrics.survey_metrics(ws.engine, "channel")
    assert sum(g["csat"]["n"] for g in by_channel.values() if "csat" in g) == overall["csat"]["n"]
    assert metrics.survey_metrics(ws.engine, "month")
    assert metrics.survey_metrics(ws.engine, "department")
    rr = metrics.response_rates(ws.engine)
    assert 0 < rr["rate"] < 1 and sum(b["customers"] for b in rr["by_mood"]) == rr["customers"]
    bias = metrics.respondent_bias(ws.engine)
    assert {b["who"] for b in bias} == {"answered", "did not answer"}


def test_reports(ws: ordito.Workspace) -> None:
    s = report.summary(ws.engine)
    assert s["model"]["fallback"] is True and "ordito voc train" in s["model"]["note"]
    assert ws.engine.scalar("SELECT count(DISTINCT model) FROM voc") == 1
    assert s["customer_sentiment"]["texts"] == s["texts"]["customer"]
    assert {"nps", "csat", "ces"} <= set(s["surveys"])
    it = report.topic_report(ws.engine, language="it")
    en = report.topic_report(ws.engine, language="en")
    assert [t["topic_id"] for t in it] == [t["topic_id"] for t in en]
    assert {t["label"] for t in it} != {t["label"] for t in en}
    key = ws.engine.scalar(
        "SELECT customer_key FROM surveys WHERE customer_key IS NOT NULL ORDER BY seq LIMIT 1"
    )
    c = report.customer_voc(ws.engine, key)
    assert c["surveys"] and c["customer_key"] == key


@pytest.mark.anyio
async def test_api(ws: ordito.Workspace) -> None:
    from ordito.api import create_app

    app = create_app(ws)
    key = ws.engine.scalar(
        "SELECT customer_key FROM surveys WHERE customer_key IS NOT NULL ORDER BY seq LIMIT 1"
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        r = await client.get("/v1/voc/summary")
        assert r.status_code == 200 and "nps" in r.json()["surveys"]
        r = await client.get("/v1/voc/topics", params={"language": "it", "discover": "true"})
        body = r.json()
        assert r.status_code == 200 and body["topics"][0]["label"] and "discovered" in body
        r = await client.get(f"/v1/customers/{key}/voc")
        assert r.status_code == 200 and r.json()["customer_key"] == key
        r = await client.get("/v1/customers/cus_nobody/voc")
        assert r.status_code == 404 and r.json()["ok"] is False
        r = await client.get("/v1/voc/summary", params={"since": "2026-01-01T00:00:00"})
        assert r.status_code == 200


@pytest.mark.anyio
async def test_api_under_access_control(ws: ordito.Workspace) -> None:
    """Under `ordito serve` (the agent app): analytics need analytics.read, one customer's voice needs
    customer.read; no token, no answer."""
    from ordito.agent import auth
    from ordito.agent.app import create_agent_app

    app = create_agent_app(ws)
    auth.add_user(ws.engine, "voc_analyst", role="analyst", kind="system")
    token = auth.create_token(ws.engine, "voc_analyst")
    key = ws.engine.scalar(
        "SELECT customer_key FROM surveys WHERE customer_key IS NOT NULL ORDER BY seq LIMIT 1"
    )
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
        assert (await client.get("/v1/voc/summary")).status_code == 401
        h = {"Authorization": f"Bearer {token}"}
        assert (await client.get("/v1/voc/summary", headers=h)).status_code == 200
        assert (await client.get("/v1/voc/topics", headers=h)).status_code == 200
        assert (await client.get(f"/v1/customers/{key}/voc", headers=h)).status_code == 200
