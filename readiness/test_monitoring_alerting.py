"""Readiness, alerting: Alertmanager is ready, routes alerts to a receiver that notifies someone,
and accepts a test alert that then shows up in its alert list (destructive: it notifies people).
"""

from __future__ import annotations

import datetime as dt
import time
import uuid

import pytest

from pytest_cutover.clients import prom

pytestmark = pytest.mark.checklist("post.alerts-working", "success.monitoring-alerting")

VISIBLE_WITHIN_S = 10.0
POLL_S = 0.5
TEST_ALERT = "CutoverTestAlert"


@pytest.fixture
def alertmanager(service_api):
    return service_api("alertmanager")


@pytest.fixture
def running_config(alertmanager, evidence):
    _, client = alertmanager
    try:
        config = prom.alertmanager_config(client)
    except prom.ApiError as exc:
        pytest.fail(f"Alertmanager did not report its configuration: {exc}", pytrace=False)
    evidence("Alertmanager route and receivers", {
        "route": config.get("route"), "receivers": prom.receivers_with_integrations(config)}, "json")
    return config


def test_alertmanager_is_ready(alertmanager):
    _, client = alertmanager
    result = prom.ready(client)
    assert result.status == 200, f"{result.describe()} (expected 200 from /-/ready)"


def test_default_route_reaches_a_receiver_that_notifies(running_config):
    receivers = prom.receivers_with_integrations(running_config)
    default = (running_config.get("route") or {}).get("receiver")
    assert receivers.get(default), (
        f"the default route sends alerts to receiver {default!r}, which has no integration "
        f"(receivers: {receivers}); expected email, webhook, PagerDuty, Slack ...")


@pytest.mark.destructive
def test_test_alert_is_accepted_and_visible(alertmanager):
    _, client = alertmanager
    run_id = uuid.uuid4().hex[:12]
    now = dt.datetime.now(dt.UTC)
    labels = {"alertname": TEST_ALERT, "severity": "none", "cutover_run": run_id}
    posted = prom.post_alert(
        client, labels, {"summary": "pytest-cutover test alert: please ignore"},
        now.isoformat(), (now + dt.timedelta(minutes=5)).isoformat())
    assert posted.status == 200, f"{posted.describe()} (expected 200: alert accepted)"
    deadline = time.monotonic() + VISIBLE_WITHIN_S
    seen = []
    while not seen and time.monotonic() < deadline:
        try:
            seen = prom.alerts_matching(client, "cutover_run", run_id)
        except prom.ApiError as exc:
            pytest.fail(f"Alertmanager did not list its alerts: {exc}", pytrace=False)
        if not seen:
            time.sleep(POLL_S)
    # resolve it at once, so it does not linger in the receivers' channels
    prom.post_alert(client, labels, {}, now.isoformat(), dt.datetime.now(dt.UTC).isoformat())
    assert seen, (f"test alert {TEST_ALERT} (cutover_run={run_id}) was accepted but not listed "
                  f"within {VISIBLE_WITHIN_S:.0f} s")
