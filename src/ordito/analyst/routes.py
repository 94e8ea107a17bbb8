"""Routes of the analyst pages: /analytics (the views, filtered), /analytics/section/{id} (one view, loaded
by the page), /analytics/episodes (the episodes behind a number), /analytics/episodes/{id} (one episode,
with the link to the customer's timeline), /analytics/static/{file}.

Every route needs the ``analytics.read`` permission (analyst, admin): agents get a 403 page, anonymous
visitors the log-in page. Opening an episode is audit-logged (``view_episode``), as is every list of
episodes (``view_episodes``); the customer's timeline is the agent app's page, audit-logged there, with
identifiers masked for analysts (ordito.agent.mask).
"""

from __future__ import annotations

import json
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, Response

from .._version import __version__
from ..agent import shell
from ..agent.auth import Principal
from ..agent.mask import mask_text
from ..agent.security import client_of, require_page, state_of
from ..errors import NotFoundError, OrditoError, RequestError
from ..report import drill as drl
from ..report import sections as secs
from ..report.filters import NO_DEPARTMENT, Filters
from ..report.segments import Segmentation, segmentation
from ..store.base import Engine
from . import plotly_assets

HERE = Path(__file__).parent
STATIC = HERE / "static"
ANALYTICS_PAGE = require_page("analytics.read")

TITLES = {
    "summary": "Executive summary",
    "journey-map": "Journey map",
    "sankey": "Channel transitions",
    "friction": "Friction heat map",
    "kpis": "KPIs per team",
    "voc": "Sentiment and topics",
    "funnels": "Funnels per need",
    "quality": "Data quality",
}

shell.add_templates("ordito.analyst", "templates")
shell.add_templates("ordito.report", "templates")
shell.add_nav("Analytics", "/analytics", "analytics.read", order=20)


# --- static files -------------------------------------------------------------------------------------


def _static_files() -> dict[str, tuple[Path, str]]:
    return {
        "analyst.js": (STATIC / "analyst.js", "text/javascript"),
        "analyst.css": (STATIC / "analyst.css", "text/css"),
        "plotly.min.js": (plotly_assets.bundle_path(), "text/javascript"),
    }


#: The shell's policy plus one exception: an *empty* style attribute (the hash of ""). Plotly.js clears a
#: colour bar's style with ``setAttribute("style", "")`` before it sets the gradient through the CSSOM
#: (which the CSP allows); without this the browser logs a violation for every colour bar. Any style
#: attribute with content stays refused.
CSP = (
    shell.SECURITY_HEADERS["Content-Security-Policy"]
    + "; style-src-attr 'unsafe-hashes' 'sha256-47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"
)
PAGE_HEADERS = {"Content-Security-Policy": CSP}


def astatic(name: str) -> str:
    return f"/analytics/static/{name}?v={__version__}"


# --- caches -------------------------------------------------------------------------------------------


class Cache:
    """Sections, filter options and segmentations of one app, keyed by the workspace's data version
    (last event, last stage run), so a new ingest or ``ordito analyze`` is seen on the next request."""

    def __init__(self, size: int = 256) -> None:
        self._d: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        self._lock = threading.Lock()
        self.size = size

    def get(self, key: tuple[Any, ...], make: Any) -> Any:
        with self._lock:
            if key in self._d:
                self._d.move_to_end(key)
                return self._d[key]
        value = make()
        with self._lock:
            self._d[key] = value
            while len(self._d) > self.size:
                self._d.popitem(last=False)
        return value


def _cache(request: Request) -> Cache:
    app_state = request.app.state
    c = getattr(app_state, "analyst_cache", None)
    if c is None:
        c = Cache()
        app_state.analyst_cache = c
    return c


def data_version(eng: Engine) -> tuple[Any, ...]:
    row = eng.one(
        "SELECT (SELECT max(seq) FROM events) AS seq, (SELECT max(updated_at) FROM stage_state) AS staged, "
        "(SELECT count(*) FROM stage_state) AS stages"
    )
    return tuple(row or ())


# --- filters ------------------------------------------------------------------------------------------


