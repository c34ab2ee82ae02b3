"""GO / NO-GO / ROLLBACK from the results of the checks that ran.

Pure module. Rules (design brief §5):
- ROLLBACK when a rollback trigger fired: a failed check marked `rollback_trigger`, or a
  measurement beyond its rollback level (error rate > 5 %, P95 > 2000 ms by default);
- NO-GO when any blocking check failed, errored, is pending a sign-off, could not be verified,
  or was waived by an expired waiver; also when no check ran;
- otherwise GO. Warnings (warning-level measurements, active waivers) never block.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from pytest_cutover import causes as root_causes
from pytest_cutover import triggers as rollback_triggers

GO, NO_GO, ROLLBACK = "GO", "NO-GO", "ROLLBACK"

# Documented exit codes (README "Exit codes"); 2-5 keep pytest's meanings.
EXIT_CODES = {GO: 0, NO_GO: 1, ROLLBACK: 10}

PASSED, FAILED, ERROR, WAIVED = "passed", "failed", "error", "waived"
BLOCKING_OUTCOMES = {FAILED, ERROR, "unverified", "pending", "blocked"}


@dataclass
class CheckResult:
    nodeid: str
    outcome: str  # passed failed error waived unverified not_applicable pending blocked
    message: str = ""
    markers: list[str] = field(default_factory=list)
    checklist: list[str] = field(default_factory=list)
    measurements: list[dict[str, Any]] = field(default_factory=list)
    rollback_triggers: list[str] = field(default_factory=list)
    blocking: bool = True
    duration_s: float = 0.0
    waiver: dict[str, Any] | None = None

    @property
    def name(self) -> str:
        return self.nodeid

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class Verdict:
    decision: str
    reasons: list[str]
    warnings: list[str]
    rollback_reasons: list[str]
    environment: str
    markers: list[str]
    counts: dict[str, int]
    # the plan's four rollback triggers: fired / clear / not evaluated, with values (triggers.py)
    triggers: list[dict[str, Any]] = field(default_factory=list)
    # the reasons grouped by root cause, most serious and widest first: {cause, kind, checks}
    causes: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.decision]

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "exit_code": self.exit_code}


def _first_line(text: str, limit: int = 300) -> str:
    line = text.strip().splitlines()[0] if text.strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"


def decide(results: list[CheckResult], environment: str, markers: list[str]) -> Verdict:
    warnings: list[str] = []
    rollback: list[str] = []
    blocking: list[tuple[str, str, str, str]] = []  # (nodeid, outcome, message, reason line)
    for r in results:
        exercised = r.outcome != "blocked"  # a check that could not run its flow fires nothing
        for m in r.measurements:
            if m.get("rollback") and exercised:
                rollback.append(f"{r.nodeid}: {m.get('message', '')}")
            elif m.get("level") == "warning" or m.get("rollback"):
                warnings.append(f"{r.nodeid}: {m.get('message', '')}")
        if r.outcome in (FAILED, ERROR) and r.rollback_triggers:
            triggers = ", ".join(r.rollback_triggers)
            rollback.append(f"{r.nodeid} ({triggers}): {_first_line(r.message)}")
        if r.outcome == WAIVED and r.waiver:
            warnings.append(f"{r.nodeid}: failure waived by {r.waiver.get('approver')} until "
                            f"{r.waiver.get('expires')}: {r.waiver.get('justification')}")
        if r.outcome in BLOCKING_OUTCOMES and r.blocking:
            message = _first_line(r.message)
            blocking.append((r.nodeid, r.outcome, message, _reason(r.nodeid, r.outcome, message)))
        elif r.outcome in BLOCKING_OUTCOMES:
            warnings.append(f"{r.nodeid} (non-blocking) {r.outcome}: {_first_line(r.message)}")
    grouped = root_causes.group(blocking)
    # one line per cause: "TLS verification failed for host:port (...): 37 checks blocked"
    reasons = [c.line() for c in grouped]
    counts = dict(Counter(r.outcome for r in results))
    if not results:
        reasons.append("no check ran: select markers that match checks (e.g. -m smoke)")
    if rollback:
        decision = ROLLBACK
    elif reasons:
        decision = NO_GO
    else:
        decision = GO
    evaluated = [t.to_dict() for t in rollback_triggers.evaluate(results)]
    fired = _rollback_causes(rollback)
    rolled = {n for c in fired for n in c["checks"]}  # a check that fired is said once, there
    found = fired + [c.to_dict() for c in grouped if not set(c.checks) <= rolled]
    return Verdict(decision, reasons, warnings, rollback, environment, markers, counts, evaluated,
                   found)


def _reason(nodeid: str, outcome: str, message: str) -> str:
    if outcome == "blocked":  # the message already reads 'blocked by CAUSE: ...'
        return f"{nodeid} {message}"
    label = {"error": "error", "unverified": "not verified",
             "pending": "pending sign-off"}.get(outcome, "failed")
    return f"{nodeid} {label}: {message}"


def _rollback_causes(lines: list[str]) -> list[dict[str, Any]]:
    """Rollback reasons as causes: the same message on several checks is one cause."""
    found: dict[str, dict[str, Any]] = {}
    for line in lines:
        node, _, message = line.partition(": ")
        message = message.removeprefix("AssertionError: ").removeprefix("Failed: ") or line
        entry = found.setdefault(root_causes.signature(message),
                                 {"cause": message, "kind": "rollback", "checks": []})
        entry["checks"].append(node.split(" (")[0])
    return list(found.values())
