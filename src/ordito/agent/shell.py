"""The web app's shell, shared by the agent workspace and the analyst pages: layout, navigation, sign-in,
static assets, error pages.

Pages are server-rendered with Jinja2 and enhanced with htmx (shipped in ``static/``, no CDN). A module
that adds pages (the analyst view, say) does three things::

    from ordito.agent import shell
    shell.add_templates("ordito.report", "templates")                # its own templates, found by name
    shell.add_nav("Analytics", "/analytics", "analytics.read", order=20)
    router = APIRouter(); ...; return shell.render(request, "analytics.html", {...})  # extends "base.html"

and includes its router in the app (``ordito.agent.app.install(app, routers=[...])``). Every page gets
``principal``, ``nav`` (the entries the role may see), ``csrf`` and ``static()``; ``base.html`` has the
blocks ``title``, ``main`` and ``aside``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from .._version import __version__
from ..errors import AuthError, RequestError
from .auth import Principal
from .security import (
    AUDIT_PAGE,
    COOKIE,
    USERS_PAGE,
    LoginRequired,
    PageForbidden,
    TokenRequired,
    client_of,
    principal_of,
    state_of,
)

HERE = Path(__file__).parent
STATIC = HERE / "static"

#: what every HTML response carries: no inline script, nothing from elsewhere, no framing
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


@dataclass(frozen=True)
class NavItem:
    label: str
    path: str
    permission: str
    order: int = 50


_NAV: list[NavItem] = []
_LOADERS: list[jinja2.BaseLoader] = [jinja2.FileSystemLoader(str(HERE / "templates"))]
_env: jinja2.Environment | None = None


def add_nav(label: str, path: str, permission: str, order: int = 50) -> None:
    """Add an entry to the navigation bar, shown to roles with ``permission`` (idempotent)."""
    item = NavItem(label, path, permission, order)
    if item not in _NAV:
        _NAV.append(item)
        _NAV.sort(key=lambda n: (n.order, n.label))


def add_templates(package: str, folder: str = "templates") -> None:
    """Make a package's template folder visible to :func:`render` (before the first render)."""
    global _env
    _LOADERS.append(jinja2.PackageLoader(package, folder))
    _env = None


def _fmt_ts(value: Any, fmt: str = "%Y-%m-%d %H:%M") -> str:
    if isinstance(value, dt.datetime | dt.date):
        return value.strftime(fmt)
    return "" if value is None else str(value)


def _fmt_money(value: float) -> str:
    return f"{value:,.2f}"


def env() -> jinja2.Environment:
    global _env
    if _env is None:
        e = jinja2.Environment(
            loader=jinja2.ChoiceLoader(list(_LOADERS)),
            autoescape=jinja2.select_autoescape(default=True, default_for_string=True),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
        )
        e.filters["ts"] = _fmt_ts
        e.filters["money"] = _fmt_money
        e.globals["version"] = __version__
        _env = e
    return _env


def static_url(name: str) -> str:
    """``/static/name?v=<version>``, so a new release is never served from a stale browser cache."""
    return f"/static/{name}?v={__version__}"


def render(
    request: Request,
    template: str,
    context: dict[str, Any] | None = None,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
) -> HTMLResponse:
    """Render a page (or, for an htmx request, whatever fragment the template is) with the shell's context."""
    try:
        principal = principal_of(request)
    except AuthError:
        principal = None
    ctx: dict[str, Any] = {
        "request": request,
        "principal": principal,
        "nav": [n for n in _NAV if principal is not None and principal.can(n.permission)],
        "csrf": state_of(request).authority.csrf(principal) if principal else "",
        "static": static_url,
        "path": request.url.path,
        "htmx": request.headers.get("hx-request") == "true",
    }
    ctx.update(context or {})
    html = env().get_template(template).render(ctx)
    resp = HTMLResponse(html, status_code=status)
    for k, v in SECURITY_HEADERS.items():
        resp.headers[k] = v
    for k, v in (headers or {}).items():
        resp.headers[k] = v
    return resp


async def form_of(request: Request, limit: int = 8192) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (small forms only; no multipart needed)."""
    body = await request.body()
    if len(body) > limit:
        raise RequestError("form too large")
    return {k: v[0] for k, v in parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True).items()}


def safe_next(target: str | None) -> str:
    """Only same-site paths: ``/customers/x`` yes, ``//evil.example`` or ``https://...`` no."""
    if not target:
        return "/"
    parts = urlsplit(target)
    if (
        parts.scheme
        or parts.netloc
        or not target.startswith("/")
        or target.startswith("//")
        or "\\" in target
    ):
        return "/"
    return target


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    if not origin or origin == "null":
        return origin is None
    o = urlsplit(origin)
    return o.netloc == request.headers.get("host", "")


