"""HTTP client that returns facts about each exchange; the checks state the claims.

A timeout is always set; a connection error or timeout is a fact too (`status is None`), so a
check fails with a readable message instead of a traceback, and a hanging target cannot hang us.

Connections are kept alive across checks, so a server may close an idle one at the moment we
reuse it (Node's and uvicorn's keep-alive timeout is 5 s). An idempotent request that meets such a
closed connection is sent once more on a new one, and the result says so: otherwise a check that
waited a few seconds (a rate-limit window, a poll) would fail on the race, not on the target.

`timed` is for latency budgets: a reading that would fail is measured twice more and the median
of the three is judged, so one stalled request is not a NO-GO and a slow endpoint still is.

The client paces itself by the target's rate limits (pytest_cutover.traffic_budget): every answer
updates the shared budget of the target's limiters; a request its limiter would refuse waits for
the window (within `[traffic] max_wait_s`); a 429 to a read or a login is waited out and sent once
more. When that is not possible the request raises `Throttled`, which ends the check as blocked by
the suite's own throttling: a 429 the suite caused is never reported as the target's failure. A
probe that wants the 429 (the rate-limit check) makes its client with `pace=False`.
"""

from __future__ import annotations

import functools
import os
import ssl
import statistics
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import TYPE_CHECKING, Any
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import requests.utils
import urllib3

from pytest_cutover import traffic_budget
from pytest_cutover.clients import observers
from pytest_cutover.traffic_budget import Throttled, TrafficBudget

if TYPE_CHECKING:  # the stubs' names for what requests' adapter hands urllib3
    from requests.adapters import _HostParams, _PoolKwargs

__all__ = ["HttpClient", "HttpResult", "Throttled", "Timing"]

IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
# Told of every exchange of every client (the plugin's leak detector registers there); each client
# also has its own `observers`. An observer that raises never breaks the check that sent.
OBSERVERS = observers.OBSERVERS
CLOSED_ON_REUSE = "connection closed by the server before it answered"


