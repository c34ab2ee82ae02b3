"""Helpers for pytester runs of the plugin: a throwaway cutover project and a tiny local target.

Inner runs load pytest-cutover through its pytest11 entry point (see tests/pytest.ini).
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cutover_project import Project

# Import the plugin and its clients here, in the outer process: pytester's in-process runs drop
# modules first imported inside them, and a fresh http.cookiejar next to an old `requests` fails
# with "You can only merge into CookieJar". Importing does not register the plugin.
import pytest_cutover.clients.http
import pytest_cutover.plugin  # noqa: F401


class _Handler(BaseHTTPRequestHandler):
    server_version, sys_version = "cutover-test-target", ""  # no version banner to report

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        if self.path == "/api/health":
            self._send(200, {"status": "ok", "version": "2.0.0"})
        elif self.path == "/api/throttled":  # a limiter spent for 15 minutes (ILS's window)
            self._send(429, {"error": "Too many requests"}, [
                ("Retry-After", "900"), ("RateLimit-Policy", "100;w=900"), ("RateLimit-Limit", "100"),
                ("RateLimit-Remaining", "0"), ("RateLimit-Reset", "900")])
        elif self.path == "/api/boom":  # an internal error page that shows its stack
            self._send(500, {"error": "boom", "trace": 'Traceback (most recent call last):\n  File '
                             '"/srv/ils/app.py", line 12, in handler\nKeyError: SECRET-42'})
        elif self.path == "/login":
            self._send(200, {"ok": True}, [("Set-Cookie", "ils.sid=s%3ACOOKIE-SECRET-42.sig; HttpOnly")])
        else:
            self._send(404, {"error": "not found"})

    def _send(self, status: int, body: Any, headers: list[tuple[str, str]] = ()) -> None:  # type: ignore[assignment]
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture(scope="session")
def target_url() -> Iterator[str]:
    """A tiny HTTP target on a free loopback port: /api/health, /login (sets a cookie),
    /api/throttled (429 for 900 s)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _no_cutover_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    """Inner runs see only the CUTOVER_* variables a test sets."""
    for name in list(os.environ):
        if name.startswith("CUTOVER_"):
            monkeypatch.delenv(name)


@pytest.fixture
def project(pytester: pytest.Pytester, target_url: str) -> Project:
    """A cutover project: cutover.toml with local/staging/production, and an ini that activates
    the plugin through `cutover_config` (as the real project's pyproject.toml does)."""
    p = Project(pytester, target_url)
    p.config()
    p.ini("cutover_config = cutover.toml")
    return p
