"""The rate-limit probe's burst and recovery, as plain functions over a `send()` callable.

Pure module (no pytest): unit-tested against a simulated fixed-window limiter.

The burst is sized from what the limiter advertises (`RateLimit-Remaining` + 1), not a fixed
count: a fixed count straddling a window boundary may never see a 429 and leave the window spent
for the checks that follow. A burst that would not finish before the advertised reset starts in a
fresh window instead; one that straddles a boundary anyway keeps going into the new window (the
request cap allows two windows). Recovery is always waited for, within a bound.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from pytest_cutover.traffic_budget import Limiter, read_limiter, retry_after_s


class Answer(Protocol):
    status: int | None
    headers: Mapping[str, str]
    elapsed_ms: float


@dataclass
class Burst:
    sent: int
    first: Answer
    last: Answer
    throttled: Answer | None  # the first 429
    advertised: Limiter | None  # what the first answer said
    waited_for_window_s: float = 0.0
    notes: list[str] = field(default_factory=list)

    @property
    def unreachable(self) -> bool:
        return self.last.status is None


def cap_for(advertised: Limiter | None, max_requests: int) -> int:
    """Requests the burst may send: two of the advertised windows (a straddle), within the cap."""
    if advertised is None:
        return max_requests
    return min(max_requests, 2 * advertised.limit + 2)


def run_burst(send: Callable[[], Answer], *, max_requests: int, recovery_max_s: float,
              clock: Callable[[], float] = time.monotonic,
              sleep: Callable[[float], None] = time.sleep) -> Burst:
    first = send()
    advertised = read_limiter(first.headers, clock()) if first.status is not None else None
    burst = Burst(1, first, first, first if first.status == 429 else None, advertised)
    if first.status in (None, 429):
        return burst
    if advertised is not None:
        burst.notes.append(f"advertised: {advertised.describe(clock())}")
        left = advertised.resets_at - clock()
        needed = advertised.remaining + 1
        # the burst's duration, from the first request's (doubled for a busy machine)
        takes = needed * max(first.elapsed_ms / 1000, 0.001) * 2 + 0.5
        if left < takes and left <= recovery_max_s:
            burst.notes.append(f"the window resets in {left:.1f} s, before a burst of {needed} "
                               f"(about {takes:.1f} s) would end: started it in the next window")
            sleep(left + 0.3)
            burst.waited_for_window_s = left + 0.3
    cap = cap_for(advertised, max_requests)
    while burst.sent < cap:
        answer = send()
        burst.sent += 1
        burst.last = answer
        if answer.status is None:
            return burst
        if answer.status == 429:
            burst.throttled = answer
            return burst
    return burst


@dataclass
class Recovery:
    recovered: bool
    waited_s: float
    last: Answer | None
    note: str = ""


def wait_for_recovery(send: Callable[[], Answer], throttled: Answer, *, bound_s: float,
                      clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep, poll_s: float = 0.5) -> Recovery:
    """Wait what the 429 advertised, then ask until the limit lifts, within `bound_s`."""
    started = clock()
    advertised = retry_after_s(throttled.headers)
    if advertised is None:
        limiter = read_limiter(throttled.headers, started)
        advertised = max(0.0, limiter.resets_at - started) if limiter else 1.0
    if advertised > bound_s:
        return Recovery(False, 0.0, None, f"the limit resets in {advertised:.0f} s, beyond the "
                                          f"recovery bound of {bound_s:.0f} s")
    sleep(advertised)
    deadline = started + bound_s
    answer = send()
    while answer.status == 429 and clock() < deadline:
        sleep(poll_s)
        answer = send()
    return Recovery(answer.status not in (429, None), clock() - started, answer)
