"""Load gate: under the configured ILS load, the client-side error rate and latency stay within
the plan's levels (error rate > 5 % or P95 > 2000 ms is a rollback trigger).

One Locust run per session (load/conftest.py); each check judges one number of it.
"""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from typing import Any

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients.locust import LoadRun
from pytest_cutover.loadstats import HISTORY_EVIDENCE, budget_for
from pytest_cutover.thresholds import Threshold

pytestmark = [pytest.mark.destructive]


@pytest.mark.checklist("app.load-test")
def test_load_run_completes_with_final_statistics(load_run: LoadRun, evidence: Callable[..., None]
                                                  ) -> None:
    stats = load_run.stats
    assert stats is not None
    evidence("load plan", "\n".join([load_run.plan.describe(), *load_run.plan.notes,
                                     f"stages (seconds, users): {load_run.plan.stages}",
                                     f"workers connected: {stats.workers}"]))
    evidence("per-endpoint statistics (Locust, exact final numbers)", stats.table())
    if stats.history:
        evidence(HISTORY_EVIDENCE, json.dumps(list(stats.history)), "json")
    if load_run.html_report.is_file():
        page = load_run.html_report.read_text(errors="replace")
        evidence("Locust report", f'<iframe title="Locust report" style="width:100%;height:640px" '
                                  f'srcdoc="{html.escape(page)}"></iframe>', "html")
    if stats.aborted:
        evidence("stopped early", stats.aborted)
    assert stats.total.requests > 0, (
        f"the load generator sent no request in {load_run.plan.duration_s:.0f} s "
        f"({load_run.plan.describe()})")


@pytest.mark.checklist("app.load-test", "mon.error-rate")
def test_error_rate_within_thresholds(load_run: LoadRun, measure: Callable[..., object]) -> None:
    assert load_run.stats is not None
    total = load_run.stats.total
    measure("error_rate_pct", total.error_rate_pct,
            subject=f"{total.failures} of {total.requests} requests under load",
            samples=total.requests)


@pytest.mark.checklist("success.error-rate")
def test_error_rate_meets_the_success_criterion(load_run: LoadRun, measure: Callable[..., object],
                                                load_threshold: Callable[[str], Threshold]) -> None:
    assert load_run.stats is not None
    total = load_run.stats.total
    measure("error_rate_pct", total.error_rate_pct, load_threshold("success_error_rate_pct"),
            subject="the success criterion 'error rate < 1 %'", samples=total.requests)


@pytest.mark.checklist("app.performance-benchmarks", "mon.p95-latency", "verify.response-times")
def test_p95_latency_within_thresholds(load_run: LoadRun, measure: Callable[..., object]) -> None:
    assert load_run.stats is not None
    total = load_run.stats.total
    measure("p95_ms", total.p95_ms, subject=f"all {total.requests} requests (client side)",
            samples=total.requests)


@pytest.mark.checklist("success.p95-latency")
def test_p95_latency_meets_the_success_criterion(load_run: LoadRun, measure: Callable[..., object],
                                                 load_threshold: Callable[[str], Threshold]) -> None:
    assert load_run.stats is not None
    total = load_run.stats.total
    measure("p95_ms", total.p95_ms, load_threshold("success_p95_ms"),
            subject="the success criterion 'P95 < 500 ms'", samples=total.requests)


@pytest.mark.checklist("app.load-test")
def test_p99_latency_within_thresholds(load_run: LoadRun, measure: Callable[..., object]) -> None:
    assert load_run.stats is not None
    total = load_run.stats.total
    measure("p99_ms", total.p99_ms, subject=f"all {total.requests} requests (client side)",
            samples=total.requests)


@pytest.mark.checklist("app.performance-benchmarks")
def test_endpoint_p95_within_its_budget(load_run: LoadRun, budget: str,
                                        measure: Callable[..., object]) -> None:
    assert load_run.stats is not None
    budgets = load_run.plan.budgets
    governed = [e for e in load_run.stats.matching(budget) if budget_for(e.name, budgets) == budget]
    assert governed, (f"no request under load matched the budget {budget!r} "
                      f"(names seen: {', '.join(sorted({e.name for e in load_run.stats.endpoints}))})")
    worst = max(governed, key=lambda e: e.p95_ms)
    measure("endpoint_p95_ms", worst.p95_ms, Threshold(**{"unit": "ms", **budgets[budget]}),
            subject=f"{worst.method} {worst.name} (budget {budget!r}, {worst.requests} requests)",
            samples=worst.requests, statistic="p95")


def test_load_generator_is_not_saturated(load_run: LoadRun, load_session: Any,
                                         measure: Callable[..., object],
                                         load_threshold: Callable[[str], Threshold],
                                         evidence: Callable[..., None]) -> None:
    """A generator above ~90 % CPU measures its own queueing, not the target (warning only;
    a failing reading taken on a saturated generator is blocked by load/conftest.py)."""
    evidence("generator processes", "\n".join(
        [f"{p.role}: {p.cpu_pct:.0f} % of a core over {p.wall_s:.1f} s, exit {p.exit_code}"
         for p in load_run.processes] + [f"machine: {load_session.machine.describe()}"]))
    busiest = load_run.busiest_generator
    assert busiest is not None, "no load generator process was recorded"
    measure("generator_cpu_pct", busiest.cpu_pct, load_threshold("generator_cpu_pct"),
            subject=f"Locust process {busiest.role}")


@pytest.mark.checklist("app.load-test")
def test_load_left_no_orders_behind(load_session: Any) -> None:
    if load_session.cleanup_problem:
        unverified(load_session.cleanup_problem)
    assert load_session.orders is not None
    left = load_session.orders.left_over()
    assert not left, (f"{left.get('orders', 0)} order(s) created by the load "
                      f"({load_session.orders.prefix}*) are still in the database (expected none)")
