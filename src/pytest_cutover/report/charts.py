"""Inline SVG pictures for the go/no-go page: no script, no external file, prints as drawn.

Pure module. Each function returns one `<svg>` element (or "" when there is nothing to draw):
- `series_chart`: a value over time with horizontal threshold lines (the load run's P95, its error
  rate) -- warning, critical and rollback levels labelled at the right edge;
- `budget_bars`: one bar per endpoint (its P95) with a tick at its budget;
- `timeline`: the ledger's runs on a time axis, coloured by verdict, each linked to its report.
Every text is escaped; every number shown is humanized.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from html import escape
from typing import Any

from pytest_cutover import humanize

COLOURS = {"GO": "#1e7e34", "NO-GO": "#b02a37", "ROLLBACK": "#6f1d8b",
           "warning": "#c69500", "critical": "#b02a37", "rollback": "#6f1d8b", "line": "#1f5fa8"}


def _scale(lo: float, hi: float, a: float, b: float) -> Any:
    span = (hi - lo) or 1.0
    return lambda v: a + (v - lo) * (b - a) / span


def series_chart(title: str, points: Sequence[tuple[float, float]], unit: str,
                 levels: dict[str, float | None], chart_id: str, width: int = 640,
                 height: int = 220) -> str:
    """`points` as (seconds since start, value); `levels` as {"warning": 500, "critical": 1000,
    "rollback": 2000} (None: not drawn)."""
    if not points:
        return ""
    left, right, top, bottom = 56, width - 92, 28, height - 30
    shown_levels = {k: v for k, v in levels.items() if v is not None}
    t_max = max(t for t, _ in points) or 1.0
    v_max = max([v for _, v in points] + [v * 1.08 for v in shown_levels.values()] + [1e-9]) * 1.05
    x, y = _scale(0, t_max, left, right), _scale(0, v_max, bottom, top)
    path = " ".join(f"{'M' if i == 0 else 'L'}{x(t):.1f},{y(v):.1f}" for i, (t, v) in enumerate(points))
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cv-chart" id="{escape(chart_id)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             f'aria-label="{escape(title)}">',
             f'<text x="{left}" y="16" font-size="13" font-weight="bold">{escape(title)}</text>',
             f'<line x1="{left}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#888"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{bottom}" stroke="#888"/>']
    for frac in (0.5, 1.0):
        value = v_max * frac
        parts.append(f'<text x="{left - 4}" y="{y(value) + 4:.1f}" font-size="10" text-anchor="end">'
                     f"{escape(humanize.quantity(value, unit))}</text>")
    parts.append(f'<text x="{left - 4}" y="{bottom + 4}" font-size="10" text-anchor="end">0</text>')
    for frac in (0.0, 0.5, 1.0):
        parts.append(f'<text x="{x(t_max * frac):.1f}" y="{bottom + 16}" font-size="10" '
                     f'text-anchor="middle">{escape(humanize.duration(t_max * frac) if frac else "0 s")}'
                     "</text>")
    merged: dict[float, list[str]] = {}
    for name, value in shown_levels.items():  # equal levels (critical = rollback) share one line
        merged.setdefault(value, []).append(name)
    for value, names in merged.items():
        name = " = ".join(names)
        colour = COLOURS.get(names[-1], "#555")
        classes = " ".join(f"cv-level-{escape(n)}" for n in names)
        parts.append(f'<line class="cv-level {classes}" x1="{left}" y1="{y(value):.1f}" '
                     f'x2="{right}" y2="{y(value):.1f}" stroke="{colour}" stroke-dasharray="6 4"/>'
                     f'<text x="{right + 4}" y="{y(value) + 4:.1f}" font-size="10" fill="{colour}">'
                     f"{escape(name)} {escape(humanize.quantity(value, unit))}</text>")
    parts.append(f'<path d="{path}" fill="none" stroke="{COLOURS["line"]}" stroke-width="2"/>')
    parts.append("</svg>")
    return "".join(parts)


def budget_bars(rows: Sequence[tuple[str, float, float | None, float | None]], chart_id: str,
                width: int = 640) -> str:
    """rows: (endpoint, P95 ms, warning budget ms, critical budget ms)."""
    if not rows:
        return ""
    bar_h, label_w, top = 20, 230, 26
    height = top + bar_h * len(rows) + 24
    v_max = max([r[1] for r in rows] + [b for r in rows for b in r[2:] if b is not None]) * 1.1 or 1.0
    x = _scale(0, v_max, label_w, width - 70)
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cv-chart" id="{escape(chart_id)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             'aria-label="P95 per endpoint against its budget">',
             '<text x="4" y="16" font-size="13" font-weight="bold">P95 per endpoint against its budget'
             "</text>"]
    for n, (name, value, warn, crit) in enumerate(rows):
        y0 = top + n * bar_h
        level = ("critical" if crit is not None and value > crit else
                 "warning" if warn is not None and value > warn else "ok")
        colour = {"critical": COLOURS["critical"], "warning": COLOURS["warning"]}.get(level, COLOURS["GO"])
        parts.append(f'<text x="{label_w - 6}" y="{y0 + 14}" font-size="11" text-anchor="end">'
                     f"{escape(name[:38])}</text>"
                     f'<rect x="{label_w}" y="{y0 + 3}" width="{max(1.0, x(value) - label_w):.1f}" '
                     f'height="{bar_h - 6}" fill="{colour}"/>'
                     f'<text x="{width - 4}" y="{y0 + 14}" font-size="10" text-anchor="end">'
                     f"{escape(humanize.quantity(value, 'ms'))}</text>")
        for budget, name_ in ((warn, "warning"), (crit, "critical")):
            if budget is not None:
                parts.append(f'<line class="cv-budget" x1="{x(budget):.1f}" y1="{y0 + 1}" '
                             f'x2="{x(budget):.1f}" y2="{y0 + bar_h - 1}" stroke="{COLOURS[name_]}" '
                             'stroke-width="2"/>')
    parts.append(f'<text x="{label_w}" y="{height - 6}" font-size="10">bar: measured P95 · '
                 f'ticks: warning (amber) and critical (red) budget</text></svg>')
    return "".join(parts)


def timeline(runs: Sequence[dict[str, Any]], chart_id: str, now: dt.datetime) -> str:
    """runs: {"time": datetime, "label": str, "verdict": str, "link": str | None}, oldest first.
    Evenly spaced (a cutover is a sequence: a week of readiness, then minutes of go-live), each
    run's time and kind written under its dot, its verdict above."""
    if not runs:
        return ""
    step, left, axis = 64, 40, 46
    width = left * 2 + step * (len(runs) - 1) + 120
    height = 190
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="cv-chart" id="{escape(chart_id)}" '
             f'viewBox="0 0 {width} {height}" width="{width}" height="{height}" role="img" '
             'aria-label="Cutover timeline">',
             f'<line x1="{left}" y1="{axis}" x2="{left + step * (len(runs) - 1)}" y2="{axis}" '
             'stroke="#888"/>']
    for n, run in enumerate(runs):
        cx = left + n * step
        colour = COLOURS.get(run["verdict"], "#555")
        title = f"{run['label']}: {run['verdict']} ({humanize.ago(run['time'], now)})"
        words = f"{run['time']:%m-%d %H:%M} {run['label']}"
        dot = (f'<g><title>{escape(title)}</title>'
               f'<text x="{cx}" y="{axis - 14}" font-size="10" text-anchor="middle" fill="{colour}" '
               f'font-weight="bold">{escape(run["verdict"])}</text>'
               f'<circle cx="{cx}" cy="{axis}" r="7" fill="{colour}"/>'
               f'<text x="{cx}" y="{axis + 16}" font-size="10" transform="rotate(35 {cx} {axis + 16})">'
               f"{escape(words[:34])}</text></g>")
        link = run.get("link")
        parts.append(f'<a href="{escape(link)}">{dot}</a>' if link else dot)
    parts.append("</svg>")
    return "".join(parts)
