"""Alert sink: receives Alertmanager webhook notifications (as a Slack-like chat would) and keeps
them in <data_dir>/alerts.jsonl; GET /alerts lists what arrived, for self-tests and drills."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from ilsref.standins.common import StandinHandler

_WRITE_LOCK = threading.Lock()


class WebhookHandler(StandinHandler):
    def journal(self) -> Path:
        assert self.server.data_dir is not None
        return self.server.data_dir / "alerts.jsonl"

    def do_POST(self) -> None:  # noqa: N802 - stdlib name
        if self.path_only != "/hooks/alertmanager":
            self.reply_json(404, {"error": "not found"})
            return
        try:
            payload = json.loads(self.read_body() or b"{}")
        except ValueError:
            self.reply_json(400, {"error": "body is not JSON"})
            return
        with _WRITE_LOCK, self.journal().open("a") as journal:
            journal.write(json.dumps(payload) + "\n")
        self.reply_text(200, "ok")

    def do_GET(self) -> None:  # noqa: N802 - stdlib name
        if self.path_only != "/alerts":
            self.reply_json(404, {"error": "not found"})
            return
        path = self.journal()
        lines = path.read_text().splitlines() if path.exists() else []
        self.reply_json(200, [json.loads(line) for line in lines])
