"""The leak detector over the whole run: every answer the suite receives is scanned.

The HTTP client tells `LeakLog.observe_http` of each exchange (smoke, readiness, the route sweep);
the browser flows pass their network answers to `observe`; the load run may pass samples. Findings
are redacted and truncated here, travel to the controller on each test report (`drain`), and end
as one session-level result of the verdict, `LEAK_CHECK`, that names each request.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pytest_cutover import leak_scan

LEAK_CHECK = "cutover::answers_leak_no_internals"
MAX_FINDINGS = 40  # one run keeps at most this many (each kind and path once)
NON_BLOCKING = frozenset({"version banner"})  # a warning: smoke's header checks judge banners


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower()


@dataclass
class LeakLog:
    redact: Callable[[str], str]
    scanned: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)
    current: str = ""  # the check running now, named in each finding
    # The target app's origins: only its answers are judged. A log store, Sentry or the Kubernetes
    # API hand back the app's stack traces as their data, which is no leak of theirs.
    origins: frozenset[str] = frozenset()
    _seen: set[tuple[str, str, str]] = field(default_factory=set)

    def observe(self, method: str, url: str, status: int | None, headers: Mapping[str, str],
                text: str, seen_by: str = "http") -> None:
        if status is None or (self.origins and origin(url) not in self.origins):
            return
        headers = {str(k): ", ".join(map(str, v)) if isinstance(v, list | tuple) else str(v)
                   for k, v in headers.items()}  # one string per name, whatever the client gave
        content_type = next((v for k, v in headers.items() if k.lower() == "content-type"), None)
        self.scanned += 1
        leaks = leak_scan.scan(text if leak_scan.is_text(content_type) else "", headers)
        path = urlsplit(url).path or "/"
        for leak in leaks:
            key = (leak.kind, method, path)
            if key in self._seen or len(self.findings) >= MAX_FINDINGS:
                continue
            self._seen.add(key)
            self.findings.append({"kind": leak.kind, "request": f"{method} {path}", "status": status,
                                  "excerpt": self.redact(leak.excerpt), "seen_by": seen_by,
                                  "check": self.current})

    def observe_http(self, result: Any) -> None:
        """An HttpClient observer (clients/http.py OBSERVERS)."""
        self.observe(result.method, result.url, result.status, result.headers, result.text)

    def drain(self) -> dict[str, Any]:
        """What this process found since the last drain (sent with a test report)."""
        found = {"scanned": self.scanned, "findings": self.findings}
        self.scanned, self.findings = 0, []
        return found


@dataclass
class LeakTotals:
    """The controller's sum over every report (and every xdist worker)."""

    scanned: int = 0
    findings: list[dict[str, Any]] = field(default_factory=list)

    def add(self, drained: Mapping[str, Any]) -> None:
        self.scanned += int(drained.get("scanned") or 0)
        for finding in drained.get("findings") or []:
            known = {(f["kind"], f["request"]) for f in self.findings}
            if (finding["kind"], finding["request"]) not in known and len(self.findings) < MAX_FINDINGS:
                self.findings.append(finding)

    def blocking(self) -> bool:
        return any(f["kind"] not in NON_BLOCKING for f in self.findings)

    def message(self) -> str:
        if not self.findings:
            return ""
        ordered = sorted(self.findings, key=lambda f: f["kind"] in NON_BLOCKING)  # worst first
        parts = [f"{f['request']} answered {f['status']} showing a {f['kind']} "
                 f"({'browser' if f['seen_by'] == 'browser' else f['seen_by']}"
                 f"{', during ' + f['check'].split('::')[-1] if f.get('check') else ''}): "
                 f"{f['excerpt']!r}" for f in ordered]
        return (f"{len(self.findings)} leak(s) in the {self.scanned} answers scanned: "
                + "; ".join(parts))
