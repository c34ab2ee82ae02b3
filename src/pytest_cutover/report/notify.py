"""Tell the team: post the verdict to chat webhooks (`--cutover-notify=URL`, repeatable, or the
environment's `notify` table).

One JSON body per URL: `text` and `blocks` in the shape Slack-compatible incoming webhooks accept,
plus `cutover`, the plain form (decision, causes, trigger states with their values, counts, the
report's location); `notify.format = "json"` sends the plain form alone. The body passes through
the run's redactor; the URL itself is a secret (webhook tokens live in it) and only its host is
ever printed. A post that fails or times out is a warning in the terminal: the verdict and the
exit code never change because of a notification.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

import pytest

from pytest_cutover import humanize
from pytest_cutover.report.dashboard import causes

ICON = {"GO": ":white_check_mark:", "NO-GO": ":no_entry:", "ROLLBACK": ":rewind:"}
DEFAULT_TIMEOUT_S = 5.0


def plain(doc: dict[str, Any], report: str) -> dict[str, Any]:
    return {"decision": doc["decision"], "exit_code": doc.get("exit_code"),
            "environment": doc.get("environment"), "release": doc.get("release"),
            "target": doc.get("target"), "generated_at": doc.get("generated_at"),
            "markers": doc.get("markers", []), "counts": doc.get("counts", {}),
            "causes": causes(doc, limit=20),
            "triggers": [{"name": t.get("name"), "rule": t.get("rule"), "state": t.get("state"),
                          "values": [humanize.tidy(d) for d in t.get("details", [])[:5]]}
                         for t in doc.get("triggers", [])],
            "report": report}


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def slack(doc: dict[str, Any], report: str) -> dict[str, Any]:
    decision = doc["decision"]
    found = causes(doc, limit=8)
    title = f"{decision}: release {doc.get('release') or '?'} on {doc.get('environment')}"
    lines = [f"• *{c.get('kind')}*: {humanize.tidy(str(c.get('cause')))}"
             + (f" ({len(c.get('checks') or [])} checks)" if len(c.get("checks") or []) > 1 else "")
             for c in found]
    fields = []
    for t in doc.get("triggers", [])[:10]:
        value = f": {humanize.tidy(t['details'][0])}" if t.get("details") else ""
        fields.append({"type": "mrkdwn", "text": _cut(f"*{t.get('rule')}*\n{t.get('state')}{value}", 300)})
    counts = ", ".join(f"{n} {o}" for o, n in sorted(doc.get("counts", {}).items()))
    blocks: list[dict[str, Any] | None] = [
        {"type": "header", "text": {"type": "plain_text", "text": _cut(title, 150)}},
        {"type": "section", "text": {"type": "mrkdwn", "text": _cut(
            "*Causes*\n" + "\n".join(lines) if lines else "No cause against the release.", 3000)}},
        {"type": "section", "fields": fields} if fields else None,
        {"type": "context", "elements": [{"type": "mrkdwn", "text": _cut(
            f"checks: {counts or 'none'} · report: {report}", 300)}]},
    ]
    first = f"; first cause: {humanize.tidy(str(found[0].get('cause')))}" if found else ""
    return {"text": _cut(f"{ICON.get(decision, '')} Cutover {title}{first}", 3000),
            "blocks": [b for b in blocks if b]}


def body(doc: dict[str, Any], report: str, form: str = "both") -> dict[str, Any]:
    if form == "json":
        return plain(doc, report)
    out = slack(doc, report)
    if form != "slack":
        out["cutover"] = plain(doc, report)
    return out


def where(url: str) -> str:
    """What may be printed about a webhook URL: its scheme and host."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")


def post(url: str, data: bytes, timeout_s: float) -> str | None:
    """None when the receiver accepted the post (2xx), else why not (without the URL)."""
    # the caller passes http(s) URLs only
    request = urllib.request.Request(url, data=data, method="POST",  # noqa: S310
                                     headers={"Content-Type": "application/json",
                                              "User-Agent": "pytest-cutover-notify"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:  # noqa: S310
            status = response.status
    except urllib.error.HTTPError as exc:
        return f"answered HTTP {exc.code}"
    except (urllib.error.URLError, TimeoutError, OSError) as exc:
        reason = getattr(exc, "reason", exc)
        text = "timed out" if isinstance(reason, TimeoutError) or "timed out" in str(reason) else str(reason)
        return f"{text} (timeout {humanize.duration(timeout_s)})"
    return None if 200 <= status < 300 else f"answered HTTP {status}"


def targets(config: pytest.Config, env: Any) -> tuple[list[str], dict[str, Any]]:
    """The URLs to post to (option first, then the environment's `notify` table) and the table."""
    table = dict(env.data.get("notify") or {})
    urls = list(config.getoption("--cutover-notify") or [])
    urls += list(table.get("urls") or [])
    if table.get("url_env"):  # settings made sure the variable is set (like every *_env key)
        urls.append(env.secret(table["url_env"]))
    return list(dict.fromkeys(u for u in urls if u)), table


def deliver(config: pytest.Config, doc: dict[str, Any], redact: Any, report: str) -> list[str]:
    """Post to every configured webhook; returns one terminal line per URL."""
    from pytest_cutover.stash import settings_key

    environment = config.stash[settings_key].environment
    urls, table = targets(config, environment)
    if not urls:
        return []
    redact.add(*urls)  # webhook URLs carry tokens
    timeout_s = float(table.get("timeout_s", DEFAULT_TIMEOUT_S))
    location = str(table.get("report_url") or report)
    data = redact(json.dumps(body(doc, location, str(table.get("format", "both"))))).encode()
    lines = []
    for url in urls:
        if urlsplit(url).scheme not in ("http", "https"):
            lines.append(f"notify: WARNING: not posted to {where(url)}: only http(s) URLs are "
                         "supported (the verdict stands)")
            continue
        problem = post(url, data, timeout_s)
        lines.append(f"notify: verdict {doc['decision']} posted to {where(url)}" if problem is None
                     else f"notify: WARNING: posting the verdict to {where(url)} failed: {problem} "
                          "(the verdict stands)")
    return lines
