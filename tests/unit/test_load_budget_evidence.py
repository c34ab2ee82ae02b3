"""The per-endpoint budget check on the evidence it has: a budget no request under load reached is
unmeasured (blocked, counts against GO, never ROLLBACK), not a failure on the app's account; a
reached budget is judged as before. The check is called directly with stand-in fixtures."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from pytest_cutover import outcomes
from pytest_cutover.loadstats import EndpointStats

GATE = Path(__file__).resolve().parents[2] / "load" / "test_load_gate.py"
BUDGETS = {"/api/health": {"warn": 200, "crit": 500}, "/api/*": {"warn": 500, "crit": 1000}}


def _gate() -> Any:
    # the gate's markers (destructive, checklist) belong to the cutover plugin, which this outer
    # run leaves out; --strict-markers would refuse them at import
    mark_config, pytest.mark._config = pytest.mark._config, None  # type: ignore[attr-defined]
    try:
        return _load_gate()
    finally:
        pytest.mark._config = mark_config  # type: ignore[attr-defined]


def _load_gate() -> Any:
    spec = importlib.util.spec_from_file_location("cutover_load_gate_under_test", GATE)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _endpoint(name: str, requests: int, p95_ms: float) -> EndpointStats:
    return EndpointStats(name=name, method="GET", requests=requests, failures=0, p50_ms=p95_ms / 2,
                         p95_ms=p95_ms, p99_ms=p95_ms, max_ms=p95_ms, rps=1.0)


def _run(*endpoints: EndpointStats) -> Any:
    total = _endpoint("Aggregated", sum(e.requests for e in endpoints), 100.0)
    stats = SimpleNamespace(endpoints=list(endpoints), total=total,
                            matching=lambda pattern: [e for e in endpoints if e.name == pattern
                                                      or (pattern.endswith("*") and
                                                          e.name.startswith(pattern[:-1]))])
    return SimpleNamespace(stats=stats, plan=SimpleNamespace(budgets=BUDGETS))


def _judge(run: Any, budget: str, saturation: str | None = None) -> list[tuple[str, float]]:
    readings: list[tuple[str, float]] = []

    def measure(name: str, value: float, *args: Any, **kwargs: Any) -> None:
        readings.append((name, value))

    _gate().test_endpoint_p95_within_its_budget(
        run, budget, measure, SimpleNamespace(data={}), http=None, load_saturation=saturation,
        evidence=lambda *a, **k: None)
    return readings


def test_a_budget_no_request_reached_is_blocked_and_says_what_was_seen() -> None:
    run = _run(_endpoint("/api/patients", 40, 120.0))
    with pytest.raises(pytest.skip.Exception) as ended:
        _judge(run, "/api/health")
    outcome, message = outcomes.parse(str(ended.value))
    assert outcome == outcomes.BLOCKED, (outcome, message)
    assert message.startswith("blocked by no request under load for this budget"), message
    assert "'/api/health'" in message and "in 40 requests" in message, message
    assert "/api/patients" in message, message


def test_a_saturated_generator_is_named_as_the_cause_of_an_unreached_budget() -> None:
    run = _run(_endpoint("/api/patients", 3, 1500.0))
    with pytest.raises(pytest.skip.Exception) as ended:
        _judge(run, "/api/health", saturation="the load generator or its machine was saturated")
    outcome, message = outcomes.parse(str(ended.value))
    assert outcome == outcomes.BLOCKED
    assert message.startswith("blocked by the load generator or its machine was saturated"), message


def test_a_reached_budget_is_measured() -> None:
    run = _run(_endpoint("/api/health", 30, 80.0), _endpoint("/api/patients", 40, 120.0))
    assert _judge(run, "/api/health") == [("endpoint_p95_ms", 80.0)]
