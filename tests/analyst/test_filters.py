"""Filters and drill-downs of the report's sections, checked against SQL written here on the workspace."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import parse_qs

import pytest

import ordito
from ordito.errors import RequestError
from ordito.journeys.kpis import kpis
from ordito.journeys.maps import dfg, sankey
from ordito.report import drill
from ordito.report.filters import Filters, restrict
from ordito.report.flows import handover_pairs_sql, steps_sql
from ordito.report.sections import BY_ID, build, build_section, make_scope, scoped_engine
from ordito.report.segments import segmentation, value_tiers_sql


def _num(v: str) -> int | None:
    try:
        return int(v.replace(",", ""))
    except ValueError:
        return None


def _section(report: dict[str, Any], sid: str) -> dict[str, Any]:
    return next(s for s in report["sections"] if s["id"] == sid)


def _kpi(section: dict[str, Any], label: str) -> str:
    return str(next(k["value"] for k in section["kpis"] if k["label"] == label))


def test_filters_read_from_a_query_string_and_back() -> None:
    q = {"since": ["2025-01-01"], "channel": ["voice", "chat", "voice"], "need": [""], "segment": ["high"]}
    f = Filters.from_query(q)
    assert f.since == dt.date(2025, 1, 1) and f.until is None
    assert f.channel == ("voice", "chat") and f.need == () and f.segment == ("high",)
    assert Filters.from_query(parse_qs("&".join(f"{k}={v}" for k, v in f.query()))) == f
    assert f.describe({"high": "high value"}) == "channel voice or chat · segment high value"
    assert Filters().empty and not Filters(since=dt.date(2025, 1, 1)).narrowed
    with pytest.raises(RequestError):
        Filters.from_query({"since": ["yesterday"]})
    with pytest.raises(RequestError):
        Filters.from_query({"since": ["2025-02-01"], "until": ["2025-01-01"]})


def test_restrict_reads_tables_through_a_filter() -> None:
    sql = restrict(
        "WITH k AS (SELECT * FROM episodes AS e) SELECT count(*) AS n FROM k JOIN friction f USING (episode_id)",
        {"episodes": "intent = 'repair'", "friction": "kind = 'transfer'"},
    )
    assert "(SELECT * FROM episodes WHERE intent = 'repair') AS e" in sql
    assert "(SELECT * FROM friction WHERE kind = 'transfer') AS f" in sql


def test_one_implementation_the_scoped_kpis_and_flows_equal_the_journeys_modules(
    ws: ordito.Workspace,
) -> None:
    # a period given explicitly (the whole span): the tables are read through the scope's filter
    first = ws.sql("SELECT min(occurred_at) FROM events")[0][0].date()
    sc = make_scope(ws.engine, Filters(since=first))
    assert sc is not None and not sc.everything
    scoped = scoped_engine(ws.engine, sc)
    assert scoped is not ws.engine
    for by in ("overall", "department", "channel", "intent"):
        assert kpis(scoped, by) == kpis(ws.engine, by), by
    mine = ws.engine.records(f"""
        WITH st AS ({steps_sql(sc, 6)})
        SELECT a.step, a.channel AS source, b.channel AS target, count(*) AS cases
        FROM st a LEFT JOIN st b ON b.episode_id = a.episode_id AND b.step = a.step + 1
        WHERE a.step <= 5 GROUP BY 1, 2, 3""")
    theirs = sankey(ws.engine, "episode", max_steps=5)["transitions"]

    def key(r: dict[str, Any]) -> tuple[Any, ...]:
        return (r["step"], r["source"], r["target"] or "", r["cases"])

    assert sorted(map(key, mine)) == sorted(map(key, theirs)) and mine
    follows = ws.engine.records(
        f"SELECT source, target, count(*) AS n FROM ({handover_pairs_sql(sc)}) h GROUP BY 1, 2"
    )
    assert {(r["source"], r["target"]): r["n"] for r in follows} == dfg(
        ws.engine, "episode", "department"
    ).follows()


def test_each_filter_changes_the_numbers_as_sql_says(ws: ordito.Workspace) -> None:
    whole = build(ws.engine)
    events = ws.sql("SELECT count(*) FROM events")[0][0]
    assert _kpi(_section(whole, "summary"), "Events") == f"{events:,}"
    # channel: events on it; episodes that touched it
    voice = build(ws.engine, filters=Filters(channel=("voice",)))
    n_voice = ws.sql("SELECT count(*) FROM events WHERE channel = 'voice'")[0][0]
    eps_voice = ws.sql("SELECT count(*) FROM episodes WHERE ';' || channels || ';' LIKE '%;voice;%'")[0][0]
    assert _kpi(_section(voice, "summary"), "Events") == f"{n_voice:,}"
    assert _kpi(_section(voice, "summary"), "Episodes (needs)") == f"{eps_voice:,}"
    assert _section(voice, "funnels")["base"] == f"{eps_voice:,} episodes that started in the period"
    # department: the friction heat map keeps that department's frictions only
    dept = ws.sql(
        "SELECT department FROM friction WHERE department IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC"
    )[0][0]
    n_fr = ws.sql("SELECT count(*) FROM friction WHERE department = ?", [dept])[0][0]
    by_dept = build_section(ws.engine, make_scope(ws.engine, Filters(department=(dept,))), "friction")  # type: ignore[arg-type]
    assert by_dept["base"] == f"{n_fr:,} frictions detected in the period"
    assert by_dept["figures"][0]["data"][0]["y"] == [dept]
    # need: funnels keep that need
    need = ws.sql("SELECT intent FROM episodes GROUP BY 1 ORDER BY count(*) DESC")[1][0]
    n_need = ws.sql("SELECT count(*) FROM episodes WHERE intent = ?", [need])[0][0]
    funnel = build_section(ws.engine, make_scope(ws.engine, Filters(need=(need,))), "funnels")  # type: ignore[arg-type]
    assert [r[0] for r in funnel["tables"][0]["rows"]] == [need]
    assert funnel["tables"][0]["rows"][0][1] == f"{n_need:,}"
    # period: events in it
    lo = ws.sql("SELECT min(occurred_at) FROM events")[0][0].date()
    until = lo + dt.timedelta(days=60)
    short = build(ws.engine, filters=Filters(until=until))
    n_short = ws.sql("SELECT count(*) FROM events WHERE occurred_at < ?", [until + dt.timedelta(days=1)])[0][
        0
    ]
    assert _kpi(_section(short, "summary"), "Events") == f"{n_short:,}" != f"{events:,}"
    # the data-quality section is not filtered, and says so
    assert _section(voice, "quality")["tables"] == _section(whole, "quality")["tables"]
    assert (
        _section(voice, "quality")["filters"] == ""
        and _section(voice, "summary")["filters"] == "channel voice"
    )


def test_value_tiers_split_the_buyers_20_30_50(ws: ordito.Workspace) -> None:
    tiers = dict(ws.engine.execute(value_tiers_sql()))
    spend = ws.engine.records("""
        SELECT ec.customer_key, e.currency, sum(e.value) AS spent
        FROM events e JOIN event_customer ec ON ec.seq = e.seq
        WHERE e.type IN ('order_placed', 'store_purchase') AND e.value IS NOT NULL AND ec.customer_key IS NOT NULL
        GROUP BY 1, 2""")
    buyers = {r["customer_key"] for r in spend}
    active = {r[0] for r in ws.sql("SELECT customer_key FROM customers WHERE status = 'active'")}
    assert set(tiers) == active
    assert {k for k, t in tiers.items() if t == "none"} == active - buyers
    # within one currency, every high spender spent more than every low one
    cur = max({r["currency"] for r in spend}, key=lambda c: sum(1 for r in spend if r["currency"] == c))
    one = sorted((r for r in spend if r["currency"] == cur), key=lambda r: -r["spent"])
    high = [r for r in one if tiers[r["customer_key"]] == "high"]
    low = [r for r in one if tiers[r["customer_key"]] == "low"]
    assert high and low and min(r["spent"] for r in high) > max(r["spent"] for r in low)
    assert abs(len(high) / len(one) - 0.2) < 0.05
    seg = segmentation(ws.engine)
    assert seg.source == "value" and sum(n for _, _, n in seg.segments) == len(active)


def test_a_segment_filter_keeps_its_customers_only(ws: ordito.Workspace) -> None:
    tiers = dict(ws.engine.execute(value_tiers_sql()))
    high = {k for k, t in tiers.items() if t == "high"}
    sc = make_scope(ws.engine, Filters(segment=("high",)))
    assert sc is not None
    eps = {r[0] for r in ws.engine.execute(sc.episode_ids())}
    expected = {r[0] for r in ws.sql("SELECT episode_id, customer_key FROM episodes") if r[1] in high}
    assert eps == expected and eps
    n_events = sum(
        1
        for (k,) in ws.sql("SELECT ec.customer_key FROM events e JOIN event_customer ec ON ec.seq = e.seq")
        if k in high
    )
    report = build(ws.engine, filters=Filters(segment=("high",)))
    assert _kpi(_section(report, "summary"), "Events") == f"{n_events:,}"
    assert "segment high value" in _section(report, "summary")["filters"]


@pytest.mark.parametrize(
    "filters",
    [
        Filters(),
        Filters(channel=("voice",)),
        Filters(need=("repair", "delivery_problem"), segment=("mid", "high")),
    ],
    ids=["all", "voice", "needs-and-segments"],
)
def test_every_linked_number_equals_its_drill_down(ws: ordito.Workspace, filters: Filters) -> None:
    sc = make_scope(ws.engine, filters)
    assert sc is not None
    checked = 0
    for sid in BY_ID:
        s = build_section(ws.engine, sc, sid)
        for t in s["tables"]:
            if not t.get("drill"):
                continue
            for row, links in zip(t["rows"], t["drill"], strict=True):
                for value, d in zip(row, links, strict=True):
                    if d and _num(value) is not None:
                        got = drill.number(ws.engine, sc, d)[0]
                        assert got == _num(value), (sid, t["title"], d, value, got)
                        checked += 1
        for fig in s["figures"]:
            for tr in fig["data"]:
                pairs: list[tuple[Any, str]] = []
                if tr["type"] == "sankey":
                    pairs = list(zip(tr["link"]["value"], tr["link"]["customdata"], strict=True))
                elif tr["type"] == "heatmap":
                    pairs = [
                        (v, c)
                        for zr, cr in zip(tr["z"], tr["customdata"], strict=True)
                        for v, c in zip(zr, cr, strict=True)
                        if c
                    ]
                # the 12 biggest of each figure (each Sankey link recomputes the steps: keep it quick)
                for value, custom in sorted(pairs, key=lambda p: -p[0])[:12]:
                    d = drill.parse({k: v[0] for k, v in parse_qs(custom).items()})
                    got = drill.number(ws.engine, sc, d)[0]
                    assert got == value, (sid, d, value, got)
                    checked += 1
    assert checked > 30


def test_drill_down_pages_and_lists_the_right_episodes(ws: ordito.Workspace) -> None:
    sc = make_scope(ws.engine, Filters(channel=("web",)))
    assert sc is not None
    d = drill.parse({"drill": "funnel", "fneed": "browse", "stage": "started"})
    expected = [
        r[0]
        for r in ws.sql(
            "SELECT episode_id FROM episodes WHERE intent = 'browse' AND ';' || channels || ';' LIKE '%;web;%' "
            "ORDER BY started_at DESC, episode_id"
        )
    ]
    assert len(expected) > 60
    got: list[str] = []
    for n in range(1, 100):
        p = drill.page(ws.engine, sc, d, n, size=25)
        got += [r["episode_id"] for r in p["rows"]]
        if n == p["pages"]:
            break
    assert got == expected and p["total"] == len(expected)
    # a page past the end shows the last one
    assert drill.page(ws.engine, sc, d, 999, size=25)["page"] == p["pages"]


def test_drill_downs_refuse_what_they_do_not_know() -> None:
    with pytest.raises(RequestError):
        drill.parse({"drill": "everything"})
    with pytest.raises(RequestError):
        drill.parse({"drill": "funnel", "fneed": "repair"})
    with pytest.raises(RequestError):
        drill.parse({"drill": "funnel", "fneed": "repair", "stage": "halfway"})
    with pytest.raises(RequestError):
        drill.parse({"drill": "sankey", "step": "two", "src": "web", "dst": "app"})
    assert drill.parse({}) == {"drill": "episodes"}


def test_the_source_of_an_event_from_the_ingest_runs(ws: ordito.Workspace) -> None:
    from ordito.report.sections import source_of_seq

    expr = source_of_seq(ws.engine, "e.seq")
    assert expr is not None
    wrong = ws.sql(f"SELECT count(*) FROM events e WHERE ({expr}) IS DISTINCT FROM e.source")[0][0]
    assert wrong == 0
    assert source_of_seq(ws.engine, "e.seq", limit=1) is None  # many ranges: the caller joins the events


def test_the_summary_is_the_same_with_the_events_joined(
    ws: ordito.Workspace, monkeypatch: pytest.MonkeyPatch
) -> None:
    from ordito.report import views_summary

    for f in (Filters(), Filters(channel=("chat",), segment=("high",))):
        sc = make_scope(ws.engine, f)
        assert sc is not None
        fast = build_section(ws.engine, sc, "summary")
        with monkeypatch.context() as m:
            m.setattr(views_summary, "source_of_seq", lambda *a, **k: None)
            joined = build_section(ws.engine, sc, "summary")
        assert fast["kpis"] == joined["kpis"]


def test_an_episode_touched_a_channel_when_one_of_its_events_is_on_it(ws: ordito.Workspace) -> None:
    # `other` (CRM tickets...) is left out of episodes.channels; the filter still finds those episodes
    for channel in ("other", "voice"):
        sc = make_scope(ws.engine, Filters(channel=(channel,)))
        assert sc is not None
        got = {r[0] for r in ws.engine.execute(sc.episode_ids())}
        expected = {
            r[0]
            for r in ws.sql(
                "SELECT DISTINCT ee.episode_id FROM episode_events ee JOIN events e ON e.seq = ee.seq "
                "WHERE e.channel = ?",
                [channel],
            )
        }
        assert got == expected and got, channel
