"""Determinism, bounded memory, and the pieces the generator is built from."""

from __future__ import annotations

import datetime as dt
import hashlib
import tracemalloc
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

import pytest

from ordito.demo import clock, generate
from ordito.demo.generator import _generate
from ordito.demo.people import Uniq, canon_email, email_id
from ordito.demo.silos import SILOS
from ordito.demo.world import count_households, household_shapes


def digests(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def test_same_seed_same_bytes_in_process_or_in_parallel(tmp_path: Path) -> None:
    a = _generate(tmp_path / "a", 300, 11, size=50, parallel=False)
    b = _generate(tmp_path / "b", 300, 11, size=50, parallel=False)
    c = _generate(tmp_path / "c", 300, 11, size=50, parallel=True)  # two worker processes
    da, db, dc = digests(a.out_dir), digests(b.out_dir), digests(c.out_dir)
    assert len(da) == len(SILOS) + 9
    assert da == db == dc
    assert a.rows == b.rows == c.rows


def test_another_seed_another_company(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", 120, 1)
    b = generate(tmp_path / "b", 120, 2)
    assert digests(a.out_dir)["web/web_analytics.csv"] != digests(b.out_dir)["web/web_analytics.csv"]


def test_regenerating_into_a_folder_replaces_the_company(tmp_path: Path) -> None:
    generate(tmp_path / "x", 200, 3)
    stale = tmp_path / "x" / "web" / "old_export.csv"
    stale.write_text("x")
    r = generate(tmp_path / "x", 60, 3)
    assert not stale.exists()
    assert digests(r.out_dir) == digests(generate(tmp_path / "y", 60, 3).out_dir)


def test_progress_reports_households(tmp_path: Path) -> None:
    seen: list[tuple[int, int]] = []
    _generate(tmp_path / "p", 400, 5, progress=lambda d, t: seen.append((d, t)), size=100, parallel=False)
    total = count_households(5, 400)
    assert seen[-1] == (total, total)
    assert [d for d, _ in seen] == sorted(d for d, _ in seen) and len(seen) == -(-total // 100)


def test_exactly_n_customers() -> None:
    for n in (1, 7, 333):
        assert sum(sum(f) for f in household_shapes(9, n)) == n


def test_memory_does_not_grow_with_customers(tmp_path: Path) -> None:
    """Above a fixed base (tables, the bit sets of uniqueness), peak memory does not follow N."""

    def peak(n: int) -> int:
        tracemalloc.start()
        _generate(tmp_path / f"m{n}", n, 4, size=60, parallel=False)
        _, top = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        return top

    peak(30)  # first run: imports and caches
    base = peak(30)
    small, large = peak(300) - base, peak(1200) - base  # 4x the customers, the same chunk size
    assert large < 1.8 * small, (base, small, large)


def test_clock_matches_zoneinfo() -> None:
    rng = Random(1)
    rome, london = ZoneInfo("Europe/Rome"), ZoneInfo("Europe/London")
    instants = [clock.START + int(rng.random() * (clock.END - clock.START)) for _ in range(3000)]
    for change in clock._CHANGES:  # around every change of offset
        instants += [change - 1, change, change + 1, change + 3599]
    for t in instants:
        u = dt.datetime.fromtimestamp(t, dt.UTC)
        assert clock.iso_local(t, clock.rome_offset(t)) == u.astimezone(rome).strftime("%Y-%m-%d %H:%M:%S")
        assert clock.dmy_local(t, clock.london_offset(t)) == u.astimezone(london).strftime(
            "%d/%m/%Y %H:%M:%S"
        )
        assert clock.rfc2822(t, clock.rome_offset(t)) == u.astimezone(rome).strftime(
            "%a, %d %b %Y %H:%M:%S %z"
        )
        assert clock.iso_offset(t, clock.london_offset(t)) == u.astimezone(london).isoformat()
        assert clock.iso_z(t) == u.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_opening_hours() -> None:
    saturday_night = int(dt.datetime(2025, 3, 8, 22, 30, tzinfo=dt.UTC).timestamp())
    t = clock.next_open(saturday_night, "IT", clock.CALL_HOURS, 0.0)
    assert dt.datetime.fromtimestamp(t, ZoneInfo("Europe/Rome")).strftime("%a %H:%M") == "Mon 08:00"
    t = clock.next_open(saturday_night, "GB", clock.CHAT_HOURS, 0.0)
    assert dt.datetime.fromtimestamp(t, ZoneInfo("Europe/London")).strftime("%a %H:%M") == "Sun 08:00"
    monday_noon = int(dt.datetime(2025, 3, 10, 11, 0, tzinfo=dt.UTC).timestamp())
    assert clock.next_open(monday_noon, "IT", clock.STORE_HOURS, 0.5) == monday_noon


def test_uniq_never_says_new_twice() -> None:
    u = Uniq(bits=12)  # tiny on purpose: many false "seen", never a false "new"
    taken = [k for k in (f"v{i}" for i in range(3000)) if u.add_if_new(k)]
    assert len(taken) == len(set(taken))
    assert not any(u.add_if_new(k) for k in taken)
    lanes = [Uniq(), Uniq()]
    owned = [
        [k for k in (f"w{i}" for i in range(2000)) if lanes[lane].add_if_new(k, lane, 2)] for lane in (0, 1)
    ]
    assert not set(owned[0]) & set(owned[1]) and len(owned[0]) + len(owned[1]) == 2000


def test_email_helpers() -> None:
    assert canon_email(" Mario.Rossi@Gmail.com ") == "mariorossi@gmail.com"
    assert canon_email("Mario.Rossi@Libero.it") == "mario.rossi@libero.it"
    assert email_id("mariorossi@gmail.com") == hashlib.sha256(b"mariorossi@gmail.com").hexdigest()[:16]


@pytest.mark.parametrize("customers", [0, -5])
def test_rejects_no_customers(tmp_path: Path, customers: int) -> None:
    with pytest.raises(ValueError):
        generate(tmp_path / "z", customers, 1)


def test_pools_of_a_large_company() -> None:
    """A million customers need 3,334 companies with distinct domains (names alone repeat)."""
    from ordito.demo.world import World

    w = World(1, 1_000_000, 0, 2)
    domains = [c.domain for c in w.companies]
    assert len(domains) == 3334 and len(set(domains)) == len(domains)
    assert len({c.switchboard.e164 for c in w.companies}) == len(domains)