def router() -> APIRouter:
    r = APIRouter(include_in_schema=False)

    @r.get("/login")
    def login_page(request: Request, next: str = "/") -> Response:
        try:
            p = principal_of(request)
        except AuthError:
            p = None
        if p is not None:
            return RedirectResponse(safe_next(next), status_code=303)
        return render(request, "login.html", {"next": safe_next(next), "error": None, "name": ""})

    @r.post("/login")
    async def login(request: Request) -> Response:
        form = await form_of(request)
        nxt = safe_next(form.get("next"))
        name = form.get("name", "")
        st = state_of(request)
        if not _same_origin(request):
            return render(
                request,
                "login.html",
                {"next": nxt, "error": "Cross-site sign-in refused.", "name": name},
                status=403,
            )
        try:
            from starlette.concurrency import run_in_threadpool

            cookie, user = await run_in_threadpool(
                st.authority.login, name, form.get("password", ""), client_of(request)
            )
        except AuthError as exc:
            st.audit.record(
                None,
                "sign_in_failed",
                detail=f"user={name[:64]}",
                client=client_of(request),
                path="/login",
                via="password",
            )
            return render(
                request, "login.html", {"next": nxt, "error": exc.message, "name": name}, status=401
            )
        st.audit.record(Principal(user, "session"), "sign_in", client=client_of(request), path="/login")
        resp = RedirectResponse(nxt, status_code=303)
        resp.set_cookie(
            COOKIE,
            cookie,
            max_age=int(st.authority.session_hours * 3600),
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
            path="/",
        )
        return resp

    @r.post("/logout")
    async def logout(request: Request) -> Response:
        form = await form_of(request)
        st = state_of(request)
        p = principal_of(request)
        if p is not None:
            st.authority.check_csrf(p, form.get("csrf"))
            st.authority.logout(request.cookies.get(COOKIE))
            st.audit.record(p, "sign_out", client=client_of(request), path="/logout")
        resp = RedirectResponse("/login", status_code=303)
        resp.delete_cookie(COOKIE, path="/")
        return resp

    @r.get("/admin/users")
    def admin_users(request: Request, principal: Principal = Depends(USERS_PAGE)) -> Response:
        from .auth import list_tokens, list_users

        st = state_of(request)
        with st.engine() as eng:
            users = list_users(eng)
            tokens = list_tokens(eng)
        return render(request, "admin_users.html", {"users": users, "tokens": tokens})

    @r.get("/admin/audit")
    def admin_audit(
        request: Request,
        principal: Principal = Depends(AUDIT_PAGE),
        user: str | None = None,
        customer: str | None = None,
    ) -> Response:
        st = state_of(request)
        st.audit.flush()
        where, params = [], []
        if user:
            where.append("user_name = ?")
            params.append(user)
        if customer:
            where.append("customer_key = ?")
            params.append(customer)
        cond = ("WHERE " + " AND ".join(where)) if where else ""
        with st.engine() as eng:
            rows = eng.records(
                f"SELECT logged_at AS at, user_name, role, via, action, customer_key, detail, client FROM audit_log {cond} "
                "ORDER BY logged_at DESC LIMIT 300",
                params,
            )
        st.audit.record(
            principal,
            "read_audit_log",
            detail=f"user={user or ''} customer={customer or ''}",
            client=client_of(request),
            path=request.url.path,
        )
        return render(
            request, "admin_audit.html", {"rows": rows, "user": user or "", "customer": customer or ""}
        )

    return r


def install_error_pages(app: Any) -> None:
    """Pages answer a missing session with the log-in page and a refusal with an HTML page."""

    async def login_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, LoginRequired)
        if request.headers.get("hx-request") == "true":
            return Response(status_code=401, headers={"HX-Redirect": f"/login?next={exc.next_url}"})
        from urllib.parse import quote

        return RedirectResponse(f"/login?next={quote(exc.next_url, safe='/')}", status_code=303)

    async def forbidden(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, PageForbidden)
        return render(request, "error.html", {"status": 403, "message": exc.message}, status=403)

    async def token_required(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, TokenRequired)
        from ..api.errors import error_body, json_response

        return json_response(
            error_body(401, exc.message, code="unauthorized"),
            401,
            {"WWW-Authenticate": 'Bearer realm="ordito"'},
        )

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(PageForbidden, forbidden)
    app.add_exception_handler(TokenRequired, token_required)


add_nav("Customers", "/", "customer.search", order=10)
add_nav("Users", "/admin/users", "users.manage", order=80)
add_nav("Audit log", "/admin/audit", "audit.read", order=90)
