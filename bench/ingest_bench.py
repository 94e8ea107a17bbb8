"""File ingest speed: events/s from CSV and Parquet, against a bare DuckDB copy of the same file.

    python -m bench.ingest_bench [--rows 10000000]

The input is the demo company's web analytics export (the largest silo), repeated with fresh keys until it
has --rows records, as CSV and as Parquet. "bare copy" is `CREATE TABLE t AS SELECT * FROM read_csv(...)`
(resp. read_parquet) into a DuckDB file: the floor for any loader on this machine.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from bench.common import DATA, demo_company, write_result
from ordito import Workspace
from ordito.sources.mapping import builtin_mappings


def build_inputs(rows: int, company: Path | None = None) -> tuple[Path, Path]:
    src = company or demo_company(20000)
    web = src / "web" / "web_analytics.csv"
    out = DATA / f"web_{rows}"
    csv_path, pq_path = out / "web_analytics.csv", out / "web_analytics.parquet"
    if csv_path.exists() and pq_path.exists():
        return csv_path, pq_path
    out.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    n = con.execute(
        f"SELECT count(*) FROM read_csv('{web}', all_varchar = true, ignore_errors = true)"
    ).fetchone()[0]  # type: ignore[index]
    reps = -(-rows // n)
    con.execute(f"""CREATE TABLE w AS
        SELECT * REPLACE ('h' || r.i || '_' || hit_id AS hit_id)
        FROM read_csv('{web}', all_varchar = true, ignore_errors = true), range({reps}) r(i) LIMIT {rows}""")
    con.execute(f"COPY w TO '{csv_path}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY w TO '{pq_path}' (FORMAT parquet)")
    con.close()
    return csv_path, pq_path


def bare_copy(path: Path, fmt: str, tmp: Path) -> float:
    db = tmp / f"bare_{fmt}.duckdb"
    con = duckdb.connect(str(db))
    con.execute("SET enable_progress_bar = false")
    reader = f"read_csv('{path}', all_varchar = true)" if fmt == "csv" else f"read_parquet('{path}')"
    t = time.perf_counter()
    con.execute(f"CREATE TABLE t AS SELECT * FROM {reader}")
    dt = time.perf_counter() - t
    con.close()
    return dt


def ordito_ingest(path: Path, fmt: str, tmp: Path) -> tuple[float, int, int]:
    m = builtin_mappings()["web"]
    if fmt == "parquet":
        m = m.model_copy(update={"format": "parquet"})
    mp = tmp / f"web_{fmt}.yaml"
    import yaml

    mp.write_text(yaml.safe_dump(m.model_dump(mode="json", exclude={"origin"}, exclude_none=True)))
    with Workspace(tmp / f"ws_{fmt}.duckdb") as ws:
        t = time.perf_counter()
        res = ws.ingest(path, mapping=mp)
        dt = time.perf_counter() - t
        return dt, res.total("events_new"), res.total("quarantined")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=10_000_000)
    ap.add_argument(
        "--company", type=Path, default=None, help="an existing demo company folder to start from"
    )
    args = ap.parse_args()
    csv_path, pq_path = build_inputs(args.rows, args.company)
    tmp = Path(tempfile.mkdtemp(prefix="ordito-bench-", dir=DATA))
    results = {}
    try:
        for fmt, path in (("parquet", pq_path), ("csv", csv_path)):
            bare = bare_copy(path, fmt, tmp)
            secs, events, bad = ordito_ingest(path, fmt, tmp)
            results[fmt] = {
                "rows": args.rows,
                "file_mb": round(path.stat().st_size / 1e6, 1),
                "ordito_seconds": round(secs, 2),
                "events_per_second": round(events / secs),
                "events": events,
                "quarantined": bad,
                "bare_duckdb_copy_seconds": round(bare, 2),
                "ratio_to_bare_copy": round(secs / bare, 2),
            }
            print(fmt, results[fmt])
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    targets = {"parquet_events_per_second": 1_000_000, "csv_events_per_second": 250_000}
    write_result(
        "ingest",
        {
            "command": f"python -m bench.ingest_bench --rows {args.rows}",
            "results": results,
            "targets": targets,
        },
    )


if __name__ == "__main__":
    main()
