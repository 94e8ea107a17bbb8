"""One exception tree for ordito.

Every error a user can meet is an ``OrditoError``; the CLI prints it as one clear line and the API renders
it as ``{"ok": false, "error": ..., "status": ...}`` with the class's HTTP ``status``.

* OrditoError
  + ConfigError            bad setting or workspace path
  + WorkspaceLockedError   another process holds the workspace for writing
  + MappingError           a mapping is invalid or names a column the file does not have
  + InputError             a file cannot be read at all (missing, unsupported format)
  + StoreError             a statement failed in the engine (carries the SQL)
  + NotFoundError          no such customer / record (404)
  + AuthError              missing or wrong credentials (401)
  + ForbiddenError         authenticated, but not allowed (403)
  + RequestError           an API request that does not follow the spec (400)
"""

from __future__ import annotations


class OrditoError(Exception):
    """Base class of every error ordito raises on purpose."""

    status: int = 500

    def __init__(self, message: str, *, errors: list[str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.errors = errors or []

    def __str__(self) -> str:
        if not self.errors:
            return self.message
        return self.message + "".join(f"\n  - {e}" for e in self.errors)


class ConfigError(OrditoError):
    status = 400


class WorkspaceLockedError(OrditoError):
    status = 409


class MappingError(OrditoError):
    status = 400


class InputError(OrditoError):
    status = 400


class StoreError(OrditoError):
    status = 500

    def __init__(self, message: str, *, sql: str | None = None) -> None:
        super().__init__(message)
        self.sql = sql


class NotFoundError(OrditoError):
    status = 404


class AuthError(OrditoError):
    status = 401


class ForbiddenError(OrditoError):
    status = 403


class RequestError(OrditoError):
    status = 400


__all__ = [
    "AuthError",
    "ConfigError",
    "ForbiddenError",
    "InputError",
    "MappingError",
    "NotFoundError",
    "OrditoError",
    "RequestError",
    "StoreError",
    "WorkspaceLockedError",
]
