"""Thresholds with warning and critical levels, and the measurements judged against them.

Pure module: no pytest. A threshold knows which direction is bad (`higher_is_worse`), so the same
type judges P95 latency (high is bad) and certificate days left (low is bad).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from enum import IntEnum
from typing import Any


class Level(IntEnum):
    OK = 0
    WARN = 1
    CRIT = 2

    @property
    def word(self) -> str:
        return {0: "ok", 1: "warning", 2: "critical"}[int(self)]


@dataclass(frozen=True)
class Threshold:
    warn: float | None = None
    crit: float | None = None
    unit: str = ""
    higher_is_worse: bool = True
    # Beyond this value the plan says: roll back (e.g. P95 > 2000 ms, error rate > 5 %).
    rollback: float | None = None

    def __post_init__(self) -> None:
        for name in ("warn", "crit", "rollback"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, int | float) or isinstance(value, bool)
                                      or math.isnan(value) or value < 0):
                raise ValueError(f"{name} must be a number >= 0, got {value!r}")
        if self.warn is None and self.crit is None:
            raise ValueError("a threshold needs a warn or a crit level")
        if self.warn is not None and self.crit is not None:
            inverted = self.warn > self.crit if self.higher_is_worse else self.warn < self.crit
            if inverted:
                relation = "above" if self.higher_is_worse else "below"
                raise ValueError(
                    f"warn {self.warn:g} is {relation} crit {self.crit:g}: levels are inverted")

    def _beyond(self, value: float, limit: float | None) -> bool:
        if limit is None:
            return False
        return value > limit if self.higher_is_worse else value < limit

    def classify(self, value: float) -> Level:
        if self._beyond(value, self.crit):
            return Level.CRIT
        if self._beyond(value, self.warn):
            return Level.WARN
        return Level.OK

    def triggers_rollback(self, value: float) -> bool:
        return self._beyond(value, self.rollback)

    def fails(self, value: float) -> bool:
        """Whether a measurement of `value` fails its check (critical, or a rollback level)."""
        return self.classify(value) is Level.CRIT or self.triggers_rollback(value)

    def describe(self) -> str:
        parts = []
        word = "above" if self.higher_is_worse else "below"
        if self.warn is not None:
            parts.append(f"warning {word} {fmt(self.warn, self.unit)}")
        if self.crit is not None:
            parts.append(f"critical {word} {fmt(self.crit, self.unit)}")
        if self.rollback is not None:
            parts.append(f"rollback {word} {fmt(self.rollback, self.unit)}")
        return ", ".join(parts)

    def with_overrides(self, overrides: dict[str, Any]) -> Threshold:
        merged = {**asdict(self), **overrides}
        return Threshold(**merged)


def fmt(value: float, unit: str = "") -> str:
    number = f"{value:.0f}" if float(value).is_integer() or abs(value) >= 100 else f"{value:.2f}"
    if not unit:
        return number
    return f"{number} {unit}" if unit not in ("%",) else f"{number}{unit}"


@dataclass(frozen=True)
class Measurement:
    name: str
    value: float
    threshold: Threshold
    subject: str = ""  # what was measured, e.g. "endpoint 'health'"
    level: Level = field(init=False)
    rollback: bool = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "level", self.threshold.classify(self.value))
        object.__setattr__(self, "rollback", self.threshold.triggers_rollback(self.value))

    def message(self) -> str:
        t = self.threshold
        where = f" for {self.subject}" if self.subject else ""
        shown = fmt(self.value, t.unit)
        word = "above" if t.higher_is_worse else "below"
        if self.rollback and t.rollback is not None:
            return (f"{self.name} {shown} is {word} the rollback trigger "
                    f"{fmt(t.rollback, t.unit)}{where}")
        if self.level is Level.CRIT and t.crit is not None:
            warn = f" (warning at {fmt(t.warn, t.unit)})" if t.warn is not None else ""
            return f"{self.name} {shown} is {word} the critical threshold {fmt(t.crit, t.unit)}{warn}{where}"
        if self.level is Level.WARN and t.warn is not None:
            crit = f" (critical at {fmt(t.crit, t.unit)})" if t.crit is not None else ""
            return f"{self.name} {shown} is {word} the warning threshold {fmt(t.warn, t.unit)}{crit}{where}"
        return f"{self.name} {shown} is within thresholds ({t.describe()}){where}"

    def to_dict(self) -> dict[str, Any]:
        t = self.threshold
        return {
            "name": self.name, "value": self.value, "unit": t.unit, "subject": self.subject,
            "warn": t.warn, "crit": t.crit, "rollback_at": t.rollback,
            "higher_is_worse": t.higher_is_worse, "level": self.level.word,
            "rollback": self.rollback, "message": self.message(),
        }


# The plan's defaults ("Alert Thresholds" table, rollback decision point, success criteria) and the
# numbers users expect from the anchors (certificate days, HSTS age, backup age, restarts).
DEFAULTS: dict[str, Threshold] = {
    "error_rate_pct": Threshold(warn=1, crit=5, unit="%", rollback=5),
    "p95_ms": Threshold(warn=500, crit=1000, unit="ms", rollback=2000),
    "p99_ms": Threshold(warn=1000, crit=2000, unit="ms"),
    "cpu_pct": Threshold(warn=70, crit=90, unit="%"),
    "memory_pct": Threshold(warn=80, crit=95, unit="%"),
    "db_connections_pct": Threshold(warn=70, crit=90, unit="%"),
    "health_latency_ms": Threshold(warn=500, crit=1000, unit="ms"),
    "page_latency_ms": Threshold(warn=1000, crit=2000, unit="ms"),
    "api_latency_ms": Threshold(warn=500, crit=1000, unit="ms"),
    # one authenticated API read right after a deploy: stricter than the load-time API budget
    "smoke_api_latency_ms": Threshold(warn=300, crit=600, unit="ms"),
    "cert_days_left": Threshold(warn=30, crit=7, unit="days", higher_is_worse=False),
    "hsts_max_age_s": Threshold(warn=31536000, crit=15552000, unit="s", higher_is_worse=False),
    "backup_age_hours": Threshold(warn=24, crit=48, unit="h"),
    "pod_restarts": Threshold(warn=3, crit=10, unit="restarts"),
    "secret_age_days": Threshold(warn=60, crit=90, unit="days"),
    "cache_hit_pct": Threshold(warn=80, crit=50, unit="%", higher_is_worse=False),
    "rollback_seconds": Threshold(warn=600, crit=1800, unit="s"),
    "restore_seconds": Threshold(warn=900, crit=1800, unit="s"),
}
