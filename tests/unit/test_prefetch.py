"""The smoke prefetch: answers sent ahead serve one request each, only real answers are served,
latency readings send their own, and no more than the bound is ever in flight."""

from __future__ import annotations

import http.server
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from pytest_cutover.clients.http import HttpClient
from pytest_cutover.clients.prefetch import Planned, Prefetch


class _Server(http.server.ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.lock = threading.Lock()
        self.hits: dict[str, int] = {}
        self.in_flight = 0
        self.most_in_flight = 0
        self.release = threading.Event()  # requests to /held wait for it (bounded below)
        self.release.set()


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: object) -> None:
        pass

    def do_GET(self) -> None:  # noqa: N802 - the stdlib's method name
        server = self.server
        assert isinstance(server, _Server)
        with server.lock:
            server.hits[self.path] = server.hits.get(self.path, 0) + 1
            number = server.hits[self.path]
            server.in_flight += 1
            server.most_in_flight = max(server.most_in_flight, server.in_flight)
        if self.path.startswith("/held"):
            server.release.wait(timeout=10)
        body = f"{self.path} #{number} {self.headers.get('X-Probe', '')}".encode()
        with server.lock:
            server.in_flight -= 1
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


    do_OPTIONS = do_GET  # a preflight is answered like a read here


@contextmanager
def _server() -> Iterator[_Server]:
    server = _Server()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _base(server: _Server) -> str:
    return f"http://127.0.0.1:{server.server_address[1]}"


def _batch(base: str, planned: list[Planned], bound: int = 3) -> Prefetch:
    return Prefetch(lambda: HttpClient(base, timeout_s=5), planned, max_in_flight=bound)


def test_each_answer_sent_ahead_serves_one_request_only():
    with _server() as server:
        batch = _batch(_base(server), [Planned.get("/a"), Planned.get("/a")])
        client = HttpClient(_base(server), timeout_s=5)
        client.sent_ahead = batch.take
        answers = [client.get("/a") for _ in range(3)]
        batch.close()
    assert [a.sent_ahead for a in answers] == [True, True, False]
    assert len({a.text for a in answers}) == 3  # three distinct answers, one per request
    assert server.hits["/a"] == 3
    assert client.history == answers  # the transcripts keep every exchange
    assert "sent ahead" in answers[0].transcript()
    assert "sent ahead" not in answers[2].transcript()


def test_only_the_same_request_takes_an_answer():
    with _server() as server:
        batch = _batch(_base(server), [Planned.get("/b", {"X-Probe": "1"})])
        client = HttpClient(_base(server), timeout_s=5)
        client.sent_ahead = batch.take
        plain = client.get("/b")
        with_body = client.request("GET", "/b", headers={"X-Probe": "1"}, json={"q": 1})
        deleted = client.request("DELETE", "/b", headers={"X-Probe": "1"})
        same = client.get("/b", headers={"X-Probe": "1"})
        batch.close()
    assert [plain.sent_ahead, with_body.sent_ahead, deleted.sent_ahead, same.sent_ahead] == [
        False, False, False, True]


def test_a_latency_reading_never_takes_an_answer_sent_ahead():
    with _server() as server:
        batch = _batch(_base(server), [Planned.get("/c")])
        client = HttpClient(_base(server), timeout_s=5)
        client.sent_ahead = batch.take
        timing = client.timed("GET", "/c", fails=lambda ms: False)
        later = client.get("/c")
        batch.close()
    assert not timing.result.sent_ahead
    assert later.sent_ahead


def test_a_failed_prefetch_is_left_to_the_check():
    with socket.socket() as spare:
        spare.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{spare.getsockname()[1]}"  # bound, not listening: refused
        batch = _batch(closed, [Planned.get("/d")])
        assert batch.take("GET", f"{closed}/d", None) is None
        batch.close()
    assert batch.sent == 1 and batch.served == 0


def test_no_more_than_the_bound_is_in_flight():
    with _server() as server:
        server.release.clear()
        planned = [Planned.get(f"/held/{i}") for i in range(9)]
        batch = _batch(_base(server), planned, bound=3)
        timer = threading.Timer(0.5, server.release.set)  # lets the held requests finish
        timer.start()
        client = HttpClient(_base(server), timeout_s=5)
        client.sent_ahead = batch.take
        answers = [client.get(f"/held/{i}") for i in range(9)]
        batch.close()
        timer.cancel()
    assert all(a.status == 200 and a.sent_ahead for a in answers)
    assert 1 <= server.most_in_flight <= 3


def test_a_preflight_sent_ahead_serves_the_same_preflight_only():
    headers = {"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    with _server() as server:
        batch = _batch(_base(server), [Planned.options("/p", headers)])
        client = HttpClient(_base(server), timeout_s=5)
        client.sent_ahead = batch.take
        read = client.get("/p", headers=headers)  # same path and headers, another method
        preflight = client.request("OPTIONS", "/p", headers=headers)
        batch.close()
    assert not read.sent_ahead and preflight.sent_ahead, (read.transcript(), preflight.transcript())
    assert server.hits["/p"] == 2  # the preflight once (ahead), the GET once (its own)


def test_only_safe_methods_can_be_planned():
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        with pytest.raises(ValueError, match="sent ahead"):
            Planned("/p", (), method)
