"""PromQL over time: instant queries at a chosen moment, range queries, histogram buckets.

`clients/prom.py` answers "is the monitoring stack set up" (targets, rules, receivers); this
client answers "what did the metrics say at that moment / over that window", which the load and
post-launch checks need. Every call has a timeout. Each query and a short account of its answer
is kept in `history` ("PromQL and result" evidence). An unreachable Prometheus or a query error
raises `PromError` with the query and the reason; the check decides what that means.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from typing import Any

import requests


class PromError(Exception):
    """Prometheus did not answer a query (unreachable, HTTP error, or a PromQL error)."""


@dataclass(frozen=True)
class Sample:
    labels: dict[str, str]
    value: float
    at: float


@dataclass(frozen=True)
class Series:
    labels: dict[str, str]
    points: list[tuple[float, float]]

    @property
    def values(self) -> list[float]:
        return [v for _, v in self.points]


@dataclass
class PromClient:
    url: str
    timeout_s: float = 10.0
    ca_bundle: str | None = None
    history: list[str] = field(default_factory=list)

    def _get(self, path: str, params: dict[str, Any]) -> Any:
        where = f"{self.url.rstrip('/')}{path}"
        try:
            response = requests.get(where, params=params, timeout=self.timeout_s,
                                    verify=self.ca_bundle or True)
        except requests.RequestException as exc:
            raise PromError(f"Prometheus at {self.url} did not answer {params.get('query')!r}: "
                            f"{type(exc).__name__}: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code != 200 or body.get("status") != "success":
            raise PromError(f"Prometheus answered {response.status_code} to {params.get('query')!r}: "
                            f"{body.get('error') or response.text[:200]!r}")
        return body["data"]

    def instant(self, query: str, at: float | None = None) -> list[Sample]:
        params: dict[str, Any] = {"query": query}
        if at is not None:
            params["time"] = f"{at:.3f}"
        data = self._get("/api/v1/query", params)
        samples = [Sample(r["metric"], float(r["value"][1]), float(r["value"][0]))
                   for r in data.get("result", [])] if data.get("resultType") == "vector" else []
        self._note(query, at, ", ".join(f"{_labels(s.labels)} {s.value:g}" for s in samples[:8]))
        return samples

    def scalar(self, query: str, at: float | None = None) -> float | None:
        """The single value of a query that aggregates to one series (None: no data)."""
        samples = self.instant(query, at)
        return samples[0].value if samples else None

    def range(self, query: str, start: float, end: float, step_s: float) -> list[Series]:
        data = self._get("/api/v1/query_range", {"query": query, "start": f"{start:.3f}",
                                                 "end": f"{end:.3f}", "step": f"{step_s:g}"})
        series = [Series(r["metric"], [(float(t), float(v)) for t, v in r["values"]])
                  for r in data.get("result", [])]
        shown = ", ".join(f"{min(s.values):g}..{max(s.values):g}" for s in series[:4] if s.values)
        self._note(query, end, f"{len(series)} series over {end - start:.0f} s ({shown})")
        return series

    def buckets(self, query: str, at: float | None = None) -> dict[float, float]:
        """Cumulative histogram buckets {le: count} from a query grouped `by (le)`."""
        return {_le(s.labels.get("le", "")): s.value for s in self.instant(query, at)
                if s.labels.get("le")}

    def wait_for_scrape_after(self, series: str, moment: float, limit_s: float) -> bool:
        """Poll (bounded by `limit_s`) until `series` has a sample newer than `moment`."""
        deadline = time.monotonic() + limit_s
        while time.monotonic() < deadline:
            newest = max((s.value for s in self.instant(f"timestamp({series})")), default=None)
            if newest is not None and newest > moment:
                return True
            time.sleep(0.5)
        return False

    def _note(self, query: str, at: float | None, answer: str) -> None:
        when = time.strftime("%H:%M:%S", time.localtime(at)) if at else "now"
        self.history.append(f"[{when}] {query}\n  => {answer or 'no data'}")


def _le(text: str) -> float:
    return math.inf if text in ("+Inf", "Inf") else float(text)


def _labels(labels: dict[str, str]) -> str:
    shown = {k: v for k, v in labels.items() if k != "__name__"}
    return "{" + ",".join(f"{k}={v!r}" for k, v in sorted(shown.items())) + "}" if shown else "{}"
