"""--cutover-notify: the verdict, its causes, the trigger values and the report's location reach a
loopback webhook as Slack-compatible blocks plus a plain JSON form, redacted; a receiver that is
down or too slow gives a warning and never changes the verdict or the exit code."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from cutover_project import Project

DSN_PASSWORD = "NOTIFY-DSN-PASSWORD-31x"
HOOK_TOKEN = "T0KEN-in-the-webhook-path-77"

SUITE = """
import pytest

def test_database_reachable(target):
    assert False, "could not connect to " + target.secret("T_DSN")

def test_load(measure):
    measure("error_rate_pct", 0.4213377)
"""


class Receiver:
    def __init__(self, delay_s: float = 0.0) -> None:
        self.posts: list[dict[str, Any]] = []
        self.raw: list[str] = []
        self.release = threading.Event()  # ends a slow answer early when the test is done
        self.answered = threading.Event()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                text = self.rfile.read(int(self.headers["Content-Length"])).decode()
                outer.raw.append(self.path + "\n" + text)
                outer.posts.append(json.loads(text))
                outer.release.wait(delay_s)
                try:
                    self.send_response(200)
                    self.send_header("Content-Length", "2")
                    self.end_headers()
                    self.wfile.write(b"ok")
                except OSError:
                    pass  # the client gave up (timeout): that is what a slow receiver tests
                finally:
                    outer.answered.set()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/{HOOK_TOKEN}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.release.set()
        if self.posts:
            self.answered.wait(5)  # no handler left writing after the test
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def leaky(project: Project, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.setenv("T_DSN", f"postgresql://ils:{DSN_PASSWORD}@db.internal/ils")
    project.config('database = { dsn_env = "T_DSN" }\n', base=_local_only())
    project.tests(test_suite=SUITE)
    return project


def _local_only() -> str:
    return """
[cutover]
default_environment = "local"

[environments.local]
kind = "other"
base_url = "{url}"
release = "2.0.0"
"""


def test_the_verdict_reaches_the_webhook_redacted(leaky: Project, receiver: Receiver) -> None:
    result = leaky.run("--html=reports/go-no-go.html", "--self-contained-html",
                       f"--cutover-notify={receiver.url}")
    assert result.ret == 1  # NO-GO: a notification changes nothing
    assert len(receiver.posts) == 1
    body = receiver.posts[0]
    plain = body["cutover"]
    assert plain["decision"] == "NO-GO" and plain["exit_code"] == 1 and plain["release"] == "2.0.0"
    assert any("could not connect to ***" in c["cause"] for c in plain["causes"])
    rate = next(t for t in plain["triggers"] if t["name"] == "error_rate")
    assert rate["state"] == "clear" and rate["values"][0].startswith("0.421")
    assert plain["report"].endswith("reports/go-no-go.html")
    assert body["blocks"][0]["type"] == "header" and "NO-GO" in body["blocks"][0]["text"]["text"]
    assert "NO-GO" in body["text"]
    for raw in receiver.raw:
        assert DSN_PASSWORD not in raw.split("\n", 1)[1]
        assert HOOK_TOKEN not in raw.split("\n", 1)[1]
    terminal = result.stdout.str()
    assert "notify: verdict NO-GO posted to http://127.0.0.1:" in terminal
    assert HOOK_TOKEN not in terminal and DSN_PASSWORD not in terminal


def test_the_environment_notify_table_plain_json(project: Project, receiver: Receiver,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_HOOK", receiver.url)
    project.config('notify = { url_env = "T_HOOK", format = "json", '
                   'report_url = "https://ci.example.com/run/7" }\n', base=_local_only())
    project.tests(test_ok="def test_ok():\n    pass\n")
    assert project.run().ret == 0
    assert receiver.posts[0]["decision"] == "GO" and "blocks" not in receiver.posts[0]
    assert receiver.posts[0]["report"] == "https://ci.example.com/run/7"


def test_a_receiver_that_is_down_or_slow_is_a_warning_not_a_verdict(project: Project) -> None:
    slow = Receiver(delay_s=3)
    try:
        project.config('notify = { timeout_s = 0.5 }\n', base=_local_only())
        project.tests(test_ok="def test_ok():\n    pass\n")
        result = project.run("--cutover-notify=http://127.0.0.1:9/down", f"--cutover-notify={slow.url}")
    finally:
        slow.close()
    assert result.ret == 0 and project.verdict()["decision"] == "GO"
    terminal = result.stdout.str()
    assert "notify: WARNING: posting the verdict to http://127.0.0.1:9 failed" in terminal
    assert "timed out (timeout 500 ms)" in terminal and "(the verdict stands)" in terminal
    assert HOOK_TOKEN not in terminal
