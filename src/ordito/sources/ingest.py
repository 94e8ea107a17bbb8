"""Ingest files into the events table, with quarantine, idempotency and lineage.

For every file: rows in = new events + duplicates (already stored, or repeated in the file with identical
content) + quarantined. Every mapping is checked against its files before any row is read.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from .. import settings
from ..errors import InputError, MappingError, OrditoError
from ..store.duckdb import DuckDBEngine
from ..store.schema import create_indexes, drop_indexes
from ..store.sqlutil import lit
from .compile import Compiler
from .mapping import Mapping, builtin_mappings, load_mapping
from .readers import PROBES, READERS, Reject, Relation

ProgressFn = Callable[[str, float | None], None]

#: Above this many bytes of input, ingestion drops the events index and rebuilds it at the end.
BULK_BYTES = 64 * 1024 * 1024


def event_id(source: str, source_key: str) -> uuid.UUID:
    """The id of an event: the 128-bit md5 of ``source ␟ source_key`` read little-endian, as a UUID.

    Identical to DuckDB's ``md5_number(source || chr(31) || source_key)::UUID`` used by ingestion (half the
    cost of hex ``md5()``), so any engine or script can compute it.
    """
    digest = hashlib.md5(f"{source}\x1f{source_key}".encode()).digest()
    return uuid.UUID(int=int.from_bytes(digest, "little"))


@dataclass
class FileResult:
    path: str
    source: str
    mapping: str
    rows_in: int = 0
    events_new: int = 0
    duplicates: int = 0
    quarantined: int = 0
    seconds: float = 0.0
    status: str = "ok"
    message: str = ""
    run_id: int = 0

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.events_new + self.duplicates + self.quarantined


@dataclass
class IngestResult:
    files: list[FileResult] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files in a folder that no mapping claims

    def total(self, attr: str) -> int:
        return int(sum(getattr(f, attr) for f in self.files))


@dataclass
class Job:
    path: Path
    mapping: Mapping


@dataclass
class Plan:
    jobs: list[Job]
    skipped: list[str] = field(default_factory=list)  # files of a folder that no mapping claims


def plan(path: str | Path, source: str | None = None, mappings: list[str | Path] | None = None) -> Plan:
    """Decide which mapping reads which file. Raises MappingError/InputError with a clear message."""
    p = Path(path)
    if not p.exists():
        raise InputError(f"{p} does not exist")
    user = [load_mapping(mp) for mp in (mappings or [])]
    if source and user:
        user = [m.with_source(source) for m in user]
    builtin = builtin_mappings()
    names = ", ".join(sorted(builtin))
    if source and not user and source not in builtin:
        raise MappingError(
            f"No built-in mapping named {source!r}; built-in: {names}. Pass --mapping FILE for your own export."
        )
    if p.is_file():
        if user:
            if len(user) > 1:
                raise MappingError("A single file takes one mapping; pass one --mapping")
            return Plan([Job(p, user[0])])
        if source:
            return Plan([Job(p, builtin[source])])
        for m in builtin.values():
            if m.files and (p.match(m.files) or p.match(Path(m.files).name)):
                return Plan([Job(p, m)])
        raise MappingError(
            f"No mapping for {p.name}: pass --mapping FILE (docs/MAPPINGS.md) or --source NAME for a "
            f"built-in mapping ({names})"
        )
    # a folder: every mapping with a files glob claims its files
    candidates = user or ([builtin[source]] if source else list(builtin.values()))
    jobs: list[Job] = []
    claimed: set[Path] = set()
    for m in candidates:
        if not m.files:
            raise MappingError(
                f"Mapping {m.origin} has no `files:` glob, so it cannot read a folder; give it one or pass a file"
            )
        for f in sorted(x for x in p.glob(m.files) if x.is_file()):
            if f not in claimed:
                claimed.add(f)
                jobs.append(Job(f, m))
    skipped = []
    if not user and not source:
        for f in sorted(x for x in p.rglob("*") if x.is_file()):
            rel = f.relative_to(p)
            if (
                f in claimed
                or "ground_truth" in rel.parts
                or f.name.startswith(".")
                or f.suffix in (".md", ".txt")
            ):
                continue
            skipped.append(str(rel))
    if not jobs:
        raise InputError(f"No file in {p} matches a mapping ({', '.join(m.source for m in candidates)})")
    return Plan(jobs, skipped)


class Ingestor:
    def __init__(
        self, eng: DuckDBEngine, progress: Callable[[str, int, int, float | None], None] | None = None
    ):
        self.eng = eng
        self.progress = progress
        self.max_field = settings.get_int("max_field_bytes")

    # --- run bookkeeping -----------------------------------------------------------------------

    def _next(self, key: str, count: int = 1) -> int:
        row = self.eng.one("SELECT value FROM meta WHERE key = ?", [key])
        cur = int(row[0]) if row else 0
        self.eng.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", [key, str(cur + count)])
        return cur + 1

    def next_seq_base(self) -> int:
        row = self.eng.one("SELECT value FROM meta WHERE key = 'next_seq'")
        if row:
            return int(row[0])
        return int(self.eng.scalar("SELECT coalesce(max(seq), 0) + 1 FROM events"))

    def preflight(self, jobs: list[Job]) -> None:
        """Check every mapping against its files' columns; collect all problems, then fail once."""
        problems: list[str] = []
        for job in jobs:
            try:
                cols = PROBES[job.mapping.format](self.eng, job.path, job.mapping)
                if not cols:
                    continue  # empty file: nothing to check, nothing to read
                rel = Relation(
                    sql="SELECT NULL AS _recno, NULL AS _raw",
                    columns=cols,
                    json_paths=job.mapping.format in ("json", "jsonl"),
                )
                Compiler(self.eng, job.mapping, rel, job.path.name, self.max_field).check_columns()
            except MappingError as exc:
                problems.append(str(exc))
            except InputError:
                continue  # unreadable files are recorded per file during the run
        if problems:
            raise MappingError("Nothing was ingested: fix the mapping(s) first", errors=problems)

    def run(self, plan: Plan) -> IngestResult:
        jobs = plan.jobs
        self.preflight(jobs)
        result = IngestResult(skipped=list(plan.skipped))
        # A bulk load rebuilds the point-lookup index on events afterwards instead of maintaining it row by row
        bulk = sum(j.path.stat().st_size for j in jobs if j.path.exists()) > BULK_BYTES
        if bulk:
            drop_indexes(self.eng, "events")
        try:
            for i, job in enumerate(jobs):
                if self.progress:
                    self.progress(str(job.path), i, len(jobs), None)
                result.files.append(self.ingest_file(job, i, len(jobs)))
        finally:
            if bulk:
                create_indexes(self.eng, "events")
        if self.progress:
            self.progress("", len(jobs), len(jobs), 1.0)
        return result

    # --- one file ------------------------------------------------------------------------------

    def ingest_file(self, job: Job, index: int = 0, total: int = 1) -> FileResult:
        m, path = job.mapping, job.path
        res = FileResult(path=str(path), source=m.source, mapping=m.origin)
        t0 = time.perf_counter()
        now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
        run_id = self._next("next_run_id")
        res.run_id = run_id
        self.eng.execute(
            "INSERT INTO ingest_runs (run_id, source, kind, path, mapping, mapping_sha, started_at, status) "
            "VALUES (?, ?, 'file', ?, ?, ?, ?, 'running')",
            [run_id, m.source, str(path), m.origin, m.sha, now],
        )
        tag = f"r{run_id}"
        rel: Relation | None = None
        try:
            try:
                rel = READERS[m.format](self.eng, path, m, tag)
            except InputError as exc:
                self._quarantine_file(run_id, m.source, path, str(exc), now)
                res.quarantined, res.rows_in, res.status, res.message = 1, 1, "failed", str(exc)
                return res
            if not rel.sql:
                res.message = "empty file"
                return res
            self._ingest_relation(rel, job, run_id, now, res, index, total)
        except OrditoError as exc:
            res.status, res.message = "failed", str(exc)
            raise
        finally:
            if rel is not None:
                for stmt in rel.cleanup:
                    self.eng.execute(stmt)
                for tmp in rel.temp_files:
                    tmp.unlink(missing_ok=True)
            res.seconds = time.perf_counter() - t0
            self.eng.execute(
                "UPDATE ingest_runs SET finished_at = ?, rows_in = ?, events_new = ?, duplicates = ?, "
                "quarantined = ?, status = ?, message = ? WHERE run_id = ?",
                [
                    dt.datetime.now(dt.UTC).replace(tzinfo=None),
                    res.rows_in,
                    res.events_new,
                    res.duplicates,
                    res.quarantined,
                    res.status,
                    res.message[:2000],
                    run_id,
                ],
            )
        return res

    def _ingest_relation(
        self, rel: Relation, job: Job, run_id: int, now: dt.datetime, res: FileResult, index: int, total: int
    ) -> None:
        """Two passes over the file, no staging copy: good new records into events, bad ones (with their raw
        form, computed only for them) into quarantine."""
        m = job.mapping
        comp = Compiler(self.eng, m, rel, job.path.name, self.max_field).compile(
            ts_min="1990-01-01 00:00:00",
            ts_max=(now + dt.timedelta(days=1)).strftime("%Y-%m-%d %H:%M:%S"),
        )
        src = lit(m.source)
        fname = lit(job.path.name)
        base = self.next_seq_base()
        # record numbers count parser rejects (and, in JSON Lines, blank lines): this bound is a first guess,
        # the next base is fixed below from the seqs actually written
        max_rec = rel.records + len(rel.rejects)
        now_lit = lit(now.strftime("%Y-%m-%d %H:%M:%S.%f"))
        event_id = f"md5_number({src} || chr(31) || _source_key)::UUID"
        seen_before = self.eng.scalar(
            f"SELECT count(*) FROM (SELECT 1 FROM events WHERE source = {src} LIMIT 1)"
        )
        dedupe = (
            f"AND NOT EXISTS (SELECT 1 FROM events e WHERE e.event_id = {event_id})" if seen_before else ""
        )
        inserted: list[tuple[object, ...]] = []

        def insert() -> None:
            inserted.extend(
                self.eng.execute(
                    f"""INSERT INTO events
                SELECT {base - 1} + _recno, {event_id}, {src}, _source_key, {run_id},
                       _channel, _type, _occurred_at, TIMESTAMP {now_lit}, _department, _agent_id, _queue,
                       _thread_id, _direction, _text, _language, _value, _currency, _identifiers, _traits,
                       _properties
                FROM ({comp.sql}) s
                WHERE _reason IS NULL {dedupe}"""
                )
            )

        # Records carry their own number (Parquet's file_row_number, the rowid of the parsed CSV/JSON table),
        # so DuckDB may write in parallel, out of order (35% faster on 2 cores).
        with self.eng.setting("preserve_insertion_order", False):
            self._watch(insert, str(job.path), index, total)
        n_new = int(str(inserted[0][0])) if inserted else 0
        # the same key twice in this file: keep the first; identical repeats are duplicates, the rest quarantine
        dup_conflicts = 0
        if (
            n_new
            and m.key
            and self.eng.scalar(
                "SELECT count(*) - count(DISTINCT event_id) FROM events WHERE run_id = ?", [run_id]
            )
        ):
            dup_conflicts = self._resolve_batch_duplicates(run_id, m.source, now)
            n_new = int(self.eng.scalar("SELECT count(*) FROM events WHERE run_id = ?", [run_id]))
        top = self.eng.scalar("SELECT max(seq) FROM events WHERE run_id = ?", [run_id])
        next_base = max(base + max_rec, int(top) + 1 if top is not None else base)
        self.eng.execute("INSERT OR REPLACE INTO meta VALUES ('next_seq', ?)", [str(next_base)])
        # Bad records: only look for them when some record did not become a new event (a fresh source whose
        # records all went in has none); their raw form is computed for them alone.
        n_bad = 0
        if n_new + dup_conflicts < rel.records:
            # records that did not become events of this run: the bad ones are among them (when the source
            # was seen before, so are its duplicates); reasons are computed for these records only
            cand = f"_recno NOT IN (SELECT seq - {base - 1} FROM events WHERE run_id = {run_id})"
            self.eng.execute(
                f"""CREATE OR REPLACE TEMP TABLE _bad AS
                SELECT _recno, coalesce(_source_key, {fname} || ':' || _recno) AS source_key, _reason
                FROM ({comp.only(cand)}) s WHERE _reason IS NOT NULL"""
            )
            n_bad = int(self.eng.scalar("SELECT count(*) FROM _bad"))
            if n_bad:
                raw = rel.raw_sql.replace("{where}", "_recno IN (SELECT _recno FROM _bad)")
                self.eng.execute(
                    f"""INSERT INTO quarantine
                    SELECT md5({src} || chr(31) || b.source_key || chr(31) || b._reason)::UUID, {run_id}, {src},
                           b.source_key, b._reason, {lit(job.path.name + " record ")} || b._recno, r._raw, NULL,
                           TIMESTAMP {now_lit}
                    FROM _bad b LEFT JOIN ({raw}) r USING (_recno)
                    WHERE NOT EXISTS (SELECT 1 FROM quarantine x
                        WHERE x.quarantine_id = md5({src} || chr(31) || b.source_key || chr(31) || b._reason)::UUID)"""
                )
            self.eng.execute("DROP TABLE IF EXISTS _bad")
        self._quarantine_rejects(rel.rejects, run_id, m.source, job.path.name, now)
        res.rows_in = rel.records + len(rel.rejects)
        res.events_new = n_new
        res.quarantined = n_bad + len(rel.rejects) + dup_conflicts
        res.duplicates = res.rows_in - res.events_new - res.quarantined
        self.eng.execute(
            "UPDATE ingest_runs SET first_seq = ?, last_seq = ? WHERE run_id = ?",
            [base, next_base - 1, run_id],
        )

    def _resolve_batch_duplicates(self, run_id: int, source: str, now: dt.datetime) -> int:
        """Drop repeats of a key inside one file: identical content counts as a duplicate, different
        content goes to quarantine (the first record of the key is kept)."""
        cols = [
            "channel",
            "type",
            "occurred_at",
            "department",
            "agent_id",
            "queue",
            "thread_id",
            "direction",
            "text",
            "language",
            "value",
            "currency",
            "identifiers",
            "traits",
            "properties",
        ]

        def body(alias: str) -> str:
            return "to_json(struct_pack(" + ", ".join(f"{c} := {alias}.{c}" for c in cols) + "))::VARCHAR"

        self.eng.execute(f"""CREATE OR REPLACE TEMP TABLE _dups AS
            WITH k AS (SELECT event_id, min(seq) AS first_seq FROM events WHERE run_id = {run_id}
                       GROUP BY event_id HAVING count(*) > 1)
            SELECT e.seq, e.source_key, k.first_seq, {body("e")} AS body, {body("f")} AS first_body
            FROM events e JOIN k ON e.event_id = k.event_id JOIN events f ON f.seq = k.first_seq
            WHERE e.run_id = {run_id} AND e.seq > k.first_seq""")
        conflicts = int(self.eng.scalar("SELECT count(*) FROM _dups WHERE body <> first_body") or 0)
        self.eng.execute(
            f"""INSERT INTO quarantine
            SELECT md5({lit(source)} || chr(31) || source_key || chr(31) || 'dupkey' || seq)::UUID,
                   {run_id}, {lit(source)}, source_key,
                   'duplicate key: ' || source_key || ' already used by an earlier record of this file with '
                     || 'different content', 'kept event seq ' || first_seq, body, NULL, ?
            FROM _dups WHERE body <> first_body""",
            [now],
        )
        self.eng.execute("DELETE FROM events WHERE seq IN (SELECT seq FROM _dups)")
        self.eng.execute("DROP TABLE _dups")
        return conflicts

    def _quarantine_rejects(
        self, rejects: list[Reject], run_id: int, source: str, fname: str, now: dt.datetime
    ) -> None:
        if not rejects:
            return
        rows = []
        for r in rejects:
            key = f"{fname}:{r.record_no}"
            qid = uuid.UUID(hashlib.md5(f"{source}\x1f{key}\x1f{r.reason}".encode()).hexdigest())
            rows.append(
                (
                    str(qid),
                    run_id,
                    source,
                    key,
                    r.reason,
                    f"{fname} record {r.record_no}",
                    r.raw,
                    r.raw_bytes,
                    now,
                )
            )
        tbl = pa.table(
            {
                "quarantine_id": [x[0] for x in rows],
                "run_id": [x[1] for x in rows],
                "source": [x[2] for x in rows],
                "source_key": [x[3] for x in rows],
                "reason": [x[4] for x in rows],
                "detail": [x[5] for x in rows],
                "raw": [x[6] for x in rows],
                "raw_bytes": pa.array([x[7] for x in rows], pa.binary()),
                "quarantined_at": [x[8] for x in rows],
            }
        )
        with self.eng.registered("_rej_in", tbl):
            self.eng.execute(
                "INSERT INTO quarantine SELECT quarantine_id::UUID, run_id, source, source_key, reason, detail, raw, "
                "raw_bytes, quarantined_at FROM _rej_in r WHERE NOT EXISTS "
                "(SELECT 1 FROM quarantine x WHERE x.quarantine_id = r.quarantine_id::UUID)"
            )

    def _quarantine_file(self, run_id: int, source: str, path: Path, reason: str, now: dt.datetime) -> None:
        size = path.stat().st_size if path.exists() else 0
        self._quarantine_rejects(
            [
                Reject(
                    0,
                    f"unreadable file: {reason}",
                    f"file {path} ({size} bytes) kept in place, not copied",
                    None,
                )
            ],
            run_id,
            source,
            path.name,
            now,
        )

    def _watch(self, fn: Callable[[], object], label: str, index: int, total: int) -> None:
        """Run a long statement while reporting DuckDB's own progress."""
        if self.progress is None:
            fn()
            return
        con = self.eng.connection
        done = threading.Event()
        con.execute("SET enable_progress_bar = true; SET enable_progress_bar_print = false")

        def poll() -> None:
            while not done.wait(0.25):
                try:
                    frac = float(con.query_progress())
                except Exception:
                    frac = -1.0
                if frac >= 0 and self.progress:
                    self.progress(label, index, total, frac / 100.0)

        t = threading.Thread(target=poll, daemon=True)
        t.start()
        try:
            fn()
        finally:
            done.set()
            t.join()
            con.execute("SET enable_progress_bar = false")
