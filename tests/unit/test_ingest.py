"""File ingestion: mappings, formats, quarantine, idempotency, lineage."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import ordito
from ordito.errors import InputError, MappingError
from tests.conftest import write

CALLS_MAPPING = """
source: calls
format: csv
csv: {delimiter: ";"}
key: [call_id, leg]
timestamp: {column: start, format: "%d/%m/%Y %H:%M:%S", timezone: Europe/Rome}
phone_region: IT
event:
  channel: {const: voice}
  type: {column: disposition, map: {abandoned: call_abandoned}, default: call_ended}
  department: dept
  value: wait
  text: notes
identifiers:
  - {kind: phone, column: ani}
  - {kind: customer_id, namespace: crm, column: crm}
"""

HEADER = "call_id;leg;start;ani;dept;wait;crm;disposition;notes\n"


def calls(tmp: Path, rows: list[str], name: str = "calls.csv") -> tuple[Path, Path]:
    f = write(tmp / name, HEADER + "".join(r + "\n" for r in rows))
    m = write(tmp / "calls.yaml", CALLS_MAPPING)
    return f, m


def test_good_rows_become_events_with_lineage_and_utc(ws: ordito.Workspace, tmp_path: Path) -> None:
    f, m = calls(
        tmp_path,
        [
            "C1;1;05/03/2025 14:22:31;+39 333 123 4567;care;30;104233;resolved;Ciao",
            "C1;2;05/07/2025 14:25:00;333 1234567;logistics;5;;abandoned;",
        ],
    )
    res = ws.ingest(f, mapping=m)
    (fr,) = res.files
    assert (fr.rows_in, fr.events_new, fr.duplicates, fr.quarantined) == (2, 2, 0, 0)
    rows = ws.sql(
        "SELECT source, source_key, occurred_at, type, department, value, text FROM events ORDER BY seq"
    )
    assert rows[0][:2] == ("calls", "C1|1")
    # Europe/Rome is UTC+1 in March and UTC+2 in July
    assert str(rows[0][2]) == "2025-03-05 13:22:31"
    assert str(rows[1][2]) == "2025-07-05 12:25:00"
    assert rows[1][3] == "call_abandoned" and rows[0][3] == "call_ended"
    assert rows[0][5] == 30.0 and rows[1][6] is None
    ids = ws.sql("SELECT kind, namespace, raw, region FROM event_identifiers ORDER BY seq, kind")
    assert ("customer_id", "crm", "104233", "IT") in ids and ("phone", "", "333 1234567", "IT") in ids


def test_reingest_adds_nothing(ws: ordito.Workspace, tmp_path: Path) -> None:
    f, m = calls(
        tmp_path,
        [
            "C1;1;05/03/2025 14:22:31;+39 333 123 4567;care;30;1;resolved;x",
            "C2;1;bad-date;+39 333 123 4567;care;30;1;resolved;x",
        ],
    )
    ws.ingest(f, mapping=m)
    again = ws.ingest(f, mapping=m).files[0]
    assert (again.rows_in, again.events_new, again.duplicates, again.quarantined) == (2, 0, 1, 1)
    assert ws.sql("SELECT count(*) FROM events")[0][0] == 1
    assert ws.sql("SELECT count(*) FROM quarantine")[0][0] == 1  # not quarantined twice


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("C9;1;31/02/2025 10:00:00;333 1234567;care;5;;resolved;x", "bad timestamp"),
        ("C9;1;;333 1234567;care;5;;resolved;x", "missing timestamp"),
        ("C9;1;01/01/1970 10:00:00;333 1234567;care;5;;resolved;x", "timestamp out of range"),
        ("C9;1;05/03/2025 10:00:00;;care;5;;resolved;x", "no identifier"),
        ("C9;1;05/03/2025 10:00:00;333 1234567;care;abc;;resolved;x", "bad number in value"),
        (";1;05/03/2025 10:00:00;333 1234567;care;5;;resolved;x", "missing key: call_id"),
        ("C9;1;05/03/2025 10:00:00;333 1234567;care;5;;resolved;x;extra", "a column too many"),
    ],
)
def test_bad_rows_go_to_quarantine_with_reason_and_raw(
    ws: ordito.Workspace, tmp_path: Path, row: str, reason: str
) -> None:
    good = "C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok"
    f, m = calls(tmp_path, [good, row, good.replace("C1", "C2")])
    fr = ws.ingest(f, mapping=m).files[0]
    assert (fr.rows_in, fr.events_new, fr.quarantined) == (3, 2, 1)
    assert fr.balanced
    (q,) = ws.sql("SELECT reason, raw, source_key FROM quarantine")
    assert reason in q[0]
    assert q[1] and ("C9" in q[1] or "05/03/2025" in q[1])


def test_non_utf8_bytes_are_quarantined_with_exact_bytes(ws: ordito.Workspace, tmp_path: Path) -> None:
    body = (HEADER + "C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok\n").encode()
    bad = b"C2;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;caff" + b"\xe8 \xff\n"
    f = write(
        tmp_path / "calls.csv", body + bad + b"C3;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok\n"
    )
    m = write(tmp_path / "calls.yaml", CALLS_MAPPING)
    fr = ws.ingest(f, mapping=m).files[0]
    assert (fr.rows_in, fr.events_new, fr.quarantined) == (3, 2, 1)
    (q,) = ws.sql("SELECT reason, raw_bytes, source_key FROM quarantine")
    assert "encoding" in q[0]
    assert q[1] == bad.rstrip(b"\n")
    assert q[2] == "calls.csv:2"
    # the third record keeps its own record number as key after the reject
    assert ws.sql("SELECT source_key FROM events ORDER BY seq") == [("C1|1",), ("C3|1",)]


def test_truncated_csv_last_line(ws: ordito.Workspace, tmp_path: Path) -> None:
    f, m = calls(
        tmp_path, ["C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok", "C2;1;05/03/2025 14:2"]
    )
    fr = ws.ingest(f, mapping=m).files[0]
    assert (fr.rows_in, fr.events_new, fr.quarantined) == (2, 1, 1)
    assert "columns missing" in ws.sql("SELECT reason FROM quarantine")[0][0]


def test_ten_megabyte_field_is_quarantined_not_crashing(ws: ordito.Workspace, tmp_path: Path) -> None:
    big = "x" * (10 * 1024 * 1024)
    f, m = calls(
        tmp_path,
        [
            "C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;" + big,
            "C2;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok",
        ],
    )
    fr = ws.ingest(f, mapping=m).files[0]
    assert (fr.rows_in, fr.events_new, fr.quarantined) == (2, 1, 1)
    reason, n = ws.sql("SELECT reason, length(raw) FROM quarantine")[0]
    assert "field notes is 10485760 bytes" in reason and n > 10_000_000


def test_empty_and_header_only_files(ws: ordito.Workspace, tmp_path: Path) -> None:
    m = write(tmp_path / "calls.yaml", CALLS_MAPPING)
    empty = write(tmp_path / "empty.csv", "")
    header = write(tmp_path / "header.csv", HEADER)
    for f in (empty, header):
        fr = ws.ingest(f, mapping=m).files[0]
        assert (fr.rows_in, fr.events_new, fr.quarantined) == (0, 0, 0)
    assert ws.sql("SELECT count(*) FROM events")[0][0] == 0


def test_mapping_naming_a_missing_column_fails_before_reading(ws: ordito.Workspace, tmp_path: Path) -> None:
    f, _ = calls(tmp_path, ["C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok"])
    m = write(tmp_path / "bad.yaml", CALLS_MAPPING.replace("column: ani", "column: caller_number"))
    with pytest.raises(MappingError) as ei:
        ws.ingest(f, mapping=m)
    assert "caller_number" in str(ei.value) and "the file has:" in str(ei.value)
    assert ws.sql("SELECT count(*) FROM events")[0][0] == 0
    assert ws.sql("SELECT count(*) FROM ingest_runs")[0][0] == 0


@pytest.mark.parametrize(
    ("patch", "message"),
    [
        (("channel: {const: voice}", "channel: {const: telepathy}"), "is not a channel"),
        (("channel: {const: voice}", "channel: voice"), "write `channel: {const: voice}`"),
        (("namespace: crm, ", ""), "needs a namespace"),
        (("department: dept", "departmnt: dept"), "unknown field"),
        (("value: wait", 'value: {expr: "(SELECT 1)"}'), "only a plain expression"),
    ],
)
def test_invalid_mappings_are_explained(
    ws: ordito.Workspace, tmp_path: Path, patch: tuple[str, str], message: str
) -> None:
    f, _ = calls(tmp_path, ["C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok"])
    m = write(tmp_path / "bad.yaml", CALLS_MAPPING.replace(*patch))
    with pytest.raises(MappingError) as ei:
        ws.ingest(f, mapping=m)
    assert message in str(ei.value)


def test_duplicate_key_inside_a_file(ws: ordito.Workspace, tmp_path: Path) -> None:
    row = "C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok"
    f, m = calls(tmp_path, [row, row, row.replace(";ok", ";changed")])
    fr = ws.ingest(f, mapping=m).files[0]
    assert (fr.rows_in, fr.events_new, fr.duplicates, fr.quarantined) == (3, 1, 1, 1)
    assert ws.sql("SELECT text FROM events")[0][0] == "ok"
    assert "duplicate key" in ws.sql("SELECT reason FROM quarantine")[0][0]


JSONL_MAPPING = """
source: chat
format: jsonl
key: message_id
timestamp: {column: ts}
event:
  channel: {const: chat}
  type: {const: chat_message}
  thread_id: conversation_id
  text: text
  direction: {expr: "CASE WHEN sender = 'customer' THEN 'inbound' ELSE 'outbound' END"}