def _options(eng: Engine) -> dict[str, Any]:
    lo, hi = eng.one("SELECT min(occurred_at), max(occurred_at) FROM events") or (None, None)
    channels = [
        r[0] for r in eng.execute("SELECT DISTINCT channel FROM events WHERE channel IS NOT NULL ORDER BY 1")
    ]
    depts = [
        r[0]
        for r in eng.execute("SELECT DISTINCT department FROM events WHERE department IS NOT NULL ORDER BY 1")
    ]
    needs: list[str] = []
    if secs.has_rows(eng, "episodes"):
        needs = [r[0] for r in eng.execute("SELECT DISTINCT intent FROM episodes ORDER BY 1")]
    seg = segmentation(eng)
    return {
        "first": lo.date() if lo else None,
        "last": hi.date() if hi else None,
        "channel": channels,
        "department": [*depts, NO_DEPARTMENT],
        "need": needs,
        "segmentation": seg,
        "segment": [s for s, _, _ in seg.segments],
    }


def _cached_options(request: Request, eng: Engine) -> tuple[Cache, tuple[Any, ...], dict[str, Any]]:
    """The app's page cache, the workspace's data version, and the filter options (cached per version)."""
    cache = _cache(request)
    ver = data_version(eng)
    return cache, ver, cache.get(("options", ver), lambda: _options(eng))


def _query_lists(request: Request) -> dict[str, list[str]]:
    return parse_qs(request.url.query, keep_blank_values=False)


def _filters(request: Request, opts: dict[str, Any]) -> Filters:
    f = Filters.from_query(_query_lists(request))
    problems = []
    for name in ("channel", "department", "need", "segment"):
        for v in getattr(f, name):
            if v not in opts[name]:
                problems.append(f"{name} {v!r} is not in this workspace")
    if problems:
        raise RequestError("Unknown filter value", errors=problems)
    return f


def _error(request: Request, exc: OrditoError) -> Response:
    msg = exc.message + ("" if not exc.errors else ": " + "; ".join(exc.errors))
    return shell.render(request, "error.html", {"status": exc.status, "message": msg}, status=exc.status)


def _audit(request: Request, principal: Principal, action: str, key: str | None, detail: str) -> None:
    state_of(request).audit.record(
        principal, action, key, detail=detail, client=client_of(request), path=request.url.path
    )


