"""How busy the machine running the load generator was: CPU use from /proc/stat, load average.

A generator that shares a saturated machine measures its own queueing, not the target: a slow
reading taken then is inconclusive. Linux only; elsewhere nothing is measured (None).
"""

from __future__ import annotations

import contextlib
import os
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


def saturation(machine: MachineLoad | None, generator_cpu_pct: float | None, limit_pct: float
               ) -> str | None:
    """The cause a failing load reading is blocked by, or None when the generator had room."""
    if generator_cpu_pct is not None and generator_cpu_pct > limit_pct:
        return (f"the load generator was saturated (its process used {generator_cpu_pct:.0f} % "
                f"of a core, above {limit_pct:g} %)")
    busy = machine.busy_pct if machine else None
    if machine is not None and busy is not None and busy > limit_pct:
        return (f"the load generator's machine was saturated ({machine.describe()}; "
                f"above {limit_pct:g} %)")
    return None