identifiers:
  - {kind: email, column: visitor.email}
  - {kind: anonymous_id, namespace: web, column: visitor_id}
traits:
  first_name: visitor.name
"""


def test_jsonl_nested_paths_bad_lines_and_blank_lines(ws: ordito.Workspace, tmp_path: Path) -> None:
    lines = [
        {
            "message_id": "m1",
            "ts": "2025-03-05T13:22:31+01:00",
            "conversation_id": "c1",
            "sender": "customer",
            "text": "Ciao, ordine IT-1",
            "visitor": {"email": "Mario.Rossi@Gmail.com", "name": "Mario"},
            "visitor_id": "GA1.2.3",
        },
        {
            "message_id": "m2",
            "ts": "2025-03-05T12:23:00Z",
            "conversation_id": "c1",
            "sender": "agent",
            "text": "Buongiorno",
            "visitor": {"email": None},
            "visitor_id": "GA1.2.3",
        },
    ]
    body = (
        "\n".join(json.dumps(x) for x in lines)
        + "\n\n{not json\n"
        + json.dumps(
            {
                "message_id": "m3",
                "ts": "2025-03-05T12:24:00Z",
                "conversation_id": "c1",
                "sender": "customer",
                "text": "grazie",
                "visitor_id": "GA1.2.3",
            }
        )
        + "\n"
        + '{"message_id": "m4", "ts": "2025-03-'
    )
    f = write(tmp_path / "chat.jsonl", body)
    m = write(tmp_path / "chat.yaml", JSONL_MAPPING)
    fr = ws.ingest(f, mapping=m).files[0]
    assert (fr.rows_in, fr.events_new, fr.quarantined) == (5, 3, 2)
    ev = ws.sql("SELECT source_key, occurred_at, direction, traits->>'first_name' FROM events ORDER BY seq")
    assert ev[0][0] == "m1" and str(ev[0][1]) == "2025-03-05 12:22:31" and ev[0][2] == "inbound"
    assert ev[0][3] == "Mario" and ev[1][2] == "outbound"
    reasons = sorted(r[0] for r in ws.sql("SELECT reason FROM quarantine"))
    assert all("malformed" in r or "JSON" in r or "timestamp" in r or "key" in r for r in reasons), reasons


JSON_MAPPING = """
source: email
format: json
key: message_id
timestamp: {column: date, format: "%a, %d %b %Y %H:%M:%S %z"}
event:
  channel: {const: email}
  type: {const: email_received}
  text: body
