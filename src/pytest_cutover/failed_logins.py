"""The failed-login budget: every failed login the suite makes on purpose, counted before it is made.

Pure module (no pytest). A target's failed-login limiter (ILS: 5 failures per 15 minutes per
client address, docs/ils-contract.md limit.failed-login) also refuses the real sign-ins that
follow once it is spent, so the suite's deliberate failures (unknown account, empty login, the
UI's refused sign-in, the audit flow, default-credential probes) share one budget, kept below the
limit: at most `cap` in any `window_s` seconds. The budget is a JSON-lines file in the ledger
folder, so runs within the target's window (smoke, then e2e, then readiness) share it too; a lock
file serialises the read-check-append of runs and xdist workers.

When the budget is spent, `spend` waits for the oldest failure to leave the window if that is
within `max_wait_s`, else raises `BudgetSpent`: the probe is then not run, with the reason.
Deliberate failures use made-up addresses (`made_up_address`), never a configured account, so no
real account is ever locked out.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

FILE_NAME = "failed-logins.jsonl"
HEADROOM = 2  # failures the suite leaves to the target's real users within a window
UNKNOWN_ACCOUNT = "unknown-account"  # a sign-in past validation, refused: it may serve many checks


class BudgetSpent(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


@dataclass(frozen=True)
class Spent:
    at: float  # Unix time
    target: str
    run: str
    purpose: str
    kind: str  # UNKNOWN_ACCOUNT, or what else the attempt was (empty-body, default-credential)
    account: str  # the made-up (or default-credential) address used; never a configured account


def made_up_address(purpose: str) -> str:
    """An address no account can have (`.invalid` is reserved, RFC 2606)."""
    return f"cutover-{purpose}-{secrets.token_hex(5)}@example.invalid"


def effective_cap(configured: int, limit: int) -> int:
    """The configured budget, never closer to the limit than HEADROOM (at least 1)."""
    return max(1, min(configured, limit - HEADROOM))


class FailedLoginBudget:
    def __init__(self, folder: Path, target: str, run: str, *, limit: int, window_s: float,
                 cap: int, max_wait_s: float, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.path = folder / FILE_NAME
        self.target, self.run = target, run
        self.limit, self.window_s = limit, window_s
        self.cap = effective_cap(cap, limit)
        self.max_wait_s = max_wait_s
        self.clock, self.sleep = clock, sleep
        self.waited_s = 0.0

    def describe(self) -> str:
        return (f"at most {self.cap} deliberate failed logins per {self.window_s:.0f} s "
                f"(the target's limit: {self.limit} per {self.window_s:.0f} s)")

    def spend(self, purpose: str, kind: str, account: str) -> Spent:
        """Record one deliberate failure before it is made, waiting for the window if needed."""
        for _ in range(self.cap + 2):  # each pass frees one slot or gives up; bounded anyway
            with self._locked():
                now = self.clock()
                recent = self._recent(now)
                if len(recent) < self.cap:
                    spent = Spent(now, self.target, self.run, purpose, kind, account)
                    with self.path.open("a", encoding="utf-8") as out:
                        out.write(json.dumps(asdict(spent)) + "\n")
                    return spent
                frees_at = min(s.at for s in recent) + self.window_s
            wait = frees_at - now + 0.5
            if wait > self.max_wait_s:
                raise BudgetSpent(
                    f"the failed-login budget is spent ({len(recent)} of {self.cap} in the last "
                    f"{self.window_s:.0f} s: {', '.join(sorted({s.purpose for s in recent}))}); "
                    f"it frees in {wait:.0f} s, beyond traffic.max_wait_s {self.max_wait_s:.0f} s. "
                    f"Not run, so the target's limit ({self.limit} per {self.window_s:.0f} s) is "
                    f"never reached and no real sign-in is refused")
            self.waited_s += wait
            self.sleep(wait)
        raise BudgetSpent("the failed-login budget did not free up while waiting")

    def reusable(self, kind: str = UNKNOWN_ACCOUNT) -> Spent | None:
        """The newest deliberate failure of `kind` still inside the window (this run's or an
        earlier run's on the same target): a check that needs one (the audit log's entry) reads
        it instead of making another."""
        now = self.clock()
        mine = [s for s in self._recent(now) if s.kind == kind]
        return max(mine, key=lambda s: s.at) if mine else None

    def _recent(self, now: float) -> list[Spent]:
        found = []
        with contextlib.suppress(FileNotFoundError):
            for line in self.path.read_text(encoding="utf-8").splitlines():
                try:
                    spent = Spent(**json.loads(line))
                except (ValueError, TypeError):
                    continue  # a torn line from a crash
                if spent.target == self.target and now - spent.at < self.window_s:
                    found.append(spent)
        return found

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
