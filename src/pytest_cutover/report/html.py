"""pytest-html 4 hooks: the go/no-go banner, thresholds, checklist matrix, sign-offs, evidence.

Registered only when pytest-html is active. Hooks take HTML strings: every value is escaped.
"""

from __future__ import annotations

import datetime as dt
import shutil
from collections import defaultdict
from html import escape
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import checklist, humanize
from pytest_cutover.report import dashboard, files, pictures
from pytest_cutover.stash import (
    archive_key,
    document_key,
    evidence_store_key,
    governance_key,
    results_key,
    run_key,
    settings_key,
    verdict_key,
)
from pytest_cutover.verdict import decide

STYLE = """
<style>
.cutover-banner{padding:10px 18px;margin:0 0 8px;border-radius:8px;color:#fff;font-family:sans-serif}
.cutover-banner h1{margin:0 18px 0 0;font-size:40px;line-height:1;white-space:nowrap}
.cv-head{display:flex;align-items:center}
.cv-meta{font-size:13px;line-height:1.45}
.cutover-GO{background:#1e7e34}.cutover-NO-GO{background:#b02a37}.cutover-ROLLBACK{background:#6f1d8b}
.cutover-banner ol,.cutover-banner ul{margin:6px 0 0 22px;padding:0;font-size:13px}
.cutover-banner a,.cutover-banner p,.cutover-banner li,.cutover-banner b{color:#fff}
.cv-causes{margin:6px 0 0}
.cv-tag{display:inline-block;padding:0 6px;border-radius:3px;background:rgba(0,0,0,.28);font-size:11px;
  text-transform:uppercase;letter-spacing:.03em}
.cv-checks{opacity:.85;font-size:12px}
.cv-first{font-family:sans-serif}
.cv-row{display:flex;gap:8px;margin-bottom:8px;align-items:stretch}
.cv-box{border:1px solid #ccc;border-radius:6px;padding:4px 8px;background:#fff;color:#222}
.cv-box h3{margin:0 0 3px;font-size:13px;color:#222}
.cv-box a{color:#1f5fa8}.cv-box a.cv-cell{color:#222}
.cv-wide{flex:1}
.cv-cols{display:flex;gap:8px}.cv-cols table{flex:1}
.cv-table{border-collapse:collapse;font-size:12px;width:100%}
.cv-table td,.cv-table th{border:1px solid #ddd;padding:2px 6px;text-align:left;vertical-align:top;color:#222}
.cv-success td:first-child{max-width:300px}
#cutover-triggers td:first-child{min-width:150px}
.tr-fired{background:#e9d5f2;font-weight:bold}.tr-clear{background:#d4edda}.tr-not-evaluated{background:#eee}
.cv-signoffs{min-width:120px;font-size:13px}.cv-num{padding:2px 6px;margin:2px 0;border-radius:4px}
.cv-num b{font-size:18px}
.cv-grid{display:grid;grid-template-columns:repeat(3,150px);gap:4px}
.cv-cell{display:block;padding:3px 6px;border-radius:4px;color:#222;text-decoration:none;font-size:11px;
  line-height:1.25}
.cv-cell b,.cv-cell span,.cv-cell small{display:block}.cv-cell span{font-size:12px}
.cutover{color:#222;font-family:sans-serif}
.cutover .cv-tag{background:#555;color:#fff}
.cutover h2{font-family:sans-serif;margin:22px 0 8px}
.cutover table{border-collapse:collapse;margin-bottom:12px;font-size:13px}
.cutover td,.cutover th{border:1px solid #ccc;padding:3px 8px;text-align:left;vertical-align:top;color:#222}
.lvl-ok,.st-verified{background:#d4edda}
.lvl-warning,.st-waived{background:#fff3cd}
.lvl-critical,.st-failed{background:#f8d7da}
.st-pending-sign-off{background:#dfe3f0}.st-not-verified{background:#e2e3e5}
.st-not-applicable{background:#f1f1f1;color:#666}
.cutover details{margin:6px 0}
.cv-charts{display:flex;flex-wrap:wrap;gap:12px}.cv-chart{background:#fff;border:1px solid #ddd}
.cv-shot{width:440px;margin:0;font-size:12px}.cv-shot img{width:100%;border:1px solid #ccc}
@media print{
  @page{size:A4;margin:12mm}
  body{font-size:10pt;background:#fff}
  .cutover-banner,.cv-cell,.cv-num,tr{-webkit-print-color-adjust:exact;print-color-adjust:exact}
  #environment-header,#environment,.summary__reload,.filters,.collapse,.controls,#results-table,
  .summary__data p:last-child,.cv-noprint{display:none !important}
  .cv-first{break-after:page}
  .cv-row{flex-wrap:wrap}
  details{display:block}details>summary{list-style:none}
  details:not([open])>*:not(summary){display:block}
  .cv-chart{max-width:100%;height:auto;break-inside:avoid}
  table{break-inside:auto}tr{break-inside:avoid}
  a{color:inherit;text-decoration:none}
}
</style>
<script>
// pytest-html puts the summary below its environment table; the decision belongs on top.
document.addEventListener("DOMContentLoaded", function () {
  var first = document.getElementById("cutover-first");
  var title = document.querySelector("h1");
  if (first && title) { title.insertAdjacentElement("afterend", first); }
  // printing shows every collapsed section
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".cutover details").forEach(function (d) { d.open = true; });
  });
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
        doc = self.config.stash.get(document_key, None) or files.verdict_document(self.config, verdict)
        now = dt.datetime.now(dt.UTC)
        items = checklist.load()
        prefix.append(STYLE)
        prefix.append(f'<div id="cutover-first">'
                      f"{dashboard.first_screen(doc, items, now, self._banner_extra(verdict, env))}</div>")
        prefix.append('<div class="cutover">')
        prefix.append(dashboard.all_causes(doc))
        prefix.append(dashboard.warnings_list(doc))
        prefix.append(self._pictures(doc, now))
        prefix.append(self._thresholds(results))
        prefix.append(dashboard.pending_by_role(doc))
        prefix.append(self._governance())
        prefix.append(self._matrix(results))
        prefix.append("</div>")

    def _banner_extra(self, verdict: Any, env: Any) -> str:
        """Lines added under the causes in the banner: the destructive opt-in (loud when given)
        and the run id the five report files share."""
        run = self.config.stash[run_key]
        note = run["destructive_note"]
        shown = f"<b>{escape(note.upper())}</b>" if run["destructive_allowed"] else escape(note)
        return f'<div id="cutover-run">{shown}; run {escape(run["run_id"])}</div>'

    def _pictures(self, doc: dict[str, Any], now: dt.datetime) -> str:
        store = self.config.stash.get(evidence_store_key, {})
        parts = [pictures.load_charts(doc, store), pictures.endpoint_budgets(doc),
                 pictures.failed_flow_screenshots(doc, store)]
        timeline = pictures.ledger_timeline(self._ledger_folder(), self._html_dir(), now,
                                            current=doc)
        body = "".join(p for p in parts if p)
        out = f"<h2>Pictures</h2><div class='cv-charts'>{body}</div>" if body else ""
        return out + (f"<h2>Cutover timeline</h2>{timeline}" if timeline else "")

    def _ledger_folder(self) -> Path:
        from pytest_cutover import ledger
        from pytest_cutover.plugin import reports_dir

        settings = self.config.stash[settings_key]
        return ledger.folder(reports_dir(self.config), settings.environment.data, settings.path.parent)

    def _html_dir(self) -> Path:
        path = getattr(self.config.option, "htmlpath", None)
        return Path(path).resolve().parent if path else Path.cwd()

    def pytest_unconfigure(self, config: pytest.Config) -> None:
        """Keep a copy of this run's page next to the ledger, so the timeline can link to it."""
        archive = config.stash.get(archive_key, None)
        path = getattr(config.option, "htmlpath", None)
        if archive is not None and path and Path(path).is_file():
            archive.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, archive / "go-no-go.html")

    def _thresholds(self, results: list[Any]) -> str:
        rows = []
        for r in results:
            for m in r.measurements:
                rows.append(
                    f'<tr class="{_level_class(m["level"])}"><td>{escape(r.nodeid)}</td>'
                    f"<td>{escape(m['name'])}</td><td>{escape(m['subject'])}</td>"
                    f"<td><b>{escape(humanize.quantity(m['value'], m['unit']))}</b></td>"
                    f"<td>{_num(m['warn'], m['unit'])}</td><td>{_num(m['crit'], m['unit'])}</td>"
                    f"<td>{_num(m['rollback_at'], m['unit'])}</td>"
                    f"<td>{escape(m['level'])}{' — ROLLBACK' if m['rollback'] else ''}</td></tr>")
        if not rows:
            return "<h2>Thresholds</h2><p>No measurements in this run.</p>"
        head = ("<tr><th>check</th><th>measurement</th><th>subject</th><th>value</th><th>warning</th>"
                "<th>critical</th><th>rollback</th><th>level</th></tr>")
        return ("<details><summary><b>Thresholds and measured values</b> "
                f"({len(rows)} measurements)</summary>"
                f"<table id='cutover-thresholds'>{head}{''.join(rows)}</table></details>")

    def _governance(self) -> str:
        gov = self.config.stash[governance_key]
        now = dt.datetime.now(dt.UTC)
        out = ["<h2>Sign-offs</h2>"]
        if gov.signoffs:
            out.append(f"<details{' open' if len(gov.signoffs) <= 10 else ''}><summary>"
                       f"{len(gov.signoffs)} recorded sign-offs</summary>")
            out.append("<table id='cutover-signoffs'><tr><th>item</th><th>who</th><th>role</th>"
                       "<th>when</th><th>evidence</th><th>expires</th></tr>")
            for s in gov.signoffs:
                state = " (expired)" if s.expired(now) else ""
                out.append(f"<tr><td>{escape(s.item)}</td><td>{escape(s.who)}</td><td>{escape(s.role)}</td>"
                           f"<td>{s.when:%Y-%m-%d %H:%M} ({escape(humanize.ago(s.when, now))})</td>"
                           f"<td>{escape(s.evidence)}</td>"
                           f"<td>{s.expires.date() if s.expires else '-'}{state}</td></tr>")
            out.append("</table></details>")
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
            bad = any(r.status == checklist.FAILED for r in by_phase[phase])
            out.append(f"<details id='cv-phase-{phase}'{' open' if bad else ''}><summary>"
                       f"<b>{escape(label)}</b> ({len(by_phase[phase])} items)"
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


def _num(value: Any, unit: str = "") -> str:
    return "-" if value is None else escape(humanize.quantity(value, unit))