identifiers:
  - {kind: email, expr: "regexp_extract(\\"from\\", '<([^>]+)>', 1)"}
"""


def test_json_array_with_rfc2822_dates_and_truncation(ws: ordito.Workspace, tmp_path: Path) -> None:
    items = [
        {
            "message_id": "<a@x>",
            "date": "Wed, 05 Mar 2025 14:22:31 +0100",
            "from": '"Mario" <Mario@Libero.it>',
            "body": "Ordine non arrivato",
        },
        {
            "message_id": "<b@x>",
            "date": "Thu, 06 Mar 2025 09:00:00 +0000",
            "from": "Anna <anna@libero.it>",
            "body": "ok",
        },
    ]
    text = json.dumps(items)
    f = write(tmp_path / "emails.json", text[: text.rindex("}") - 3])  # truncated inside the 2nd object
    m = write(tmp_path / "email.yaml", JSON_MAPPING)
    fr = ws.ingest(f, mapping=m).files[0]
    assert (fr.rows_in, fr.events_new, fr.quarantined) == (2, 1, 1)
    assert str(ws.sql("SELECT occurred_at FROM events")[0][0]) == "2025-03-05 13:22:31"
    assert "truncated" in ws.sql("SELECT reason FROM quarantine")[0][0]
    assert ws.sql("SELECT raw FROM event_identifiers")[0][0] == "Mario@Libero.it"


PARQUET_MAPPING = """
source: shop
format: parquet
key: [order_id, status]
timestamp: {column: status_ts}
event:
  channel: {const: web}
  type: {column: status, map: {placed: order_placed, delivered: order_delivered}}
  value: total
  currency: currency
