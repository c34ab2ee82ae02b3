"""Governance stand-in: what a release hands over besides the running app, with live faults.

One process (`python -m ilsref.standins.governance`) serving, on one loopback port:
- /docs/<name>.md                 a docs site (runbooks, rollback procedure, user docs) with
                                  Last-Modified; `docs_stale` dates the runbooks 200 days back
- /reports/dependency-audit.json  the release build's `npm audit --json`; `audit_critical` adds a
                                  critical advisory
- /reports/integration-junit.xml  the release's integration tests; `junit_failures` fails two
- /api-docs/openapi.json          the published API docs (the app's own document, re-published);
                                  `openapi_missing_endpoint` drops /api/orders
- /flags.json                     feature flags; `feature_flag_wrong` turns one off
- /external/<name>                external dependencies' health; `external_dependency_down` makes
                                  `payments` answer 503
and a watcher thread that acts on other systems while a fault is on:
- `staging_critical_alert`: keeps a critical alert firing in Alertmanager (resolved when cleared)
- `weak_session_secret`: shortens SESSION_SECRET in the emulator's Secret (restored when cleared)
- `debug_log_level`: sets LOG_LEVEL=debug in the emulator's ConfigMap (restored when cleared)
"""

from __future__ import annotations

import argparse
import base64
import datetime as dt
import json
import ssl
import threading
import urllib.request
from email.utils import format_datetime
from pathlib import Path
from typing import Any

from ilsref.faults import FaultState
from ilsref.runtime import stop_on_signals
from ilsref.standins.common import StandinHandler, StandinServer

DOCS = ("runbooks", "rollback-procedures", "user-docs")
FLAGS = {"new_order_wizard": True, "bi_dashboard": True, "legacy_import": False}
EXTERNAL = ("payments", "email")
ALERT = {"alertname": "HighErrorRate", "severity": "critical", "environment": "staging",
         "source": "ilsref-governance"}
SECRET_NAME, SECRET_KEY = "ils-secrets", "SESSION_SECRET"
CONFIGMAP_NAME, LOG_KEY = "ils-config", "LOG_LEVEL"


def doc_text(name: str) -> str:
    title = name.replace("-", " ").title()
    steps = "\n".join(f"{n}. Step {n} of the {name} for ILS 2.0 (reference deployment)." for n in range(1, 9))
    return f"# {title}\n\nDemo document served by the ilsref governance stand-in.\n\n{steps}\n"


def npm_audit(critical: bool) -> dict[str, Any]:
    vulnerabilities: dict[str, Any] = {
        "semver": {"name": "semver", "severity": "moderate", "isDirect": False,
                   "via": [{"source": 1096482, "title": "semver ReDoS", "severity": "moderate"}]}}
    if critical:
        vulnerabilities["jsonwebtoken"] = {
            "name": "jsonwebtoken", "severity": "critical", "isDirect": True,
            "via": [{"source": 1097690, "url": "https://github.com/advisories/GHSA-8cf7-32gw-wr33",
                     "title": "jsonwebtoken signature bypass", "severity": "critical"}]}
    return {"auditReportVersion": 2, "vulnerabilities": vulnerabilities,
            "metadata": {"vulnerabilities": {"critical": int(critical), "moderate": 1}}}


def junit_xml(failures: bool) -> str:
    names = [f"{area}.{case}" for area in ("auth", "patients", "orders", "reports")
             for case in ("creates", "lists", "validates", "refuses_unauthorised")]
    cases = []
    for i, name in enumerate(names):
        area, case = name.split(".")
        body = "<failure message='expected 201, got 500'/>" if failures and i in (5, 9) else ""
        cases.append(f"<testcase classname='{area}' name='{case}' time='0.05'>{body}</testcase>")
    return ("<?xml version='1.0'?><testsuites><testsuite name='integration' "
            f"tests='{len(cases)}'>{''.join(cases)}</testsuite></testsuites>")


