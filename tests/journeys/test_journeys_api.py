"""Episodes, friction and KPIs through the HTTP API, the CLI, and the negative-sentiment hook."""

from __future__ import annotations

import datetime as dt
import json
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

import ordito
from ordito.api import create_app
from ordito.journeys.kpis import BY, contact_kpis_sql, department_view_sql, episode_kpis_sql
from ordito.store.dialect import check_portable

from .companies import analyzed


@pytest.fixture(scope="module")
def company(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return analyzed(tmp_path_factory, 700, 13)


@pytest.fixture
async def client(company: tuple[Path, Path]) -> AsyncIterator[tuple[httpx.AsyncClient, ordito.Workspace]]:
    ws = ordito.Workspace(company[1])
    app = create_app(ws, interval=0.2, resolve=False)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://ordito.test") as c:
                yield c, ws
    finally:
        ws.close()


@pytest.mark.anyio
async def test_endpoints(client: tuple[httpx.AsyncClient, ordito.Workspace]) -> None:
    c, ws = client
    key = ws.sql("""SELECT customer_key FROM friction GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT 1""")[0][0]
    r = await c.get(f"/v1/customers/{key}/episodes")
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["customer_key"] == key and body["episodes"]
    starts = [e["started_at"] for e in body["episodes"]]
    assert starts == sorted(starts, reverse=True)
    frs = [f for e in body["episodes"] for f in e["frictions"]]
    assert frs and all(isinstance(f["evidence"], list) and f["evidence"] for f in frs)
    assert (await c.get("/v1/customers/cus_nobody/episodes")).status_code == 404

    r = await c.get("/v1/friction", params={"kind": "long_wait", "since": "2026-01-01T00:00:00", "limit": 50})
    assert r.status_code == 200, r.text
    rows = r.json()["friction"]
    assert 0 < len(rows) <= 50
    assert all(f["kind"] == "long_wait" and f["occurred_at"] >= "2026-01-01" for f in rows)
    bad = await c.get("/v1/friction", params={"kind": "bogus"})
    assert bad.status_code == 400 and bad.json()["ok"] is False

    for by in BY:
        r = await c.get("/v1/kpis", params={"by": by})
        assert r.status_code == 200, r.text
        assert r.json()["rows"], by
    dept = {row["key"]: row for row in (await c.get("/v1/kpis", params={"by": "department"})).json()["rows"]}
    assert "resolution_gap" in dept["customer_service"]
    assert (await c.get("/v1/kpis", params={"by": "moon"})).status_code == 400


def test_kpi_sql_is_portable() -> None:
    for by in BY:
        check_portable(contact_kpis_sql(by))
        check_portable(episode_kpis_sql(by))
    check_portable(department_view_sql())


def test_negative_sentiment_hook_reads_voc(company: tuple[Path, Path], tmp_path: Path) -> None:
    """When the voice-of-the-customer stage has scored texts, a sharp drop inside an episode is friction."""
    path = tmp_path / "ws.duckdb"
    shutil.copy(company[1], path)
    with ordito.Workspace(path) as ws:
        # two customer chat messages of one episode
        ep, a, b = (
            ws.sql("""SELECT ee.episode_id, min(e.seq), max(e.seq) FROM episode_events ee JOIN events e USING (seq)
                             WHERE e.channel = 'chat' AND e.direction = 'inbound'
                             GROUP BY 1 HAVING count(*) >= 2 ORDER BY 1 LIMIT 1""")[0]
        )
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        for seq, score in ((a, 0.4), (b, -0.7)):
            ws.sql(
                """INSERT INTO voc (seq, author, sentiment, sentiment_score, p_negative, p_neutral, p_positive,
                                    n_chars, model, analyzed_at) VALUES (?, 'customer', ?, ?, 0, 0, 0, 10, 'test', ?)""",
                [seq, "negative" if score < 0 else "positive", score, now],
            )
        res = ws.analyze()
        assert not res.full and res.customers >= 1  # the scored texts bring their customer into scope
        rows = ws.sql(
            "SELECT episode_id, CAST(evidence AS VARCHAR) FROM friction WHERE kind = 'negative_sentiment'"
        )
        assert (ep, json.dumps([a, b]).replace(" ", "")) in [(r[0], r[1].replace(" ", "")) for r in rows]
