"""Readiness, Prometheus: it is ready, scrapes every expected target, has every required alert rule
loaded and healthy, and every metric those alerts use exists (an alert on a metric nobody exports
can never fire: monitoring the monitoring).
"""

from __future__ import annotations

import time

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients import prom

pytestmark = pytest.mark.checklist("infra.monitoring-stack", "success.monitoring-alerting")

FIRST_SCRAPE_WAIT_S = 15.0


@pytest.fixture
def prometheus(service_api):
    return service_api("prometheus")


def _ask(call, *args):
    try:
        return call(*args)
    except prom.ApiError as exc:
        pytest.fail(f"the Prometheus API did not answer as documented: {exc}", pytrace=False)


@pytest.fixture
def loaded_rules(prometheus, evidence):
    _, client = prometheus
    found = _ask(prom.rules, client)
    evidence("Prometheus rules", [{"name": r.name, "type": r.kind, "health": r.health,
                                   "query": r.query} for r in found], "json")
    return found


@pytest.fixture
def required_alerts(prometheus, target):
    table, _ = prometheus
    names = table.get("required_alerts")
    if not names:
        unverified(f"prometheus.required_alerts is not set for environment {target.name!r}: "
                   f"list the alert rules that must be loaded")
    return list(names)


def test_prometheus_is_ready(prometheus):
    _, client = prometheus
    result = prom.ready(client)
    assert result.status == 200, f"{result.describe()} (expected 200 from /-/ready)"


def test_every_expected_scrape_target_is_up(prometheus, target, evidence):
    table, client = prometheus
    expected = table.get("expected_targets")
    if not expected:
        unverified(f"prometheus.expected_targets is not set for environment {target.name!r}: "
                   f"list the scrape jobs that must be up")
    # A target is 'unknown' (or not listed) until its first scrape: wait for that, bounded.
    deadline = time.monotonic() + FIRST_SCRAPE_WAIT_S
    while True:
        found = _ask(prom.targets, client)
        settled = all(any(t.job == job and t.health != "unknown" for t in found) for job in expected)
        if settled or time.monotonic() >= deadline:
            break
        time.sleep(1.0)
    evidence("Prometheus targets", [vars(t) for t in found], "json")
    problems = []
    for job in expected:
        mine = [t for t in found if t.job == job]
        if not mine:
            problems.append(f"{job}: not scraped at all")
        problems += [f"{job} {t.instance}: {t.health} ({t.last_error or 'no error given'})"
                     for t in mine if t.health != "up"]
    assert not problems, f"scrape targets not up: {'; '.join(problems)}"


def test_required_alert_rules_are_loaded(loaded_rules, required_alerts):
    loaded = {r.name for r in loaded_rules if r.kind == "alerting"}
    missing = [name for name in required_alerts if name not in loaded]
    assert not missing, (f"alert rule(s) {', '.join(missing)} are not loaded in Prometheus "
                         f"({len(loaded)} alert rules are)")


def test_required_alert_rules_are_healthy(loaded_rules, required_alerts):
    unhealthy = [f"{r.name}: {r.health} {r.last_error}".strip() for r in loaded_rules
                 if r.kind == "alerting" and r.name in required_alerts and r.health != "ok"]
    assert not unhealthy, f"alert rules fail to evaluate: {'; '.join(unhealthy)}"


def test_every_metric_an_alert_uses_exists(prometheus, loaded_rules, evidence):
    _, client = prometheus
    present = _ask(prom.metric_names_in_store, client)
    missing = prom.missing_metrics(loaded_rules, present)
    evidence("metrics used by alert rules", {
        r.name: sorted(prom.metric_names(r.query)) for r in loaded_rules}, "json")
    shown = "; ".join(f"{alert} uses {', '.join(sorted(names))}" for alert, names in missing.items())
    assert not missing, (f"alert rules refer to metrics with no series in Prometheus, so they "
                         f"can never fire: {shown}")
