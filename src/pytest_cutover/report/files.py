"""The report files besides the HTML: verdict.json, summary.md, announcement.md, evidence bundle.

Everything written here passes through the redactor first.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import checklist, humanize, ledger
from pytest_cutover.report.announcement import announcement
from pytest_cutover.stash import (
    archive_key,
    document_key,
    evidence_store_key,
    governance_key,
    redactor_key,
    results_key,
    run_key,
    settings_key,
)
from pytest_cutover.verdict import Verdict


def _write(path: Path, text: str, redact: Any) -> str:
    """Write the redacted text; return it (the run's archive gets the same text)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    redacted: str = redact(text)
    path.write_text(redacted, encoding="utf-8")
    return redacted


def verdict_document(config: pytest.Config, verdict: Verdict) -> dict[str, Any]:
    settings = config.stash[settings_key]
    env = settings.environment
    results = list(config.stash[results_key].values())
    rows = checklist.matrix(checklist.load(), results)
    gov = config.stash[governance_key]
    run: dict[str, Any] = config.stash[run_key]
    return {
        **verdict.to_dict(),
        **run,
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "environment": env.name, "environment_kind": env.kind, "target": env.base_url,
        "release": env.release,
        "checks": [r.to_dict() for r in results],
        "checklist": [{"id": row.item.id, "phase": row.item.phase, "status": row.status,
                       "checks": [n for n, _ in row.checks]} for row in rows],
        "signoffs": [s.to_dict() for s in gov.signoffs],
        "waivers": [w.to_dict() for w in gov.waivers],
    }


def summary_markdown(doc: dict[str, Any]) -> str:
    """The verdict for a CI step summary or a chat: causes first, human units (humanize)."""
    from pytest_cutover.report.dashboard import causes

    icon = {"GO": "✅", "NO-GO": "⛔", "ROLLBACK": "⏪"}[doc["decision"]]
    counts = ", ".join(f"{n} {o}" for o, n in sorted(doc["counts"].items())) or "no checks"
    lines = [f"## {icon} Cutover verdict: **{doc['decision']}**", "",
             f"Environment `{doc['environment']}` ({doc['environment_kind']}) at {doc['target']}, "
             f"release `{doc['release'] or 'not set'}`; covers {', '.join(doc['markers']) or '-'}.",
             f"Checks: {counts}.", ""]
    found = causes(doc)
    if found:
        lines.append("### Causes")
        for c in found[:20]:
            checks = c.get("checks") or []
            where = f" ({len(checks)} check{'s' if len(checks) != 1 else ''})" if checks else ""
            lines.append(f"- **{c.get('kind')}**: {humanize.tidy(str(c.get('cause')))}{where}")
        lines.append("")
    if doc.get("triggers"):
        lines += ["### Rollback triggers", "", "| trigger | state | values |", "|---|---|---|"]
        for t in doc["triggers"]:
            values = "; ".join(humanize.tidy(d) for d in t.get("details", [])[:2]) or "-"
            lines.append(f"| {t['rule']} | {t['state']} | {values} |")
        lines.append("")
    for title, key in (("Reasons", "reasons"), ("Warnings", "warnings")):
        if doc[key]:
            lines.append(f"<details><summary>{title} ({len(doc[key])})</summary>\n")
            lines += [f"- {humanize.tidy(line)}" for line in doc[key][:50]]
            lines += ["", "</details>", ""]
    measured = [(c["nodeid"], m) for c in doc["checks"] for m in c["measurements"]]
    if measured:
        lines += ["### Measurements", "", "| check | measurement | value | warning | critical | level |",
                  "|---|---|---|---|---|---|"]
        for nodeid, m in measured[:60]:
            lines.append(f"| `{nodeid.split('::')[-1]}` | {m['name']} | "
                         f"{humanize.quantity(m['value'], m['unit'])} | "
                         f"{_n(m['warn'], m['unit'])} | {_n(m['crit'], m['unit'])} | {m['level']} |")
        lines.append("")
    lines.append(f"{doc['destructive_note'][:1].upper()}{doc['destructive_note'][1:]}.")
    lines.append(f"Full report: `go-no-go.html`; machine-readable: `verdict.json`; run `{doc['run_id']}`.")
    return "\n".join(lines) + "\n"


def _n(value: Any, unit: str = "") -> str:
    return "-" if value is None else humanize.quantity(value, unit)


def _slug(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:150]


def write_evidence(folder: Path, evidence: dict[str, list[dict[str, str]]], redact: Any) -> None:
    """One folder per check, one file per piece of evidence, and a SHA-256 manifest. The last
    run's evidence goes first, so the folder holds this run's files only."""
    import base64
    import shutil

    if folder.is_dir():
        shutil.rmtree(folder)

    manifest: dict[str, str] = {}
    for nodeid, entries in sorted(evidence.items()):
        for n, entry in enumerate(entries, 1):
            suffix = {"json": ".json", "html": ".html", "png": ".png"}.get(entry["kind"], ".txt")
            name = f"{_slug(nodeid)}/{n:02d}-{_slug(entry['title'])}{suffix}"
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            if entry["kind"] == "png":
                data = base64.b64decode(entry["content"])
            else:
                data = redact(entry["content"]).encode()
            path.write_bytes(data)
            manifest[name] = hashlib.sha256(data).hexdigest()
    lines = [f"{digest}  {name}" for name, digest in sorted(manifest.items())]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "SHA256SUMS").write_text("\n".join(lines) + ("\n" if lines else ""))


def write_all(config: pytest.Config, verdict: Verdict, folder: Path) -> dict[str, Any]:
    redact = config.stash[redactor_key]
    doc = verdict_document(config, verdict)
    settings = config.stash[settings_key]
    history = ledger.folder(folder, settings.environment.data, settings.path.parent)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    archive = f"runs/{stamp}-{_slug(settings.environment.name)}"
    doc["report_archive"] = f"{archive}/go-no-go.html"  # the HTML is copied there when written
    config.stash[archive_key] = history / archive
    written = {"verdict.json": _write(folder / "verdict.json", json.dumps(doc, indent=2, default=str),
                                      redact),
               "summary.md": _write(folder / "summary.md", summary_markdown(doc), redact)}
    _write(folder / "announcement.md", announcement(verdict, settings.environment), redact)
    write_evidence(folder / "evidence", config.stash.get(evidence_store_key, {}), redact)
    (history / archive).mkdir(parents=True, exist_ok=True)
    for name, text in written.items():
        (history / archive / name).write_text(text, encoding="utf-8")
    ledger.append_verdict(doc, history)
    config.stash[document_key] = doc
    return doc
