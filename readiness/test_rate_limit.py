"""Security: rate limiting throttles a burst from one client, with retry headers, then recovers.

Destructive (it spends the client's request budget): refused on production unless named with
--cutover-allow-destructive. The probe is bounded: at most `security.rate_limit.max_requests`
requests, and at most `recovery_max_s` seconds of waiting for the window to reset.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients.http import HttpClient, HttpResult

DEFAULTS = {"path": "/api/auth/jwt/me", "method": "GET", "max_requests": 150, "recovery_max_s": 20}
RETRY_HEADERS = ("Retry-After", "RateLimit-Reset", "RateLimit-Limit", "RateLimit-Remaining")

pytestmark = [pytest.mark.destructive, pytest.mark.checklist("sec.rate-limiting")]


@dataclass
class Burst:
    sent: int
    throttled: HttpResult | None  # the first 429
    last: HttpResult
    client: HttpClient
    rule: dict


@pytest.fixture(scope="module")
def burst(target):
    rule = {**DEFAULTS, **((target.data.get("security") or {}).get("rate_limit") or {})}
    client = HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=target.timeout_s)
    sent, throttled, last = 0, None, None
    for sent in range(1, int(rule["max_requests"]) + 1):  # noqa: B007 - the count is read after the loop
        last = client.request(rule["method"], rule["path"])
        if last.status is None:
            unverified(f"the rate-limit probe could not reach the target: {last.describe()}")
        if last.status == 429:
            throttled = last
            break
    yield Burst(sent, throttled, last, client, rule)
    client.close()


def test_burst_is_throttled_with_retry_headers(burst, evidence):
    evidence("rate-limit burst", f"{burst.sent} x {burst.rule['method']} {burst.rule['path']}; "
             f"last answer: {burst.last.describe()}\n\n{burst.last.transcript()}")
    assert burst.throttled is not None, (
        f"{burst.sent} requests to {burst.rule['path']} were never answered 429 (expected "
        f"throttling within the probe budget of {burst.rule['max_requests']}); last: "
        f"{burst.last.describe()}")
    present = [h for h in RETRY_HEADERS if burst.throttled.headers.get(h)]
    assert present, (f"the 429 after {burst.sent} requests carries no Retry-After or RateLimit-* "
                     f"header (expected at least one of {', '.join(RETRY_HEADERS)})")


def test_throttled_client_recovers_after_the_window(burst, evidence):
    if burst.throttled is None:
        unverified("no 429 was reached, so recovery cannot be observed")
    headers = burst.throttled.headers
    wait = float(headers.get("Retry-After") or headers.get("RateLimit-Reset") or 1)
    if wait > burst.rule["recovery_max_s"]:
        unverified(f"the limit resets in {wait:.0f} s, beyond recovery_max_s "
                   f"{burst.rule['recovery_max_s']} s: recovery not observed")
    deadline = time.monotonic() + burst.rule["recovery_max_s"]
    time.sleep(wait)
    answer = burst.client.request(burst.rule["method"], burst.rule["path"])
    while answer.status == 429 and time.monotonic() < deadline:
        time.sleep(0.5)
        answer = burst.client.request(burst.rule["method"], burst.rule["path"])
    evidence("after the window", answer.transcript())
    assert answer.status not in (429, None), (
        f"{burst.rule['path']} still answers {answer.status} {wait:.0f} s after the advertised "
        f"reset (expected the limit to lift); {answer.describe()}")
