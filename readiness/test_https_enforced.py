"""Security: HTTPS is enforced: every configured plain-HTTP address redirects to HTTPS."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pytest_cutover.stash import settings_key


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "plain_url" in metafunc.fixturenames:
        settings = metafunc.config.stash.get(settings_key, None)
        data = settings.environment.data if settings else {}
        urls = (data.get("security") or {}).get("http_urls") or (
            [data["http_url"]] if data.get("http_url") else [])
        metafunc.parametrize("plain_url", urls, ids=[urlsplit(u).netloc for u in urls])


@pytest.mark.checklist("sec.https-enforced")
def test_plain_http_redirects_to_https(http, plain_url):
    result = http.get(plain_url)
    location = str(result.headers.get("Location", ""))
    assert result.status in (301, 308) and location.startswith("https://"), (
        f"GET {plain_url} answered {result.status} with Location {location!r} "
        f"(expected a permanent redirect 301/308 to https://); {result.describe()}")
