"""Load results as facts: the locustfile's final statistics, and histogram quantiles.

Pure module: no pytest, no locust. `LoadStats.from_json` reads what the locustfile's
`events.quitting` listener wrote; `histogram_quantile` computes a quantile from cumulative
Prometheus buckets exactly as PromQL's `histogram_quantile` does, so a client-side P95 can be put
beside the server's over the same window.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class EndpointStats:
    name: str
    method: str
    requests: int
    failures: int
    p50_ms: float
    p95_ms: float
    p99_ms: float
    max_ms: float
    rps: float

    @property
    def error_rate_pct(self) -> float:
        return 100.0 * self.failures / self.requests if self.requests else 0.0

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EndpointStats:
        return cls(name=str(data["name"]), method=str(data.get("method") or ""),
                   requests=int(data["requests"]), failures=int(data["failures"]),
                   p50_ms=float(data["p50_ms"]), p95_ms=float(data["p95_ms"]),
                   p99_ms=float(data["p99_ms"]), max_ms=float(data.get("max_ms", 0)),
                   rps=float(data.get("rps", 0)))


@dataclass(frozen=True)
class LoadStats:
    total: EndpointStats  # every request but the once-per-user sign-in: what the gate judges
    everything: EndpointStats  # Locust's own aggregate, sign-in included
    endpoints: list[EndpointStats]
    started: float  # epoch seconds
    ended: float
    aborted: str  # why the run stopped early, "" when it ran its course
    workers: int
    errors: list[dict[str, Any]]
    warmup_requests: int = 0  # sent during the discarded warm-up
    # one sample a second: {"t", "users", "requests", "p95_ms", "error_rate_pct", "warmup"}
    history: tuple[dict[str, Any], ...] = ()

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> LoadStats:
        return cls(total=EndpointStats.from_dict(data["total"]),
                   everything=EndpointStats.from_dict(data.get("all", data["total"])),
                   endpoints=[EndpointStats.from_dict(e) for e in data["endpoints"]],
                   started=float(data["started"]), ended=float(data["ended"]),
                   aborted=str(data.get("aborted") or ""), workers=int(data.get("workers", 0)),
                   errors=list(data.get("errors", [])),
                   warmup_requests=int(data.get("warmup_requests", 0)),
                   history=tuple(h for h in data.get("history", []) if isinstance(h, dict)))

    def matching(self, pattern: str) -> list[EndpointStats]:
        """Endpoints a budget key applies to: the exact name, else every fnmatch match."""
        exact = [e for e in self.endpoints if e.name == pattern]
        return exact or [e for e in self.endpoints if fnmatch.fnmatchcase(e.name, pattern)]

    def table(self) -> str:
        """The per-endpoint table as Markdown (evidence)."""
        rows = ["| method | name | requests | failures | error % | P50 ms | P95 ms | P99 ms | max ms |",
                "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for e in [*sorted(self.endpoints, key=lambda x: (x.name, x.method)), self.total,
                  self.everything]:
            rows.append(f"| {e.method} | {e.name} | {e.requests} | {e.failures} | "
                        f"{e.error_rate_pct:.2f} | {e.p50_ms:.0f} | {e.p95_ms:.0f} | "
                        f"{e.p99_ms:.0f} | {e.max_ms:.0f} |")
        return "\n".join(rows)


# The evidence title under which the load gate files the time series; the report draws it.
HISTORY_EVIDENCE = "load time series (every second: users, P95, error rate of the last 10 s)"


def budget_for(name: str, budgets: dict[str, dict[str, float]]) -> str | None:
    """The budget key that governs an endpoint: its exact name, else the first matching pattern."""
    if name in budgets:
        return name
    return next((key for key in budgets if fnmatch.fnmatchcase(name, key)), None)


def histogram_quantile(q: float, buckets: dict[float, float]) -> float | None:
    """PromQL's histogram_quantile over cumulative bucket counts {upper bound: count}
    (seconds in, seconds out); None without observations."""
    bounds = sorted(buckets)
    if not bounds or bounds[-1] != math.inf:
        return None
    total = buckets[math.inf]
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == math.inf:
                return lower  # PromQL answers the highest finite bound
            if count == below:
                return bound
            return lower + (bound - lower) * (rank - below) / (count - below)
        lower, below = bound, count
    return lower


def bucket_around(value_s: float, buckets: dict[float, float]) -> tuple[float, float]:
    """The (lower, upper] bucket bounds holding a value: the histogram's resolution there."""
    lower = 0.0
    for bound in sorted(buckets):
        if value_s <= bound:
            return lower, bound
        lower = bound
    return lower, math.inf


def gap_outside(value: float, low: float, high: float) -> float:
    """How far a value lies outside [low, high] (0 when inside)."""
    return max(0.0, low - value, value - high)
