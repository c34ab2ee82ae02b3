"""Load gate: under the configured ILS load, the client-side error rate and latency stay within
the plan's levels (error rate > 5 % or P95 > 2000 ms is a rollback trigger).

One Locust run per session (load/conftest.py); each check judges one number of it.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable
from typing import Any

import pytest

from pytest_cutover import blocked, evidence_floor, unverified
from pytest_cutover.clients.locust import LoadRun
from pytest_cutover.loadplan import setting
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
                                        measure: Callable[..., object], target: Any, http: Any,
                                        load_saturation: str | None,
                                        evidence: Callable[..., None]) -> None:
    assert load_run.stats is not None
    budgets = load_run.plan.budgets
    governed = [e for e in load_run.stats.matching(budget) if budget_for(e.name, budgets) == budget]
    if not governed:
        # zero samples is the extreme of "too few": a slow or short run may never reach a rarely
        # picked endpoint; a budget no request can match stays loud too (blocked counts against GO)
        seen = ", ".join(sorted({e.name for e in load_run.stats.endpoints})) or "none"
        blocked(load_saturation or "no request under load for this budget",
                f"no request under load matched the budget {budget!r} in "
                f"{load_run.stats.total.requests} requests (names seen: {seen}); its P95 is "
                f"unmeasured")
    worst = max(governed, key=lambda e: e.p95_ms)
    threshold = Threshold(**{"unit": "ms", **budgets[budget]})
    subject = f"{worst.method} {worst.name} (budget {budget!r}, {worst.requests} requests)"
    needed = evidence_floor.too_few(worst.requests, "p95", target.data.get("min_samples"))
    if (threshold.fails(worst.p95_ms) and not needed and not load_saturation
            and worst.method == "GET" and _plain_path(worst.name)):
        # like smoke: a failing reading is re-measured before it decides (no path parameters,
        # no login: only what one plain GET can repeat)
        again = _p95_of([http.get(worst.name) for _ in range(REMEASURE_REQUESTS)], evidence)
        if again is not None and not threshold.fails(again):
            measure("endpoint_p95_ms_under_load", worst.p95_ms,
                    Threshold(warn=threshold.crit or threshold.warn, unit="ms"), subject=subject)
            measure("endpoint_p95_ms", again, threshold, samples=REMEASURE_REQUESTS,
                    subject=f"{worst.method} {worst.name} re-measured with {REMEASURE_REQUESTS} "
                            f"requests after {worst.p95_ms:.0f} ms under load: not confirmed")
            return
        if again is not None:
            subject += f"; confirmed by a re-measure: P95 {again:.0f} ms of {REMEASURE_REQUESTS}"
    measure("endpoint_p95_ms", worst.p95_ms, threshold, subject=subject,
            samples=worst.requests, statistic="p95")


REMEASURE_REQUESTS = 20  # the default minimum for a P95


def _plain_path(name: str) -> bool:
    return name.startswith("/") and not any(c in name for c in "{}:*?[")


def _p95_of(results: list[Any], evidence: Callable[..., None]) -> float | None:
    """Nearest-rank P95 of the answered requests (None when any got no answer)."""
    evidence("re-measure of a failing budget", "\n".join(r.describe() for r in results))
    if not results or any(r.status is None for r in results):
        return None
    times = sorted(r.elapsed_ms for r in results)
    return times[max(0, math.ceil(0.95 * len(times)) - 1)]


def test_load_generator_is_not_saturated(load_run: LoadRun, load_session: Any,
                                         measure: Callable[..., object],
                                         load_threshold: Callable[[str], Threshold],
                                         load_saturation: str | None, target: Any,
                                         evidence: Callable[..., None]) -> None:
    """A generator above ~90 % CPU, or whose event loop runs its timers late, measures its own
    queueing, not the target (warnings only; a failing reading taken on a saturated generator
    is blocked by load/conftest.py)."""
    lag = load_run.lag
    evidence("generator processes", "\n".join(
        [f"{p.role}: {p.cpu_pct:.0f} % of a core over {p.wall_s:.1f} s, exit {p.exit_code}"
         for p in load_run.processes] + [f"machine: {load_session.machine.describe()}",
                                         f"client-side queueing: {lag.describe() if lag else 'not measured'}",
                                         f"verdict on the generator: {load_saturation or 'had room'}"]))
    busiest = load_run.busiest_generator
    assert busiest is not None, "no load generator process was recorded"
    measure("generator_cpu_pct", busiest.cpu_pct, load_threshold("generator_cpu_pct"),
            subject=f"Locust process {busiest.role}")
    if lag is not None and lag.p95_ms is not None:
        limit = float(setting(target.data.get("load", {}), "generator_max_lag_ms"))
        measure("generator_loop_lag_p95_ms", lag.p95_ms, Threshold(warn=limit, unit="ms"),
                subject=f"the generator's event loop ({lag.describe()})", samples=lag.samples)


@pytest.mark.checklist("app.load-test")
def test_load_left_no_orders_behind(load_session: Any) -> None:
    if load_session.cleanup_problem:
        unverified(load_session.cleanup_problem)
    assert load_session.orders is not None
    left = load_session.orders.left_over()
    assert not left, (f"{left.get('orders', 0)} order(s) created by the load "
                      f"({load_session.orders.prefix}*) are still in the database (expected none)")
