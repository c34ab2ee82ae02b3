"""Security: rate limiting throttles a burst from one client, with retry headers, then recovers.

Destructive (it spends the client's request budget): refused on production unless named with
--cutover-allow-destructive. A limiter whose window is longer than `recovery_max_s` would stay
throttled for everyone behind this address for that long, so the probe then runs only when named
with --cutover-allow-destructive=ENV, whatever the environment's kind.

The burst is sized from the advertised limit and remaining count (pytest_cutover.rate_probe), at
most `max_requests` requests; the probe runs after every other check of the run (`RUN_LAST`) and
always waits for the limit to lift before the run goes on. Under several xdist workers that order
cannot hold, so the probe is blocked there (pytest_cutover.throttling).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients.http import HttpClient, HttpResult
from pytest_cutover.rate_probe import Burst, Recovery, run_burst, wait_for_recovery
from pytest_cutover.traffic_budget import read_limiter

DEFAULTS = {"path": "/api/auth/jwt/me", "method": "GET", "max_requests": 250, "recovery_max_s": 20}
RETRY_HEADERS = ("Retry-After", "RateLimit-Reset", "RateLimit-Limit", "RateLimit-Remaining")
RUN_LAST = True  # it spends the address's budget: every other check of the run goes first

pytestmark = [pytest.mark.destructive, pytest.mark.checklist("sec.rate-limiting")]


@dataclass
class Probe:
    burst: Burst
    client: HttpClient
    rule: dict
    recovery: Recovery | None = None

    def send(self) -> HttpResult:
        return self.client.request(self.rule["method"], self.rule["path"])


def _window_s(result: HttpResult) -> float:
    """How long a spent limit stays spent: the policy's window, else the advertised reset."""
    import time

    limiter = read_limiter(result.headers, time.monotonic())
    if limiter is None:
        return 0.0
    return max(limiter.window_s or 0.0, limiter.resets_at - time.monotonic())


@pytest.fixture(scope="module")
def probe(target, pytestconfig):
    rule = {**DEFAULTS, **((target.data.get("security") or {}).get("rate_limit") or {})}
    client = HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=target.timeout_s,
                        pace=False)  # the probe wants the 429 the paced clients avoid
    bound = float(rule["recovery_max_s"])
    try:
        peek = client.request(rule["method"], rule["path"])
        if peek.status is None:
            unverified(f"the rate-limit probe could not reach the target: {peek.describe()}")
        window = _window_s(peek)
        if window > bound:
            if pytestconfig.getoption("--cutover-allow-destructive") != target.name:
                unverified(
                    f"the limiter on {rule['path']} advertises a {window:.0f} s window, longer than "
                    f"recovery_max_s {bound:.0f} s: a burst would throttle everyone behind this "
                    f"address that long. Not run; name the environment with "
                    f"--cutover-allow-destructive={target.name} to run it")
            bound = window + 5  # opted in: wait the whole window out before the run goes on
        current = Probe(Burst(0, peek, peek, None, None), client, {**rule, "recovery_max_s": bound})
        current.burst = run_burst(current.send, max_requests=int(rule["max_requests"]),
                                  recovery_max_s=bound)
        current.burst.sent += 1  # the peek
        if current.burst.unreachable:
            unverified(f"the rate-limit probe lost the target: {current.burst.last.describe()}")
        yield current
        if current.burst.throttled is not None and current.recovery is None:  # never leave it spent
            current.recovery = wait_for_recovery(current.send, current.burst.throttled, bound_s=bound)
    finally:
        client.close()


def test_burst_is_throttled_with_retry_headers(probe, evidence):
    burst, rule = probe.burst, probe.rule
    evidence("rate-limit burst", "\n".join([
        f"{burst.sent} x {rule['method']} {rule['path']} (cap {rule['max_requests']})",
        *(burst.notes or ["the first answer carried no RateLimit headers"]),
        f"last answer: {burst.last.describe()}", "", burst.last.transcript()]))
    assert burst.throttled is not None, (
        f"{burst.sent} requests to {rule['path']} were never answered 429 (expected throttling "
        f"once the advertised budget was spent, within {rule['max_requests']} requests); last: "
        f"{burst.last.describe()}")
    present = [h for h in RETRY_HEADERS if burst.throttled.headers.get(h)]
    assert present, (f"the 429 after {burst.sent} requests carries no Retry-After or RateLimit-* "
                     f"header (expected at least one of {', '.join(RETRY_HEADERS)})")


def test_throttled_client_recovers_after_the_window(probe, evidence):
    if probe.burst.throttled is None:
        unverified("no 429 was reached, so recovery cannot be observed")
    probe.recovery = wait_for_recovery(probe.send, probe.burst.throttled,
                                       bound_s=probe.rule["recovery_max_s"])
    recovery = probe.recovery
    if recovery.last is None:
        unverified(f"recovery not observed: {recovery.note}")
    evidence("after the window", f"waited {recovery.waited_s:.1f} s\n\n{recovery.last.transcript()}")
    assert recovery.recovered, (
        f"{probe.rule['path']} still answers {recovery.last.status} {recovery.waited_s:.0f} s after "
        f"the 429 (expected the limit to lift after the advertised reset); "
        f"{recovery.last.describe()}")
