"""Plotly.js under the app's strict Content-Security-Policy (``style-src 'self'``, no inline styles).

Plotly.js (the bundle in the ``plotly`` wheel, MIT) styles itself by creating ``<style>`` elements at run
time, which the CSP refuses. It has a documented way out: when an element with id
``plotly.js-style-global`` and class ``no-inline-styles`` already exists, it adds no rules and expects
the page to load them as a stylesheet. :func:`css` builds that stylesheet from the rules inside the same
bundle (the object its ``addStyleRule`` loop reads), so it always matches the shipped version. The map
traces' stylesheet (MapLibre) is injected once unless an element with its id exists; the pages hold an
empty element with that id (:func:`maplibre_id`): ordito draws no maps.

If a future bundle changes shape, :func:`css` raises and the browser tests fail on the CSP errors.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

from ..errors import ConfigError

__all__ = ["bundle_path", "css", "maplibre_id"]

_STR = r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\''
_PAIR = re.compile(rf"\s*({_STR}|[A-Za-z_$][\w$]*)\s*:\s*({_STR})\s*([,}}])")
_REPLACE = re.compile(r'\.replace\(/([A-Z])/g,("(?:[^"\\]|\\.)*")\)')


def bundle_path() -> Path:
    """plotly.min.js as shipped in the ``plotly`` wheel."""
    import plotly  # type: ignore[import-untyped]

    return Path(plotly.__file__).parent / "package_data" / "plotly.min.js"


@lru_cache(maxsize=1)
def _bundle() -> str:
    return bundle_path().read_text(encoding="utf-8")


def _unquote(s: str) -> str:
    if s[:1] not in ("'", '"'):
        return s
    return re.sub(r"\\(.)", r"\1", s[1:-1])


@lru_cache(maxsize=1)
def css() -> str:
    """Plotly.js's own style rules as a stylesheet."""
    js = _bundle()
    start = js.find('{"X,X div":')
    if start < 0:
        raise ConfigError("plotly.min.js: its style rules were not found (a new Plotly.js?)")
    rules: dict[str, str] = {}
    i = start + 1
    while True:
        m = _PAIR.match(js, i)
        if m is None:
            raise ConfigError(f"plotly.min.js: cannot read its style rules near {js[i : i + 60]!r}")
        rules[_unquote(m.group(1))] = _unquote(m.group(2))
        i = m.end()
        if m.group(3) == "}":
            break
    # the loop right after the object says what X and Y stand for
    subs = {k: _unquote(v) for k, v in _REPLACE.findall(js[i : i + 400])}
    if "X" not in subs:
        raise ConfigError("plotly.min.js: cannot read how its style selectors are expanded")
    out = ["/* Plotly.js style rules, extracted from the bundle this app serves (see plotly_assets.py). */"]
    for selector, body in rules.items():
        sel = re.sub(r"^,", " ,", selector)
        for k, v in subs.items():
            sel = sel.replace(k, v)
        out.append(f"{sel} {{{body}}}")
    return "\n".join(out) + "\n"


@lru_cache(maxsize=1)
def maplibre_id() -> str | None:
    """The id of the MapLibre stylesheet the bundle injects unless an element with that id exists."""
    m = re.search(
        r'getElementById\("([0-9a-f]{64})"\)\)\{var \w+=document\.createElement\("style"\)', _bundle()
    )
    return m.group(1) if m else None
