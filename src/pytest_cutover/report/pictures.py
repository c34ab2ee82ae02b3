"""What the go/no-go page draws, and from which facts (the drawing itself is charts.py).

Pure module: the load chart from the load gate's time-series evidence and its measured thresholds;
per-endpoint P95 against budget from the `endpoint_p95_ms` measurements; the cutover timeline from
the ledger; a failed browser flow's screenshot from its PNG evidence.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from html import escape
from pathlib import Path
from typing import Any

from pytest_cutover import humanize, ledger
from pytest_cutover.loadstats import HISTORY_EVIDENCE
from pytest_cutover.report import charts

Store = dict[str, list[dict[str, str]]]


def _levels(doc: dict[str, Any], name: str) -> dict[str, float | None]:
    """warning / critical / rollback levels of the run's load measurement `name`."""
    for c in doc.get("checks", []):
        if "load" not in c.get("markers", []):
            continue
        for m in c.get("measurements", []):
            if m.get("name") == name and (m.get("rollback_at") is not None or m.get("crit") is not None):
                return {"warning": m.get("warn"), "critical": m.get("crit"), "rollback": m.get("rollback_at")}
    return {}


def load_series(store: Store) -> list[dict[str, Any]]:
    for entries in store.values():
        for entry in entries:
            if entry.get("title") == HISTORY_EVIDENCE:
                try:
                    data = json.loads(entry["content"])
                except ValueError:
                    return []
                return [h for h in data if isinstance(h, dict)]
    return []


def load_charts(doc: dict[str, Any], store: Store) -> str:
    history = [h for h in load_series(store) if not h.get("warmup")]  # the gate judges no warm-up
    if not history:
        return ""
    p95 = [(float(h["t"]), float(h["p95_ms"])) for h in history if h.get("p95_ms") is not None]
    err = [(float(h["t"]), float(h["error_rate_pct"])) for h in history
           if h.get("error_rate_pct") is not None]
    return (charts.series_chart("Load run: P95 latency over time", p95, "ms",
                                _levels(doc, "p95_ms"), "cv-load-p95")
            + charts.series_chart("Load run: error rate (last 10 s) over time", err, "%",
                                  _levels(doc, "error_rate_pct"), "cv-load-errors"))


_ENDPOINT = re.compile(r"^(?:\S+ )?(?P<name>\S+)")


def endpoint_budgets(doc: dict[str, Any]) -> str:
    rows = []
    for c in doc.get("checks", []):
        for m in c.get("measurements", []):
            if m.get("name") == "endpoint_p95_ms":
                subject = str(m.get("subject", ""))
                label = subject.split(" (budget")[0] or c["nodeid"].split("::")[-1]
                rows.append((label, float(m["value"]), m.get("warn"), m.get("crit")))
    return charts.budget_bars(sorted(rows, key=lambda r: -r[1]), "cv-endpoint-budgets")


def failed_flow_screenshots(doc: dict[str, Any], store: Store, limit: int = 3) -> str:
    shots: list[str] = []
    for c in doc.get("checks", []):
        if c.get("outcome") not in ("failed", "error") or "e2e" not in c.get("markers", []):
            continue
        pngs = [e for e in store.get(c["nodeid"], []) if e.get("kind") == "png"]
        pngs.sort(key=lambda e: not e.get("title", "").startswith("failing step"))
        for entry in pngs[:1]:
            if len(shots) < limit:
                shots.append(f"<figure class='cv-shot'><img alt='{escape(entry['title'])}' "
                             f"src='data:image/png;base64,{entry['content']}'><figcaption>"
                             f"{escape(c['nodeid'])}: {escape(humanize.tidy(c.get('message', '')))}"
                             "</figcaption></figure>")
    return "".join(shots)


_PHASE = {"rollback_drill": "rehearsal", "post_launch": "post-launch"}


def ledger_timeline(folder: Path, html_dir: Path, now: dt.datetime, current: dict[str, Any],
                    limit: int = 20) -> str:
    """The ledger's runs (the newest `limit`), each linked to its archived report when kept."""
    records = list(ledger.Ledger(folder).records())[-limit:]
    runs = []
    for r in records:
        link = None
        if r.report:
            for candidate in (folder / r.report, folder / Path(r.report).parent / "summary.md"):
                if candidate.is_file() or r.report == current.get("report_archive"):
                    link = os.path.relpath(candidate, html_dir)
                    break
        label = f"{r.environment} {' + '.join(_PHASE.get(m, m) for m in r.markers) or 'run'}"
        runs.append({"time": r.time, "label": label, "verdict": r.verdict, "link": link})
    return charts.timeline(runs, "cv-timeline", now)
