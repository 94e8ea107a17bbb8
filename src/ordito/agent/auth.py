"""Who may see what: users and roles, passwords, API tokens for systems, web sessions.

* A **user** is a person (kind ``person``: signs in with a password) or a system (kind ``system``:
  telephony, chat; uses API tokens). Each has one role:

  ========  ============================================================================================
  agent     search customers, see a customer (identifiers masked beyond the contact's), brief,
            knowledge suggestions, screen pop (``/v1/context``)
  analyst   everything an agent reads (identifiers all masked) plus the analyst pages
  admin     everything, identifiers unmasked, the raw customer API (``/v1/customers``), users and the
            audit log
  ========  ============================================================================================

* **Passwords** are hashed with scrypt (``hashlib.scrypt``, standard library; N=2^14, r=8, p=1, 16-byte
  salt), compared in constant time.
* **API tokens** (``ordt_`` + 40 random characters) are shown once; the workspace keeps their SHA-256
  and an 8-character prefix to recognise them by.
* **Sessions**: a random id in a cookie signed with HMAC-SHA256 (the key lives in ``PATH.d/session.key``,
  mode 0600); the workspace keeps the id's SHA-256, so log-out and disabling a user end it at once.

Secrets (passwords, tokens, session ids, the signing key) never reach a log: see :func:`redact`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import os
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import AuthError, ConfigError, ForbiddenError, NotFoundError
from ..store.base import Engine

ROLES = ("agent", "analyst", "admin")
KINDS = ("person", "system")

#: What each role may do. ``identifiers.unmasked``: see every identifier in clear.
PERMISSIONS: dict[str, frozenset[str]] = {
    "agent": frozenset({"customer.search", "customer.read", "context.read", "knowledge.read"}),
    "analyst": frozenset({"customer.search", "customer.read", "knowledge.read", "analytics.read"}),
    "admin": frozenset(
        {
            "customer.search",
            "customer.read",
            "context.read",
            "knowledge.read",
            "analytics.read",
            "identifiers.unmasked",
            "customers.api",
            "users.manage",
            "audit.read",
        }
    ),
}

TOKEN_PREFIX = "ordt_"
_TOKEN_ALPHABET = string.ascii_letters + string.digits
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.@-]{0,63}$")
SESSION_HOURS = 12.0
MIN_PASSWORD = 10

# scrypt: 16 MiB and ~50 ms per hash on this machine; the parameters are stored with each hash
_N, _R, _P, _DKLEN = 2**14, 8, 1, 32


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


# --- passwords -----------------------------------------------------------------------------------


def hash_password(password: str) -> str:
    """``scrypt$N$r$p$salt$hash`` (base64 without padding)."""
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=_N, r=_R, p=_P, dklen=_DKLEN)
    b64 = base64.b64encode
    return f"scrypt${_N}${_R}${_P}${b64(salt).decode()}${b64(digest).decode()}"


def verify_password(password: str, stored: str | None) -> bool:
    if not stored:
        # same work as a real check, so a missing user cannot be told apart by timing
        hashlib.scrypt(b"x", salt=b"0" * 16, n=_N, r=_R, p=_P, dklen=_DKLEN)
        return False
    try:
        algo, n, r, p, salt, digest = stored.split("$")
        if algo != "scrypt":
            return False
        got = hashlib.scrypt(
            password.encode("utf-8"),
            salt=base64.b64decode(salt),
            n=int(n),
            r=int(r),
            p=int(p),
            dklen=len(base64.b64decode(digest)),
            maxmem=256 * 1024 * 1024,
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(got, base64.b64decode(digest))


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise ConfigError(f"A password needs at least {MIN_PASSWORD} characters")


def generate_password(length: int = 16) -> str:
    return "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(length))


def sha256(value: str) -> str:
    return hashlib.sha256(value.encode("utf-8")).hexdigest()


# --- users ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    name: str
    display_name: str | None
    role: str
    kind: str
    created_at: dt.datetime
    disabled_at: dt.datetime | None = None
    last_login_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.disabled_at is None

    def can(self, permission: str) -> bool:
        return permission in PERMISSIONS.get(self.role, frozenset())


_USER_COLS = "name, display_name, role, kind, created_at, disabled_at, last_login_at"


def _check_name(name: str) -> str:
    n = name.strip().lower()
    if not _NAME.match(n):
        raise ConfigError(
            f"User name {name!r}: lower-case letters, digits and _ . @ - only (at most 64 characters)"
        )
    return n


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ConfigError(f"Role {role!r} is not one of {', '.join(ROLES)}")
    return role


def add_user(
    eng: Engine,
    name: str,
    role: str,
    *,
    password: str | None = None,
    kind: str = "person",
    display_name: str | None = None,
) -> User:
    """Create a user. A person needs a password (at least 10 characters); a system has none."""
    n = _check_name(name)
    _check_role(role)
    if kind not in KINDS:
        raise ConfigError(f"Kind {kind!r} is not one of {', '.join(KINDS)}")
    if eng.one("SELECT 1 FROM users WHERE name = ?", [n]):
        raise ConfigError(f"User {n!r} already exists")
    pw_hash = None
    if kind == "person":
        if password is None:
            raise ConfigError("A person needs a password")
        check_password_strength(password)
        pw_hash = hash_password(password)
    elif password is not None:
        raise ConfigError("A system user has no password: give it an API token (`ordito user token`)")
    eng.execute(
        "INSERT INTO users (name, display_name, role, kind, password_hash, created_at) VALUES (?, ?, ?, ?, ?, ?)",
        [n, display_name, role, kind, pw_hash, _now()],
    )
    return get_user(eng, n)


def get_user(eng: Engine, name: str) -> User:
    row = eng.one(f"SELECT {_USER_COLS} FROM users WHERE name = ?", [name.strip().lower()])
    if row is None:
        raise NotFoundError(f"No user {name!r}")
    return User(*row)


def list_users(eng: Engine) -> list[User]:
    return [User(*r) for r in eng.execute(f"SELECT {_USER_COLS} FROM users ORDER BY name")]


def set_password(eng: Engine, name: str, password: str) -> None:
    user = get_user(eng, name)
    if user.kind != "person":
        raise ConfigError(f"{user.name} is a system user: it signs in with API tokens")
    check_password_strength(password)
    eng.execute("UPDATE users SET password_hash = ? WHERE name = ?", [hash_password(password), user.name])
    eng.execute(
        "UPDATE web_sessions SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL",
        [_now(), user.name],
    )


def set_role(eng: Engine, name: str, role: str) -> User:
    user = get_user(eng, name)
    eng.execute("UPDATE users SET role = ? WHERE name = ?", [_check_role(role), user.name])
    return get_user(eng, user.name)


def disable_user(eng: Engine, name: str) -> User:
    """Disable a user: sign-in, sessions and tokens stop working (within a second on a running server)."""
    user = get_user(eng, name)
    now = _now()
    eng.execute("UPDATE users SET disabled_at = coalesce(disabled_at, ?) WHERE name = ?", [now, user.name])
    eng.execute(
        "UPDATE web_sessions SET revoked_at = ? WHERE user_name = ? AND revoked_at IS NULL", [now, user.name]
    )
    return get_user(eng, user.name)


def enable_user(eng: Engine, name: str) -> User:
    user = get_user(eng, name)
    eng.execute("UPDATE users SET disabled_at = NULL WHERE name = ?", [user.name])
    return get_user(eng, user.name)


def authenticate(eng: Engine, name: str, password: str) -> User:
    """The user, when the password is right and the user is an active person; AuthError otherwise."""
    n = name.strip().lower()
    row = eng.one(f"SELECT {_USER_COLS}, password_hash FROM users WHERE name = ?", [n])
    ok = verify_password(password, row[-1] if row else None)
    if row is None or not ok:
        raise AuthError("Wrong user name or password")
    user = User(*row[:-1])
    if not user.active or user.kind != "person":
        raise AuthError("Wrong user name or password")
    eng.execute("UPDATE users SET last_login_at = ? WHERE name = ?", [_now(), user.name])
    return user


# --- API tokens ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Token:
    prefix: str
    user_name: str
    label: str | None
    created_at: dt.datetime
    expires_at: dt.datetime | None
    revoked_at: dt.datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > _now())


def create_token(eng: Engine, user_name: str, *, label: str | None = None, days: float | None = None) -> str:
    """A new API token for ``user_name``; returns it in clear (shown once, stored as SHA-256)."""
    user = get_user(eng, user_name)
    if not user.active:
        raise ConfigError(f"User {user.name} is disabled")
    token = TOKEN_PREFIX + "".join(secrets.choice(_TOKEN_ALPHABET) for _ in range(40))
    expires = _now() + dt.timedelta(days=days) if days else None
    eng.execute(
        "INSERT INTO api_tokens (token_sha, prefix, user_name, label, created_at, expires_at) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [sha256(token), token[: len(TOKEN_PREFIX) + 8], user.name, label, _now(), expires],
    )
    return token


def list_tokens(eng: Engine, user_name: str | None = None) -> list[Token]:
    where, params = ("WHERE user_name = ?", [user_name.strip().lower()]) if user_name else ("", [])
    return [
        Token(*r)
        for r in eng.execute(
            f"SELECT prefix, user_name, label, created_at, expires_at, revoked_at FROM api_tokens {where} "
            "ORDER BY created_at, prefix",
            params,
        )
    ]


def revoke_token(eng: Engine, token_or_prefix: str) -> Token:
    """Revoke a token given in clear or by its prefix (``ordt_`` + 8 characters, as `list` shows)."""
    t = token_or_prefix.strip()
    rows = eng.execute("SELECT token_sha FROM api_tokens WHERE token_sha = ?", [sha256(t)])
    if not rows:
        rows = eng.execute("SELECT token_sha FROM api_tokens WHERE prefix = ?", [t])
    if not rows:
        raise NotFoundError("No API token matches (give the token or its prefix from `ordito user tokens`)")
    if len(rows) > 1:
        raise ConfigError(f"{len(rows)} tokens share the prefix {t!r}: give the token itself")
    eng.execute(
        "UPDATE api_tokens SET revoked_at = coalesce(revoked_at, ?) WHERE token_sha = ?", [_now(), rows[0][0]]
    )
    row = eng.one(
        "SELECT prefix, user_name, label, created_at, expires_at, revoked_at FROM api_tokens WHERE token_sha = ?",
        [rows[0][0]],
    )
    assert row is not None
    return Token(*row)


# --- the server's view: principals, sessions, caches ---------------------------------------------


@dataclass(frozen=True)
class Principal:
    """Who is asking: a user, how they authenticated (``session`` or ``token``), and the session id hash."""

    user: User
    via: str
    session_sha: str | None = None

    @property
    def name(self) -> str:
        return self.user.name

    @property
    def role(self) -> str:
        return self.user.role

    def can(self, permission: str) -> bool:
        return self.user.active and self.user.can(permission)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise ForbiddenError(f"Your role ({self.role}) may not do this ({permission})")


def session_key(workspace_path: Path | str | None) -> bytes:
    """The HMAC key that signs session cookies: ``PATH.d/session.key`` (created 0600), or random in memory."""
    from ..settings import sidecar_dir

    if workspace_path is None or str(workspace_path) == ":memory:":
        return os.urandom(32)
    f = sidecar_dir(Path(workspace_path)) / "session.key"
    try:
        data = f.read_bytes()
        if len(data) >= 32:
            return data
    except FileNotFoundError:
        pass
    f.parent.mkdir(parents=True, exist_ok=True)
    key = os.urandom(32)
    fd = os.open(f, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key)
        os.fsync(fd)
    finally:
        os.close(fd)
    return key


class Authority:
    """Authenticates requests for a running server: sessions and tokens, cached for a second or two.

    The request path never waits on the store for a known token or session: each is looked up once and
    re-checked every ``ttl`` seconds (so a revoked token or a disabled user stops working within ``ttl``).
    """

    def __init__(
        self, eng: Engine, key: bytes, *, ttl: float = 2.0, session_hours: float = SESSION_HOURS
    ) -> None:
        self._eng = eng
        self._key = key
        self.ttl = ttl
        self.session_hours = session_hours
        self._lock = threading.Lock()
        self._tokens: dict[str, tuple[float, User | None]] = {}
        self._sessions: dict[str, tuple[float, User | None]] = {}
        self._failures: dict[str, tuple[int, float]] = {}

    # signing -------------------------------------------------------------------------------------

    def sign(self, value: str) -> str:
        mac = hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).digest()
        return value + "." + base64.urlsafe_b64encode(mac).decode().rstrip("=")

    def unsign(self, signed: str) -> str | None:
        value, _, mac = signed.rpartition(".")
        if not value:
            return None
        good = self.sign(value).rpartition(".")[2]
        return value if hmac.compare_digest(good, mac) else None

    # sessions ------------------------------------------------------------------------------------

    def login(self, name: str, password: str, client: str | None = None) -> tuple[str, User]:
        """Check the password (with a back-off after failures); returns (signed cookie value, user)."""
        k = name.strip().lower()
        with self._lock:
            n, until = self._failures.get(k, (0, 0.0))
        if until > time.monotonic():
            raise AuthError("Too many failed attempts: wait a little and try again")
        with self._lock:
            eng = self._eng.cursor() if hasattr(self._eng, "cursor") else self._eng
        try:
            try:
                user = authenticate(eng, name, password)
            except AuthError:
                with self._lock:
                    n += 1
                    # from the fifth failure on, wait 2, 4, 8... seconds (at most 5 minutes)
                    wait = min(300.0, 2.0 ** (n - 4)) if n >= 5 else 0.0
                    self._failures[k] = (n, time.monotonic() + wait)
                raise
            with self._lock:
                self._failures.pop(k, None)
            sid = secrets.token_urlsafe(32)
            now = _now()
            eng.execute(
                "INSERT INTO web_sessions (session_sha, user_name, created_at, expires_at, client) "
                "VALUES (?, ?, ?, ?, ?)",
                [sha256(sid), user.name, now, now + dt.timedelta(hours=self.session_hours), client],
            )
        finally:
            if eng is not self._eng:
                eng.close()
        return self.sign(sid), user

    def logout(self, cookie: str | None) -> None:
        sid = self.unsign(cookie) if cookie else None
        if not sid:
            return
        h = sha256(sid)
        self._write("UPDATE web_sessions SET revoked_at = ? WHERE session_sha = ?", [_now(), h])
        with self._lock:
            self._sessions.pop(h, None)

    def session(self, cookie: str | None) -> Principal | None:
        sid = self.unsign(cookie) if cookie else None
        if not sid:
            return None
        h = sha256(sid)
        user = self._cached(
            self._sessions,
            h,
            f"SELECT {', '.join('u.' + c.strip() for c in _USER_COLS.split(','))} FROM web_sessions s "
            "JOIN users u ON u.name = s.user_name WHERE s.session_sha = ? AND s.revoked_at IS NULL "
            "AND s.expires_at > ? AND u.disabled_at IS NULL",
        )
        return Principal(user, "session", h) if user else None

    def token(self, token: str | None) -> Principal | None:
        if not token or not token.startswith(TOKEN_PREFIX):
            return None
        user = self._cached(
            self._tokens,
            sha256(token),
            f"SELECT {', '.join('u.' + c.strip() for c in _USER_COLS.split(','))} FROM api_tokens t "
            "JOIN users u ON u.name = t.user_name WHERE t.token_sha = ? AND t.revoked_at IS NULL "
            "AND (t.expires_at IS NULL OR t.expires_at > ?) AND u.disabled_at IS NULL",
        )
        return Principal(user, "token") if user else None

    def csrf(self, principal: Principal) -> str:
        """A form token bound to the session (double submit is not needed: the cookie is SameSite)."""
        return self.sign("csrf:" + (principal.session_sha or principal.name)).rpartition(".")[2]

    def check_csrf(self, principal: Principal, value: str | None) -> None:
        if not value or not hmac.compare_digest(self.csrf(principal), value):
            raise ForbiddenError("The form expired: reload the page and try again")

    # helpers -------------------------------------------------------------------------------------

    def _cached(self, cache: dict[str, tuple[float, User | None]], h: str, sql: str) -> User | None:
        now = time.monotonic()
        with self._lock:
            hit = cache.get(h)
        if hit is not None and now - hit[0] < self.ttl:
            return hit[1]
        rows = self._read(sql, [h, _now()])
        user = User(*rows[0]) if rows else None
        with self._lock:
            if len(cache) > 10_000:
                cache.clear()
            cache[h] = (now, user)
        return user

    def _read(self, sql: str, params: list[Any]) -> list[tuple[Any, ...]]:
        eng = self._eng.cursor() if hasattr(self._eng, "cursor") else self._eng
        try:
            return eng.execute(sql, params)
        finally:
            if eng is not self._eng:
                eng.close()

    def _write(self, sql: str, params: list[Any]) -> None:
        self._read(sql, params)


# --- keeping secrets out of logs -------------------------------------------------------------------

_SECRET_PATTERNS = [
    re.compile(re.escape(TOKEN_PREFIX) + r"[A-Za-z0-9]{8,}"),
    re.compile(r"(?i)(password|passwd|secret|token|session)=([^&\s]+)"),
    re.compile(r"(?i)(authorization:\s*)(bearer|basic)\s+\S+"),
]


def redact(text: str) -> str:
    """Remove anything that looks like a token, a password field or credentials from a log line."""
    out = _SECRET_PATTERNS[0].sub(TOKEN_PREFIX + "[redacted]", text)
    out = _SECRET_PATTERNS[1].sub(lambda m: f"{m.group(1)}=[redacted]", out)
    return _SECRET_PATTERNS[2].sub(lambda m: f"{m.group(1)}{m.group(2)} [redacted]", out)


DEMO_USER = "demo"


def demo_login(
    eng: Engine, name: str = DEMO_USER, role: str = "agent", display_name: str = "Demo agent"
) -> tuple[str, str]:
    """A fresh password for a demo user (default: the demo agent ``demo``), created, re-enabled, given the
    role, or its password replaced."""
    password = generate_password(14)
    try:
        user = get_user(eng, name)
    except NotFoundError:
        add_user(eng, name, role, password=password, display_name=display_name)
        return name, password
    if not user.active:
        enable_user(eng, name)
    if user.role != role:
        set_role(eng, name, role)
    set_password(eng, name, password)
    return name, password
    if not user.active:
        enable_user(eng, DEMO_USER)
    if user.role != "agent":
        set_role(eng, DEMO_USER, "agent")
    set_password(eng, DEMO_USER, password)
    return DEMO_USER, password
