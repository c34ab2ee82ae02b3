"""Smoke: liveness, readiness and detailed health report a healthy target, fast enough.

ILS answers `status: ok` on its simple health paths (not `healthy`); `degraded` is a failure.
"""

from __future__ import annotations

import pytest

from pytest_cutover import unverified
from pytest_cutover.check_http import CheckHttpClient

pytestmark = pytest.mark.checklist("verify.health-green", "verify.deployment-verification",
                                   "t24.staging-healthy")


def _field(result, name):
    body = result.json()
    return body.get(name) if isinstance(body, dict) else None


def test_health_path_reports_status_ok(http, health_path):
    result = http.get(health_path)
    assert result.status == 200, f"{result.describe()} (expected 200)"
    status = _field(result, "status")
    assert status == "ok", f"GET {health_path} reports status {status!r} (expected 'ok')"


def test_health_path_reports_database_connected(http, health_path):
    result = http.get(health_path)
    database = _field(result, "database")
    assert database == "connected", (
        f"GET {health_path} reports database {database!r} (expected 'connected'); "
        f"{result.describe()}")


def test_health_path_answers_within_latency_budget(http, target, health_path, measure):
    budget = target.threshold("health_latency_ms")
    timing = http.timed("GET", health_path, fails=budget.fails)
    assert timing.result.status is not None, timing.result.describe()
    measure("health_latency_ms", timing.elapsed_ms, budget,
            subject=f"GET {health_path} ({timing.account()})")


def test_readiness_path_reports_ready(http, target):
    path = target.profile["ready_path"]
    result = http.get(path)
    status = _field(result, "status")
    assert (result.status, status) == (200, "ready"), (
        f"GET {path} answered {result.status} with status {status!r} (expected 200 'ready'); "
        f"{result.describe()}")


@pytest.fixture(scope="module")
def detailed_answer(target, smoke_timeout_s, readiness):
    """One GET of the detailed health for the three claims below (it may take seconds when a
    dependency is down)."""
    if not readiness.ready:
        return None  # the readiness guard fails each check; do not wait for a timeout here
    # no response (refused, TLS verification failed) blocks the three claims by that cause
    client = CheckHttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=smoke_timeout_s)
    try:
        return client.get(target.profile["detailed_health_path"])
    finally:
        client.close()


@pytest.fixture
def detailed_health(detailed_answer, evidence):
    result = detailed_answer
    evidence("detailed health exchange", result.transcript())
    body = result.json()
    assert result.status in (200, 503) and isinstance(body, dict), (
        f"{result.describe()} (expected a JSON health report)")
    return result.path, body


def test_detailed_health_reports_healthy(detailed_health):
    path, body = detailed_health
    assert body.get("status") == "healthy", (
        f"GET {path} reports status {body.get('status')!r} (expected 'healthy'); "
        f"database {body.get('database')!r}, redis {body.get('redis')!r}")


def test_detailed_health_reports_database_connected(detailed_health):
    path, body = detailed_health
    assert body.get("database") == "connected", (
        f"GET {path} reports database {body.get('database')!r} (expected 'connected')")


def test_detailed_health_reports_redis_up(detailed_health):
    path, body = detailed_health
    if "redis" not in body:
        unverified(f"GET {path} reports no redis field: Redis health cannot be judged from it")
    assert body["redis"] == "up", f"GET {path} reports redis {body['redis']!r} (expected 'up')"
