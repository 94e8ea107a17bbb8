"""Plot specifications for Plotly.js, as plain dicts (``{"data": [...], "layout": {...}}``).

The report and the analyst pages draw with Plotly.js (MIT), whose bundle ships inside the ``plotly``
wheel and is embedded in the page (no CDN). Specs are built here as dicts rather than through
``plotly.graph_objects`` so they stay small (no default template copied into every figure) and
deterministic. Every channel has one colour everywhere (:data:`CHANNEL_COLORS`), from a palette that
stays distinguishable for the common colour-vision deficiencies (Okabe-Ito, extended).
"""

from __future__ import annotations

from typing import Any

from ..model import Channel

#: One colour per channel, in every view (report, analyst pages, agent timeline).
CHANNEL_COLORS: dict[str, str] = {
    Channel.WEB.value: "#0072B2",
    Channel.APP.value: "#56B4E9",
    Channel.EMAIL.value: "#009E73",
    Channel.CHAT.value: "#E69F00",
    Channel.SMS.value: "#F0E442",
    Channel.VOICE.value: "#D55E00",
    Channel.SOCIAL.value: "#CC79A7",
    Channel.STORE.value: "#8C564B",
    Channel.SURVEY.value: "#7F7F7F",
    Channel.REVIEW.value: "#BCBD22",
    Channel.OTHER.value: "#B0B0B0",
    "(end)": "#DDDDDD",
}
SENTIMENT_COLORS = {"negative": "#D55E00", "neutral": "#BBBBBB", "positive": "#009E73"}
#: Sequential scale for counts and rates (light = little); readable in grey-scale too.
SEQUENTIAL = "Blues"
#: Diverging scale for gaps (negative red, positive blue).
DIVERGING = "RdBu"

_FONT = {"family": "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", "size": 12}


def channel_color(channel: str | None) -> str:
    return CHANNEL_COLORS.get(channel or "other", CHANNEL_COLORS["other"])


def _layout(title: str, x: str | None = None, y: str | None = None, **extra: Any) -> dict[str, Any]:
    layout: dict[str, Any] = {
        "title": {"text": title, "x": 0, "xanchor": "left", "font": {"size": 14}},
        "font": _FONT,
        "margin": {"l": 60, "r": 20, "t": 40, "b": 50},
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "legend": {"orientation": "h", "y": -0.2},
    }
    if x is not None:
        layout["xaxis"] = {"title": {"text": x}, "gridcolor": "#EEE", "automargin": True}
    if y is not None:
        layout["yaxis"] = {"title": {"text": y}, "gridcolor": "#EEE", "automargin": True}
    layout.update(extra)
    return layout


def bar(
    title: str,
    categories: list[str],
    values: list[float],
    *,
    x: str,
    y: str,
    colors: list[str] | None = None,
    horizontal: bool = False,
    text: list[str] | None = None,
    customdata: list[str] | None = None,
) -> dict[str, Any]:
    trace: dict[str, Any] = {"type": "bar", "hovertemplate": "%{y}: %{x}<extra></extra>"}
    if horizontal:
        trace.update({"x": values, "y": categories, "orientation": "h"})
    else:
        trace.update({"x": categories, "y": values, "hovertemplate": "%{x}: %{y}<extra></extra>"})
    if colors:
        trace["marker"] = {"color": colors}
    if text:
        trace["text"] = text
        trace["textposition"] = "auto"
    if customdata:
        trace["customdata"] = customdata
    layout = _layout(title, x, y)
    if horizontal:
        layout["yaxis"]["autorange"] = "reversed"
    return {"data": [trace], "layout": layout}


def stacked_lines(
    title: str,
    series: dict[str, tuple[list[Any], list[float]]],
    *,
    x: str,
    y: str,
    colors: dict[str, str],
    customdata: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    data = []
    for name, (xs, ys) in series.items():
        trace: dict[str, Any] = {
            "type": "scatter",
            "mode": "lines+markers",
            "name": name,
            "x": xs,
            "y": ys,
            "line": {"color": colors.get(name, "#555"), "width": 2},
            "marker": {"size": 6},
        }
        if customdata and name in customdata:
            trace["customdata"] = customdata[name]
        data.append(trace)
    return {"data": data, "layout": _layout(title, x, y)}


def heatmap(
    title: str,
    rows: list[str],
    cols: list[str],
    z: list[list[float | None]],
    *,
    x: str,
    y: str,
    colorbar: str,
    scale: str = SEQUENTIAL,
    text: list[list[str]] | None = None,
    customdata: list[list[str]] | None = None,
) -> dict[str, Any]:
    trace: dict[str, Any] = {
        "type": "heatmap",
        "x": cols,
        "y": rows,
        "z": z,
        "colorscale": scale,
        # Plotly's "Blues" runs dark to light: reversed, light means little and dark means much
        "reversescale": scale == SEQUENTIAL,
        "colorbar": {"title": {"text": colorbar}},
        "hovertemplate": "%{y} × %{x}: %{z}<extra></extra>",
        "xgap": 1,
        "ygap": 1,
    }
    if text is not None:
        trace["text"] = text
        trace["texttemplate"] = "%{text}"
    if customdata is not None:
        trace["customdata"] = customdata
    layout = _layout(title, x, y)
    layout["yaxis"]["autorange"] = "reversed"
    layout["height"] = max(300, 28 * len(rows) + 140)
    return {"data": [trace], "layout": layout}


def sankey(title: str, nodes: list[dict[str, Any]], links: list[dict[str, Any]]) -> dict[str, Any]:
    labels = [f"{n['channel']} ({n['step']})" for n in nodes]
    colors = [channel_color(n["channel"]) for n in nodes]
    trace: dict[str, Any] = {
        "type": "sankey",
        "arrangement": "snap",
        "node": {"label": labels, "color": colors, "pad": 12, "thickness": 14},
        "link": {
            "source": [lk["source"] for lk in links],
            "target": [lk["target"] for lk in links],
            "value": [lk["cases"] for lk in links],
            "color": ["rgba(120,120,120,0.25)"] * len(links),
            "hovertemplate": "%{source.label} → %{target.label}: %{value} episodes<extra></extra>",
        },
    }
    if any("customdata" in lk for lk in links):
        trace["link"]["customdata"] = [lk.get("customdata", "") for lk in links]
    layout = _layout(title)
    layout["height"] = 460
    return {"data": [trace], "layout": layout}


def grouped_bars(
    title: str,
    categories: list[str],
    series: dict[str, list[float]],
    *,
    x: str,
    y: str,
    colors: list[str],
    suffix: str = "",
    customdata: dict[str, list[str]] | None = None,
) -> dict[str, Any]:
    data = []
    for i, (name, values) in enumerate(series.items()):
        trace: dict[str, Any] = {
            "type": "bar",
            "name": name,
            "x": categories,
            "y": values,
            "marker": {"color": colors[i % len(colors)]},
            "hovertemplate": f"{name}<br>%{{x}}: %{{y}}{suffix}<extra></extra>",
        }
        if customdata and name in customdata:
            trace["customdata"] = customdata[name]
        data.append(trace)
    layout = _layout(title, x, y)
    layout["barmode"] = "group"
    layout["margin"]["b"] = 120
    layout["legend"]["y"] = -0.5
    return {"data": data, "layout": layout}
