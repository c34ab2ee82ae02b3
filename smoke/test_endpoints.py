"""Smoke: every configured critical endpoint answers its expected status, fast enough; the home
page serves HTML and the SPA's static assets are served.

Endpoints come from the environment's `endpoints` table (ILS defaults in schema.ILS_ENDPOINTS);
the test ids are the endpoint names, so `[homepage]` tells the operator what broke.
"""

from __future__ import annotations

import pytest

from pytest_cutover.thresholds import Threshold

pytestmark = pytest.mark.checklist("success.critical-endpoints", "verify.deployment-verification")


def _headers(endpoint, tokens):
    return {"Authorization": f"Bearer {tokens(endpoint.auth)}"} if endpoint.auth else None


def _call(http, endpoint, tokens):
    return http.request(endpoint.method, endpoint.path, headers=_headers(endpoint, tokens))


def _latency_budget(target, endpoint):
    """The endpoint's own `latency` table, else the default for its kind of path."""
    if endpoint.latency:
        return Threshold(**{"unit": "ms", **endpoint.latency})
    path = endpoint.path
    if path in target.profile.get("health_paths", []) or path.startswith(target.profile["ready_path"]):
        return target.threshold("health_latency_ms")
    return target.threshold("api_latency_ms" if path.startswith("/api/") else "page_latency_ms")


def test_endpoint_answers_expected_status_and_body(http, endpoint, tokens):
    result = _call(http, endpoint, tokens)
    assert result.status == endpoint.expect_status, (
        f"{result.describe()} (expected {endpoint.expect_status}) for endpoint {endpoint.name!r}")
    body = result.json()
    wrong = {key: body.get(key) if isinstance(body, dict) else None
             for key, value in (endpoint.expect_json or {}).items()
             if not isinstance(body, dict) or body.get(key) != value}
    assert not wrong, (f"{endpoint.method} {endpoint.path} answered {wrong!r} "
                       f"(expected {endpoint.expect_json!r}) for endpoint {endpoint.name!r}")


def test_endpoint_answers_within_latency_budget(http, endpoint, tokens, target, measure):
    budget = _latency_budget(target, endpoint)
    timing = http.timed(endpoint.method, endpoint.path, headers=_headers(endpoint, tokens),
                        fails=budget.fails)
    assert timing.result.status is not None, timing.result.describe()
    measure("latency_ms", timing.elapsed_ms, budget,
            subject=f"endpoint {endpoint.name!r} ({endpoint.method} {endpoint.path}; "
                    f"{timing.account()})")


@pytest.mark.checklist("verify.homepage")
def test_homepage_serves_html(http):
    result = http.get("/")
    content_type = result.header("Content-Type") or ""
    assert result.status == 200 and "text/html" in content_type, (
        f"{result.describe()}; Content-Type {content_type!r} (expected 200 text/html)")


@pytest.mark.checklist("verify.homepage")
def test_static_asset_is_served(http, target):
    asset = target.profile["static_asset"]
    result = http.get(asset)
    assert result.status == 200 and result.text != "", (
        f"{result.describe()} (expected 200 with a body for the static asset {asset})")