identifiers:
  - {kind: customer_id, namespace: shop, column: shop_customer_id}
  - {kind: email, column: email}
traits:
  city: shipping_address.city
"""


def test_parquet_typed_columns_and_structs(ws: ordito.Workspace, tmp_path: Path) -> None:
    import datetime as dt

    t = pa.table(
        {
            "order_id": ["IT-1", "IT-1", "IT-2"],
            "status": ["placed", "delivered", "placed"],
            "status_ts": [dt.datetime(2025, 3, 5, 10), dt.datetime(2025, 3, 8, 10), None],
            "shop_customer_id": ["104233", "104233", "9"],
            "email": ["a@b.it", None, "c@d.it"],
            "total": [599.0, 599.0, 10.5],
            "currency": ["eur", "eur", "eur"],
            "shipping_address": [{"city": "Torino", "postcode": "10100"}] * 3,
        }
    )
    f = tmp_path / "orders.parquet"
    pq.write_table(t, f)
    m = write(tmp_path / "shop.yaml", PARQUET_MAPPING)
    fr = ws.ingest(f, mapping=m).files[0]
    assert (fr.rows_in, fr.events_new, fr.quarantined) == (3, 2, 1)
    ev = ws.sql("SELECT source_key, type, value, currency, traits->>'city' FROM events ORDER BY seq")
    assert ev[0] == ("IT-1|placed", "order_placed", 599.0, "EUR", "Torino")
    assert ws.sql("SELECT reason FROM quarantine")[0][0] == "missing timestamp"


def test_truncated_parquet_is_recorded_not_fatal(ws: ordito.Workspace, tmp_path: Path) -> None:
    t = pa.table(
        {
            "order_id": ["a"],
            "status": ["placed"],
            "status_ts": [None],
            "shop_customer_id": ["1"],
            "email": ["x@y.it"],
            "total": [1.0],
            "currency": ["EUR"],
            "shipping_address": [{"city": "Roma"}],
        }
    )
    f = tmp_path / "orders.parquet"
    pq.write_table(t, f)
    data = f.read_bytes()
    f.write_bytes(data[: len(data) // 2])
    m = write(tmp_path / "shop.yaml", PARQUET_MAPPING)
    fr = ws.ingest(f, mapping=m).files[0]
    assert fr.status == "failed" and fr.quarantined == 1
    assert "unreadable file" in ws.sql("SELECT reason FROM quarantine")[0][0]


def test_latin1_csv(ws: ordito.Workspace, tmp_path: Path) -> None:
    mapping = CALLS_MAPPING.replace('csv: {delimiter: ";"}', 'csv: {delimiter: ";", encoding: latin-1}')
    body = (HEADER + "C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;caffè è già\n").encode("latin-1")
    f = write(tmp_path / "calls.csv", body)
    m = write(tmp_path / "calls.yaml", mapping)
    fr = ws.ingest(f, mapping=m).files[0]
    assert fr.events_new == 1
    assert ws.sql("SELECT text FROM events")[0][0] == "caffè è già"


def test_keyless_source_uses_file_and_record_number(ws: ordito.Workspace, tmp_path: Path) -> None:
    mapping = CALLS_MAPPING.replace("key: [call_id, leg]\n", "")
    f, _ = calls(
        tmp_path,
        [
            "C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok",
            "C2;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok",
        ],
    )
    m = write(tmp_path / "calls.yaml", mapping)
    ws.ingest(f, mapping=m)
    assert ws.sql("SELECT source_key FROM events ORDER BY seq") == [("calls.csv:1",), ("calls.csv:2",)]
    assert ws.ingest(f, mapping=m).files[0].events_new == 0


def test_no_mapping_for_a_file_is_a_clear_error(ws: ordito.Workspace, tmp_path: Path) -> None:
    f = write(tmp_path / "mystery.csv", "a,b\n1,2\n")
    with pytest.raises(MappingError, match="pass --mapping"):
        ws.ingest(f)
    with pytest.raises(InputError, match="does not exist"):
        ws.ingest(tmp_path / "nope.csv")
    with pytest.raises(MappingError, match="No built-in mapping named"):
        ws.ingest(f, source="nonexistent")


def test_sequence_is_monotonic_across_files(ws: ordito.Workspace, tmp_path: Path) -> None:
    f1, m = calls(tmp_path, ["C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok"], "a.csv")
    f2, _ = calls(tmp_path, ["C2;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok"], "b.csv")
    ws.ingest(f1, mapping=m)
    ws.ingest(f2, mapping=m)
    seqs = [r[0] for r in ws.sql("SELECT seq FROM events ORDER BY event_id")]
    assert len(set(seqs)) == 2
    assert (
        ws.sql("SELECT max(seq) FROM events WHERE source_key = 'C2|1'")[0][0]
        > ws.sql("SELECT max(seq) FROM events WHERE source_key = 'C1|1'")[0][0]
    )


def test_event_id_formula_matches_the_engine(ws: ordito.Workspace, tmp_path: Path) -> None:
    from ordito.sources.ingest import event_id

    f, m = calls(tmp_path, ["C1;1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok"])
    ws.ingest(f, mapping=m)
    (eid,) = ws.sql("SELECT event_id FROM events")[0]
    assert eid == event_id("calls", "C1|1")


def test_seq_stays_unique_when_records_are_rejected(ws: ordito.Workspace, tmp_path: Path) -> None:
    # rejected records take record numbers: the next file must not reuse the seqs after them
    rows = [f"C{i};1;05/03/2025 14:22:31;333 1234567;care;30;;resolved;ok" for i in range(5)]
    rows[1] += ";extra"
    rows[2] += ";extra"
    f1, m = calls(tmp_path, rows, "a.csv")
    f2, _ = calls(tmp_path, [r.replace("C", "D") for r in rows[:1] + rows[3:]], "b.csv")
    ws.ingest(f1, mapping=m)
    ws.ingest(f2, mapping=m)
    n, distinct = ws.sql("SELECT count(*), count(DISTINCT seq) FROM events")[0]
    assert n == distinct == 6


def test_gzipped_csv_is_read_and_its_rejects_keep_their_bytes(ws: ordito.Workspace, tmp_path: Path) -> None:
    import gzip

    plain, m = calls(
        tmp_path,
        [
            "C1;1;05/03/2025 14:22:31;+39 333 123 4567;care;30;104233;resolved;Ciao",
            "C2;1;05/03/2025 14:23:00;+39 333 123 4567;care;30;104233;resolved;too;many;columns",
            "C3;1;05/03/2025 14:24:00;333 1234567;care;5;;resolved;",
        ],
    )
    gz = tmp_path / "calls.csv.gz"
    gz.write_bytes(gzip.compress(plain.read_bytes()))
    (fr,) = ws.ingest(gz, mapping=m).files
    assert (fr.rows_in, fr.events_new, fr.quarantined) == (3, 2, 1)
    (raw,) = ws.sql("SELECT raw FROM quarantine")[0]
    assert raw.startswith("C2;1;") and raw.endswith("too;many;columns")
