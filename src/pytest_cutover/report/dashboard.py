"""The go/no-go page's first screen and the sections below it, from the verdict document.

Pure module (no pytest): everything is built from the dict written to verdict.json
(report/files.py verdict_document) plus the checklist catalogue, so the page, the summary and a
notification tell the same story. Values are shown in human units (humanize); verdict.json keeps
the exact ones. Every value is escaped.
"""

from __future__ import annotations

import datetime as dt
import re
from collections import defaultdict
from collections.abc import Iterable
from html import escape
from typing import Any

from pytest_cutover import humanize
from pytest_cutover.causes import signature
from pytest_cutover.checklist import PHASES, Item

# The plan's phases and sections as the status grid shows them: (label, phase, section or None).
GRID = [
    ("T-7d infrastructure", "t-7d", "Infrastructure"), ("T-7d security", "t-7d", "Security"),
    ("T-7d application", "t-7d", "Application"), ("T-7d documentation", "t-7d", "Documentation"),
    ("T-7d team", "t-7d", "Team Readiness"), ("T-24 hours", "t-24h", None),
    ("Go/no-go", "go-no-go", None), ("Deployment verification", "verification", None),
    ("Monitoring", "monitoring", None),
]
_WORST = ["failed", "pending sign-off", "not verified", "waived", "verified", "not applicable"]
_KIND_LABEL = {"rollback": "rollback trigger", "failed": "failed", "error": "error",
               "blocked": "blocked", "unverified": "not verified", "pending": "pending sign-off"}
_REASON = re.compile(r"^(?P<node>.+?) (?P<label>failed|error|not verified|pending sign-off|"
                     r"blocked by [^:]+)(?::\s*(?P<msg>.*))?$")