class GovernanceHandler(StandinHandler):
    def do_GET(self) -> None:
        path = self.path_only
        if path.startswith("/docs/") and path.endswith(".md") and path[6:-3] in DOCS:
            name = path[6:-3]
            days = 200 if name == "runbooks" and self.fault("docs_stale") else 2
            modified = dt.datetime.now(dt.UTC) - dt.timedelta(days=days)
            body = doc_text(name).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/markdown; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Last-Modified", format_datetime(modified, usegmt=True))
            self.end_headers()
            self.wfile.write(body)
        elif path == "/reports/dependency-audit.json":
            self.reply_json(200, npm_audit(self.fault("audit_critical")))
        elif path == "/reports/integration-junit.xml":
            self.reply(200, junit_xml(self.fault("junit_failures")).encode(), "application/xml")
        elif path == "/api-docs/openapi.json":
            self.reply_json(*self.openapi())
        elif path == "/flags.json":
            flags = dict(FLAGS, new_order_wizard=not self.fault("feature_flag_wrong"))
            self.reply_json(200, {"flags": flags})
        elif path.startswith("/external/") and path[10:] in EXTERNAL:
            down = path[10:] == "payments" and self.fault("external_dependency_down")
            self.reply_json(503 if down else 200, {"status": "down" if down else "ok"})
        else:
            self.reply_json(404, {"error": "not found"})

    def openapi(self) -> tuple[int, Any]:
        source = self.server.data_dir / "app-openapi.url" if self.server.data_dir else None
        try:
            url, ca = json.loads(source.read_text()) if source else ("", "")
            context = ssl.create_default_context(cafile=ca)
            with urllib.request.urlopen(url, context=context, timeout=5) as answer:
                doc = json.loads(answer.read())
        except (OSError, ValueError) as exc:
            return 502, {"error": f"the app's OpenAPI document is unavailable: {exc}"}
        if self.fault("openapi_missing_endpoint"):
            doc.get("paths", {}).pop("/api/orders", None)
        return 200, doc


class Watcher:
    """Acts on Alertmanager and the Kubernetes emulator while the matching fault is on."""

    def __init__(self, faults: FaultState, alertmanager: str, kube_api: str, namespace: str) -> None:
        self.faults, self.alertmanager = faults, alertmanager
        self.kube_api, self.namespace = kube_api, namespace
        self.originals: dict[str, str] = {}  # object URL -> the value a fault replaced
        self.alert_on = False

    def _send(self, method: str, url: str, body: Any, content_type: str = "application/json") -> Any:
        request = urllib.request.Request(url, data=json.dumps(body).encode() if body is not None else None,
                                         method=method, headers={"Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=5) as answer:
            return json.loads(answer.read() or b"null")

    def alert(self, firing: bool) -> None:
        now = dt.datetime.now(dt.UTC)
        ends = now + dt.timedelta(minutes=2) if firing else now - dt.timedelta(seconds=1)
        self._send("POST", f"{self.alertmanager}/api/v2/alerts", [{
            "labels": ALERT, "annotations": {"summary": "5xx ratio above 5 % on staging (fault)"},
            "startsAt": (now - dt.timedelta(minutes=5)).isoformat(), "endsAt": ends.isoformat()}])

    def override(self, on: bool, kind: str, name: str, key: str, value: str) -> None:
        """Set data[key] of a Secret or ConfigMap while `on`; put the original back after."""
        url = f"{self.kube_api}/api/v1/namespaces/{self.namespace}/{kind}/{name}"
        saved = self.originals.get(url)
        if on and saved is None:
            self.originals[url] = self._send("GET", url, None)["data"][key]
            new = value
        elif not on and saved is not None:
            new = self.originals.pop(url)
        else:
            return
        self._send("PATCH", url, {"data": {key: new}}, "application/merge-patch+json")

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(0.3):
            active = self.faults.active()
            try:
                firing = "staging_critical_alert" in active
                if firing or self.alert_on:
                    self.alert(firing)  # refresh while on; resolve once when cleared
                    self.alert_on = firing
                self.override("weak_session_secret" in active, "secrets", SECRET_NAME, SECRET_KEY,
                              base64.b64encode(b"changeme").decode())
                self.override("debug_log_level" in active, "configmaps", CONFIGMAP_NAME, LOG_KEY, "debug")
            except (OSError, ValueError, KeyError) as exc:
                print(f"governance watcher: {exc}", flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ilsref.standins.governance")
    parser.add_argument("--run-dir", type=Path, required=True)
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--alertmanager", default="")
    parser.add_argument("--kube-api", default="")
    parser.add_argument("--namespace", default="ils-local")
    args = parser.parse_args(argv)
    faults = FaultState(args.run_dir / "run" / "faults.json")
    server = StandinServer(args.port, GovernanceHandler, faults, data_dir=args.run_dir / "governance")
    threading.Thread(target=server.serve_forever, daemon=True).start()
    stop = stop_on_signals()
    watcher = Watcher(faults, args.alertmanager, args.kube_api, args.namespace)
    threading.Thread(target=watcher.run, args=(stop,), daemon=True).start()
    print(f"governance stand-in listening on {args.port}", flush=True)
    stop.wait()
    server.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
