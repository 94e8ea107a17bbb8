"""The fixed period and fast timestamp formatting (no wall clock anywhere).

Times inside the generator are integer seconds since the Unix epoch, UTC. Formatting goes through
lookup tables (one string per day of the period, one per second of the day) because the generator
formats tens of millions of timestamps. Europe/Rome and Europe/London both change offset on the last
Sunday of March and of October at 01:00 UTC, so one pair of bounds per year serves both zones.
"""

from __future__ import annotations

import calendar
import datetime as dt
from bisect import bisect_right

DAY = 86400
HOUR = 3600
MINUTE = 60

START = int(dt.datetime(2025, 1, 1, tzinfo=dt.UTC).timestamp())
END = int(dt.datetime(2026, 6, 30, 23, 59, 59, tzinfo=dt.UTC).timestamp())
PERIOD = ("2025-01-01", "2026-06-30")


def _last_sunday_0100(year: int, month: int) -> int:
    last = dt.date(year, month, calendar.monthrange(year, month)[1])
    last -= dt.timedelta(days=(last.weekday() - 6) % 7)
    return int(dt.datetime(last.year, last.month, last.day, 1, tzinfo=dt.UTC).timestamp())


# Summer time bounds [begin, end) for the years the period (and its margins) touches.
_SUMMER = tuple((_last_sunday_0100(y, 3), _last_sunday_0100(y, 10)) for y in (2024, 2025, 2026))
_S24, _E24 = _SUMMER[0]
_S25, _E25 = _SUMMER[1]
_S26, _E26 = _SUMMER[2]


def is_summer(t: int) -> bool:
    return _S25 <= t < _E25 or _S26 <= t < _E26 or _S24 <= t < _E24


_CHANGES = tuple(sorted(x for pair in _SUMMER for x in pair))


def next_dst_change(t: int) -> int:
    """The first offset change after ``t`` (both zones change at the same instants)."""
    for c in _CHANGES:
        if c > t:
            return c
    return 1 << 62


def rome_offset(t: int) -> int:
    """Seconds east of UTC for Europe/Rome at instant ``t``."""
    return 7200 if (_S25 <= t < _E25 or _S26 <= t < _E26 or _S24 <= t < _E24) else 3600


def london_offset(t: int) -> int:
    return 3600 if (_S25 <= t < _E25 or _S26 <= t < _E26 or _S24 <= t < _E24) else 0


def zone_offset(t: int, country: str) -> int:
    return london_offset(t) if country == "GB" else rome_offset(t)


# --- tables ---------------------------------------------------------------------------------------

_D0 = START // DAY - 400  # first day in the tables (cookies and accounts may predate the period)
DAY0 = _D0
_NDAYS = END // DAY - _D0 + 120
_WD = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MON = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

ISO_DATE: list[str] = []
DMY_DATE: list[str] = []
RFC_DATE: list[str] = []
for _i in range(_NDAYS):
    _d = dt.date(1970, 1, 1) + dt.timedelta(days=_D0 + _i)
    ISO_DATE.append(_d.isoformat())
    DMY_DATE.append(f"{_d.day:02d}/{_d.month:02d}/{_d.year}")
    RFC_DATE.append(f"{_WD[_d.weekday()]}, {_d.day:02d} {_MON[_d.month - 1]} {_d.year}")
HMS: list[str] = [f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60)]


def _split(t: int) -> tuple[int, int]:
    d, s = divmod(t, DAY)
    return d - _D0, s


def iso_local(t: int, offset: int) -> str:
    """``2025-03-05 14:22:31`` in the zone ``offset`` seconds east of UTC."""
    d, s = divmod(t + offset, DAY)
    return ISO_DATE[d - _D0] + " " + HMS[s]


def dmy_local(t: int, offset: int) -> str:
    """``05/03/2025 14:22:31``."""
    d, s = divmod(t + offset, DAY)
    return DMY_DATE[d - _D0] + " " + HMS[s]


def iso_z(t: int) -> str:
    """``2025-03-05T13:22:31Z``."""
    d, s = divmod(t, DAY)
    return ISO_DATE[d - _D0] + "T" + HMS[s] + "Z"


def iso_ms_z(t: int, ms: int) -> str:
    """``2025-03-05T13:22:31.120Z``."""
    d, s = divmod(t, DAY)
    return f"{ISO_DATE[d - _D0]}T{HMS[s]}.{ms:03d}Z"


