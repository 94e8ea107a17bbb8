"""The ordito HTTP API: live ingestion speaking the Segment tracking spec (see docs/API.md).

``create_app(workspace)`` builds the FastAPI app; ``serve(path, host, port)`` runs it with uvicorn;
``ordito.api.keys`` manages write keys.
"""

from __future__ import annotations

from .app import create_app
from .keys import create_write_key, list_write_keys, revoke_write_key
from .server import serve

__all__ = ["create_app", "create_write_key", "list_write_keys", "revoke_write_key", "serve"]
