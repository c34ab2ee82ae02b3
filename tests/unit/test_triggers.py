"""The plan's four rollback triggers, evaluated from check results."""

from __future__ import annotations

from pytest_cutover import triggers
from pytest_cutover.verdict import CheckResult, decide


def measured(name: str, value: float, rollback_at: float, unit: str, fired: bool) -> dict:
    return {"name": name, "value": value, "unit": unit, "rollback_at": rollback_at, "rollback": fired}


def states(results: list[CheckResult]) -> dict[str, str]:
    return {t.name: t.state for t in triggers.evaluate(results)}


def test_nothing_measured_means_not_evaluated():
    assert set(states([CheckResult("t::a", "passed")]).values()) == {"not evaluated"}


def test_an_error_rate_beyond_the_rollback_level_fires_with_its_value():
    result = CheckResult("load::rate", "failed", measurements=[measured("error_rate_pct", 7.5, 5, "%", True)])
    fired = triggers.evaluate([result])[0]
    assert fired.state == "fired"
    assert fired.details == ["7.5% in load::rate (rollback above 5%)"]


def test_a_p95_within_the_rollback_level_is_clear():
    result = CheckResult("load::p95", "passed", measurements=[measured("p95_ms", 900, 2000, "ms", False)])
    assert states([result])["latency"] == "clear"


def test_a_failed_marked_check_fires_its_trigger():
    result = CheckResult("rollback/x::test_rows", "failed", "table patients: 45 rows now",
                         rollback_triggers=["data_integrity"])
    assert states([result]) == {"error_rate": "not evaluated", "latency": "not evaluated",
                                "critical_flow": "not evaluated", "data_integrity": "fired"}


def test_a_pass_does_not_clear_a_trigger_another_check_fired():
    results = [CheckResult("e2e::login", "failed", "timeout", rollback_triggers=["critical_flow"]),
               CheckResult("e2e::order", "passed", rollback_triggers=["critical_flow"])]
    assert states(results)["critical_flow"] == "fired"


def test_the_verdict_carries_the_triggers():
    verdict = decide([CheckResult("t::a", "failed", "gone", rollback_triggers=["data_integrity"])],
                     "local", [])
    assert verdict.decision == "ROLLBACK"
    assert [t["state"] for t in verdict.triggers] == ["not evaluated", "not evaluated", "not evaluated",
                                                      "fired"]
    assert verdict.to_dict()["triggers"][3]["details"] == ["t::a: gone"]
