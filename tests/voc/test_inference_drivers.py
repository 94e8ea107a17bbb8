"""Satisfaction inferred where nobody answered, and the drivers of detractors, on a 2,000-customer demo
company (slow: about two minutes). The planted mechanism of the demo (docs/DEMO_COMPANY.md): every friction
of a service episode lowers the customer's satisfaction; cart abandonment belongs to purchase episodes
and moves nothing. Ground truth is only read to score."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

import ordito
from ordito import voc
from ordito.demo import generate
from ordito.voc import drivers, infer

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ordito.Workspace]:
    mp = pytest.MonkeyPatch()  # hermetic: the lexicon fallback, whatever this machine has in its cache
    mp.setenv("ORDITO_VOC_MODELS", str(tmp_path_factory.mktemp("no_models")))
    company = tmp_path_factory.mktemp("company")
    generate(company, customers=2000, seed=7)
    w = ordito.Workspace(tmp_path_factory.mktemp("ws") / "ws.duckdb")
    w.ingest(company)
    w.resolve()
    voc.run(w.engine, tier="fast")
    w.analyze()
    yield w
    w.close()
    mp.undo()


def test_inferred_satisfaction_is_validated_and_kept_apart(ws: ordito.Workspace) -> None:
    res = infer.run(ws.engine)
    v = res.validation
    assert v["respondents"] >= 50
    assert v["auc"] >= 0.8 and v["auc_ci95"][0] < v["auc"] < v["auc_ci95"][1]
    assert sum(b["n"] for b in v["calibration"]) == v["respondents"]
    e = ws.engine
    # inferred rows are flagged and never written where answers live
    n_inf = e.scalar("SELECT count(*) FROM satisfaction_inferred WHERE inferred")
    assert n_inf == res.episodes_inferred > 0
    assert e.scalar("SELECT count(*) FROM satisfaction_inferred WHERE inferred AND answered") == 0
    assert e.scalar("SELECT count(*) FROM surveys") == e.scalar(
        "SELECT count(*) FROM events WHERE type = 'survey_response' AND value IS NOT NULL"
    )
    lo, hi = res.inferred["ci95"]
    assert 0 <= lo <= res.inferred["satisfied_share"] <= hi <= 1


def test_planted_drivers_come_out_on_top(ws: ordito.Workspace) -> None:
    res = drivers.run(ws.engine, boots=20)
    ranked = [d["driver"] for d in res.drivers]
    assert all(name.startswith("friction:") for name in ranked[:3]), ranked[:5]
    # service frictions lower NPS (positive gain when removed); cart abandonment does not drive anything
    top = res.drivers[0]
    assert top["nps_points_among_exposed"] > 0 and top["nps_points_among_exposed_ci95"][0] > 0
    assert "friction:abandonment" not in ranked[:5]
    for d in res.drivers:
        lo, hi = d["nps_gain_if_removed_ci95"]
        assert lo <= hi
