"""Smoke: plain HTTP is never served: it redirects to the HTTPS URL of the same host and path."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pytest_cutover import unverified

pytestmark = pytest.mark.checklist("sec.https-enforced")

PROBE_PATH = "/email-login?from=cutover-smoke"  # a path and query the redirect must keep


def test_plain_http_redirects_to_https_same_host_and_path(http, target):
    http_url = target.data.get("http_url")
    if not http_url:
        unverified(f"no http_url for environment {target.name!r}: set [environments."
                   f"{target.name}] http_url = \"http://…\" to check the HTTPS redirect")
    result = http.get(http_url.rstrip("/") + PROBE_PATH)
    location = result.header("Location") or ""
    expected = target.base_url + PROBE_PATH
    moved = urlsplit(location)
    wanted = urlsplit(expected)
    assert result.status in (301, 302, 307, 308) and (
        moved.scheme, moved.netloc, moved.path, moved.query) == (
        wanted.scheme, wanted.netloc, wanted.path, wanted.query), (
        f"GET {http_url}{PROBE_PATH} answered {result.status} with Location {location!r} "
        f"(expected a redirect to {expected!r}); {result.describe()}")
