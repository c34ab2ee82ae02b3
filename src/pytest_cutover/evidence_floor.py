"""Enough evidence: how many samples a percentile or a ratio needs before it can fail a check.

Pure module. A P95 read from 14 requests is the second-slowest of them: one stalled request on a
busy machine decides it. Below its minimum a reading that would fail is a warning "too few
samples (n)", never a finding; a reading within its threshold stays a pass (more samples could
only confirm it or move it, and the check's claim is met by what was seen).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# defaults of `[environments.X.min_samples]`
DEFAULT_MINIMUMS = {"p95": 20, "p99": 100, "ratio": 20}


def statistic_of(name: str) -> str | None:
    """The statistic a measurement name reads: p95, p99, ratio (a rate or share), or None."""
    lowered = name.lower()
    if "p99" in lowered:
        return "p99"
    if "p95" in lowered or "p90" in lowered:
        return "p95"
    if "rate" in lowered or "ratio" in lowered or "share" in lowered:
        return "ratio"
    return None


def minimum(statistic: str | None, configured: Mapping[str, Any] | None = None) -> int:
    """The fewest samples `statistic` is judged on (0: no minimum)."""
    if statistic is None:
        return 0
    table = {**DEFAULT_MINIMUMS, **dict(configured or {})}
    return int(table.get(statistic, 0) or 0)


def too_few(samples: int | None, statistic: str | None,
            configured: Mapping[str, Any] | None = None) -> int:
    """The minimum `samples` falls short of (0 when enough, or when the count is unknown)."""
    if samples is None:
        return 0
    needed = minimum(statistic, configured)
    return needed if samples < needed else 0


def warning_text(message: str, samples: int, needed: int, statistic: str) -> str:
    return (f"{message}; too few samples ({samples}; a {statistic} is judged on at least "
            f"{needed}): a warning, not a finding")
