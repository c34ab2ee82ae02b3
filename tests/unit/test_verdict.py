"""The verdict rules: GO only when every blocking check passed; NO-GO for anything not proven;
ROLLBACK when a rollback trigger fired; exit codes CI can gate on."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_cutover.thresholds import DEFAULTS, Measurement
from pytest_cutover.verdict import EXIT_CODES, GO, NO_GO, ROLLBACK, CheckResult, decide


def check(outcome: str = "passed", nodeid: str = "smoke/test_a.py::test_a", **kw: Any) -> CheckResult:
    return CheckResult(nodeid, outcome, **kw)


def measured(name: str, value: float) -> dict[str, Any]:
    return Measurement(name, value, DEFAULTS[name]).to_dict()


ACTIVE_WAIVER = {"approver": "Sam Ito (CISO)", "expires": "2099-01-01",
                 "justification": "CSP next sprint"}


@pytest.mark.parametrize(("results", "decision", "reason"), [
    ([check(), check("not_applicable", "smoke/test_b.py::test_cdn")], GO, None),
    ([check(), check("failed", message="assert 503 == 200\nmore")], NO_GO, "failed: assert 503 == 200"),
    ([check("error", message="setup error: boom")], NO_GO, "error: setup error: boom"),
    ([check("unverified", message="cdn is not configured")], NO_GO, "not verified: cdn is not configured"),
    ([check("pending", message="no sign-off for 'team.war-room'")], NO_GO,
     "pending sign-off: no sign-off for 'team.war-room'"),
    # an expired waiver leaves the failure in place: the plugin reports it as failed
    ([check("failed", message="waiver by X expired on 2020-01-01; the failure counts again:")],
     NO_GO, "failed: waiver by X expired"),
    ([], NO_GO, "no check ran"),
])
def test_decision_and_first_reason(results: list[CheckResult], decision: str,
                                    reason: str | None) -> None:
    verdict = decide(results, "production", ["smoke"])
    assert verdict.decision == decision
    if reason is None:
        assert verdict.reasons == []
    else:
        assert reason in verdict.reasons[0]
        assert "\n" not in verdict.reasons[0]


def test_non_blocking_failure_is_a_warning_not_a_reason() -> None:
    verdict = decide([check(), check("failed", "smoke/test_f.py::test_favicon", message="404",
                                     blocking=False)], "local", [])
    assert verdict.decision == GO
    assert verdict.warnings == ["smoke/test_f.py::test_favicon (non-blocking) failed: 404"]


def test_active_waiver_is_a_warning_naming_approver_and_expiry() -> None:
    verdict = decide([check("waived", waiver=ACTIVE_WAIVER)], "local", [])
    assert verdict.decision == GO
    assert "waived by Sam Ito (CISO) until 2099-01-01: CSP next sprint" in verdict.warnings[0]


def test_warning_level_measurement_passes_with_a_warning() -> None:
    verdict = decide([check(measurements=[measured("p95_ms", 700)])], "local", [])
    assert verdict.decision == GO
    assert "p95_ms 700 ms is above the warning threshold 500 ms" in verdict.warnings[0]


def test_failed_rollback_trigger_check_means_rollback() -> None:
    verdict = decide([check("failed", message="login returned 500", rollback_triggers=["critical_flow"]),
                      check("failed", "smoke/test_b.py::test_b", message="other")], "production", [])
    assert verdict.decision == ROLLBACK
    assert verdict.rollback_reasons == ["smoke/test_a.py::test_a (critical_flow): login returned 500"]
    assert verdict.exit_code == 10


def test_passing_rollback_trigger_check_is_just_go() -> None:
    assert decide([check(rollback_triggers=["critical_flow"])], "p", []).decision == GO


def test_measurement_beyond_rollback_level_means_rollback() -> None:
    verdict = decide([check("failed", measurements=[measured("error_rate_pct", 7.5)])], "p", [])
    assert verdict.decision == ROLLBACK
    assert "error_rate_pct 7.50% is above the rollback trigger 5%" in verdict.rollback_reasons[0]


def test_measurement_at_critical_but_below_rollback_is_no_go() -> None:
    verdict = decide([check("failed", message="p95", measurements=[measured("p95_ms", 1500)])], "p", [])
    assert verdict.decision == NO_GO
    assert verdict.rollback_reasons == []


@pytest.mark.parametrize(("decision", "code"), [(GO, 0), (NO_GO, 1), (ROLLBACK, 10)])
def test_exit_codes_are_documented_values(decision: str, code: int) -> None:
    assert EXIT_CODES[decision] == code


def test_verdict_counts_outcomes_and_keeps_environment_and_markers() -> None:
    verdict = decide([check(), check("passed", "b"), check("unverified", "c")], "staging",
                     ["readiness", "smoke"])
    data = verdict.to_dict()
    assert data["counts"] == {"passed": 2, "unverified": 1}
    assert (data["environment"], data["markers"], data["exit_code"]) == (
        "staging", ["readiness", "smoke"], 1)


def test_long_failure_messages_are_cut_to_one_short_line() -> None:
    verdict = decide([check("failed", message="x" * 1000)], "p", [])
    assert len(verdict.reasons[0]) < 400


def test_blocked_critical_flow_is_no_go_never_rollback() -> None:
    verdict = decide([check("blocked", message="blocked by login throttled (429): sign in as 'smoke'",
                            rollback_triggers=["critical_flow"])], "production", [])
    assert verdict.decision == NO_GO
    assert verdict.rollback_reasons == []
    assert verdict.reasons == ["smoke/test_a.py::test_a blocked by login throttled (429): sign in as 'smoke'"]
