"""The plan's four rollback triggers (decision point T+0:30), evaluated from a run's results.

Pure module. Each trigger is *fired*, *clear* or *not evaluated*, with the values behind it:
- error_rate: a measurement whose name contains "error_rate" beyond its rollback level
  (default 5 %), or a failed check marked `rollback_trigger("error_rate")`;
- latency: a measurement whose name contains "p95" beyond its rollback level (default 2000 ms),
  or a failed check marked `rollback_trigger("latency")`;
- critical_flow / data_integrity: a failed (or errored) check marked with that trigger.
A trigger is clear when the run measured or checked it and nothing fired; otherwise the run did
not evaluate it, and the report says so rather than implying it is fine.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

FIRED, CLEAR, NOT_EVALUATED = "fired", "clear", "not evaluated"
RULES = {
    "error_rate": "error rate above 5 %",
    "latency": "P95 latency above 2000 ms",
    "critical_flow": "a critical user flow is broken",
    "data_integrity": "a data-integrity check failed",
}
MEASURED = {"error_rate": "error_rate", "latency": "p95"}  # trigger -> measurement name part


class Result(Protocol):  # verdict.CheckResult, without importing it (no cycle)
    nodeid: str
    outcome: str
    message: str
    measurements: list[dict[str, Any]]
    rollback_triggers: list[str]


@dataclass
class Trigger:
    name: str
    rule: str
    state: str = NOT_EVALUATED
    details: list[str] = field(default_factory=list)

    def line(self) -> str:
        shown = "; ".join(self.details[:3]) + (f" (+{len(self.details) - 3} more)"
                                                 if len(self.details) > 3 else "")
        return f"{self.rule}: {self.state.upper()}" + (f" — {shown}" if shown else "")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _unit(m: dict[str, Any]) -> str:
    unit = m.get("unit") or ""
    return unit if unit == "%" else f" {unit}" if unit else ""


def _measured(trigger: Trigger, part: str, results: Iterable[Result]) -> None:
    fired, seen = [], []
    for r in results:
        if r.outcome == "blocked":  # its flow did not run: its readings judge nothing
            continue
        for m in r.measurements:
            if part not in str(m.get("name", "")) or m.get("rollback_at") is None:
                continue
            value = f"{m['value']:g}{_unit(m)} in {r.nodeid}"
            if m.get("rollback"):
                fired.append(f"{value} (rollback above {m['rollback_at']:g}{_unit(m)})")
            else:
                seen.append(value)
    if fired:
        trigger.state, trigger.details = FIRED, fired
    elif seen:
        trigger.state, trigger.details = CLEAR, seen


def _marked(trigger: Trigger, results: Iterable[Result]) -> None:
    for r in results:
        if trigger.name not in r.rollback_triggers:
            continue
        if r.outcome in ("failed", "error"):
            first = r.message.strip().splitlines()[0] if r.message.strip() else r.outcome
            if trigger.state != FIRED:
                trigger.state, trigger.details = FIRED, []
            trigger.details.append(f"{r.nodeid}: {first[:200]}")
        elif r.outcome == "passed" and trigger.state != FIRED:
            trigger.state = CLEAR
            trigger.details.append(f"{r.nodeid} passed")


def evaluate(results: Sequence[Result]) -> list[Trigger]:
    triggers = []
    for name, rule in RULES.items():
        trigger = Trigger(name, rule)
        if name in MEASURED:
            _measured(trigger, MEASURED[name], results)
        _marked(trigger, results)
        triggers.append(trigger)
    return triggers
