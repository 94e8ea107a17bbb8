"""Write keys: who may send events to ``ordito serve``, and as which source.

A write key is shown once, when created; the workspace keeps only its SHA-256. Each key names the source
its events are stored under and the namespace of its ``userId`` values (``customer_id`` identifiers are
namespaced: ``shop:123`` is not ``crm:123``); the namespace defaults to the source name.

Examples:
    >>> from ordito import Workspace                                      # doctest: +SKIP
    >>> ws = Workspace("demo/ordito.duckdb")                              # doctest: +SKIP
    >>> key = create_write_key(ws, "web", namespace="shop", label="site")  # doctest: +SKIP
    >>> [k.source for k in list_write_keys(ws)]                           # doctest: +SKIP
    ['web']
    >>> revoke_write_key(ws, key)                                         # doctest: +SKIP
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
import string
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ..errors import ConfigError, NotFoundError
from ..store.base import Engine

if TYPE_CHECKING:
    from ..workspace import Workspace

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ALPHABET = string.ascii_letters + string.digits
KEY_LENGTH = 32  # like Segment's write keys


@dataclass(frozen=True)
class WriteKey:
    key_sha: str
    source: str
    namespace: str
    label: str | None
    created_at: dt.datetime
    revoked_at: dt.datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    def get(self, name: str, default: Any = None) -> Any:
        """Record-style access (``k.get("source")``), for callers that treat keys as rows."""
        return getattr(self, name, default)


def key_sha(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def _check_name(value: str, what: str) -> str:
    if not _NAME.match(value):
        raise ConfigError(
            f"{what} {value!r} must start with a letter or digit and use only letters, digits, '_', '.', '-'"
        )
    return value


def create_write_key(
    ws: Workspace, source: str, namespace: str | None = None, label: str | None = None
) -> str:
    """Create a write key for ``source``; returns the plain key (shown once, stored hashed).

    Args:
        ws: the workspace.
        source: the source name the key's events are stored under (``events.source``).
        namespace: the namespace of the key's ``userId`` values; defaults to ``source``.
        label: free text to recognise the key by (where it is deployed).
    """
    _check_name(source, "Source name")
    ns = _check_name(namespace or source, "Namespace")
    key = "".join(secrets.choice(_ALPHABET) for _ in range(KEY_LENGTH))
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ws.engine.execute(
        "INSERT INTO write_keys (key_sha, source, label, created_at, revoked_at, user_namespace) "
        "VALUES (?, ?, ?, ?, NULL, ?)",
        [key_sha(key), source, label, now, ns],
    )
    return key


def _rows(eng: Engine, where: str = "", params: list[Any] | None = None) -> list[WriteKey]:
    rows = eng.execute(
        "SELECT key_sha, source, coalesce(user_namespace, source), label, created_at, revoked_at "
        f"FROM write_keys {where} ORDER BY created_at, key_sha",
        params,
    )
    return [WriteKey(*r) for r in rows]


def list_write_keys(ws: Workspace, *, include_revoked: bool = False) -> list[WriteKey]:
    """The workspace's write keys (hashes only), oldest first."""
    return _rows(ws.engine, "" if include_revoked else "WHERE revoked_at IS NULL")


def revoke_write_key(ws: Workspace, key: str) -> WriteKey:
    """Revoke a key, given as the plain key or as its SHA-256 (or a unique prefix of 8+ hex digits).

    The server stops accepting it within a second. Raises NotFoundError when nothing matches.
    """
    candidates = [k for k in _rows(ws.engine) if k.key_sha == key_sha(key)]
    if not candidates and len(key) >= 8 and all(c in string.hexdigits for c in key):
        candidates = [k for k in _rows(ws.engine) if k.key_sha.startswith(key.lower())]
    if not candidates:
        raise NotFoundError("No write key matches (give the key itself or its sha256 from `list`)")
    if len(candidates) > 1:
        raise ConfigError(f"{len(candidates)} keys start with {key!r}: give more digits")
    k = candidates[0]
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    ws.engine.execute(
        "UPDATE write_keys SET revoked_at = coalesce(revoked_at, ?) WHERE key_sha = ?", [now, k.key_sha]
    )
    return _rows(ws.engine, "WHERE key_sha = ?", [k.key_sha])[0]


class KeyRing:
    """The server's view of the active keys: a dict in memory, refreshed from the workspace.

    Looking a key up never touches the store on the request path; an unknown key triggers at most one
    refresh per ``min_interval`` seconds (so a key created a moment ago works, and random keys cost
    nothing), and the loader refreshes it every cycle (so a revoked key stops within about a second).
    """

    def __init__(self, eng: Engine, min_interval: float = 0.5) -> None:
        self._eng = eng
        self._keys: dict[str, WriteKey] = {}
        self._lock = threading.Lock()
        self._last = 0.0
        self.min_interval = min_interval

    def refresh(self) -> None:
        with self._lock:
            rows = _rows(self._eng, "WHERE revoked_at IS NULL")
            self._keys = {k.key_sha: k for k in rows}
            self._last = time.monotonic()

    def get(self, key: str) -> WriteKey | None:
        return self._keys.get(key_sha(key))

    def close(self) -> None:
        with self._lock:
            self._eng.close()

    def stale(self) -> bool:
        return time.monotonic() - self._last >= self.min_interval

    def lookup(self, key: str) -> WriteKey | None:
        """Look up, refreshing once if unknown and the cache is older than ``min_interval``."""
        found = self.get(key)
        if found is None and self.stale():
            self.refresh()
            found = self.get(key)
        return found
