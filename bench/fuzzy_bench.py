"""Probabilistic identity at scale: 1M person records from scratch, then 10k new ones incrementally.

    python -m bench.fuzzy_bench [--records 1000000] [--new 10000]

Builds (once, cached under bench/data) two fuzzy silos in the demo company's formats (warranty
registrations: first/last name, birth date, address; repair jobs: one name string, address, a partial
contact), written with the demo generator's own variations (swapped names, initials, typos,
abbreviations, missing parts) for about 0.4 records-per-record persons drawn from the demo's Italian and
British name lists (so a common name is shared by dozens of people: homonyms everywhere). Then:

- ingests them (not timed here: see ingest_bench) and resolves from scratch in a child process (model
  training included): wall time, stage timings, peak memory;
- ingests ``--new`` more records (half of people already there, half new people) and resolves
  incrementally: wall time, and how many existing records changed customer (allowed only through a merge
  recorded in identity_changes);
- scores pairwise precision/recall of the records against the generator's person ids.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from random import Random
from typing import Any

from bench.common import DATA, write_result


def _people(n: int, seed: int) -> list[dict[str, str]]:
    from ordito.demo import names as nm

    rng = Random(seed)
    out = []
    it_streets, uk_streets = nm.IT_STREETS, nm.UK_STREETS
    for i in range(n):
        it = rng.random() < 0.7
        male = rng.random() < 0.5
        first = rng.choice(
            (nm.IT_MALE if male else nm.IT_FEMALE) if it else (nm.UK_MALE if male else nm.UK_FEMALE)
        )
        last = rng.choice(nm.IT_LAST if it else nm.UK_LAST)
        city = rng.choice(nm.IT_CITIES if it else nm.UK_CITIES)
        street = rng.choice(it_streets if it else uk_streets)
        num = rng.randrange(1, 200)
        pc = (
            city.postcode + f"{rng.randrange(0, 100):02d}"
            if it and len(city.postcode) == 3
            else (
                city.postcode
                if it
                else f"{rng.choice(city.postcode.split())} {rng.randrange(1, 9)}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}{rng.choice('ABDEFGHJLNPQRSTUWXYZ')}"
            )
        )
        y = rng.randrange(1940, 2006)
        out.append(
            {
                "pid": f"B{i:07d}",
                "first": first,
                "last": last,
                "dob": f"{y}-{rng.randrange(1, 13):02d}-{rng.randrange(1, 29):02d}",
                "street": f"{street} {num}" if it else f"{num} {street}",
                "postcode": pc,
                "city": city.name,
                "country": "IT" if it else "GB",
                "phone": f"+39 3{rng.randrange(10, 99)} {rng.randrange(1000000, 9999999)}"
                if it
                else f"+44 7{rng.randrange(100, 999)} {rng.randrange(100000, 999999)}",
                "email": f"{first.lower()}.{last.lower().replace(' ', '')}{rng.randrange(1, 99)}@example.com",
            }
        )
    return out


def _records(
    people: list[dict[str, str]], n: int, seed: int, start: int
) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]], list[tuple[str, str, str]]]:
    from ordito.demo import fuzzy as fz

    rng = Random(seed)
    warranty: list[tuple[str, ...]] = []
    repairs: list[tuple[str, ...]] = []
    truth: list[tuple[str, str, str]] = []
    for j in range(n):
        p = people[rng.randrange(len(people))]
        when = fz._when(rng)
        if rng.random() < 0.65:
            rid = f"WB{start + j:08d}"
            first, last = fz._name_parts(rng, p["first"], p["last"])
            pc = "" if rng.random() < 0.08 else p["postcode"]
            warranty.append(
                (
                    rid,
                    when.strftime("%Y-%m-%d %H:%M:%S"),
                    first,
                    last,
                    fz._dob(rng, p["dob"], 0.12),
                    fz._street(rng, p["street"], p["country"]),
                    pc,
                    p["city"],
                    p["country"],
                    "DW-514X",
                    "DW1",
                )
            )
            truth.append(("warranty", rid, p["pid"]))
        else:
            jid = f"JB{start + j:08d}"
            phone_e164 = p["phone"].replace(" ", "")
            repairs.append(
                (
                    jid,
                    when.strftime("%d/%m/%Y %H:%M"),
                    fz._full_name(rng, p["first"], p["last"], p["country"]),
                    fz._street(rng, p["street"], p["country"]),
                    "" if rng.random() < 0.1 else p["postcode"],
                    p["city"],
                    p["country"],
                    fz._masked(rng, phone_e164, p["email"]),
                    "WM-820",
                )
            )
            truth.append(("repairs", jid, p["pid"]))
    return warranty, repairs, truth


def _write(path: Path, header: tuple[str, ...], rows: list[tuple[str, ...]], delimiter: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    w = csv.writer(buf, delimiter=delimiter, lineterminator="\n")
    w.writerow(header)
    w.writerows(rows)
    path.write_text(buf.getvalue(), encoding="utf-8")


def build(records: int, new: int, seed: int, root: Path | None = None) -> Path:
    """The base and new records' silos and their truth under ``root`` (default: bench data), cached."""
    from ordito.demo import fuzzy as fz

    out = (root or DATA) / f"fuzzy_{records}_{new}_{seed}"
    if (out / "done").exists():
        return out
    people = _people(int(records / 2.5), seed)
    w, r, t = _records(people, records, seed + 1, 0)
    _write(out / "base" / fz.WARRANTY, fz.WARRANTY_COLUMNS, w, ",")
    _write(out / "base" / fz.REPAIRS, fz.REPAIRS_COLUMNS, r, ";")
    # new records: half of people already known, half people never seen (a second population)
    newcomers = _people(new, seed + 7)
    for p in newcomers:
        p["pid"] = "N" + p["pid"][1:]
    w2, r2, t2 = _records(people, new // 2, seed + 2, records)
    w3, r3, t3 = _records(newcomers, new - new // 2, seed + 3, records + new // 2)
    _write(out / "new" / "warranty" / "warranty_registrations_new.csv", fz.WARRANTY_COLUMNS, w2 + w3, ",")
    _write(out / "new" / "repairs" / "repair_jobs_new.csv", fz.REPAIRS_COLUMNS, r2 + r3, ";")
    _write(out / "truth.csv", ("source", "source_key", "person_id"), t + t2 + t3, ",")
    (out / "done").write_text("ok\n")
    return out


def _child(ws: Path, full: bool) -> dict[str, Any]:
    code = (
        "import json,time,resource,ordito;"
        f"w=ordito.Workspace({str(ws)!r});t=time.perf_counter();r=w.resolve(full={full});"
        "d=time.perf_counter()-t;w.close();"
        "f=r.fuzzy;print(json.dumps({'seconds':round(d,2),'peak_rss_gb':round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss/1024/1024,2),"
        "'events':r.events,'customers':r.customers,'timings':r.timings,'person_records':f.records,'record_nodes':f.record_nodes,"
        "'candidate_pairs':f.pairs,'fuzzy_links':f.links,'review_band':f.review,'model_trained':f.trained,"
        "'fuzzy_edges':r.fuzzy_edges,'fuzzy_unions':r.fuzzy_merges,'fuzzy_refused':r.fuzzy_refused,'merges':r.merges}))"
    )
    proc = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=1_000_000)
    ap.add_argument("--new", type=int, default=10_000)
    ap.add_argument("--seed", type=int, default=5)
    args = ap.parse_args()
    load_start = [round(x, 2) for x in os.getloadavg()]
    t0 = time.perf_counter()
    data = build(args.records, args.new, args.seed)
    built = time.perf_counter() - t0
    import ordito

    ws_path = DATA / f"ws_fuzzy_{args.records}.duckdb"
    for f in (ws_path, Path(str(ws_path) + ".wal")):
        if f.exists():
            f.unlink()
    with ordito.Workspace(ws_path) as ws:
        t = time.perf_counter()
        ws.ingest(data / "base")
        ingest_s = time.perf_counter() - t
    scratch = _child(ws_path, full=True)
    with ordito.Workspace(ws_path) as ws:
        before = dict(
            ws.sql("""SELECT e.source || ':' || e.source_key, c.customer_key FROM events e
                                JOIN event_customer c ON c.seq = e.seq""")
        )
        ws.ingest(data / "new")
    incremental = _child(ws_path, full=False)
    with ordito.Workspace(ws_path) as ws:
        after = dict(
            ws.sql("""SELECT e.source || ':' || e.source_key, c.customer_key FROM events e
                               JOIN event_customer c ON c.seq = e.seq""")
        )
        merged = {
            tuple(r)
            for r in ws.sql("SELECT other_key, customer_key FROM identity_changes WHERE action = 'merge'")
        }
        changed = [(k, v, after.get(k)) for k, v in before.items() if after.get(k) != v]
        unexplained = [c for c in changed if (c[1], c[2]) not in merged]
        ws.engine.execute(
            f"CREATE TEMP TABLE _t AS SELECT * FROM read_csv('{data / 'truth.csv'}', all_varchar = true)"
        )
        # a record without a customer (its only identifier is shared) is a cluster of its own: grouped by
        # a NULL key, they made one huge false cluster (the 0.005 precision of an earlier run)
        persons = int(ws.sql("SELECT count(DISTINCT person_id) FROM _t")[0][0])
        tp, pred, true, no_customer = ws.sql("""WITH s AS (
                SELECT t.person_id, coalesce(c.customer_key, 'none:' || e.seq) AS customer_key,
                       c.customer_key IS NULL AS none FROM _t t
                JOIN events e ON e.source = t.source AND e.source_key = t.source_key
                LEFT JOIN event_customer c ON c.seq = e.seq)
            SELECT (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM s GROUP BY person_id, customer_key)),
                   (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM s GROUP BY customer_key)),
                   (SELECT sum(n * (n - 1) / 2) FROM (SELECT count(*) n FROM s GROUP BY person_id)),
                   (SELECT count(*) FROM s WHERE none)""")[0]
    result = {
        "command": "python -m bench.fuzzy_bench " + " ".join(sys.argv[1:]),
        "load_average_at_start": load_start,
        "note": "the machine is shared by several agents: compare the load average with the 2 cores",
        "data": {
            "records": args.records,
            "new_records": args.new,
            "persons": int(args.records / 2.5) + args.new // 2,  # the pools records are drawn from
            "persons_with_records": persons,
            "built_seconds": round(built, 1),
            "ingest_seconds": round(ingest_s, 1),
        },
        "resolve_from_scratch": scratch,
        "resolve_incremental": incremental,
        "existing_records_changing_customer": len(changed),
        "changes_not_explained_by_a_recorded_merge": len(unexplained),
        "accuracy": {
            "precision": round(float(tp) / float(pred), 5) if pred else None,
            "recall": round(float(tp) / float(true), 5) if true else None,
            "records_without_customer": int(no_customer),
            "note": "pairwise over the generated records against the generator's person ids; a record "
            "without a customer (only a shared identifier) counts as a cluster of its own",
        },
        "targets": {"from_scratch_seconds": 60, "incremental_seconds": 5},
    }
    p = write_result("fuzzy", result)
    print(json.dumps(result, indent=2))
    print(f"written {p}")


if __name__ == "__main__":
    main()
