"""The pure parts of the load gate: profiles and caps, the shape's ramps, histogram quantiles."""

from __future__ import annotations

import math

import pytest

from pytest_cutover.loadplan import PlanError, plan, users_at
from pytest_cutover.loadstats import (
    bucket_around,
    budget_for,
    gap_outside,
    histogram_quantile,
)


def test_staged_profile_follows_the_plan_scaled_in_time() -> None:
    staged = plan({"profile": "staged", "time_scale": 0.1}, {})
    assert staged.stages == [(12, 50), (30, 50), (12, 100), (30, 100), (6, 200), (18, 200), (12, 0)]
    assert staged.duration_s == pytest.approx(120)


def test_users_and_duration_are_capped_and_the_caps_are_said() -> None:
    capped = plan({"profile": "staged", "max_users": 100, "max_duration_s": 600}, {})
    assert capped.peak_users == 100
    assert capped.duration_s == pytest.approx(600)
    assert any("users capped" in n for n in capped.notes)
    assert any("duration capped" in n for n in capped.notes)


def test_environment_variables_win_over_the_table() -> None:
    chosen = plan({"users": 5, "workers": 0}, {"CUTOVER_LOAD_USERS": "7", "CUTOVER_LOAD_WORKERS": "2"})
    assert (chosen.peak_users, chosen.workers) == (7, 2)


@pytest.mark.parametrize("table", [{"profile": "stress"}, {"think_time_s": [3, 1]},
                                   {"user_class": "curl"}])
def test_unrunnable_configuration_is_refused(table: dict[str, object]) -> None:
    with pytest.raises(PlanError):
        plan(table, {})


@pytest.mark.parametrize(("elapsed", "users"), [(0, 0), (1, 5), (2, 10), (5, 10), (9.9, 10), (10, None)])
def test_shape_ramps_linearly_then_holds_then_ends(elapsed: float, users: int | None) -> None:
    assert users_at([(2, 10), (8, 10)], elapsed) == users


def test_histogram_quantile_interpolates_like_promql() -> None:
    uniform = {0.25: 25.0, 0.5: 50.0, 1.0: 100.0, math.inf: 100.0}  # U(0, 1 s) in buckets
    assert histogram_quantile(0.95, uniform) == pytest.approx(0.95)
    assert histogram_quantile(0.95, {0.5: 0.0, math.inf: 0.0}) is None
    assert histogram_quantile(0.99, {1.0: 90.0, math.inf: 100.0}) == 1.0  # +Inf: highest bound


def test_bucket_bounds_and_gap_describe_the_resolution() -> None:
    buckets = {0.1: 1.0, 0.5: 2.0, 1.0: 3.0, math.inf: 3.0}
    assert bucket_around(0.7, buckets) == (0.5, 1.0)
    assert gap_outside(710, 500, 1000) == 0
    assert gap_outside(1300, 500, 1000) == 300


def test_exact_budget_name_wins_over_a_pattern() -> None:
    budgets = {"/api/*": {}, "/api/health": {}}
    assert budget_for("/api/health", budgets) == "/api/health"
    assert budget_for("/api/patients", budgets) == "/api/*"
    assert budget_for("/", budgets) is None
