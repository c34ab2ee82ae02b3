"""Enough evidence: minimum samples per statistic; machine saturation; phases in the ledger."""

from __future__ import annotations

import pytest

from pytest_cutover import evidence_floor
from pytest_cutover.clients.machine import MachineLoad, saturation
from pytest_cutover.ledger import Record, phase_selects


@pytest.mark.parametrize(("name", "statistic"), [
    ("p95_ms", "p95"), ("endpoint_p95_ms", "p95"), ("p99_ms", "p99"),
    ("error_rate_pct", "ratio"), ("cert_days_left", None)])
def test_statistic_is_read_from_the_name(name: str, statistic: str | None) -> None:
    assert evidence_floor.statistic_of(name) == statistic


def test_too_few_samples_below_the_minimum_only() -> None:
    assert evidence_floor.too_few(14, "p95") == 20
    assert evidence_floor.too_few(20, "p95") == 0
    assert evidence_floor.too_few(99, "p99") == 100
    assert evidence_floor.too_few(5, "p95", {"p95": 5}) == 0
    assert evidence_floor.too_few(None, "p95") == 0  # count unknown: judged as before
    assert evidence_floor.too_few(1, None) == 0


def _machine(busy: int, total: int) -> MachineLoad:
    return MachineLoad(samples=[(0, 0), (busy, total)], load_averages=[9.5], cores=2)


def test_a_saturated_machine_or_generator_is_named() -> None:
    assert saturation(_machine(50, 100), 40.0, 90) is None
    cause = saturation(_machine(99, 100), 40.0, 90)
    assert cause is not None and "machine was saturated" in cause and "99 %" in cause
    assert "generator was saturated" in str(saturation(_machine(10, 100), 97.0, 90))
    assert saturation(MachineLoad(), None, 90) is None  # nothing measured: no claim


@pytest.mark.parametrize(("phase", "marker", "covered"), [
    ("smoke or e2e", "smoke", True), ("readiness", "smoke", False),
    ("load and not post_launch", "load", True), ("staging-verification", "smoke", False),
    ("smoke", "smoke", True)])
def test_a_phase_covers_the_markers_it_selects(phase: str, marker: str, covered: bool) -> None:
    assert phase_selects(phase, marker) is covered


def test_a_readiness_run_is_not_a_smoke_run_though_its_checks_carry_smoke() -> None:
    data = {"time": "2026-12-01T10:00:00+00:00", "environment": "staging", "verdict": "NO-GO",
            "markers": ["readiness", "smoke"], "phase": "readiness"}
    record = Record.from_dict(data)
    assert record.covers("readiness") and not record.covers("smoke")
    assert Record.from_dict(record.to_dict()).phase == "readiness"
    old = Record.from_dict({**data, "phase": ""})  # before phases: the markers decide
    assert old.covers("smoke")
