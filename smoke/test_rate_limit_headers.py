"""Smoke: the API advertises its rate limit. ILS mounts its API limiter on every `/api` path with
the draft standard RateLimit headers (docs/ils-contract.md, limit.api). An answer without them
means the limiter is off or not in front of the API: nothing stops a client from flooding it, and
neither clients nor this suite's traffic budget can pace themselves. Passive: one GET, no burst
(the readiness probe, run last, checks that a burst is really refused)."""

from __future__ import annotations

import time

import pytest

from pytest_cutover.traffic_budget import read_limiter

pytestmark = pytest.mark.checklist("sec.rate-limiting")


def test_api_answers_advertise_the_rate_limit(http, target):
    path = target.profile["unknown_api_path"]  # not a health path: ILS exempts those
    result = http.get(path)
    assert result.status is not None, result.describe()
    limiter = read_limiter(result.headers, time.monotonic())
    assert limiter is not None, (
        f"{result.describe()}: no RateLimit (RateLimit-Limit/-Remaining, RateLimit + "
        f"RateLimit-Policy, X-RateLimit-*) header: the API advertises no rate limit")
