"""Does an advertised API rate limit fit the traffic the plan expects from one address?

Pure module. The expected traffic is the load model's (pytest_cutover.loadplan): a practitioner
runs one task every `think_time_s` on average, each task sending the /api requests listed in
API_REQUESTS_PER_TASK (as load/locustfile.py's Practitioner does), weighted by `task_weights`;
times the users the plan puts behind one address (`[traffic] users_per_address`, default 5: a
practice behind one router; ILS never sets `trust proxy`, so its limiters see one address for
all of them, docs/ils-contract.md limit.no-trust-proxy). A limit that one practice exhausts in
normal use refuses real users: a finding, with the arithmetic shown.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

# /api requests per task of load/locustfile.py's Practitioner (the visitor's pages are not /api)
API_REQUESTS_PER_TASK = {"dashboard": 2, "patients": 1, "patient": 1, "order": 1, "reports": 2}


@dataclass(frozen=True)
class Fit:
    limiter: str
    limit: int
    window_s: float
    per_user_per_s: float
    users_per_address: int

    @property
    def expected(self) -> float:
        return self.per_user_per_s * self.window_s * self.users_per_address

    @property
    def fits(self) -> bool:
        return self.expected <= self.limit

    def arithmetic(self) -> str:
        verdict = "fits" if self.fits else "is exhausted in normal use"
        return (f"limiter {self.limiter}: {self.per_user_per_s:.2f} requests/s per user x "
                f"{self.window_s:.0f} s window x {self.users_per_address} users behind one address "
                f"= {self.expected:.0f} requests expected per window vs a limit of {self.limit}: "
                f"it {verdict}")


def requests_per_user_per_s(think_time_s: Sequence[float], task_weights: Mapping[str, int]) -> float:
    """The load model's /api request rate of one practitioner."""
    weights = {task: int(w) for task, w in task_weights.items() if task in API_REQUESTS_PER_TASK}
    total = sum(weights.values())
    if total <= 0:
        return 0.0
    per_task = sum(API_REQUESTS_PER_TASK[t] * w for t, w in weights.items()) / total
    low, high = (float(think_time_s[0]), float(think_time_s[-1])) if think_time_s else (1.0, 1.0)
    return per_task / max((low + high) / 2, 0.001)


def judge(limiter: str, limit: int, window_s: float, model: Mapping[str, object],
          users_per_address: int) -> Fit:
    rate = requests_per_user_per_s(model["think_time_s"], model["task_weights"])  # type: ignore[arg-type]
    return Fit(limiter, limit, window_s, rate, users_per_address)
