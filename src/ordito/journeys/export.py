"""Export journeys for process-mining tools: XES (IEEE 1849) and OCEL 2.0 (JSON).

* **XES**: one trace per case of the chosen case notion (``thread``, ``customer`` or ``episode``), its
  events in time order (ties by ``seq``). Event attributes: ``concept:name`` (the activity at the chosen
  level), ``time:timestamp`` (UTC), ``org:resource`` (the agent), ``org:group`` (the department), and
  ``channel``, ``department``, ``source``, ``seq``. Episodes carry ``intent``, ``outcome`` and
  ``customer`` as trace attributes. A path ending in ``.gz`` is written gzip-compressed.
* **OCEL 2.0 JSON** (the ``.jsonocel`` of ocel-standard.org): the same events, each related to every
  object it involves: the ``customer``, the ``thread`` (ticket, call, chat), the ``agent``, and the
  ``episode`` when episodes exist. That is the object-centric view: a call belongs to a customer, to
  an episode and to an agent at once, with no single case notion forced on it.

Both are streamed: rows come from the engine in Arrow batches and are written as they come, so memory
stays flat on large logs. pm4py (``read_xes``, ``read_ocel2_json``) reads both back (tests/journeys).
"""

from __future__ import annotations

import gzip
import io
import os
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import IO, Any
from xml.sax.saxutils import escape as _xml_escape

import orjson
import pyarrow as pa

from ..errors import ConfigError, StoreError
from ..store.base import Engine
from ..store.duckdb import DuckDBEngine
from .log import LogSpec, check_case_notion, log_sql

__all__ = ["ExportResult", "export", "export_ocel", "export_xes"]

FORMATS = ("xes", "ocel")
_BATCH = 50_000
_BAD_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_XML_ATTR = {'"': "&quot;", "\n": "&#10;", "\r": "&#13;", "\t": "&#9;"}

Progress = Callable[[int, int], None]


@dataclass
class ExportResult:
    path: Path
    format: str
    cases: int
    events: int
    objects: int
    seconds: float


def _open(path: Path) -> IO[str]:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "wb", compresslevel=6), encoding="utf-8", newline="\n")
    return path.open("w", encoding="utf-8", newline="\n")


def _batches(engine: Engine, sql: str) -> Iterator[pa.RecordBatch]:
    """The rows of ``sql`` in batches: streamed from DuckDB, whole from other engines."""
    if isinstance(engine, DuckDBEngine):
        # a cursor of its own: the reader stays open while the caller runs other statements
        cur = engine.connection.cursor()
        try:
            try:
                reader = cur.sql(sql).to_arrow_reader(_BATCH)
            except Exception as exc:
                msg = f"{type(exc).__name__}: {exc}\n--- statement ---\n{sql.strip()}"
                raise StoreError(msg, sql=sql) from exc
            yield from reader
        finally:
            cur.close()
        return
    yield from engine.arrow(sql).to_batches(_BATCH)


def _attr(value: str) -> str:
    return _xml_escape(_BAD_XML.sub("", value), _XML_ATTR)


def _ts(value: datetime) -> str:
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+00:00"


def _count(engine: Engine, sql: str) -> tuple[int, int]:
    row = engine.one(f"SELECT count(DISTINCT case_id), count(*) FROM ({sql}) AS log")
    return (int(row[0]), int(row[1])) if row else (0, 0)


def _episode_attributes(engine: Engine) -> dict[str, dict[str, Any]]:
    try:
        rows = engine.records("SELECT episode_id, intent, outcome, customer_key FROM episodes")
    except StoreError:
        return {}
    return {
        str(r["episode_id"]): {"intent": r["intent"], "outcome": r["outcome"], "customer": r["customer_key"]}
        for r in rows
    }


_XES_HEAD = """<?xml version="1.0" encoding="UTF-8" ?>
<!-- written by ordito: {what} -->
<log xes.version="1849-2016" xes.features="nested-attributes" xmlns="http://www.xes-standard.org/">
  <extension name="Concept" prefix="concept" uri="http://www.xes-standard.org/concept.xesext"/>
  <extension name="Time" prefix="time" uri="http://www.xes-standard.org/time.xesext"/>
  <extension name="Organizational" prefix="org" uri="http://www.xes-standard.org/org.xesext"/>
  <global scope="trace">
    <string key="concept:name" value="__INVALID__"/>
  </global>
  <global scope="event">
    <string key="concept:name" value="__INVALID__"/>
    <date key="time:timestamp" value="1970-01-01T00:00:00.000+00:00"/>
  </global>
  <classifier name="Activity" keys="concept:name"/>
  <string key="concept:name" value="{name}"/>
"""


