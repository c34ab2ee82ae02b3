"""What the suite's own traffic costs the target: the remaining budget of each rate limiter.

Pure module (no pytest). The HTTP client shows every answer to `TrafficBudget.observe`, which reads
the limiter's state from the standard headers (`RateLimit-Limit/-Remaining/-Reset` with
`RateLimit-Policy: 100;w=900`, draft 8's `RateLimit: "name";r=..;t=..`, the older
`X-RateLimit-*`) and `Retry-After`. Before a request, `admit` waits until the limiter that
answers that path has budget again, when that is within `max_wait_s`; otherwise it raises
`Throttled` and the check concerned is blocked, not failed: the suite must never cause the
failure it reports (docs/traffic-budget.md).

Which limiter answers a path is learnt from the answers: the one last seen on that exact path,
else the general one (a limiter seen on more than one path).
"""

from __future__ import annotations

import email.utils
import re
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from urllib.parse import urlsplit

DEFAULT_MAX_WAIT_S = 60.0
MARGIN_S = 0.25  # a window's end as the server counts it may trail ours by a clock tick
CAUSE = "the target's rate limit on the suite's own traffic"


class Throttled(Exception):
    """The target would refuse (or refused) the suite's request for longer than it may wait."""

    cause = CAUSE

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass
class Limiter:
    """One limiter's state as the last answer described it."""

    name: str  # the policy ("100;w=900") or, without one, "limit 100"
    limit: int
    remaining: int
    resets_at: float  # clock time at which the window resets
    window_s: float | None = None
    paths: set[str] = field(default_factory=set)

    def describe(self, now: float) -> str:
        window = f" per {self.window_s:.0f} s" if self.window_s else ""
        return (f"{self.limit}{window} ({self.remaining} left, resets in "
                f"{max(0.0, self.resets_at - now):.0f} s)")


def _number(text: str | None) -> float | None:
    try:
        return float(str(text).split(",")[0].strip()) if text not in (None, "") else None
    except ValueError:
        return None


def retry_after_s(headers: Mapping[str, str], now_epoch: float | None = None) -> float | None:
    """`Retry-After` in seconds: delta-seconds or an HTTP date."""
    value = headers.get("Retry-After")
    if value is None:
        return None
    seconds = _number(value)
    if seconds is not None:
        return max(0.0, seconds)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now_epoch is None else now_epoch))


def _policy_window(policy: str | None) -> tuple[str | None, float | None, int | None]:
    """(name, window_s, quota) of a RateLimit-Policy value: `100;w=900` or `"api";q=100;w=900`."""
    if not policy:
        return None, None, None
    first = policy.split(",")[0].strip()
    window = re.search(r";\s*w=(\d+(?:\.\d+)?)", first)
    quota = re.search(r"(?:^|;\s*q=)(\d+)", first)
    named = re.match(r'"([^"]+)"', first)
    return (named.group(1) if named else first,
            float(window.group(1)) if window else None,
            int(quota.group(1)) if quota else None)


def read_limiter(headers: Mapping[str, str], now: float, now_epoch: float | None = None
                 ) -> Limiter | None:
    """The limiter an answer's headers describe, or None when it names none."""
    policy_name, window, quota = _policy_window(headers.get("RateLimit-Policy"))
    combined = headers.get("RateLimit")
    if combined and "r=" in combined:  # draft 8: RateLimit: "name";r=remaining;t=reset
        left = re.search(r";\s*r=(\d+)", combined)
        until = re.search(r";\s*t=(\d+)", combined)
        named = re.match(r'\s*"([^"]+)"', combined)
        if left and quota is not None:
            return Limiter(named.group(1) if named else (policy_name or f"limit {quota}"), quota,
                           int(left.group(1)),
                           now + (float(until.group(1)) if until else window or 0.0), window)
    for prefix in ("RateLimit-", "X-RateLimit-"):
        limit = _number(headers.get(prefix + "Limit"))
        remaining = _number(headers.get(prefix + "Remaining"))
        if limit is None or remaining is None:
            continue
        reset = _number(headers.get(prefix + "Reset")) or 0.0
        wall = time.time() if now_epoch is None else now_epoch
        if reset > 10**9:  # some X-RateLimit-Reset values are a Unix time, not seconds
            reset = max(0.0, reset - wall)
        return Limiter(policy_name or f"limit {int(limit)}", int(limit), int(remaining),
                       now + reset, window)
    return None


