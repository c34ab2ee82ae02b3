"""How busy the load generator was: the machine's CPU use from /proc/stat and load average, and
how late the generator's own event loop ran (client-side queueing).

A generator that shares a saturated machine, or whose loop cannot keep up with its users,
measures its own queueing, not the target: a slow reading taken then is inconclusive. CPU is
read on Linux only; elsewhere it is not measured (None).
"""

from __future__ import annotations

import contextlib
import json
import math
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

PROC_STAT = Path("/proc/stat")


def _cpu_times() -> tuple[int, int] | None:
    """(busy, total) jiffies of all CPUs since boot."""
    try:
        fields = PROC_STAT.read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    values = [int(v) for v in fields[:8]]
    idle = values[3] + (values[4] if len(values) > 4 else 0)  # idle + iowait
    return sum(values) - idle, sum(values)


@dataclass
class MachineLoad:
    """Samples taken during a run; `busy_pct` is the CPU use between the first and last one."""

    samples: list[tuple[int, int]] = field(default_factory=list)
    load_averages: list[float] = field(default_factory=list)
    cores: int = field(default_factory=lambda: os.cpu_count() or 1)

    def sample(self) -> None:
        times = _cpu_times()
        if times is not None:
            self.samples.append(times)
        with contextlib.suppress(OSError):  # no load average on this platform
            self.load_averages.append(os.getloadavg()[0])

    @property
    def busy_pct(self) -> float | None:
        if len(self.samples) < 2:
            return None
        busy = self.samples[-1][0] - self.samples[0][0]
        total = self.samples[-1][1] - self.samples[0][1]
        return 100.0 * busy / total if total > 0 else None

    @property
    def peak_load_average(self) -> float | None:
        return max(self.load_averages) if self.load_averages else None

    def describe(self) -> str:
        busy = self.busy_pct
        parts = [f"CPU {busy:.0f} % busy during the run" if busy is not None else "CPU not measured"]
        if self.peak_load_average is not None:
            parts.append(f"load average up to {self.peak_load_average:.1f} on {self.cores} cores")
        return ", ".join(parts)


@dataclass(frozen=True)
class LoopLag:
    """How late the generator's event loop woke from its timed sleeps, merged over the processes
    that ran users: {ms late, rounded up: count}. A request due while the loop was late waited
    in the generator that long before it was sent, and its measured time includes the wait."""

    histogram: Mapping[int, int]
    interval_ms: float = 50.0
    processes: int = 1

    @property
    def samples(self) -> int:
        return sum(self.histogram.values())

    def percentile(self, q: float) -> float | None:
        """Nearest-rank percentile (q in 0..1) of the samples, None without any."""
        total, seen = self.samples, 0
        if not total:
            return None
        rank = max(1, math.ceil(q * total))
        for ms in sorted(self.histogram):
            seen += self.histogram[ms]
            if seen >= rank:
                return float(ms)
        return float(max(self.histogram))  # pragma: no cover - the loop reaches the rank

    @property
    def p95_ms(self) -> float | None:
        return self.percentile(0.95)

    @property
    def max_ms(self) -> float | None:
        return float(max(self.histogram)) if self.histogram else None

    def describe(self) -> str:
        if not self.samples:
            return "event loop lag not measured (no sample)"
        return (f"event loop {self.p95_ms:.0f} ms late at P95, {self.percentile(0.5):.0f} ms at "
                f"P50, {self.max_ms:.0f} ms at most, over {self.samples} timed sleeps of "
                f"{self.interval_ms:g} ms in {self.processes} process(es)")

    @classmethod
    def merge(cls, parts: Iterable[Mapping[str, object]]) -> LoopLag | None:
        """One account from each process's `{"interval_ms", "histogram"}`; None without any."""
        histogram: Counter[int] = Counter()
        interval, processes = 50.0, 0
        for part in parts:
            raw = part.get("histogram")
            if not isinstance(raw, Mapping):
                continue
            histogram.update({int(ms): int(n) for ms, n in raw.items()})
            interval = float(part.get("interval_ms", interval))  # type: ignore[arg-type]
            processes += 1
        return cls(dict(histogram), interval, processes) if processes else None

    @classmethod
    def read(cls, prefix: Path) -> LoopLag | None:
        """The files the locustfile wrote (`<prefix>.<pid>`); unreadable ones are left out."""
        parts = []
        for path in sorted(prefix.parent.glob(f"{prefix.name}.*")):
            if path.suffix == ".tmp":
                continue
            try:
                parts.append(json.loads(path.read_text()))
            except (OSError, ValueError):
                continue
        return cls.merge(parts)


def lag_saturation(lag: LoopLag | None, max_lag_ms: float, min_samples: int) -> str | None:
    """The cause a failing client-side reading is blocked by when the generator's loop ran late
    at P95 beyond `max_lag_ms`; None when it kept up, or on too few samples to say."""
    if lag is None or lag.samples < max(1, min_samples):
        return None
    p95 = lag.p95_ms
    if p95 is None or p95 <= max_lag_ms:
        return None
    return (f"the load generator was saturated (its event loop ran {p95:.0f} ms late at P95 of "
            f"{lag.samples} timed sleeps, above {max_lag_ms:g} ms, so requests waited in the "
            f"generator before they were sent)")


def saturation(machine: MachineLoad | None, generator_cpu_pct: float | None, limit_pct: float,
               lag_cause: str | None = None) -> str | None:
    """The cause a failing load reading is blocked by, or None when the generator had room
    (its CPU, the machine's, and `lag_cause` from `lag_saturation`)."""
    if generator_cpu_pct is not None and generator_cpu_pct > limit_pct:
        return (f"the load generator was saturated (its process used {generator_cpu_pct:.0f} % "
                f"of a core, above {limit_pct:g} %)")
    if lag_cause:
        return lag_cause
    busy = machine.busy_pct if machine else None
    if machine is not None and busy is not None and busy > limit_pct:
        return (f"the load generator's machine was saturated ({machine.describe()}; "
                f"above {limit_pct:g} %)")
    return None
