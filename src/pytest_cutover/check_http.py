"""The `http` fixture's client: a request that got no response ends the check as blocked by its
cause. Imported when a check first uses `http` (requests is not needed by runs without one)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from pytest_cutover import blocked, causes
from pytest_cutover.clients.http import HttpClient, HttpResult


class CheckHttpClient(HttpClient):
    """A check's HTTP client: a request that got no response because the connection could not
    be made (refused, TLS verification failed, connect timeout) ends the check as blocked by
    that cause. A check that needs a response can then never pass without one, and one dead
    target is one cause, not forty failures. A read timeout stays a result: the target took the
    request and did not answer in time, which is the check's to judge.

    `tolerate_no_response = True` (or `with http.no_response_allowed():`) hands every result
    back, for checks that judge reachability themselves."""

    tolerate_no_response = False

    def request(self, method: str, path: str, **kwargs: Any) -> HttpResult:
        result = super().request(method, path, **kwargs)
        if result.status is None and not self.tolerate_no_response:
            cause = causes.no_response_cause(self.url(path), result.error)
            if cause is not None:
                bundle = self.verify if isinstance(self.verify, str) else None
                blocked(_with_certificate_facts(cause, self.url(path), bundle), result.describe())
        return result

    def no_response_allowed(self) -> Any:
        import contextlib

        @contextlib.contextmanager
        def _allowed() -> Iterator[None]:
            before, self.tolerate_no_response = self.tolerate_no_response, True
            try:
                yield
            finally:
                self.tolerate_no_response = before

        return _allowed()


_CERTIFICATE_NOTES: dict[str, str] = {}  # host:port -> what its certificate says, once per run


def _with_certificate_facts(cause: str, url: str, ca_bundle: str | None) -> str:
    """An expired certificate's cause says since when: 'certificate expired 10 days ago'."""
    if not cause.startswith("TLS verification failed"):
        return cause
    where = causes.where(url)
    if where not in _CERTIFICATE_NOTES:
        from urllib.parse import urlsplit

        from pytest_cutover.clients import tls

        note = ""
        try:
            parts = urlsplit(url)
            leaf = tls.probe(parts.hostname or "", parts.port or 443, ca_bundle=ca_bundle,
                             timeout_s=3.0).leaf
            if leaf is not None and leaf.expired():
                days = -leaf.days_left()
                note = (f"certificate expired {days:.0f} day{'s' if round(days) != 1 else ''} ago"
                        if days >= 1 else "certificate expired today")
        except Exception:  # noqa: BLE001 - the cause stands without the date
            note = ""
        _CERTIFICATE_NOTES[where] = note
    note = _CERTIFICATE_NOTES[where]
    return f"TLS verification failed for {where} ({note})" if note else cause
