"""Smoke: the API keeps its contract: unknown routes are JSON 404s in the ILS error shape, a wrong
method is refused, and an authenticated read is fast enough."""

from __future__ import annotations

import pytest

from pytest_cutover.thresholds import Threshold

pytestmark = pytest.mark.checklist("verify.api-responds")

# One request on an idle API: far below the load gate's P95 (api_latency_ms), so a 0.7 s stall
# is a smoke finding. Override with [environments.NAME.thresholds] smoke_api_latency_ms.
SMOKE_API_LATENCY = Threshold(warn=300, crit=600, unit="ms")


def test_unknown_api_path_answers_json_404(http, target):
    path = target.profile["unknown_api_path"]
    result = http.get(path)
    body = result.json()
    error = body.get("error") if isinstance(body, dict) else None
    assert result.status == 404 and isinstance(error, dict) and body.get("success") is False \
        and error.get("code") and error.get("message"), (
            f"{result.describe()} (expected 404 with {{'success': false, 'error': {{'code', "
            f"'message'}}}})")


def test_wrong_method_on_health_is_refused(http, api_health_path):
    result = http.request("DELETE", api_health_path)
    assert result.status in (404, 405), f"{result.describe()} (expected 404 or 405 for DELETE)"


def test_authenticated_api_read_within_latency_budget(http, target, protected_probe, smoke_auth,
                                                      measure):
    path = protected_probe
    budget = target.threshold("smoke_api_latency_ms", fallback=SMOKE_API_LATENCY)
    timing = http.timed("GET", path, headers=smoke_auth, fails=budget.fails)
    result = timing.result
    assert result.status is not None and result.status < 500, result.describe()
    measure("latency_ms", timing.elapsed_ms, budget,
            subject=f"authenticated GET {path} ({timing.account()})")
