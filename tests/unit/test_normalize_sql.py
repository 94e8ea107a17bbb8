"""The SQL normalisers must agree with the Python reference (ordito.identity.normalize) value for value."""

from __future__ import annotations

import random

import pyarrow as pa

from ordito.identity import normalize as nz
from ordito.identity import normalize_sql as ns
from ordito.identity.resolve import normalise_table
from ordito.store.duckdb import DuckDBEngine
from ordito.store.schema import migrate


def _phones(rng: random.Random) -> list[tuple[str, str]]:
    out = []
    for _ in range(600):
        region = rng.choice(["IT", "GB", "US", "DE", "FR", "ES", ""])
        if region in ("IT", ""):
            nat = rng.choice(["3", "0"]) + "".join(
                rng.choice("0123456789") for _ in range(rng.choice([8, 9, 10]))
            )
            cc = "39"
        elif region == "GB":
            nat = (
                "0"
                + rng.choice(["7", "20", "161", "1"])
                + "".join(rng.choice("0123456789") for _ in range(8))
            )
            cc = "44"
        else:
            nat = "".join(rng.choice("0123456789") for _ in range(rng.choice([7, 9, 10, 11])))
            cc = {"US": "1", "DE": "49", "FR": "33", "ES": "34"}[region]
        intl = nat[1:] if cc == "44" and nat.startswith("0") else nat
        writings = [
            nat,
            f"+{cc} {intl}",
            f"00{cc}{intl}",
            f"({cc}) {intl}",
            f"+{cc} (0){intl}",
            "-".join([nat[:3], nat[3:6], nat[6:]]),
            f"{nat[:3]}.{nat[3:]}",
            f" {nat} ",
            f"+{cc}{intl}ext5",
            "anonymous",
            "",
            "12",
            f"+{cc}{intl}123456789",
            f"{nat[:3]} *** {nat[-4:]}",
            f"+{cc} {intl[:3]} xxx {intl[-4:]}",
            f"•••• {nat[-4:]}",
        ]
        out.extend((w, region) for w in writings)
    return out


def _emails(rng: random.Random) -> list[str]:
    names = ["mario.rossi", "Giulia_Bianchi", "a", "x.y+promo", "o'connor", "first.last.", "..bad", "ok-1"]
    doms = ["gmail.com", "GoogleMail.com", "libero.it", "btinternet.co.uk", "mail", "x..it", "acme.example"]
    out = []
    for _ in range(800):
        e = f"{rng.choice(names)}@{rng.choice(doms)}"
        e = rng.choice([e, e.upper(), f" {e} ", f"<{e}>", f"mailto:{e}", e.replace("@", ""), e + "."])
        out.append(e)
    return out


def test_sql_normalisation_matches_python() -> None:
    rng = random.Random(42)
    rows: list[tuple[str, str, str, str]] = []
    rows += [("phone", "", w, rg) for w, rg in _phones(rng)]
    rows += [("email", "", e, "") for e in _emails(rng)]
    rows += [("customer_id", "crm", v, "") for v in ["104233", " 104233 ", "", "x" * 300, "A-1"]]
    rows += [("loyalty_id", "elettra", v, "") for v in ["1234 5678 9012", "1234-5678-9012", "  ", "ab.12"]]
    rows += [
        ("handle", "twitter", v, "") for v in ["@Mario_R", "twitter:@Mario", "instagram:foo", "@", "a b"]
    ]
    rows += [("anonymous_id", "web", v, "") for v in ["GA1.2.3.4", ""]]
    rows = list(dict.fromkeys(rows))
    eng = DuckDBEngine()
    migrate(eng)
    eng.register(
        "_in",
        pa.table({k: [r[i] for r in rows] for i, k in enumerate(["kind", "namespace", "raw", "region"])}),
    )
    eng.execute("CREATE TEMP TABLE src AS SELECT * FROM _in")
    regions = sorted({r[3] for r in rows if r[0] == "phone"})
    normalise_table(eng, "src", regions)
    got = {
        (k, n, r, g): (v, ok)
        for k, n, r, g, v, ok in eng.execute(
            "SELECT kind, namespace, raw, region, value, valid FROM identifier_norm"
        )
    }
    assert len(got) == len(rows)
    mismatches = []
    for k, n, r, g in rows:
        want = nz.normalize(k, r, n, g or None)
        if got[(k, n, r, g)] != (want.value, want.valid):
            mismatches.append((k, r, g, got[(k, n, r, g)], (want.value, want.valid)))
    assert not mismatches, mismatches[:10]


def test_sql_placeholder_and_role_rules_match_python() -> None:
    values = [
        ("phone", v)
        for v in [
            "+390000000000",
            "+391234567890",
            "+393331234567",
            "+440000000000",
            "+12125550000",
            "+390200000001",
            "+4407700900123",
            "+33987654321",
        ]
    ]
    values += [
        ("email", v)
        for v in [
            "noemail@noemail.com",
            "test@test.com",
            "mario@acme.it",
            "info@acme.it",
            "info.milano@acme.it",
            "information@acme.it",
            "a@b.invalid",
            "x@y.it",
        ]
    ]
    values += [("customer_id", v) for v in ["crm:000", "crm:12", "shop:unknown"]]
    eng = DuckDBEngine()
    eng.register("_v", pa.table({"kind": [v[0] for v in values], "value": [v[1] for v in values]}))
    got = eng.execute(
        f"SELECT kind, value, {ns.placeholder_sql('kind', 'value')}, "
        f"CASE WHEN kind = 'email' THEN {ns.role_sql('value')} END FROM _v"
    )
    for kind, value, p, r in got:
        assert p == nz.placeholder_reason(kind, value), (kind, value)
        assert r == nz.role_reason(kind, value), (kind, value)