def _cls(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def causes(doc: dict[str, Any], limit: int | None = None) -> list[dict[str, Any]]:
    """The verdict's causes, most important first: `doc["causes"]` when the verdict grouped them,
    else grouped here from the reason lines (same message = one cause, its checks listed)."""
    given = doc.get("causes")
    if given is not None:
        found = [dict(c) for c in given]
        return found[:limit] if limit else found
    groups: dict[tuple[str, str], list[str]] = {}
    first: dict[tuple[str, str], str] = {}  # the first message of a group stands for it

    def add(kind: str, message: str, node: str | None) -> None:
        key = (kind, _signature(message))
        first.setdefault(key, message)
        groups.setdefault(key, []).extend([node] if node else [])

    for line in doc.get("rollback_reasons", []):
        node, _, message = line.partition(": ")
        add("rollback", _PREFIX.sub("", message) or line, node.split(" (")[0])
    for line in doc.get("reasons", []):
        match = _REASON.match(line)
        if not match:
            add("failed", line, None)
            continue
        label, message = match["label"], _PREFIX.sub("", match["msg"] or "")
        if label.startswith("blocked by"):
            kind, message = "blocked", f"{label}: {message}".rstrip(": ")
        else:
            kind = {"failed": "failed", "error": "error", "not verified": "unverified",
                    "pending sign-off": "pending"}[label]
        if kind == "pending":
            message = "sign-offs missing or expired"  # one cause, whoever must sign
        add(kind, message, match["node"])
    order = ["rollback", "failed", "error", "blocked", "unverified", "pending"]
    rolled = {n for (kind, _), checks in groups.items() if kind == "rollback" for n in checks}
    found = [{"cause": first[key], "kind": key[0], "checks": checks} for key, checks in groups.items()
             if key[0] == "rollback" or not checks or not set(checks) <= rolled]  # said once
    found.sort(key=lambda c: (order.index(c["kind"]) if c["kind"] in order else 9, -len(c["checks"])))
    return found[:limit] if limit else found


_PREFIX = re.compile(r"^(?:AssertionError|Failed): ")


_signature = signature  # the same failure on 17 endpoints is one cause (causes.py)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _checks(n: int) -> str:
    return f"{n} check{'s' if n != 1 else ''}"


def _cause_line(c: dict[str, Any]) -> str:
    checks = c.get("checks") or []
    kind = str(c.get("kind", ""))
    short = ", ".join(escape(n.split("::")[-1]) for n in checks[:3])
    more = f" +{len(checks) - 3}" if len(checks) > 3 else ""
    where = (f' <span class="cv-checks">({_checks(len(checks))}: {short}{more})</span>'
             if checks else "")
    return (f'<li class="cv-cause cv-kind-{_cls(kind)}"><span class="cv-tag">'
            f"{escape(_KIND_LABEL.get(kind, kind))}</span> "
            f"{escape(_cut(humanize.tidy(str(c.get('cause', '')).split('; ')[0]), 220))}{where}</li>")


def banner(doc: dict[str, Any], now: dt.datetime, extra: str = "") -> str:
    """The verdict, where and when, and its causes (at most six on the first screen)."""
    decision = doc["decision"]
    found = causes(doc)
    shown = "".join(_cause_line(c) for c in found[:6])
    more = (f'<li class="cv-more"><a href="#cv-all-causes">{len(found) - 6} more causes below</a></li>'
            if len(found) > 6 else "")
    counts = ", ".join(f"{n} {escape(o.replace('_', ' '))}" for o, n in sorted(doc.get("counts", {}).items()))
    when = doc.get("generated_at")
    age = f" · {escape(humanize.ago(when, now))}" if when else ""
    headline = {"GO": "All blocking checks passed; no rollback trigger fired.",
                "NO-GO": "The release does not go ahead until these causes are resolved.",
                "ROLLBACK": "A rollback trigger fired: roll back now."}.get(decision, "")
    body = (f'<ol class="cv-causes" id="cutover-causes">{shown}{more}</ol>' if found
            else '<p class="cv-causes" id="cutover-causes">No cause against the release.</p>')
    warnings = len(doc.get("warnings", []))
    warn = f"; {warnings} warning{'s' if warnings != 1 else ''} below" if warnings else ""
    return (f'<section class="cutover-banner cutover-{escape(decision)}" id="cutover-verdict">'
            f'<div class="cv-head"><h1>{escape(decision)}</h1><div class="cv-meta">'
            f"<b>{escape(headline)}</b><br>environment <b>{escape(str(doc.get('environment')))}</b> "
            f"({escape(str(doc.get('environment_kind')))}) at {escape(str(doc.get('target')))}; "
            f"release {escape(str(doc.get('release') or 'not set'))}{age}<br>"
            f"covers {escape(', '.join(doc.get('markers', [])) or '-')}; checks: "
            f"{escape(counts or 'none')}{warn}; exit code {doc.get('exit_code', '')}</div></div>"
            f"{body}{extra}</section>")


_NODE_PATH = re.compile(r"\S+\.py::")  # the check's name is enough on the first screen


def triggers_table(doc: dict[str, Any]) -> str:
    rows = []
    for t in doc.get("triggers", []):
        state = str(t.get("state", "not evaluated"))
        details = [_NODE_PATH.sub("", humanize.tidy(d)) for d in t.get("details", [])]
        # one value on the first screen (all of them are in the causes below and verdict.json)
        value = _cut(details[0], 150) + (f" (+{len(details) - 1} more)" if len(details) > 1 else "") \
            if details else ""
        rows.append(f'<tr class="tr-{_cls(state)}"><td>{escape(str(t.get("rule", t.get("name"))))}</td>'
                    f'<td class="cv-state">{escape(state)}</td><td>{escape(value or "-")}</td></tr>')
    return ('<div class="cv-box"><h3>Rollback triggers (T+0:30)</h3>'
            '<table class="cv-table" id="cutover-triggers"><tr><th>trigger</th><th>state</th>'
            f"<th>values</th></tr>{''.join(rows)}</table></div>")


def _target(item: Item) -> str:
    t = item.thresholds or {}
    if t.get("crit") is None:
        return "-"
    return f"< {humanize.quantity(float(t['crit']), str(t.get('unit', '')))}"


def _measured(item_id: str, checks: list[dict[str, Any]]) -> str:
    for c in checks:
        if item_id in c.get("checklist", []):
            for m in c.get("measurements", []):
                return humanize.quantity(m["value"], m.get("unit", ""))
    return ""


def success_table(doc: dict[str, Any], items: list[Item]) -> str:
    status = {r["id"]: r for r in doc.get("checklist", [])}
    rows = []
    for item in (i for i in items if i.phase == "success"):
        row = status.get(item.id, {"status": "not verified", "checks": []})
        measured = _measured(item.id, doc.get("checks", []))
        if not measured:
            outcomes = [c["outcome"] for c in doc.get("checks", []) if item.id in c.get("checklist", [])]
            measured = ", ".join(sorted(set(outcomes))) or "not run"
        rows.append(f'<tr class="st-{_cls(row["status"])}"><td title="{escape(item.text)}">'
                    f"{escape(item.text)}</td><td>{escape(_target(item))}</td>"
                    f"<td>{escape(measured)}</td><td>{escape(row['status'])}</td></tr>")
    half = (len(rows) + 1) // 2
    head = "<tr><th>criterion</th><th>target</th><th>measured</th><th>status</th></tr>"
    return ('<div class="cv-box cv-wide"><h3>Success criteria</h3><div class="cv-cols" '
            'id="cutover-success">'
            f'<table class="cv-table cv-success">{head}{"".join(rows[:half])}</table>'
            f'<table class="cv-table cv-success">{head}{"".join(rows[half:])}</table></div></div>')


def _worst(statuses: Iterable[str]) -> str:
    found = [s for s in statuses if s in _WORST]
    return min(found, key=_WORST.index) if found else "not verified"


def phase_grid(doc: dict[str, Any], items: list[Item]) -> str:
    index = {i.id: i for i in items}
    cells = []
    for label, phase, section in GRID:
        rows = [r for r in doc.get("checklist", [])
                if (item := index.get(r["id"])) and item.phase == phase
                and (section is None or item.section == section)]
        tally: dict[str, int] = defaultdict(int)
        for r in rows:
            tally[r["status"]] += 1
        worst = _worst(tally)
        detail = ", ".join(f"{n} {s}" for s, n in sorted(tally.items(), key=lambda kv: _WORST.index(kv[0])
                                                            if kv[0] in _WORST else 9))
        cells.append(f'<a class="cv-cell st-{_cls(worst)}" href="#cv-phase-{_cls(phase)}">'
                     f"<b>{escape(label)}</b><span>{escape(worst)}</span>"
                     f"<small>{escape(detail or 'no items')}"
                     "</small></a>")
    return ('<div class="cv-box"><h3>Plan phases</h3><div class="cv-grid" id="cutover-phases">'
            f"{''.join(cells)}</div></div>")


def signoff_counts(doc: dict[str, Any], now: dt.datetime) -> tuple[int, int, int]:
    """(signed and valid, pending, expired)."""
    expired = 0
    for s in doc.get("signoffs", []):
        expires = s.get("expires")
        if expires and dt.datetime.fromisoformat(str(expires)).replace(
                tzinfo=dt.datetime.fromisoformat(str(expires)).tzinfo or dt.UTC) < now:
            expired += 1
    signed = len(doc.get("signoffs", [])) - expired
    pending = sum(1 for c in doc.get("checks", []) if c.get("outcome") == "pending")
    return signed, pending, expired


def signoff_box(doc: dict[str, Any], now: dt.datetime) -> str:
    signed, pending, expired = signoff_counts(doc, now)
    return ('<div class="cv-box cv-signoffs" id="cutover-signoff-counts"><h3>Sign-offs</h3>'
            f'<div class="cv-num st-verified"><b>{signed}</b> signed</div>'
            f'<div class="cv-num st-pending-sign-off"><b>{pending}</b> pending</div>'
            f'<div class="cv-num {"st-failed" if expired else "st-verified"}"><b>{expired}</b> expired</div>'
            '<a href="#cv-pending">pending by role ↓</a></div>')


def first_screen(doc: dict[str, Any], items: list[Item], now: dt.datetime, banner_extra: str = "") -> str:
    return (f'<div class="cv-first">{banner(doc, now, banner_extra)}'
            f'<div class="cv-row">{triggers_table(doc)}{signoff_box(doc, now)}{phase_grid(doc, items)}</div>'
            f'<div class="cv-row">{success_table(doc, items)}</div></div>')


# --- below the first screen -----------------------------------------------------------------

_ROLE = re.compile(r"(?:signed by the|needs the|signed again by the) (?P<role>[A-Z][\w ]+?)(?:[.;:,]|$| in )")


def role_of(message: str) -> str:
    match = _ROLE.search(message)
    return match["role"].strip() if match else "role not named"


def all_causes(doc: dict[str, Any]) -> str:
    found = causes(doc)
    if not found:
        return ""
    items = []
    for c in found:
        checks = "".join(f"<li>{escape(n)}</li>" for n in c.get("checks", []))
        kind = str(c.get("kind"))
        more = (f"<details><summary>{_checks(len(c.get('checks', [])))}</summary><ul>{checks}</ul>"
                "</details>") if checks else ""
        items.append(f'<li><span class="cv-tag">{escape(_KIND_LABEL.get(kind, kind))}</span> '
                     f"{escape(humanize.tidy(str(c.get('cause', ''))))}{more}</li>")
    return f'<h2 id="cv-all-causes">All causes ({len(found)})</h2><ol class="cv-list">{"".join(items)}</ol>'


def pending_by_role(doc: dict[str, Any]) -> str:
    groups: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for c in doc.get("checks", []):
        if c.get("outcome") == "pending":
            groups[role_of(c.get("message", ""))].append(c)
    if not groups:
        return '<h2 id="cv-pending">Pending sign-offs</h2><p>None.</p>'
    out = [f'<h2 id="cv-pending">Pending sign-offs ({sum(map(len, groups.values()))}), by owner role</h2>']
    for role, checks in sorted(groups.items(), key=lambda kv: (-len(kv[1]), kv[0])):
        rows = "".join(f"<tr><td>{escape(', '.join(c.get('checklist', [])) or c['nodeid'])}</td>"
                       f"<td>{escape(humanize.tidy(c.get('message', '')))}</td></tr>" for c in checks)
        out.append(f"<details><summary><b>{escape(role)}</b>: {len(checks)} pending</summary>"
                   f"<table><tr><th>item</th><th>what is missing</th></tr>{rows}</table></details>")
    return "".join(out)


def warnings_list(doc: dict[str, Any]) -> str:
    lines = doc.get("warnings", [])
    if not lines:
        return ""
    shown = "".join(f"<li>{escape(humanize.tidy(w))}</li>" for w in lines)
    return (f"<details><summary><b>Warnings ({len(lines)})</b>: they do not block the release"
            f"</summary><ul>{shown}</ul></details>")


def phase_label(phase: str) -> str:
    return PHASES.get(phase, phase)
