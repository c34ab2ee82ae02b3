"""The HTTP plumbing the stand-ins share: a server that knows the fault state, JSON replies, auth."""

from __future__ import annotations

import json
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from ilsref.faults import FaultState


class StandinServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, port: int, handler: type[BaseHTTPRequestHandler], faults: FaultState,
                 token: str = "", release: str = "", dsn_key: str = "", data_dir: Path | None = None) -> None:
        super().__init__(("127.0.0.1", port), handler)
        self.faults = faults
        self.token = token
        self.release = release
        self.dsn_key = dsn_key
        self.data_dir = data_dir


class StandinHandler(BaseHTTPRequestHandler):
    server: StandinServer
    server_version = "ilsref-standin"

    @property
    def path_only(self) -> str:
        return urlsplit(self.path).path

    @property
    def query(self) -> dict[str, str]:
        return {k: v[-1] for k, v in parse_qs(urlsplit(self.path).query).items()}

    def fault(self, name: str) -> bool:
        return name in self.server.faults

    def reply(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def reply_json(self, status: int, payload: Any) -> None:
        self.reply(status, json.dumps(payload).encode(), "application/json; charset=utf-8")

    def reply_text(self, status: int, text: str) -> None:
        self.reply(status, text.encode(), "text/plain; charset=utf-8")

    def bearer_ok(self) -> bool:
        """True when the request carries `Authorization: Bearer <the configured token>`."""
        return self.headers.get("Authorization", "") == f"Bearer {self.server.token}"

    def read_body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(min(length, 1_000_000))

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib signature
        print(f"{self.server.server_port} {format % args}", flush=True)
