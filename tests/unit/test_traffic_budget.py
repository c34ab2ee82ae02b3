"""The suite's own traffic budget: limiter headers, pacing, the failed-login ledger, the probe's
burst against a fixed window, and whether a limit fits the expected traffic."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from pytest_cutover import failed_logins, limit_fit, rate_probe, traffic_budget
from pytest_cutover.loadplan import DEFAULTS as LOAD_DEFAULTS
from pytest_cutover.traffic_budget import Throttled, TrafficBudget, read_limiter


class Clock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


@pytest.mark.parametrize(("headers", "expected"), [
    ({"RateLimit-Policy": "100;w=900", "RateLimit-Limit": "100", "RateLimit-Remaining": "7",
      "RateLimit-Reset": "30"}, ("100;w=900", 100, 7, 30.0, 900.0)),
    ({"RateLimit-Limit": "5", "RateLimit-Remaining": "0", "RateLimit-Reset": "12"},
     ("limit 5", 5, 0, 12.0, None)),
    ({"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "59", "X-RateLimit-Reset": "40"},
     ("limit 60", 60, 59, 40.0, None)),
    ({"RateLimit-Policy": '"api";q=100;w=60', "RateLimit": '"api";r=3;t=20'},
     ("api", 100, 3, 20.0, 60.0)),
])
def test_limiter_is_read_from_each_header_style(headers, expected):
    limiter = read_limiter(headers, now=0.0)
    assert limiter is not None
    assert (limiter.name, limiter.limit, limiter.remaining, limiter.resets_at,
            limiter.window_s) == expected


def test_answer_without_limit_headers_names_no_limiter():
    assert read_limiter({"Content-Type": "application/json"}, now=0.0) is None


def test_retry_after_reads_seconds_and_dates():
    assert traffic_budget.retry_after_s({"Retry-After": "12"}) == 12
    date = "Thu, 01 Jan 2026 00:01:00 GMT"
    assert traffic_budget.retry_after_s({"Retry-After": date}, now_epoch=1767225600) == 60


def test_spent_limiter_waits_for_its_window_within_the_bound():
    clock = Clock()
    budget = TrafficBudget(max_wait_s=60, clock=clock, sleep=clock.sleep)
    budget.observe("/api/a", 200, {"RateLimit-Limit": "2", "RateLimit-Remaining": "0",
                                   "RateLimit-Reset": "20"})
    waited = budget.admit("GET", "/api/a")
    assert 20 <= waited < 21 and clock.slept == [waited]


def test_spent_limiter_beyond_the_bound_raises_throttled_without_sending():
    clock = Clock()
    budget = TrafficBudget(max_wait_s=60, clock=clock, sleep=clock.sleep)
    budget.observe("/api/a", 200, {"RateLimit-Policy": "100;w=900", "RateLimit-Limit": "100",
                                   "RateLimit-Remaining": "0", "RateLimit-Reset": "600"})
    with pytest.raises(Throttled, match=r"beyond traffic\.max_wait_s 60 s"):
        budget.admit("GET", "/api/a")
    assert clock.slept == []


def test_a_new_path_is_paced_by_the_general_limiter():
    clock = Clock()
    budget = TrafficBudget(max_wait_s=5, clock=clock, sleep=clock.sleep)
    spent = {"RateLimit-Policy": "10;w=60", "RateLimit-Limit": "10", "RateLimit-Remaining": "0",
             "RateLimit-Reset": "50"}
    budget.observe("/api/a", 200, spent)
    budget.observe("/api/b", 200, spent)
    with pytest.raises(Throttled):
        budget.admit("GET", "/api/c")


def test_429_is_waited_out_by_its_retry_after():
    clock = Clock()
    budget = TrafficBudget(max_wait_s=60, clock=clock, sleep=clock.sleep)
    assert 3 <= budget.wait_out("GET", "/api/a", {"Retry-After": "3"}) < 4
    with pytest.raises(Throttled):
        budget.wait_out("GET", "/api/a", {"Retry-After": "900"})


# --- the failed-login budget --------------------------------------------------------------------

def _budget(tmp_path: Path, clock: Clock, run: str = "r1", max_wait_s: float = 60,
            window_s: float = 900) -> failed_logins.FailedLoginBudget:
    return failed_logins.FailedLoginBudget(tmp_path, "https://ils.example", run, limit=5,
                                           window_s=window_s, cap=3, max_wait_s=max_wait_s,
                                           clock=clock, sleep=clock.sleep)


def test_cap_stays_two_below_the_limit():
    assert failed_logins.effective_cap(3, 5) == 3
    assert failed_logins.effective_cap(10, 5) == 3
    assert failed_logins.effective_cap(3, 2) == 1


def test_budget_is_shared_by_runs_through_the_ledger_file(tmp_path):
    clock = Clock()
    first, second = _budget(tmp_path, clock, "r1"), _budget(tmp_path, clock, "r2")
    first.spend("smoke bad credentials", failed_logins.UNKNOWN_ACCOUNT, "a@example.invalid")
    first.spend("smoke empty login", "empty-body", "b@example.invalid")
    second.spend("e2e refused sign-in", failed_logins.UNKNOWN_ACCOUNT, "c@example.invalid")
    with pytest.raises(failed_logins.BudgetSpent, match=r"budget is spent \(3 of 3"):
        second.spend("default-credential probe", "default-credential", "admin@example.com")
    assert clock.slept == []  # 900 s is beyond the 60 s bound: not run, no wait


def test_spent_budget_waits_for_the_window_when_it_is_short(tmp_path):
    clock = Clock()
    budget = _budget(tmp_path, clock, window_s=18)
    for n in range(3):
        budget.spend(f"probe {n}", "empty-body", f"{n}@example.invalid")
        clock.now += 1
    budget.spend("probe 4", "empty-body", "4@example.invalid")
    assert clock.slept and 15 < clock.slept[0] < 17


def test_one_refused_sign_in_serves_later_checks(tmp_path):
    clock = Clock()
    budget = _budget(tmp_path, clock)
    assert budget.reusable() is None
    budget.spend("smoke bad credentials", failed_logins.UNKNOWN_ACCOUNT, "a@example.invalid")
    assert budget.reusable().account == "a@example.invalid"
    clock.now += 901
    assert budget.reusable() is None


def test_made_up_addresses_can_belong_to_no_account():
    address = failed_logins.made_up_address("smoke")
    assert address.endswith("@example.invalid") and address != failed_logins.made_up_address("smoke")


# --- the rate-limit probe against a fixed-window limiter --------------------------------------

@dataclass
class Answer:
    status: int | None
    headers: dict[str, str] = field(default_factory=dict)
    elapsed_ms: float = 2.0


class FixedWindow:
    """A fixed-window limiter on a simulated clock; each request takes `step_s`."""

    def __init__(self, clock: Clock, limit: int, window_s: float, step_s: float,
                 slow_after: int = 0, slow_step_s: float = 0.0) -> None:
        self.clock, self.limit, self.window_s, self.step_s = clock, limit, window_s, step_s
        self.slow_after, self.slow_step_s = slow_after, slow_step_s
        self.counts: dict[int, int] = {}
        self.sent = 0

    def send(self) -> Answer:
        self.sent += 1
        slow = self.slow_after and self.sent > self.slow_after
        self.clock.now += self.slow_step_s if slow else self.step_s
        window = int(self.clock.now // self.window_s)
        self.counts[window] = used = self.counts.get(window, 0) + 1
        reset = max(1, int((window + 1) * self.window_s - self.clock.now + 0.999))
        headers = {"RateLimit-Policy": f"{self.limit};w={self.window_s:.0f}",
                   "RateLimit-Limit": str(self.limit),
                   "RateLimit-Remaining": str(max(0, self.limit - used)),
                   "RateLimit-Reset": str(reset)}
        if used > self.limit:
            return Answer(429, {**headers, "Retry-After": str(reset)}, self.step_s * 1000)
        return Answer(200, headers, self.step_s * 1000)


def test_burst_that_would_straddle_the_boundary_starts_in_the_next_window():
    clock = Clock(now=1008.0)  # 2 s before the boundary at 1010
    limiter = FixedWindow(clock, limit=100, window_s=10, step_s=0.03)
    burst = rate_probe.run_burst(limiter.send, max_requests=250, recovery_max_s=15,
                                 clock=clock, sleep=clock.sleep)
    assert burst.throttled is not None and burst.waited_for_window_s > 0
    assert burst.sent == 102  # the peek, then the fresh window's 100 and the 429


def test_burst_straddling_a_boundary_anyway_still_reaches_a_429_and_recovers():
    # the first requests are fast, so the burst looks short; then the machine slows down and the
    # window's boundary falls mid-burst: the probe keeps going into the new window
    clock = Clock(now=1006.0)  # 4 s left: enough for the burst the first requests promise
    limiter = FixedWindow(clock, limit=100, window_s=10, step_s=0.01, slow_after=20,
                          slow_step_s=0.05)
    burst = rate_probe.run_burst(limiter.send, max_requests=250, recovery_max_s=15,
                                 clock=clock, sleep=clock.sleep)
    assert burst.throttled is not None, f"no 429 after {burst.sent} requests"
    assert burst.waited_for_window_s == 0 and len(limiter.counts) == 2  # it crossed a boundary
    recovery = rate_probe.wait_for_recovery(limiter.send, burst.throttled, bound_s=15,
                                            clock=clock, sleep=clock.sleep)
    assert recovery.recovered and recovery.last.status == 200


def test_recovery_beyond_its_bound_is_not_waited_for():
    clock = Clock()
    recovery = rate_probe.wait_for_recovery(lambda: Answer(200), Answer(429, {"Retry-After": "900"}),
                                            bound_s=20, clock=clock, sleep=clock.sleep)
    assert not recovery.recovered and clock.slept == [] and "900 s" in recovery.note


def test_probe_cap_allows_two_windows_within_the_configured_cap():
    limiter = read_limiter({"RateLimit-Limit": "100", "RateLimit-Remaining": "100"}, 0.0)
    assert rate_probe.cap_for(limiter, 650) == 202
    assert rate_probe.cap_for(limiter, 150) == 150
    assert rate_probe.cap_for(None, 150) == 150


# --- does a limit fit the expected traffic ------------------------------------------------------

def test_ils_api_limit_is_exhausted_by_one_practice_under_the_default_model():
    fit = limit_fit.judge("100;w=900", 100, 900, LOAD_DEFAULTS, users_per_address=5)
    assert not fit.fits
    # 18 /api requests per 13 weighted tasks, one task every 2 s on average
    assert fit.per_user_per_s == pytest.approx(18 / 13 / 2)
    assert fit.arithmetic() == (
        "limiter 100;w=900: 0.69 requests/s per user x 900 s window x 5 users behind one address "
        "= 3115 requests expected per window vs a limit of 100: it is exhausted in normal use")


def test_generous_limit_fits():
    assert limit_fit.judge("300;w=10", 300, 10, LOAD_DEFAULTS, users_per_address=5).fits
