"""Prometheus and Alertmanager configuration files for a plan and a set of active faults."""

from __future__ import annotations

import json
from collections.abc import Collection
from typing import Any

from ilsref.monitoring.plan import MonitoringPlan, ScrapeTarget
from ilsref.monitoring.rules import rule_groups

# The faults that change a generated file; toggling any other fault needs no reload.
CONFIG_FAULTS = frozenset({"prom_target_down", "prom_missing_rule", "prom_rule_unknown_metric",
                           "am_no_receiver"})

# `prom_target_down` points this job at a port nobody listens on.
BROKEN_JOB = "redis"

ONCALL_RECEIVER = "ils-oncall"


def _scrape_config(target: ScrapeTarget, address: str) -> dict[str, Any]:
    job: dict[str, Any] = {
        "job_name": target.job,
        "scheme": target.scheme,
        "metrics_path": "/metrics",
        "static_configs": [{"targets": [address]}],
    }
    if target.ca_file:
        job["tls_config"] = {"ca_file": target.ca_file}
    return job


def prometheus_config(plan: MonitoringPlan, active_faults: Collection[str]) -> dict[str, Any]:
    jobs = []
    for target in plan.targets:
        address = target.address
        if target.job == BROKEN_JOB and "prom_target_down" in active_faults:
            address = f"127.0.0.1:{plan.dead_port}"
        jobs.append(_scrape_config(target, address))
    return {
        # Short intervals so targets, rules and series show up within seconds of `up`.
        "global": {
            "scrape_interval": "2s",
            "scrape_timeout": "1s",
            "evaluation_interval": "2s",
            "external_labels": {"environment": "local"},
        },
        "rule_files": [str(plan.path("rules.yml"))],
        "alerting": {
            "alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{plan.alertmanager_port}"]}]}]
        },
        "scrape_configs": jobs,
    }


def alertmanager_config(plan: MonitoringPlan, active_faults: Collection[str]) -> dict[str, Any]:
    if "am_no_receiver" in active_faults:
        # Valid for Alertmanager, but every alert is routed to a receiver without integrations.
        receiver = "blackhole"
        receivers: list[dict[str, Any]] = [{"name": receiver}]
    else:
        receiver = ONCALL_RECEIVER
        receivers = [{"name": receiver,
                      "webhook_configs": [{"url": plan.webhook_url, "send_resolved": True}]}]
    return {
        "global": {"resolve_timeout": "5m"},
        "route": {
            "receiver": receiver,
            "group_by": ["alertname", "severity"],
            "group_wait": "1s",
            "group_interval": "5s",
            "repeat_interval": "1h",
        },
        "receivers": receivers,
    }


def write_all(plan: MonitoringPlan, active_faults: Collection[str]) -> None:
    """Write prometheus.yml, rules.yml and alertmanager.yml into the plan's directory."""
    files = {
        "prometheus.yml": prometheus_config(plan, active_faults),
        "rules.yml": rule_groups(active_faults),
        "alertmanager.yml": alertmanager_config(plan, active_faults),
    }
    for name, content in files.items():
        path = plan.path(name)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(content, indent=2))  # JSON is YAML: no YAML library needed
        tmp.replace(path)  # a reload never sees half a file
