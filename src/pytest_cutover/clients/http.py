"""HTTP client that returns facts about each exchange; the checks state the claims.

A timeout is always set; a connection error or timeout is a fact too (`status is None`), so a
check fails with a readable message instead of a traceback, and a hanging target cannot hang us.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
import urllib3


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
        lines += [f"> {k}: {v}" for k, v in self.request_headers.items()]
        if self.status is None:
            lines.append(f"< (no response: {self.error})")
        else:
            lines.append(f"< {self.status}  ({self.elapsed_ms:.0f} ms)")
            lines += [f"< {k}: {v}" for k, v in self.headers.items()]
            lines.append("")
            lines.append(self.text[:2000])
        return "\n".join(lines)


class HttpClient:
    def __init__(self, base_url: str, *, ca_bundle: str | None = None, timeout_s: float = 10.0,
                 user_agent: str = "pytest-cutover",
                 pool: requests.adapters.HTTPAdapter | None = None) -> None:
        self.base_url = base_url.rstrip("/") + "/"
        self.verify: str | bool = ca_bundle or True
        self.timeout_s = timeout_s
        self.session = requests.Session()  # its own cookies: checks never share a login by accident
        self.session.headers["User-Agent"] = user_agent
        self._owns_pool = pool is None
        if pool is not None:  # a shared connection pool: kept-alive TLS connections across checks
            self.session.mount("https://", pool)
            self.session.mount("http://", pool)
        self.history: list[HttpResult] = []

    def url(self, path: str) -> str:
        return path if "://" in path else urljoin(self.base_url, path.lstrip("/"))

    def request(self, method: str, path: str, *, headers: Mapping[str, str] | None = None,
                json: Any = None, data: Any = None, follow: bool = False,
                timeout_s: float | None = None, verify: str | bool | None = None) -> HttpResult:
        url = self.url(path)
        start = time.perf_counter()
        try:
            with _quiet_insecure(verify is False):
                response = self.session.request(
                    method, url, headers=headers, json=json, data=data, allow_redirects=follow,
                    timeout=timeout_s or self.timeout_s,
                    verify=self.verify if verify is None else verify)
        except requests.RequestException as exc:
            result = HttpResult(method, url, None, {}, "", (time.perf_counter() - start) * 1000,
                                error=_short_error(exc), request_headers=dict(headers or {}))
        else:
            raw_cookies = response.raw.headers.getlist("Set-Cookie") if response.raw else []
            result = HttpResult(
                method, url, response.status_code, response.headers, response.text,
                response.elapsed.total_seconds() * 1000, set_cookies=list(raw_cookies),
                request_headers=dict(response.request.headers))
        self.history.append(result)
        return result

    def get(self, path: str, **kwargs: Any) -> HttpResult:
        return self.request("GET", path, **kwargs)

    def post(self, path: str, **kwargs: Any) -> HttpResult:
        return self.request("POST", path, **kwargs)

    def close(self) -> None:
        if self._owns_pool:
            self.session.close()


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


def _short_error(exc: Exception) -> str:
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
        return "connection failed (refused or reset)"
    return type(exc).__name__