@dataclass
class HttpResult:
    method: str
    url: str
    status: int | None
    headers: Mapping[str, str]
    text: str
    elapsed_ms: float
    error: str | None = None
    set_cookies: list[str] = field(default_factory=list)
    request_headers: Mapping[str, str] = field(default_factory=dict)
    retried_after: str | None = None  # the first attempt's error, when it was sent a second time
    sent_ahead: bool = False  # sent before the check ran, by a bounded prefetch (clients/prefetch.py)

    @property
    def path(self) -> str:
        parts = urlsplit(self.url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def json(self) -> Any:
        import json

        try:
            return json.loads(self.text)
        except ValueError:
            return None

    def header(self, name: str) -> str | None:
        return self.headers.get(name)

    def describe(self) -> str:
        """One line: what was asked, what came back, how long it took."""
        if self.status is None:
            return f"{self.method} {self.path} failed after {self.elapsed_ms:.0f} ms: {self.error}"
        body = " ".join(self.text[:120].split())
        return (f"{self.method} {self.path} returned {self.status} in {self.elapsed_ms:.0f} ms; "
                f"body starts: {body!r}")

    def transcript(self) -> str:
        lines = [f"> {self.method} {self.url}"]
        if self.retried_after:
            lines.append(f"(sent again on a new connection after: {self.retried_after})")
        if self.sent_ahead:
            lines.append("(sent ahead of this check by the bounded prefetch; this answer served "
                         "this check only)")
        lines += [f"> {k}: {v}" for k, v in self.request_headers.items()]
        if self.status is None:
            lines.append(f"< (no response: {self.error})")
        else:
            lines.append(f"< {self.status}  ({self.elapsed_ms:.0f} ms)")
            lines += [f"< {k}: {v}" for k, v in self.headers.items()]
            lines.append("")
            lines.append(self.text[:2000])
        return "\n".join(lines)


@dataclass(frozen=True)
class Timing:
    """The requests behind one latency reading: one, or three when the first was over budget."""

    results: list[HttpResult]

    @property
    def result(self) -> HttpResult:
        """The last answer, the one a check reads status and body from."""
        return self.results[-1]

    @property
    def elapsed_ms(self) -> float:
        return statistics.median(r.elapsed_ms for r in self.results)

    def account(self) -> str:
        if len(self.results) == 1:
            return f"1 request, {self.elapsed_ms:.0f} ms"
        each = ", ".join(f"{r.elapsed_ms:.0f}" for r in self.results)
        return f"median of {len(self.results)} requests ({each} ms)"


class Adapter(requests.adapters.HTTPAdapter):
    """requests' adapter, except that unverified requests (`verify=False`: the ready-wait,
    whose claim is that the target answers, not that it is trusted) share one TLS context made
    for them: urllib3 would otherwise load the system's whole CA store into a new context for
    each such connection (~25 ms of CPU), to verify nothing against it."""

    def build_connection_pool_key_attributes(self, request: requests.PreparedRequest,
                                             verify: bool | str,
                                             cert: str | tuple[str, str] | None = None
                                             ) -> tuple[_HostParams, _PoolKwargs]:
        host, pool = super().build_connection_pool_key_attributes(request, verify, cert)
        if verify is False and host.get("scheme") == "https":
            pool["ssl_context"] = _unverified_context()
        return host, pool


@functools.cache
def _environment_proxies(scheme: str, netloc: str) -> tuple[tuple[str, str], ...]:
    """The proxies requests would take from the environment for this scheme and host (honouring
    no_proxy), read once per host instead of once per request."""
    return tuple(sorted(requests.utils.get_environ_proxies(f"{scheme}://{netloc}/").items()))


def _environment_ca_bundle() -> str | None:
    """The CA bundle requests would take from the environment when none is configured."""
    return os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or None


@functools.cache
def _unverified_context() -> ssl.SSLContext:
    """What urllib3 makes for an unverified connection, less the CA store it never consults."""
    from urllib3.util.ssl_ import create_urllib3_context

    return create_urllib3_context(cert_reqs=ssl.CERT_NONE)


class HttpClient:
    def __init__(self, base_url: str, *, ca_bundle: str | None = None, timeout_s: float = 10.0,
                 user_agent: str = "pytest-cutover",
                 pool: requests.adapters.HTTPAdapter | None = None, pace: bool = True,
                 budget: TrafficBudget | None = None) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        # the run's shared view of the target's limiters, unless a probe wants the raw answers
        self.budget = (budget or traffic_budget.shared(self.base_url)) if pace else None
        self.verify: str | bool = ca_bundle or _environment_ca_bundle() or True
        self.timeout_s = timeout_s
        self.session = requests.Session()  # its own cookies: checks never share a login by accident
        # requests would read the environment on every request (every variable, for proxies) and
        # ~/.netrc: proxies come from `_environment_proxies`, read once per host; credentials only
        # from the checks (a .netrc login would turn an anonymous probe into a signed-in one)
        self.session.trust_env = False
        self.session.headers["User-Agent"] = user_agent
        self._owns_pool = pool is None
        # a shared connection pool: kept-alive TLS connections across checks
        pool = pool if pool is not None else Adapter()
        self.session.mount("https://", pool)
        self.session.mount("http://", pool)
        self.history: list[HttpResult] = []
        # answers sent ahead (clients/prefetch.py `Prefetch.take`): plain GETs and OPTIONS only
        self.sent_ahead: Callable[[str, str, Mapping[str, str] | None], HttpResult | None] | None = None
        self.observers: list[Callable[[HttpResult], None]] = []

    def url(self, path: str) -> str:
        return path if "://" in path else urljoin(self.base_url, path.lstrip("/"))

    def request(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
                json: Any = None, data: Any = None, follow: bool = False,
                timeout_s: float | None = None, verify: str | bool | None = None,
                fresh: bool = False) -> HttpResult:
        """One exchange; `fresh` never takes an answer sent ahead (a latency reading)."""
        url = self.url(path)
        plain = json is None and data is None and not follow and timeout_s is None and verify is None
        ahead = self.sent_ahead(method, url, headers) if self.sent_ahead and plain and not fresh else None
        if ahead is not None:
            self.history.append(ahead)
            return ahead

        def send() -> HttpResult:
            if self.budget is not None:
                self.budget.admit(method, url)  # may wait for the window, or raise Throttled
            answer = self._send(method, url, headers, json, data, follow, timeout_s, verify)
            if answer.status is None and answer.error == CLOSED_ON_REUSE and method in IDEMPOTENT:
                first = answer.error
                answer = self._send(method, url, headers, json, data, follow, timeout_s, verify)
                answer.retried_after = first
            if self.budget is not None:
                self.budget.observe(url, answer.status, answer.headers)
            return answer

        result = send()
        if result.status == 429 and self.budget is not None:
            self.history.append(result)  # the refusal is evidence of why the check is blocked
            if not (method in IDEMPOTENT or _is_login(json)):
                raise Throttled(f"{result.describe()} (a write is not repeated)")
            self.budget.wait_out(method, url, result.headers)
            first = f"429 ({result.header('Retry-After') or '?'} s)"
            result = send()
            result.retried_after = first
            if result.status == 429:
                self.history.append(result)
                raise Throttled(f"{result.describe()} again after waiting out the first 429")
        self.history.append(result)
        _notify([*OBSERVERS, *self.observers], result)
        return result

    def _send(self, method: str, url: str, headers: Mapping[str, str] | None, json: Any,
              data: Any, follow: bool, timeout_s: float | None, verify: str | bool | None
              ) -> HttpResult:
        start = time.perf_counter()
        try:
            with _quiet_insecure(verify is False):
                response = self.session.request(
                    method, url, headers=headers, json=json, data=data, allow_redirects=follow,
                    proxies=dict(_environment_proxies(*urlsplit(url)[:2])),
                    timeout=timeout_s or self.timeout_s,
                    verify=self.verify if verify is None else verify)
        except requests.RequestException as exc:
            return HttpResult(method, url, None, {}, "", (time.perf_counter() - start) * 1000,
                              error=_short_error(exc), request_headers=dict(headers or {}))
        raw_cookies = response.raw.headers.getlist("Set-Cookie") if response.raw else []
        return HttpResult(
            method, url, response.status_code, response.headers, response.text,
            response.elapsed.total_seconds() * 1000, set_cookies=list(raw_cookies),
            request_headers=dict(response.request.headers))

    def timed(self, method: str, path: str, *, fails: Callable[[float], bool],
              headers: Mapping[str, str] | None = None, confirmations: int = 2) -> Timing:
        """A latency reading; one that `fails` its budget is confirmed by `confirmations` more
        requests (idempotent methods only, and only while the target answers)."""
        results = [self.request(method, path, headers=headers, fresh=True)]
        first = results[0]
        if first.status is not None and fails(first.elapsed_ms) and method in IDEMPOTENT:
            for _ in range(confirmations):
                results.append(self.request(method, path, headers=headers, fresh=True))
                if results[-1].status is None:
                    break
        return Timing(results)

    def get(self, path: str, **kwargs: Any) -> HttpResult:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HttpResult:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        if self._owns_pool:
            self.session.close()


def _notify(observers: list[Callable[[HttpResult], None]], result: HttpResult) -> None:
    for observe in observers:
        try:
            observe(result)
        except Exception:  # noqa: BLE001, S112 - an observer's bug is not the target's failure
            continue


class _quiet_insecure:
    """Silence urllib3's warning for the few probes that deliberately skip verification."""

    def __init__(self, active: bool) -> None:
        self.active = active

    def __enter__(self) -> None:
        if self.active:
            import warnings

            self._ctx = warnings.catch_warnings()
            self._ctx.__enter__()
            warnings.simplefilter("ignore", urllib3.exceptions.InsecureRequestWarning)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self.active:
            self._ctx.__exit__(exc_type, exc, tb)


def _is_login(body: Any) -> bool:
    """A sign-in (a JSON body with a password): repeated after a 429, like a read."""
    return isinstance(body, dict) and "password" in body


def _short_error(exc: Exception) -> str:
    if isinstance(exc, requests.ConnectTimeout):  # no connection: not the same as a slow answer
        return "timed out connecting"
    if isinstance(exc, requests.Timeout):
        return "timed out"
    if isinstance(exc, requests.exceptions.SSLError):
        text = str(exc)
        for marker in ("CERTIFICATE_VERIFY_FAILED", "certificate has expired", "Hostname mismatch",
                       "self-signed", "unable to get local issuer"):
            if marker in text:
                return f"TLS verification failed ({marker})"
        return "TLS error"
    if isinstance(exc, requests.ConnectionError):
        # requests wraps urllib3's ProtocolError ("Connection aborted.") when the server closed
        # the connection without an answer; refusals and DNS failures arrive as other reasons.
        if exc.args and isinstance(exc.args[0], urllib3.exceptions.ProtocolError):
            return CLOSED_ON_REUSE
        return "connection failed (refused or reset)"
    return type(exc).__name__
