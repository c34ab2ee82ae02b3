"""pytest-html 4 hooks: the go/no-go banner, thresholds, checklist matrix, sign-offs, evidence.

Registered only when pytest-html is active. Hooks take HTML strings: every value is escaped.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from html import escape
from typing import Any

import pytest

from pytest_cutover import checklist
from pytest_cutover.stash import governance_key, results_key, settings_key, verdict_key
from pytest_cutover.verdict import decide

STYLE = """
<style>
.cutover-banner{padding:18px 24px;margin:0 0 16px;border-radius:8px;color:#fff;font-family:sans-serif}
.cutover-banner h1{margin:0 0 6px;font-size:34px}
.cutover-GO{background:#1e7e34}.cutover-NO-GO{background:#b02a37}.cutover-ROLLBACK{background:#6f1d8b}
.cutover-banner ul{margin:6px 0 0 18px;padding:0}
.cutover h2{font-family:sans-serif;margin:22px 0 8px}
.cutover table{border-collapse:collapse;margin-bottom:12px;font-size:13px}
.cutover td,.cutover th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;color:#222}
.cutover .lvl-ok,.cutover .st-verified{background:#d4edda}
.cutover .lvl-warning,.cutover .st-waived{background:#fff3cd}
.cutover .lvl-critical,.cutover .st-failed{background:#f8d7da}
.cutover .st-pending-sign-off,.cutover .st-not-verified{background:#e2e3e5}
.cutover .st-not-applicable{background:#f1f1f1;color:#666}
.cutover details{margin:6px 0}
</style>
<script>
// pytest-html puts the summary below the environment table; the verdict belongs on top.
document.addEventListener("DOMContentLoaded", function () {
  var banner = document.getElementById("cutover-verdict");
  var title = document.querySelector("h1");
  if (banner && title) { title.insertAdjacentElement("afterend", banner); }
});
</script>
"""


def add_extras(report: Any, evidence: list[dict[str, str]]) -> None:
    """Attach evidence to the test's row (pytest-html extras; PNGs are base64 already)."""
    from pytest_html import extras

    made = []
    for entry in evidence:
        kind, title, content = entry["kind"], entry["title"], entry["content"]
        if kind == "png":
            made.append(extras.png(content, title))
        elif kind == "json":
            made.append(extras.text(content, title))
        elif kind == "html":
            made.append(extras.html(content))
        else:
            made.append(extras.text(content, title))
    report.extras = list(getattr(report, "extras", [])) + made


def _level_class(level: str) -> str:
    return f"lvl-{level}"


def _status_class(status: str) -> str:
    return "st-" + status.replace(" ", "-")


class HtmlReport:
    def __init__(self, config: pytest.Config) -> None:
        self.config = config

    def _verdict(self) -> Any:
        cached = self.config.stash.get(verdict_key, None)
        if cached is not None:
            return cached
        results = list(self.config.stash[results_key].values())
        return decide(results, self.config.stash[settings_key].environment.name, [])

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_report_title(self, report: Any) -> None:
        env = self.config.stash[settings_key].environment
        report.title = f"Cutover go/no-go: {env.name} ({env.release or 'release not set'})"

    @pytest.hookimpl(optionalhook=True)
    def pytest_html_results_summary(self, prefix: list[str], summary: list[str],
                                    postfix: list[str], session: pytest.Session) -> None:
        verdict = self._verdict()
        results = list(self.config.stash[results_key].values())
        env = self.config.stash[settings_key].environment
        prefix.append(STYLE)
        prefix.append(self._banner(verdict, env))
        prefix.append('<div class="cutover">')
        prefix.append(self._thresholds(results))
        prefix.append(self._governance())
        prefix.append(self._matrix(results))
        prefix.append("</div>")

    def _banner(self, verdict: Any, env: Any) -> str:
        items = [("Rollback triggers", verdict.rollback_reasons), ("Reasons", verdict.reasons),
                 ("Warnings", verdict.warnings)]
        blocks = []
        for title, lines in items:
            if lines:
                shown = "".join(f"<li>{escape(line)}</li>" for line in lines[:40])
                more = f"<li>… {len(lines) - 40} more in verdict.json</li>" if len(lines) > 40 else ""
                blocks.append(f"<p><b>{title}</b></p><ul>{shown}{more}</ul>")
        counts = ", ".join(f"{n} {escape(o)}" for o, n in sorted(verdict.counts.items()))
        return (f'<div class="cutover-banner cutover-{verdict.decision}" id="cutover-verdict">'
                f"<h1>{verdict.decision}</h1>"
                f"<div>environment <b>{escape(env.name)}</b> ({escape(env.kind)}) at "
                f"{escape(env.base_url)}; release {escape(str(env.release))}; covers "
                f"{escape(', '.join(verdict.markers) or '-')}; checks: {escape(counts or 'none')}; "
                f"exit code {verdict.exit_code}</div>{''.join(blocks)}</div>")

    def _thresholds(self, results: list[Any]) -> str:
        rows = []
        for r in results:
            for m in r.measurements:
                rows.append(
                    f'<tr class="{_level_class(m["level"])}"><td>{escape(r.nodeid)}</td>'
                    f"<td>{escape(m['name'])}</td><td>{escape(m['subject'])}</td>"
                    f"<td><b>{_num(m['value'])} {escape(m['unit'])}</b></td>"
                    f"<td>{_num(m['warn'])}</td><td>{_num(m['crit'])}</td><td>{_num(m['rollback_at'])}</td>"
                    f"<td>{escape(m['level'])}{' — ROLLBACK' if m['rollback'] else ''}</td></tr>")
        if not rows:
            return "<h2>Thresholds</h2><p>No measurements in this run.</p>"
        head = ("<tr><th>check</th><th>measurement</th><th>subject</th><th>value</th><th>warning</th>"
                "<th>critical</th><th>rollback</th><th>level</th></tr>")
        return ("<h2>Thresholds and measured values</h2>"
                f"<table id='cutover-thresholds'>{head}{''.join(rows)}</table>")

    def _governance(self) -> str:
        gov = self.config.stash[governance_key]
        now = dt.datetime.now(dt.UTC)
        out = ["<h2>Sign-offs</h2>"]
        if gov.signoffs:
            out.append("<table id='cutover-signoffs'><tr><th>item</th><th>who</th><th>role</th>"
                       "<th>when</th><th>evidence</th><th>expires</th></tr>")
            for s in gov.signoffs:
                state = " (expired)" if s.expired(now) else ""
                out.append(f"<tr><td>{escape(s.item)}</td><td>{escape(s.who)}</td><td>{escape(s.role)}</td>"
                           f"<td>{s.when:%Y-%m-%d %H:%M}</td><td>{escape(s.evidence)}</td>"
                           f"<td>{s.expires.date() if s.expires else '-'}{state}</td></tr>")
            out.append("</table>")
        else:
            out.append("<p>No sign-offs recorded.</p>")
        out.append("<h2>Waivers</h2>")
        if gov.waivers:
            out.append("<table id='cutover-waivers'><tr><th>check</th><th>why</th><th>approved by</th>"
                       "<th>until</th><th>state</th></tr>")
            for w in gov.waivers:
                state = "EXPIRED: counts as a failure" if w.expired(now) else "active"
                cls = "lvl-critical" if w.expired(now) else "lvl-warning"
                out.append(f"<tr class='{cls}'><td>{escape(w.check)}</td><td>{escape(w.justification)}</td>"
                           f"<td>{escape(w.approver)}</td><td>{w.expires:%Y-%m-%d}</td><td>{state}</td></tr>")
            out.append("</table>")
        else:
            out.append("<p>No waivers.</p>")
        return "".join(out)

    def _matrix(self, results: list[Any]) -> str:
        rows = checklist.matrix(checklist.load(), results)
        by_phase: dict[str, list[Any]] = defaultdict(list)
        for row in rows:
            by_phase[row.item.phase].append(row)
        tally: dict[str, int] = defaultdict(int)
        for row in rows:
            tally[row.status] += 1
        out = ["<h2>Checklist matrix</h2><p>",
               escape(", ".join(f"{n} {s}" for s, n in sorted(tally.items()))), "</p>"]
        for phase, label in checklist.PHASES.items():
            if phase not in by_phase:
                continue
            out.append(f"<details open><summary><b>{escape(label)}</b> ({len(by_phase[phase])} items)"
                       "</summary><table class='cutover-matrix'>"
                       "<tr><th>id</th><th>item</th><th>status</th><th>checks</th></tr>")
            for row in by_phase[phase]:
                checks = "<br>".join(f"{escape(n.split('::')[-1])}: {escape(o)}" for n, o in row.checks[:6])
                planned = (f" (planned: {escape(row.item.planned)})"
                           if not row.checks and row.item.planned else "")
                out.append(f"<tr class='{_status_class(row.status)}'><td>{escape(row.item.id)}</td>"
                           f"<td>{escape(row.item.text)}</td><td>{escape(row.status)}{planned}</td>"
                           f"<td>{checks}</td></tr>")
            out.append("</table></details>")
        return "".join(out)


def _num(value: Any) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3g}"
