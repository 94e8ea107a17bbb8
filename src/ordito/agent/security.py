"""Request-time access control: who is asking (API token or session cookie), what they may do, and the
audit of every customer read. FastAPI dependencies, shared by the JSON API and the web pages.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from fastapi import Request

from ..errors import AuthError, ForbiddenError
from .auth import Principal, redact

if TYPE_CHECKING:
    from .state import AgentState

COOKIE = "ordito_session"


class TokenRequired(AuthError):
    """401 for the JSON API: answered with ``WWW-Authenticate: Bearer``."""

    code = "unauthorized"


class LoginRequired(AuthError):
    """401 for a page: answered with a redirect to the log-in page."""

    def __init__(self, next_url: str) -> None:
        super().__init__("Please sign in")
        self.next_url = next_url


class PageForbidden(ForbiddenError):
    """403 for a page: answered with an HTML page."""


def state_of(request: Request) -> AgentState:
    st: AgentState = request.app.state.agent
    return st


def client_of(request: Request) -> str | None:
    return request.client.host if request.client else None


def principal_of(request: Request) -> Principal | None:
    """The caller: a Bearer API token wins over the session cookie. A bad token is an error, not anonymity."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    st = state_of(request)
    header = request.headers.get("authorization")
    p: Principal | None
    if header and header[:7].lower() == "bearer ":
        p = st.authority.token(header[7:].strip())
        if p is None:
            raise TokenRequired("Invalid, expired or revoked API token")
    else:
        p = st.authority.session(request.cookies.get(COOKIE))
    if p is not None:
        request.state.principal = p
    return p


def require(permission: str) -> Callable[[Request], Principal]:
    """Dependency for the JSON API: 401 without credentials, 403 without the permission."""

    def dep(request: Request) -> Principal:
        p = principal_of(request)
        if p is None:
            raise TokenRequired("Send an API token (Authorization: Bearer ordt_...) or sign in")
        p.require(permission)
        return p

    return dep


def require_page(permission: str) -> Callable[[Request], Principal]:
    """Dependency for pages: a redirect to the log-in page without a session, an HTML 403 without the
    permission."""

    def dep(request: Request) -> Principal:
        try:
            p = principal_of(request)
        except TokenRequired:
            p = None
        if p is None:
            path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(path)
        if not p.can(permission):
            raise PageForbidden(f"Your role ({p.role}) may not see this page")
        return p

    return dep


def audit_api(action: str) -> Callable[[Request], None]:
    """Dependency recording a read through the JSON API (runs after the permission check)."""

    def dep(request: Request) -> None:
        p = principal_of(request)
        key = request.path_params.get("key")
        detail = redact(request.url.query) if request.url.query else None
        state_of(request).audit.record(
            p, action, key, detail=_mask_query(detail), client=client_of(request), path=request.url.path
        )

    return dep


def _mask_query(q: str | None) -> str | None:
    """Query strings of look-ups name identifiers: keep their kind and a hint, not the value."""
    if not q:
        return q
    from urllib.parse import parse_qsl

    parts = []
    for k, v in parse_qsl(q, keep_blank_values=True):
        if k in ("email", "phone", "id", "q"):
            v = (v[:2] + "…" + v[-2:]) if len(v) > 6 else "…"
        parts.append(f"{k}={v}")
    return "&".join(parts)


class RedactingFilter(logging.Filter):
    """A logging filter that removes secrets (tokens, passwords, credentials) from every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            msg = record.getMessage()
        except Exception:
            return True
        clean = redact(msg)
        if clean != msg:
            record.msg, record.args = clean, None
        return True


def install_log_redaction(
    names: tuple[str, ...] = ("", "uvicorn", "uvicorn.access", "uvicorn.error", "ordito"),
) -> None:
    """Attach :class:`RedactingFilter` to these loggers and their handlers (idempotent)."""
    for name in names:
        lg = logging.getLogger(name)
        targets: list[Any] = [lg, *lg.handlers]
        for t in targets:
            if not any(isinstance(f, RedactingFilter) for f in t.filters):
                t.addFilter(RedactingFilter())


#: the dependencies routes use (module-level: one object per permission)
SEARCH_PAGE = require_page("customer.search")
READ_PAGE = require_page("customer.read")
USERS_PAGE = require_page("users.manage")
AUDIT_PAGE = require_page("audit.read")
CONTEXT_API = require("context.read")
CUSTOMERS_API = require("customers.api")
