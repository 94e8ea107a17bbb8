"""The analyst pages of the web app (``ordito serve``, /analytics): the report's views with filters and
drill-down to episodes and on to the customer's timeline. Roles analyst and admin (``analytics.read``).

The numbers come from :mod:`ordito.report` (one implementation for the report and the pages); this
package adds the routes, the page templates and the static files (Plotly.js from the ``plotly`` wheel).
See docs/REPORT.md.
"""

from __future__ import annotations

from .routes import router

__all__ = ["router"]
