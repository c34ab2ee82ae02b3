"""The go/no-go decision point: all checks green, no critical issue open or firing on staging,
external dependencies healthy. (That the team is ready is a sign-off: test_signoffs.py.)

"All checks green" reads the newest readiness run of this environment from the cutover ledger:
every blocking check passed there (its own gate checks aside, so the gate never waits on itself).
"""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_cutover import unverified
from pytest_cutover.fixtures import secret_or_unverified, unless_not_applicable
from pytest_cutover.stash import settings_key
from pytest_cutover.thresholds import Threshold

READINESS_AGE = Threshold(warn=12, crit=24, unit="h")
EXTERNAL_LATENCY = Threshold(warn=1000, crit=3000, unit="ms")
SENTRY_CRITICAL = "is:unresolved level:fatal"
ALERT_CRITICAL = 'severity="critical"'


@pytest.mark.checklist("gate.all-checks-green", "t24.readiness-check")
def test_latest_readiness_run_had_every_blocking_check_green(ledger, target, measure, evidence):
    record = ledger.latest(target.name, "readiness", release=target.release)
    if record is None:
        unverified(f"the ledger {str(ledger.path)!r} holds no readiness run of {target.name!r} for "
                   f"release {target.release!r}: run `pytest -m readiness --cutover-env {target.name}`")
    problems = record.blocking_problems(ignore_items=("gate.", "t24.readiness-check"))
    evidence("latest readiness run", record.to_dict(), "json")
    assert not problems, (f"the latest readiness run ({record.describe()}) has {len(problems)} blocking "
                          f"check(s) not green: "
                          + ", ".join(f"{c.nodeid} {c.outcome}" for c in problems[:8]))
    measure("readiness_run_age", record.age(dt.datetime.now(dt.UTC)).total_seconds() / 3600,
            target.threshold("readiness_age_hours", READINESS_AGE), subject=record.describe())


def _staging_component(staging, name: str) -> dict:
    unless_not_applicable(staging, name)
    table = staging.data.get(name)
    if not isinstance(table, dict) or not table.get("url"):
        unverified(f"staging ({staging.name}) has no {name} configured")
    return table


@pytest.mark.checklist("gate.staging-no-critical-issues")
def test_staging_has_no_unresolved_critical_sentry_issue(http, staging, evidence):
    sentry = _staging_component(staging, "sentry")
    headers = {}
    if sentry.get("token_env"):
        headers["Authorization"] = f"Bearer {secret_or_unverified(staging, sentry['token_env'])}"
    url = (f"{sentry['url'].rstrip('/')}/api/0/projects/{sentry.get('org', 'ils')}/"
           f"{sentry.get('project', 'ils-app')}/issues/?query={SENTRY_CRITICAL}")
    result = http.get(url, headers=headers)
    issues = result.json() if result.status == 200 else None
    if not isinstance(issues, list):
        unverified(f"Sentry of staging could not be asked: {result.describe()}")
    titles = [f"{i.get('shortId', i.get('id'))} {i.get('title', '')[:80]!r}" for i in issues]
    evidence("critical Sentry issues", titles, "json")
    assert not issues, (f"{len(issues)} unresolved critical issue(s) in staging's Sentry "
                        f"(expected none): {'; '.join(titles[:5])}")


@pytest.mark.checklist("gate.staging-no-critical-issues")
def test_staging_has_no_critical_alert_firing(http, staging, evidence):
    alertmanager = _staging_component(staging, "alertmanager")
    url = (f"{alertmanager['url'].rstrip('/')}/api/v2/alerts?active=true&silenced=false"
           f"&inhibited=false&filter={ALERT_CRITICAL}")
    result = http.get(url)
    alerts = result.json() if result.status == 200 else None
    if not isinstance(alerts, list):
        unverified(f"Alertmanager of staging could not be asked: {result.describe()}")
    names = [str((a.get("labels") or {}).get("alertname", "?")) for a in alerts]
    evidence("critical alerts firing", names, "json")
    assert not alerts, (
        f"{len(alerts)} critical alert(s) firing on staging (expected none): {', '.join(names)}")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "dependency" in metafunc.fixturenames:
        settings = metafunc.config.stash.get(settings_key, None)
        external = (settings.environment.data.get("external") or {}) if settings else {}
        names = sorted(external)
        metafunc.parametrize("dependency", [external[n] | {"name": n} for n in names], ids=names)


@pytest.mark.checklist("gate.external-dependencies")
def test_external_dependency_answers_in_time(http, target, dependency, measure):
    result = http.get(dependency["url"])
    expected = dependency.get("expect_status", 200)
    assert result.status == expected, (
        f"external dependency {dependency['name']!r} answered {result.status} (expected {expected}); "
        f"{result.describe()}")
    threshold = (EXTERNAL_LATENCY.with_overrides(dependency["latency"]) if dependency.get("latency")
                 else EXTERNAL_LATENCY)
    measure("external_latency_ms", result.elapsed_ms, threshold, subject=dependency["name"])
