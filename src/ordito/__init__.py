"""ordito: every channel's signals become one customer, one timeline, one journey."""

from __future__ import annotations

from ._version import __version__
from .errors import OrditoError

__all__ = ["OrditoError", "Workspace", "__version__"]


def __getattr__(name: str) -> object:
    # Workspace pulls in the engine; keep `import ordito` light for the CLI's --help.
    if name == "Workspace":
        from .workspace import Workspace

        return Workspace
    raise AttributeError(name)
