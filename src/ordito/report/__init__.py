"""``ordito report OUT.html``: one self-contained HTML file (plots embedded, no CDN) of the whole experience.

Sections (sections.py): executive summary, journey map, Sankey of channel transitions, friction heat map,
KPIs per team next to end to end, sentiment and topics over time, funnels per need, data quality. A section
whose stage has not run says so instead of showing a number. ``--pdf`` prints the same page with headless
Chromium.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from ..errors import ConfigError
from ..store.base import Engine
from .filters import Filters
from .sections import build

__all__ = ["Filters", "build", "render_html", "write_pdf", "write_report"]

_TEMPLATES = Path(__file__).parent / "templates"


def _plotly_js() -> str:
    """Plotly.js as shipped inside the ``plotly`` wheel (MIT)."""
    from plotly.offline import get_plotlyjs  # type: ignore[import-untyped]

    js: str = get_plotlyjs()
    return js


def render_html(
    report: dict[str, Any], *, workspace: str = "", title: str = "Customer experience report"
) -> str:
    import jinja2

    from .. import __version__

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(_TEMPLATES)), autoescape=jinja2.select_autoescape(["html", "j2"])
    )
    figures = {
        f"{s['id']}-fig-{i + 1}": fig
        for s in report["sections"]
        if s["available"]
        for i, fig in enumerate(s["figures"])
    }
    # JSON inside <script>: "</" must not close the element
    figures_json = json.dumps(figures, default=str, separators=(",", ":")).replace("</", "<\\/")
    html: str = env.get_template("report.html.j2").render(
        report=report,
        title=title,
        workspace=workspace,
        version=__version__,
        plotly_js=_plotly_js().replace("</script", "<\\/script"),
        figures_json=figures_json,
    )
    return html


def write_report(
    engine: Engine,
    out: str | os.PathLike[str],
    *,
    since: dt.date | None = None,
    until: dt.date | None = None,
    pdf: bool = False,
    workspace: str = "",
    filters: Filters | None = None,
) -> dict[str, Any]:
    """Build the report, write ``out`` (HTML) and, with ``pdf``, ``out`` with a .pdf suffix beside it.

    ``filters`` narrows it as the analyst pages do (channel, department, need, segment; docs/REPORT.md).
    Returns ``{"html": path, "pdf": path or None, "sections": {id: available}}``.
    """
    path = Path(out)
    if path.suffix.lower() not in (".html", ".htm"):
        raise ConfigError(f"{path}: the report is an HTML file; give a name ending in .html")
    path.parent.mkdir(parents=True, exist_ok=True)
    report = build(engine, since, until, filters)
    tmp = path.with_suffix(path.suffix + ".part")
    tmp.write_text(render_html(report, workspace=workspace), encoding="utf-8")
    tmp.replace(path)
    pdf_path = write_pdf(path, path.with_suffix(".pdf")) if pdf else None
    return {
        "html": str(path),
        "pdf": None if pdf_path is None else str(pdf_path),
        "period": report["period"],
        "sections": {s["id"]: s["available"] for s in report["sections"]},
    }


def _chromium() -> str:
    for name in (os.environ.get("ORDITO_CHROMIUM", ""), "/usr/bin/chromium", "chromium", "chromium-browser"):
        if name and (found := shutil.which(name)):
            return found
    raise ConfigError(
        "--pdf needs Chromium (Debian: apt install chromium; or set ORDITO_CHROMIUM to its path)"
    )


def write_pdf(html: Path, pdf: Path, timeout: float = 120.0) -> Path:
    """Print ``html`` to ``pdf`` with headless Chromium (plots are drawn before printing)."""
    exe = _chromium()
    with tempfile.TemporaryDirectory(prefix="ordito-pdf-") as profile:
        cmd = [
            exe,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-pdf-header-footer",
            f"--user-data-dir={profile}",
            "--virtual-time-budget=15000",
            f"--print-to-pdf={pdf}",
            html.resolve().as_uri(),
        ]
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0 or not pdf.exists() or pdf.stat().st_size == 0:
        raise ConfigError(f"Chromium could not print {html} to PDF: {done.stderr.strip()[-500:]}")
    return pdf
