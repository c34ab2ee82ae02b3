"""The server's own view of a time window, from Prometheus: requests, errors, latency
histogram, CPU, memory, DB connections, slow queries, cache hits.

Counters and histogram buckets are read at the window's two ends and subtracted, so the figures
cover exactly the window even when it is shorter than a `rate()` range could be. Metric names are
the ILS ones (ils-target-profile.md); a series that does not exist yet counts as zero.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

from pytest_cutover.clients.promql import PromClient
from pytest_cutover.loadstats import histogram_quantile

MIB = 1024 * 1024


def _delta(before: dict[float, float], after: dict[float, float]) -> dict[float, float]:
    return {key: after[key] - before.get(key, 0.0) for key in after}


def locust_name(path_template: str) -> str:
    """`/api/patients/{patient_id}` -> `/api/patients/[id]` (the load model's request names)."""
    return re.sub(r"\{[^}]+\}", "[id]", path_template)


@dataclass(frozen=True)
class Memory:
    """Resident memory over a window; `first_mb` is taken after a warm-up third of it (caches
    and pools fill at the start of a load; a leak keeps growing after that)."""

    first_mb: float
    last_mb: float
    peak_mb: float

    @property
    def growth_pct(self) -> float:
        return 100.0 * (self.last_mb - self.first_mb) / self.first_mb if self.first_mb else 0.0


class ServerView:
    def __init__(self, prom: PromClient, job: str, start: float, end: float) -> None:
        self.prom, self.job, self.start, self.end = prom, job, start, end
        self.app = f'job="{job}"'
        self.http = f'{self.app},path!="/metrics"'  # the scrapes themselves are not traffic

    @property
    def seconds(self) -> float:
        return self.end - self.start

    def _counter(self, query: str) -> float:
        before = self.prom.scalar(query, self.start) or 0.0
        after = self.prom.scalar(query, self.end) or 0.0
        return max(0.0, after - before)

    def _by(self, query: str, label: str) -> dict[str, float]:
        before = {s.labels.get(label, ""): s.value for s in self.prom.instant(query, self.start)}
        return {s.labels.get(label, ""): s.value - before.get(s.labels.get(label, ""), 0.0)
                for s in self.prom.instant(query, self.end)}

    def requests_by_status(self) -> dict[str, float]:
        return self._by(f"sum by (status_code) (http_requests_total{{{self.http}}})", "status_code")

    def request_count(self) -> float:
        return sum(self.requests_by_status().values())

    def error_ratio_pct(self) -> float | None:
        by_status = self.requests_by_status()
        total = sum(by_status.values())
        errors = sum(v for code, v in by_status.items() if code.startswith("5"))
        return 100.0 * errors / total if total else None

    def buckets(self, path: str | None = None) -> dict[float, float]:
        selector = self.http + (f',path="{path}"' if path else "")
        query = f"sum by (le) (http_request_duration_seconds_bucket{{{selector}}})"
        return _delta(self.prom.buckets(query, self.start), self.prom.buckets(query, self.end))

    def p95_ms(self, path: str | None = None) -> float | None:
        value = histogram_quantile(0.95, self.buckets(path))
        return None if value is None else value * 1000.0

    def paths(self) -> list[str]:
        counts = self._by(f"sum by (path) (http_requests_total{{{self.http}}})", "path")
        return sorted(p for p, n in counts.items() if n > 0)

    def cpu_pct(self, cores: float) -> float | None:
        used = self._counter(f"sum(process_cpu_seconds_total{{{self.app}}})")
        return 100.0 * used / self.seconds / cores if self.seconds > 0 else None

    def _range_start(self, step_s: float) -> float:
        """A start a whole number of steps before the end: Prometheus evaluates a range at start,
        start + step, ..., so with a coarse step over a long window the last point could fall
        before a series that began recently (a fresh deployment) and miss it entirely."""
        return self.end - math.ceil(self.seconds / step_s) * step_s

    def memory(self, step_s: float = 2.0) -> Memory | None:
        series = self.prom.range(f"sum(process_resident_memory_bytes{{{self.app}}})",
                                 self._range_start(step_s), self.end, step_s)
        values = series[0].values if series else []
        if not values:
            return None
        return Memory(values[len(values) // 3] / MIB, values[-1] / MIB, max(values) / MIB)

    def db_connections_pct(self, step_s: float = 2.0) -> float | None:
        query = "100 * sum(pg_stat_activity_count) / max(pg_settings_max_connections)"
        series = self.prom.range(query, self._range_start(step_s), self.end, step_s)
        return max(series[0].values) if series and series[0].values else None

    def slow_queries(self) -> float:
        return self._counter(f"sum(db_slow_queries_total{{{self.app}}})")

    def cache_lookups(self) -> tuple[float, float]:
        """(hits, misses) in the window."""
        return (self._counter(f"sum(cache_hits_total{{{self.app}}})"),
                self._counter(f"sum(cache_misses_total{{{self.app}}})"))
