"""The HTTP client and the keep-alive race: a server that closes a reused connection unanswered.

A plain socket server on loopback plays the server side, so each case is deterministic: it answers
the first `answered` requests of every connection and closes the connection on the next one.
"""

from __future__ import annotations

import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests
import requests.adapters

from pytest_cutover.clients.http import CLOSED_ON_REUSE, HttpClient, HttpResult, Timing

OK = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok"


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    answered = 1  # requests answered per connection before it is closed unanswered
    connections = 0


class _Handler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server = self.server
        assert isinstance(server, _Server)
        server.connections += 1
        sock: socket.socket = self.request
        sock.settimeout(5)
        for number in range(server.answered + 1):
            if not _read_request(sock):
                return
            if number == server.answered:
                return  # read the request, then close without a word: the race as seen by us
            sock.sendall(OK)


def _read_request(sock: socket.socket) -> bool:
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            return False
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next((int(line.split(b":")[1]) for line in head.split(b"\r\n")
                   if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        body += sock.recv(4096)
    return True


@contextmanager
def _server(answered: int) -> Iterator[_Server]:
    server = _Server(("127.0.0.1", 0), _Handler)
    server.answered = answered
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@contextmanager
def _client(server: _Server) -> Iterator[HttpClient]:
    pool = requests.adapters.HTTPAdapter(pool_connections=1, pool_maxsize=1)
    client = HttpClient(f"http://127.0.0.1:{server.server_address[1]}/", timeout_s=5, pool=pool)
    try:
        yield client
    finally:
        pool.close()


def test_a_get_on_a_connection_closed_at_reuse_is_sent_again_and_says_so() -> None:
    with _server(answered=1) as server, _client(server) as client:
        first = client.get("/health")
        second = client.get("/health")
    assert (first.status, first.retried_after) == (200, None)
    assert second.status == 200
    assert second.retried_after == CLOSED_ON_REUSE
    assert "sent again on a new connection" in second.transcript()
    assert server.connections == 2


def test_a_post_is_never_sent_twice() -> None:
    with _server(answered=1) as server, _client(server) as client:
        client.get("/health")
        posted = client.post("/api/orders", json={"x": 1})
    assert posted.status is None
    assert posted.error == CLOSED_ON_REUSE
    assert posted.retried_after is None
    assert server.connections == 1


def test_a_server_that_never_answers_fails_after_one_more_try() -> None:
    with _server(answered=0) as server, _client(server) as client:
        result = client.get("/health")
    assert result.status is None
    assert result.error == CLOSED_ON_REUSE
    assert result.retried_after == CLOSED_ON_REUSE
    assert server.connections == 2
    assert "failed" in result.describe()


def test_a_refused_connection_is_not_retried() -> None:
    with socket.socket() as probe:  # a port that was free a moment ago: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    client = HttpClient(f"http://127.0.0.1:{port}/", timeout_s=2)
    result = client.get("/health")
    client.close()
    assert result.status is None
    assert result.error == "connection failed (refused or reset)"
    assert result.retried_after is None


# --- latency readings -----------------------------------------------------------------------------

def _result(ms: float) -> HttpResult:
    return HttpResult("GET", "https://ils.test/health", 200, {}, "ok", ms)


def test_a_reading_within_budget_takes_one_request() -> None:
    with _server(answered=10) as server, _client(server) as client:
        timing = client.timed("GET", "/health", fails=lambda ms: False)
    assert len(timing.results) == 1
    assert timing.account().startswith("1 request")


def test_a_reading_over_budget_is_confirmed_by_two_more() -> None:
    with _server(answered=10) as server, _client(server) as client:
        timing = client.timed("GET", "/health", fails=lambda ms: True)
        posted = client.timed("POST", "/api/orders", fails=lambda ms: True)
    assert len(timing.results) == 3
    assert timing.account().startswith("median of 3 requests")
    assert len(posted.results) == 1  # a write is never repeated to confirm a latency


def test_the_median_is_judged_so_one_stall_is_not_enough() -> None:
    stalled_once = Timing([_result(1800), _result(40), _result(55)])
    slow = Timing([_result(1800), _result(1700), _result(55)])
    assert stalled_once.elapsed_ms == 55
    assert slow.elapsed_ms == 1700
    assert stalled_once.account() == "median of 3 requests (1800, 40, 55 ms)"


# --- pacing by the target's rate limit (pytest_cutover.traffic_budget) --------------------------

class _Throttling(socketserver.BaseRequestHandler):
    """Answers 429 (Retry-After 7) to the first `refusals` requests of the server, then 200."""

    def handle(self) -> None:
        server = self.server
        sock: socket.socket = self.request
        sock.settimeout(5)
        while _read_request(sock):
            server.connections += 1  # type: ignore[attr-defined]
            if server.connections <= server.answered:  # type: ignore[attr-defined]
                sock.sendall(b"HTTP/1.1 429 Too Many Requests\r\nRetry-After: 7\r\nContent-Length: 0\r\n"
                             b"Connection: keep-alive\r\n\r\n")
            else:
                sock.sendall(OK)


@contextmanager
def _throttling(refusals: int) -> Iterator[tuple[HttpClient, list[float]]]:
    from pytest_cutover.traffic_budget import TrafficBudget

    server = _Server(("127.0.0.1", 0), _Throttling)
    server.answered = refusals
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    slept: list[float] = []
    client = HttpClient(f"http://127.0.0.1:{server.server_address[1]}/", timeout_s=5,
                        budget=TrafficBudget(max_wait_s=60, sleep=slept.append))
    try:
        yield client, slept
    finally:
        client.close()
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_read_answered_429_is_waited_out_and_sent_once_more():
    with _throttling(refusals=1) as (client, slept):
        result = client.get("/api/patients")
    assert result.status == 200 and result.retried_after and result.retried_after.startswith("429")
    assert [r.status for r in client.history] == [429, 200]
    assert len(slept) == 1 and 7 <= slept[0] < 8  # Retry-After, not a guess


def test_second_429_blocks_instead_of_failing():
    import pytest

    from pytest_cutover.clients.http import Throttled

    with _throttling(refusals=2) as (client, _), pytest.raises(Throttled, match="again after"):
        client.get("/api/patients")
    assert [r.status for r in client.history] == [429, 429]


def test_write_answered_429_is_not_repeated():
    import pytest

    from pytest_cutover.clients.http import Throttled

    with _throttling(refusals=1) as (client, slept), pytest.raises(Throttled, match="not repeated"):
        client.post("/api/orders", json={"lens": "x"})
    assert slept == [] and [r.status for r in client.history] == [429]


def test_probe_client_sees_the_raw_429():
    with _throttling(refusals=1) as (client, _):
        client.budget = None  # what `pace=False` makes
        assert client.get("/api/patients").status == 429


def test_unverified_requests_share_one_context_that_verifies_nothing() -> None:
    import ssl

    from pytest_cutover.clients.http import Adapter

    adapter = Adapter()
    request = requests.Request("GET", "https://localhost:8443/api/health").prepare()
    _, unverified = adapter.build_connection_pool_key_attributes(request, False)
    context = unverified["ssl_context"]
    assert context.verify_mode == ssl.CERT_NONE and not context.check_hostname
    assert adapter.build_connection_pool_key_attributes(request, False)[1]["ssl_context"] is context
    # verified requests keep requests' own settings: no context of ours, the bundle as given
    _, bundle = adapter.build_connection_pool_key_attributes(request, "/nonexistent/ca.pem")
    assert "ssl_context" not in bundle or bundle["ssl_context"] is not context
    assert bundle["ca_certs"] == "/nonexistent/ca.pem" and bundle["cert_reqs"] == "CERT_REQUIRED"


# --- the environment: proxies read once per host, no_proxy honoured, no ~/.netrc login -----------

@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[pytest.MonkeyPatch]:
    """No proxy variable, a HOME of its own; the client's per-host cache is emptied before and
    after (what a test puts in the environment must not reach later tests)."""
    from pytest_cutover.clients import http

    for name in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                 "ALL_PROXY", "no_proxy", "NO_PROXY", "NETRC", "REQUESTS_CA_BUNDLE",
                 "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    http._environment_proxies.cache_clear()
    yield monkeypatch
    http._environment_proxies.cache_clear()


def test_a_proxy_named_in_the_environment_carries_the_request(environment: pytest.MonkeyPatch) -> None:
    with _server(answered=5) as proxy:
        environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{proxy.server_address[1]}")
        # nothing listens on 127.0.0.2:9: only the proxy can answer
        client = HttpClient("http://127.0.0.2:9/", timeout_s=5)
        answers = [client.get("/health") for _ in range(2)]
        client.close()
    assert [a.status for a in answers] == [200, 200], [a.describe() for a in answers]


def test_no_proxy_sends_the_request_directly(environment: pytest.MonkeyPatch) -> None:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # a port nobody listens on: a proxy that refuses
    environment.setenv("HTTP_PROXY", f"http://127.0.0.1:{closed.getsockname()[1]}")
    try:
        with _server(answered=5) as server:
            target = f"http://127.0.0.1:{server.server_address[1]}/"
            through_proxy = HttpClient(target, timeout_s=5).get("/health")
            from pytest_cutover.clients import http

            http._environment_proxies.cache_clear()
            environment.setenv("NO_PROXY", "127.0.0.1")
            direct = HttpClient(target, timeout_s=5).get("/health")
    finally:
        closed.close()
    assert through_proxy.status is None, through_proxy.describe()
    assert direct.status == 200, direct.describe()


def test_a_netrc_login_never_signs_in_an_anonymous_probe(environment: pytest.MonkeyPatch,
                                                       tmp_path: Path) -> None:
    netrc = tmp_path / ".netrc"
    netrc.write_text("machine 127.0.0.1 login operator password netrc-secret\n")
    netrc.chmod(0o600)
    with _server(answered=5) as server:
        result = HttpClient(f"http://127.0.0.1:{server.server_address[1]}/", timeout_s=5).get("/x")
    assert result.status == 200
    assert "Authorization" not in result.request_headers, result.request_headers


def test_a_ca_bundle_named_in_the_environment_is_used_when_none_is_configured(
        environment: pytest.MonkeyPatch) -> None:
    environment.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert HttpClient("https://localhost:8443/").verify == "/etc/ssl/certs/ca-certificates.crt"
    assert HttpClient("https://localhost:8443/", ca_bundle="/x/ca.pem").verify == "/x/ca.pem"