def _offset_text(offset: int, colon: bool) -> str:
    sign = "+" if offset >= 0 else "-"
    h, m = divmod(abs(offset) // 60, 60)
    return f"{sign}{h:02d}:{m:02d}" if colon else f"{sign}{h:02d}{m:02d}"


_OFF_COLON = {o: _offset_text(o, True) for o in (0, 3600, 7200)}
_OFF_PLAIN = {o: _offset_text(o, False) for o in (0, 3600, 7200)}


def iso_offset(t: int, offset: int) -> str:
    """``2025-03-05T14:22:31+01:00``."""
    d, s = divmod(t + offset, DAY)
    return ISO_DATE[d - _D0] + "T" + HMS[s] + _OFF_COLON[offset]


def rfc2822(t: int, offset: int) -> str:
    """``Wed, 05 Mar 2025 14:22:31 +0100``."""
    d, s = divmod(t + offset, DAY)
    return RFC_DATE[d - _D0] + " " + HMS[s] + " " + _OFF_PLAIN[offset]


def compact(t: int) -> str:
    """``20250305132231`` (UTC), used inside generated message ids."""
    d, s = divmod(t, DAY)
    return ISO_DATE[d - _D0].replace("-", "") + HMS[s].replace(":", "")


def date_text(t: int, lang: str) -> str:
    """A date as a customer writes it in a message: ``05/03/2025`` or ``05/03/2025`` (UK too)."""
    d, _ = divmod(t, DAY)
    return DMY_DATE[d - _D0]


def year_of(t: int) -> int:
    d, _ = divmod(t, DAY)
    return int(ISO_DATE[d - _D0][:4])


def iso_day(t: int) -> str:
    d, _ = divmod(t, DAY)
    return ISO_DATE[d - _D0]


# --- time of day ----------------------------------------------------------------------------------

# Relative activity per local hour (people shop and browse at lunch and in the evening).
_HOUR_W = (3, 2, 1, 1, 1, 1, 3, 8, 14, 18, 20, 21, 23, 22, 19, 18, 19, 21, 24, 28, 30, 27, 18, 8)
_HOUR_CUM: list[float] = []
_acc = 0.0
for _w in _HOUR_W:
    _acc += _w
    _HOUR_CUM.append(_acc)
_HOUR_TOTAL = _acc

# Opening hours per weekday (Monday first) as (open, close) seconds after local midnight, None if closed.
Schedule = tuple[tuple[int, int] | None, ...]
CALL_HOURS: Schedule = ((8 * HOUR, 20 * HOUR),) * 5 + ((9 * HOUR, 14 * HOUR), None)
CHAT_HOURS: Schedule = ((8 * HOUR, 22 * HOUR),) * 7
OFFICE_HOURS: Schedule = ((8 * HOUR + 1800, 18 * HOUR),) * 5 + (None, None)
STORE_HOURS: Schedule = ((9 * HOUR + 1800, 19 * HOUR + 1800),) * 6 + (None,)
SOCIAL_HOURS: Schedule = ((8 * HOUR, 22 * HOUR),) * 7


def daytime(u1: float, u2: float, t: int, country: str) -> int:
    """Move ``t`` to a plausible local time of the same day (``u1``, ``u2`` uniform in [0, 1))."""
    off = zone_offset(t, country)
    day = (t + off) // DAY
    hour = bisect_right(_HOUR_CUM, u1 * _HOUR_TOTAL)
    return day * DAY + hour * HOUR + int(u2 * HOUR) - off


def next_open(t: int, country: str, schedule: Schedule, jitter: float) -> int:
    """``t`` if the place is open then, else its next opening time plus ``jitter`` (0..1) of 40 minutes."""
    off = zone_offset(t, country)
    local = t + off
    for step in range(9):
        day, sec = divmod(local, DAY)
        hours = schedule[(day + 3) % 7]  # 1970-01-01 was a Thursday
        if hours is not None:
            o, c = hours
            if sec < o:
                local = day * DAY + o + int(jitter * 40 * MINUTE)
                return local - zone_offset(local - off, country)
            if sec < c:
                return t if step == 0 else local - zone_offset(local - off, country)
        local = (day + 1) * DAY
    return t
