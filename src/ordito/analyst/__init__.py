"""The analyst pages of the web app (``ordito serve``, /analytics): the report's views with filters and
drill-down to episodes and on to the customer's timeline. Roles analyst and admin (``analytics.read``).

The numbers come from :mod:`ordito.report` (one implementation for the report and the pages); this
package adds the routes, the page templates and the static files (Plotly.js from the ``plotly`` wheel).
See docs/REPORT.md.
"""

from __future__ import annotations

from ..store.base import Engine
from .routes import router

__all__ = ["DEMO_ANALYST", "demo_login", "router"]


DEMO_ANALYST = "demo-analyst"


def demo_login(eng: Engine) -> tuple[str, str]:
    """A fresh password for the demo analyst ``demo-analyst`` (created, re-enabled, or its password
    replaced), printed by ``ordito serve --demo`` beside the demo agent's."""
    from ..agent.auth import demo_login as demo_user

    return demo_user(eng, DEMO_ANALYST, "analyst", "Demo analyst")