def export_xes(
    engine: Engine,
    path: str | os.PathLike[str],
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the event log as XES (gzip when the path ends in ``.gz``)."""
    t0 = time.perf_counter()
    spec = LogSpec.of(case, level, activity, sources)
    check_case_notion(engine, case)
    out = Path(path)
    base = log_sql(spec.case, spec.level, spec.activity, spec.sources)
    n_cases, n_events = _count(engine, base)
    trace_attrs = _episode_attributes(engine) if case == "episode" else {}
    sql = f"""
SELECT log.case_id, log.activity, log.timestamp, log.resource, log.channel, log.department, log.seq,
       e.source
FROM ({base}) AS log JOIN events AS e ON e.seq = log.seq
ORDER BY log.case_id, log.timestamp, log.seq
"""
    what = f"case notion {case}, level {level}" + (f", activity {activity}" if level == "activity" else "")
    done = 0
    with _open(out) as fh:
        fh.write(_XES_HEAD.format(what=what, name=_attr(f"ordito journeys ({what})")))
        current: str | None = None
        for batch in _batches(engine, sql):
            cols = batch.to_pydict()
            parts: list[str] = []
            for i in range(batch.num_rows):
                cid = cols["case_id"][i]
                if cid != current:
                    if current is not None:
                        parts.append("  </trace>\n")
                    parts.append(f'  <trace>\n    <string key="concept:name" value="{_attr(cid)}"/>\n')
                    for k, v in trace_attrs.get(cid, {}).items():
                        if v is not None:
                            parts.append(f'    <string key="{k}" value="{_attr(str(v))}"/>\n')
                    current = cid
                parts.append(
                    f'    <event>\n      <string key="concept:name" value="{_attr(cols["activity"][i])}"/>\n'
                    f'      <date key="time:timestamp" value="{_ts(cols["timestamp"][i])}"/>\n'
                )
                if cols["resource"][i] is not None:
                    parts.append(f'      <string key="org:resource" value="{_attr(cols["resource"][i])}"/>\n')
                if cols["department"][i] is not None:
                    dep = _attr(cols["department"][i])
                    parts.append(f'      <string key="org:group" value="{dep}"/>\n')
                    parts.append(f'      <string key="department" value="{dep}"/>\n')
                parts.append(
                    f'      <string key="channel" value="{_attr(cols["channel"][i])}"/>\n'
                    f'      <string key="source" value="{_attr(cols["source"][i])}"/>\n'
                    f'      <int key="seq" value="{cols["seq"][i]}"/>\n    </event>\n'
                )
            fh.write("".join(parts))
            done += batch.num_rows
            if progress:
                progress(done, n_events)
        if current is not None:
            fh.write("  </trace>\n")
        fh.write("</log>\n")
    return ExportResult(out, "xes", n_cases, n_events, 0, time.perf_counter() - t0)


def _has(engine: Engine, table: str) -> bool:
    try:
        engine.execute(f"SELECT 1 FROM {table} WHERE 1 = 0")
        return True
    except StoreError:
        return False


def export_ocel(
    engine: Engine,
    path: str | os.PathLike[str],
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
) -> ExportResult:
    """Write the events of a log as OCEL 2.0 JSON, related to customers, threads, agents and episodes.

    The case notion only chooses which events go in (those that belong to a case of that notion); every
    event is written once, with all its objects.
    """
    t0 = time.perf_counter()
    spec = LogSpec.of(case, level, activity, sources)
    check_case_notion(engine, case)
    out = Path(path)
    base = log_sql(spec.case, spec.level, spec.activity, spec.sources)
    has_customers = _has(engine, "event_customer")
    has_episodes = _has(engine, "episode_events")
    picked = f"SELECT DISTINCT seq, activity FROM ({base}) AS log"
    customer = "ec.customer_key" if has_customers else "CAST(NULL AS VARCHAR)"
    episode = "CAST(ee.episode_id AS VARCHAR)" if has_episodes else "CAST(NULL AS VARCHAR)"
    joins = ""
    if has_customers:
        joins += "LEFT JOIN event_customer AS ec ON ec.seq = e.seq\n"
    if has_episodes:
        joins += "LEFT JOIN episode_events AS ee ON ee.seq = e.seq\n"
    sql = f"""
SELECT e.seq, e.event_id, p.activity, e.occurred_at, e.source, e.source_key, e.channel, e.department,
       e.agent_id, e.queue, e.direction,
       CASE WHEN e.thread_id IS NOT NULL THEN e.source || ':' || e.thread_id END AS thread,
       {customer} AS customer, {episode} AS episode
FROM ({picked}) AS p
JOIN events AS e ON e.seq = p.seq
{joins}ORDER BY e.occurred_at, e.seq, episode
"""
    n_events = int(engine.scalar(f"SELECT count(*) FROM ({picked}) AS p") or 0)
    if n_events == 0:
        raise ConfigError(f"Nothing to export: the {case} log is empty")
    attrs = ["channel", "department", "source", "source_key", "queue", "direction"]
    objects: dict[str, dict[str, str]] = {"customer": {}, "thread": {}, "agent": {}, "episode": {}}
    episode_info = _episode_attributes(engine) if has_episodes else {}
    activities: set[str] = set()
    tmp = out.with_name(out.name + ".events.tmp")
    done = 0
    # Events first into a side file (objects are only known once every event is seen), then the
    # document: header, objects, and the events copied over.
    with tmp.open("w", encoding="utf-8") as ev:
        first = True
        pending: dict[str, Any] | None = None

        def flush(item: dict[str, Any] | None) -> None:
            nonlocal first
            if item is None:
                return
            ev.write(("" if first else ",\n") + orjson.dumps(item).decode())
            first = False

        for batch in _batches(engine, sql):
            cols = batch.to_pydict()
            for i in range(batch.num_rows):
                eid = f"e{cols['seq'][i]}"
                if pending is not None and pending["id"] == eid:
                    ep = cols["episode"][i]
                    if ep is not None:
                        objects["episode"][ep] = ep
                        pending["relationships"].append({"objectId": f"episode:{ep}", "qualifier": "episode"})
                    continue
                flush(pending)
                act = cols["activity"][i]
                activities.add(act)
                rel = []
                for kind, qualifier in (
                    ("customer", "customer"),
                    ("thread", "thread"),
                    ("episode", "episode"),
                ):
                    v = cols[kind][i]
                    if v is not None:
                        objects[kind][v] = v
                        rel.append({"objectId": f"{kind}:{v}", "qualifier": qualifier})
                if cols["agent_id"][i] is not None:
                    objects["agent"][cols["agent_id"][i]] = cols["agent_id"][i]
                    rel.append({"objectId": f"agent:{cols['agent_id'][i]}", "qualifier": "handled by"})
                pending = {
                    "id": eid,
                    "type": act,
                    "time": cols["occurred_at"][i].strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
                    "attributes": [{"name": a, "value": cols[a][i]} for a in attrs if cols[a][i] is not None],
                    "relationships": rel,
                }
                done += 1
            if progress:
                progress(done, n_events)
        flush(pending)
    epoch = "1970-01-01T00:00:00Z"
    doc_types = {
        "objectTypes": [
            {"name": "customer", "attributes": []},
            {"name": "thread", "attributes": []},
            {"name": "agent", "attributes": []},
            {
                "name": "episode",
                "attributes": [
                    {"name": "intent", "type": "string"},
                    {"name": "outcome", "type": "string"},
                ],
            },
        ],
        "eventTypes": [
            {"name": a, "attributes": [{"name": n, "type": "string"} for n in attrs]}
            for a in sorted(activities)
        ],
    }
    n_objects = 0
    try:
        with _open(out) as fh:
            head = orjson.dumps(doc_types).decode()
            fh.write(head[:-1] + ',\n"objects": [\n')
            first = True
            for kind in ("customer", "thread", "agent", "episode"):
                for oid in sorted(objects[kind]):
                    obj: dict[str, Any] = {"id": f"{kind}:{oid}", "type": kind}
                    info = episode_info.get(oid) if kind == "episode" else None
                    if info:
                        obj["attributes"] = [
                            {"name": k, "time": epoch, "value": info[k]}
                            for k in ("intent", "outcome")
                            if info.get(k) is not None
                        ]
                        if info.get("customer"):
                            obj["relationships"] = [
                                {"objectId": f"customer:{info['customer']}", "qualifier": "of customer"}
                            ]
                    fh.write(("" if first else ",\n") + orjson.dumps(obj).decode())
                    first = False
                    n_objects += 1
            fh.write('\n],\n"events": [\n')
            with tmp.open("r", encoding="utf-8") as ev_in:
                while chunk := ev_in.read(1 << 20):
                    fh.write(chunk)
            fh.write("\n]}\n")
    finally:
        tmp.unlink(missing_ok=True)
    n_cases = int(engine.scalar(f"SELECT count(DISTINCT case_id) FROM ({base}) AS log") or 0)
    return ExportResult(out, "ocel", n_cases, done, n_objects, time.perf_counter() - t0)


def export(
    engine: Engine,
    path: str | os.PathLike[str],
    format: str = "xes",
    case: str = "thread",
    level: str = "activity",
    activity: str = "type",
    sources: Sequence[str] | None = None,
    *,
    progress: Progress | None = None,
) -> ExportResult:
    """Export the log as ``xes`` or ``ocel`` (OCEL 2.0 JSON)."""
    if format == "xes":
        return export_xes(engine, path, case, level, activity, sources, progress=progress)
    if format == "ocel":
        return export_ocel(engine, path, case, level, activity, sources, progress=progress)
    raise ConfigError(f"Export format {format!r} is not one of {', '.join(FORMATS)}")
