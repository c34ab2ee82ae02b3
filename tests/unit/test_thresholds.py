"""Thresholds classify values in both directions, refuse nonsense levels, and measurements say
in one line what was observed against which level."""

from __future__ import annotations

import math

import pytest

from pytest_cutover.thresholds import DEFAULTS, Level, Measurement, Threshold, fmt

LATENCY = Threshold(warn=500, crit=1000, unit="ms", rollback=2000)
CERT_DAYS = Threshold(warn=30, crit=7, unit="days", higher_is_worse=False)


@pytest.mark.parametrize(("value", "level"), [
    (0, Level.OK), (499.9, Level.OK), (500, Level.OK), (500.1, Level.WARN), (1000, Level.WARN),
    (1000.1, Level.CRIT), (5000, Level.CRIT),
])
def test_high_is_worse_threshold_classifies_values(value: float, level: Level) -> None:
    assert LATENCY.classify(value) is level


@pytest.mark.parametrize(("value", "level"), [
    (365, Level.OK), (30, Level.OK), (29, Level.WARN), (7, Level.WARN), (6.5, Level.CRIT),
    (0, Level.CRIT),
])
def test_low_is_worse_threshold_classifies_values(value: float, level: Level) -> None:
    assert CERT_DAYS.classify(value) is level


@pytest.mark.parametrize(("threshold", "value", "expected"), [
    (LATENCY, 1999, False), (LATENCY, 2000, False), (LATENCY, 2001, True),
    (Threshold(warn=30, crit=7, rollback=1, higher_is_worse=False), 0.5, True),
    (Threshold(warn=30, crit=7, rollback=1, higher_is_worse=False), 1, False),
    (CERT_DAYS, 0, False),  # no rollback level: never triggers
])
def test_rollback_level_triggers_only_beyond_it(threshold: Threshold, value: float,
                                                 expected: bool) -> None:
    assert threshold.triggers_rollback(value) is expected


@pytest.mark.parametrize(("threshold", "text"), [
    (LATENCY, "warning above 500 ms, critical above 1000 ms, rollback above 2000 ms"),
    (CERT_DAYS, "warning below 30 days, critical below 7 days"),
    (Threshold(crit=5, unit="%"), "critical above 5%"),
    (Threshold(warn=0.5), "warning above 0.50"),
])
def test_threshold_describes_its_levels(threshold: Threshold, text: str) -> None:
    assert threshold.describe() == text


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"warn": 1000, "crit": 500}, "warn 1000 is above crit 500: levels are inverted"),
    ({"warn": 7, "crit": 30, "higher_is_worse": False}, "warn 7 is below crit 30: levels are inverted"),
    ({"warn": -1, "crit": 5}, "warn must be a number >= 0, got -1"),
    ({"warn": 1, "crit": -5}, "crit must be a number >= 0, got -5"),
    ({"warn": 1, "crit": 5, "rollback": -1}, "rollback must be a number >= 0, got -1"),
    ({"warn": math.nan, "crit": 5}, "warn must be a number >= 0"),
    ({"warn": "500", "crit": 1000}, "warn must be a number >= 0, got '500'"),
    ({"warn": True, "crit": 1000}, "warn must be a number >= 0, got True"),
    ({}, "a threshold needs a warn or a crit level"),
])
def test_invalid_threshold_levels_raise(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(")):
        Threshold(**kwargs)


@pytest.mark.parametrize(("threshold", "value", "fails"), [
    (Threshold(warn=500, crit=1000), 700, False),   # a warning passes
    (Threshold(warn=500, crit=1000), 1001, True),
    (Threshold(warn=500), 5000, False),             # no critical level: nothing fails
    (Threshold(warn=500, rollback=800), 900, True),  # a rollback level fails too
    (Threshold(crit=99.0, higher_is_worse=False), 98.5, True),
])
def test_fails_is_true_exactly_when_the_check_would_fail(threshold: Threshold, value: float,
                                                        fails: bool) -> None:
    assert threshold.fails(value) is fails


def test_overrides_keep_the_other_levels_and_validate_again() -> None:
    merged = DEFAULTS["p95_ms"].with_overrides({"warn": 400})
    assert (merged.warn, merged.crit, merged.rollback, merged.unit) == (400, 1000, 2000, "ms")
    with pytest.raises(ValueError, match="inverted"):
        DEFAULTS["p95_ms"].with_overrides({"warn": 1500})


def test_plan_defaults_match_the_plan() -> None:
    assert (DEFAULTS["error_rate_pct"].warn, DEFAULTS["error_rate_pct"].crit,
            DEFAULTS["error_rate_pct"].rollback) == (1, 5, 5)
    assert (DEFAULTS["p95_ms"].warn, DEFAULTS["p95_ms"].crit, DEFAULTS["p95_ms"].rollback) == (
        500, 1000, 2000)
    assert (DEFAULTS["cpu_pct"].warn, DEFAULTS["cpu_pct"].crit) == (70, 90)
    assert (DEFAULTS["memory_pct"].warn, DEFAULTS["memory_pct"].crit) == (80, 95)
    assert (DEFAULTS["db_connections_pct"].warn, DEFAULTS["db_connections_pct"].crit) == (70, 90)


@pytest.mark.parametrize(("measurement", "level", "rollback", "message"), [
    (Measurement("p95", 420, LATENCY, "endpoint 'health'"), Level.OK, False,
     "p95 420 ms is within thresholds (warning above 500 ms, critical above 1000 ms, "
     "rollback above 2000 ms) for endpoint 'health'"),
    (Measurement("p95", 612, LATENCY), Level.WARN, False,
     "p95 612 ms is above the warning threshold 500 ms (critical at 1000 ms)"),
    (Measurement("p95", 1200, LATENCY, "endpoint 'health'"), Level.CRIT, False,
     "p95 1200 ms is above the critical threshold 1000 ms (warning at 500 ms) for endpoint 'health'"),
    (Measurement("p95", 2500, LATENCY), Level.CRIT, True,
     "p95 2500 ms is above the rollback trigger 2000 ms"),
    (Measurement("cert_days_left", 12, CERT_DAYS, "ils.example.com"), Level.WARN, False,
     "cert_days_left 12 days is below the warning threshold 30 days (critical at 7 days) "
     "for ils.example.com"),
    (Measurement("cert_days_left", 3, CERT_DAYS), Level.CRIT, False,
     "cert_days_left 3 days is below the critical threshold 7 days (warning at 30 days)"),
    (Measurement("errors", 2.5, DEFAULTS["error_rate_pct"]), Level.WARN, False,
     "errors 2.50% is above the warning threshold 1% (critical at 5%)"),
])
def test_measurement_states_value_level_and_threshold(measurement: Measurement, level: Level,
                                                      rollback: bool, message: str) -> None:
    assert measurement.level is level
    assert measurement.rollback is rollback
    assert measurement.message() == message
    assert "\n" not in measurement.message()


def test_measurement_serialises_everything_the_report_needs() -> None:
    data = Measurement("p95", 1200, LATENCY, "health").to_dict()
    assert data == {"name": "p95", "value": 1200, "unit": "ms", "subject": "health", "warn": 500,
                    "crit": 1000, "rollback_at": 2000, "higher_is_worse": True,
                    "level": "critical", "rollback": False, "message": data["message"]}


@pytest.mark.parametrize(("value", "unit", "text"), [
    (500, "ms", "500 ms"), (2.5, "%", "2.50%"), (123.456, "", "123"), (0.123, "s", "0.12 s"),
])
def test_values_are_formatted_for_humans(value: float, unit: str, text: str) -> None:
    assert fmt(value, unit) == text
