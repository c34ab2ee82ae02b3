"""Readiness, CDN (when one fronts the app): a static asset comes back through the CDN with the
expected CDN headers, and a repeated request is a cache hit. Without a CDN, declare `cdn` not
applicable with the reason; left unconfigured, these checks are not verified.
"""

from __future__ import annotations

import pytest

from pytest_cutover.clients.http import HttpClient
from pytest_cutover.stash import clients_key

pytestmark = pytest.mark.checklist("infra.cdn")

CACHE_STATUS_HEADERS = ("cf-cache-status", "x-cache", "x-cache-status", "cdn-cache", "x-proxy-cache")
# Headers at least one of which any common CDN adds (Cloudflare, CloudFront, Fastly, Akamai ...).
KNOWN_CDN_HEADERS = ("cf-ray", "x-amz-cf-id", "x-served-by", "x-cache", "via", "x-cdn",
                     "akamai-grn", "x-azure-ref", *CACHE_STATUS_HEADERS)


@pytest.fixture
def cdn(request, require, target, probe_timeout_s):
    """(table, asset URL, client): the asset is fetched from cdn.url, or from base_url."""
    table = require("cdn")
    client = HttpClient(table.get("url") or target.base_url, ca_bundle=target.ca_bundle,
                        timeout_s=probe_timeout_s)
    request.node.stash.setdefault(clients_key, []).append(client)
    yield table, table.get("asset") or target.profile["static_asset"], client
    client.close()


def _fetch(client, asset):
    result = client.get(asset)
    assert result.status == 200, f"{result.describe()} (expected the asset with 200)"
    return {k.lower(): v for k, v in result.headers.items()}


def test_asset_carries_the_cdn_headers(cdn):
    table, asset, client = cdn
    headers = _fetch(client, asset)
    expected = [h.lower() for h in table.get("headers") or []]
    if expected:
        missing = [h for h in expected if h not in headers]
        assert not missing, (f"GET {asset} lacks CDN header(s) {', '.join(missing)} "
                             f"(got: {', '.join(sorted(headers))})")
    else:
        assert set(headers) & set(KNOWN_CDN_HEADERS), (
            f"GET {asset} carries no CDN header (expected one of {', '.join(KNOWN_CDN_HEADERS)}; "
            f"got: {', '.join(sorted(headers))})")


def test_repeated_asset_request_is_a_cache_hit(cdn):
    _, asset, client = cdn
    _fetch(client, asset)  # warm the edge
    headers = _fetch(client, asset)
    statuses = {h: headers[h] for h in CACHE_STATUS_HEADERS if h in headers}
    age = headers.get("age", "")
    hit = any("HIT" in v.upper() for v in statuses.values()) or (age.isdigit() and int(age) > 0)
    assert hit, (f"the second GET {asset} was not served from the CDN cache "
                 f"(cache status {statuses or 'absent'}, Age {age or 'absent'}; expected HIT or Age > 0)")