class TrafficBudget:
    """The limiters of one target as this process has seen them; thread-safe."""

    def __init__(self, max_wait_s: float = DEFAULT_MAX_WAIT_S,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.max_wait_s = max_wait_s
        self.clock = clock
        self.sleep = sleep
        self.limiters: dict[str, Limiter] = {}
        self._by_path: dict[str, str] = {}
        self._lock = threading.Lock()
        self.waits: list[str] = []  # what the suite waited for, for the evidence

    # --- what the target said ------------------------------------------------------------------

    def observe(self, path: str, status: int | None, headers: Mapping[str, str]) -> None:
        now = self.clock()
        seen = read_limiter(headers, now)
        with self._lock:
            if seen is not None:
                known = self.limiters.get(seen.name)
                seen.paths = (known.paths if known else set()) | {_key(path)}
                self.limiters[seen.name] = seen
                self._by_path[_key(path)] = seen.name
            if status == 429:
                name = self._by_path.get(_key(path))
                limiter = self.limiters.get(name) if name else None
                wait = retry_after_s(headers)
                if limiter is not None:
                    limiter.remaining = 0
                    if wait is not None:
                        limiter.resets_at = max(limiter.resets_at, now + wait)

    # --- what the suite may send ------------------------------------------------------------------

    def limiter_for(self, path: str) -> Limiter | None:
        with self._lock:
            name = self._by_path.get(_key(path))
            if name is None:  # a path not asked yet: the general limiter, when one is known
                general = [lim for lim in self.limiters.values() if len(lim.paths) > 1]
                return min(general, key=lambda lim: lim.remaining) if general else None
            return self.limiters.get(name)

    def admit(self, method: str, path: str) -> float:
        """Wait, within `max_wait_s`, until the path's limiter has budget; the seconds waited.
        Raises Throttled when the wait would be longer."""
        limiter = self.limiter_for(path)
        if limiter is None:
            return 0.0
        with self._lock:
            now = self.clock()
            if now >= limiter.resets_at:  # a new window: the next answer tells the new count
                limiter.remaining = max(limiter.remaining, 1)
                return 0.0
            if limiter.remaining > 0:
                limiter.remaining -= 1  # this request's share, until its answer says better
                return 0.0
            wait = limiter.resets_at - now + MARGIN_S
        return self._wait(wait, f"{method} {_key(path)}: limiter {limiter.describe(now)}")

    def wait_out(self, method: str, path: str, headers: Mapping[str, str]) -> float:
        """After a 429: wait what the answer asked (within `max_wait_s`) before the one retry."""
        wait = retry_after_s(headers)
        if wait is None:
            limiter = self.limiter_for(path)
            wait = limiter.resets_at - self.clock() if limiter is not None else None
        if wait is None:
            raise Throttled(f"{method} {_key(path)} was answered 429 without Retry-After or "
                            f"RateLimit-Reset, so the suite cannot know when to retry")
        return self._wait(max(0.0, wait) + MARGIN_S,
                          f"{method} {_key(path)} was answered 429 (Retry-After {wait:.0f} s)")

    def _wait(self, seconds: float, why: str) -> float:
        if seconds > self.max_wait_s:
            raise Throttled(f"{why}; waiting {seconds:.0f} s is beyond traffic.max_wait_s "
                            f"{self.max_wait_s:.0f} s")
        self.waits.append(f"waited {seconds:.1f} s: {why}")
        self.sleep(seconds)
        return seconds

    def summary(self) -> list[str]:
        now = self.clock()
        return [f"{name}: {lim.describe(now)}" for name, lim in sorted(self.limiters.items())]


def _key(path: str) -> str:
    return urlsplit(path).path or "/"


# One budget per target origin and process: every client of the run, wherever a fixture or a
# check creates it, paces against the same view of the target's limiters (like a shared pool).
_shared: dict[str, TrafficBudget] = {}
_shared_lock = threading.Lock()
_max_wait_s = [DEFAULT_MAX_WAIT_S]


def configure(max_wait_s: float) -> None:
    """The run's `[traffic] max_wait_s`, for every budget (already made or not)."""
    _max_wait_s[0] = max_wait_s
    for budget in _shared.values():
        budget.max_wait_s = max_wait_s


def shared(url: str) -> TrafficBudget:
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    with _shared_lock:
        if origin not in _shared:
            _shared[origin] = TrafficBudget(_max_wait_s[0])
        return _shared[origin]