# --- routes -------------------------------------------------------------------------------------------


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/analytics/static/{name}")
    def static(name: str) -> Response:
        cache = {"Cache-Control": "public, max-age=86400", "X-Content-Type-Options": "nosniff"}
        if name == "plotly.css":
            return Response(plotly_assets.css(), media_type="text/css", headers=cache)
        files = _static_files()
        if name not in files:
            raise NotFoundError(f"No file {name}")
        path, media = files[name]
        return FileResponse(path, media_type=media, headers=cache)

    @r.get("/analytics")
    def analytics(request: Request, principal: Principal = Depends(ANALYTICS_PAGE)) -> Response:
        st = state_of(request)
        with st.engine() as eng:
            _, _, opts = _cached_options(request, eng)
        try:
            f = _filters(request, opts)
        except OrditoError as exc:
            return _error(request, exc)
        seg: Segmentation = opts["segmentation"]
        q = urlencode(f.query())
        return shell.render(
            request,
            "analytics.html",
            {
                "f": f,
                "opts": opts,
                "q": q,
                "titles": TITLES,
                "described": f.describe(seg.labels),
                "seg": seg,
                "astatic": astatic,
                "maplibre_id": plotly_assets.maplibre_id(),
            },
            headers=PAGE_HEADERS,
        )

    @r.get("/analytics/section/{sid}")
    def section(request: Request, sid: str, principal: Principal = Depends(ANALYTICS_PAGE)) -> Response:
        if sid not in secs.BY_ID:
            return _error(request, NotFoundError(f"No view {sid}"))
        st = state_of(request)
        with st.engine() as eng:
            cache, ver, opts = _cached_options(request, eng)
            try:
                f = _filters(request, opts)
            except OrditoError as exc:
                return _error(request, exc)
            labels = opts["segmentation"].labels

            def make() -> dict[str, Any] | None:
                sc = secs.make_scope(eng, f)
                return None if sc is None else secs.build_section(eng, sc, sid, labels)

            s = cache.get(("section", sid, tuple(f.query()), ver), make)
        base = f.query()

        def href(d: dict[str, str]) -> str:
            return "/analytics/episodes?" + urlencode(base + list(d.items()))

        figs = json.dumps(s["figures"] if s and s["available"] else [], default=str, separators=(",", ":"))
        return shell.render(
            request,
            "_an_section.html",
            {"s": s, "href": href, "figs_json": figs, "q": urlencode(base)},
        )

    @r.get("/analytics/report.html")
    def report(request: Request, principal: Principal = Depends(ANALYTICS_PAGE)) -> Response:
        """The views as the self-contained report file (``ordito report``), with the page's filters."""
        from ..report import render_html

        st = state_of(request)
        with st.engine() as eng:
            _, _, opts = _cached_options(request, eng)
            try:
                f = _filters(request, opts)
            except OrditoError as exc:
                return _error(request, exc)
            html = render_html(secs.build(eng, filters=f), workspace=Path(st.ws.path).name)
        _audit(request, principal, "export_report", None, urlencode(f.query())[:400])
        return Response(
            html,
            media_type="text/html; charset=utf-8",
            headers={
                "Content-Disposition": 'attachment; filename="ordito-report.html"',
                "Cache-Control": "no-store",
                "X-Content-Type-Options": "nosniff",
            },
        )

    @r.get("/analytics/episodes")
    def episodes(request: Request, page: int = 1, principal: Principal = Depends(ANALYTICS_PAGE)) -> Response:
        st = state_of(request)
        with st.engine() as eng:
            _, _, opts = _cached_options(request, eng)
            try:
                f = _filters(request, opts)
                d = drl.parse(_query_lists(request))
                if not secs.has_rows(eng, "episodes"):
                    raise NotFoundError("No episodes yet: run `ordito analyze`.")
                sc = secs.make_scope(eng, f)
                if sc is None:
                    raise NotFoundError("The workspace has no events")
                result = drl.page(eng, sc, d, page)
            except OrditoError as exc:
                return _error(request, exc)
        seg: Segmentation = opts["segmentation"]
        base = f.query() + list(d.items())
        _audit(request, principal, "view_episodes", None, f"{urlencode(base)[:400]} n={result['total']}")
        return shell.render(
            request,
            "an_episodes.html",
            {
                "d": d,
                "what": drl.describe(d),
                "result": result,
                "period": sc.period.label(),
                "described": f.describe(seg.labels),
                "back": "/analytics?" + urlencode(f.query()),
                "page_url": lambda n: "/analytics/episodes?" + urlencode([*base, ("page", str(n))]),
                "astatic": astatic,
            },
        )

    @r.get("/analytics/episodes/{episode_id}")
    def episode(
        request: Request, episode_id: str, principal: Principal = Depends(ANALYTICS_PAGE)
    ) -> Response:
        st = state_of(request)
        with st.engine() as eng:
            if not secs.has_rows(eng, "episodes"):
                return _error(request, NotFoundError("No episodes yet: run `ordito analyze`."))
            ep = eng.records("SELECT * FROM episodes WHERE episode_id = ?", [episode_id])
            if not ep:
                return _error(request, NotFoundError(f"No episode {episode_id}"))
            frictions = eng.records(
                "SELECT kind, occurred_at, channel, department, severity, detail, evidence::VARCHAR AS evidence "
                "FROM friction WHERE episode_id = ? ORDER BY occurred_at, kind",
                [episode_id],
            )
            contacts = eng.records(
                "SELECT occurred_at, channel, department, assisted, answered, wait_seconds, handle_seconds, "
                "transferred, n_contact, repeat_within_window FROM episode_contacts WHERE episode_id = ? "
                "ORDER BY occurred_at, seq",
                [episode_id],
            )
            first = eng.scalar(
                "SELECT e.seq FROM episode_events ee JOIN events e ON e.seq = ee.seq WHERE ee.episode_id = ? "
                "ORDER BY e.occurred_at, e.seq LIMIT 1",
                [episode_id],
            )
        clear = principal.can("identifiers.unmasked")
        for fr in frictions:
            fr["detail"] = fr["detail"] if clear or not fr["detail"] else mask_text(fr["detail"])
            try:
                fr["n_evidence"] = len(json.loads(fr["evidence"] or "[]"))
            except ValueError:
                fr["n_evidence"] = 0
        for c in contacts:
            c["wait"] = secs.duration(c["wait_seconds"]) if c["wait_seconds"] is not None else ""
            c["handle"] = secs.duration(c["handle_seconds"]) if c["handle_seconds"] is not None else ""
        e = ep[0]
        _audit(request, principal, "view_episode", e["customer_key"], f"episode={episode_id}")
        return shell.render(
            request,
            "an_episode.html",
            {
                "e": e,
                "frictions": frictions,
                "contacts": contacts,
                "first_seq": first,
                "astatic": astatic,
                "back": _back(request),
            },
        )

    return r


def _back(request: Request) -> str | None:
    """Where the visitor came from, when it is a page of this site (a path, never another origin)."""
    ref = urlsplit(request.headers.get("referer") or "")
    if ref.netloc != request.headers.get("host", "") or not ref.path:
        return None
    return shell.safe_next(ref.path + (f"?{ref.query}" if ref.query else ""))
