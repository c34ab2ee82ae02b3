"""Alert and recording rules modelled on ILS 2.0's Prometheus rules (see ils-target-profile.md).

The expressions use the metric names the ILS app and the two exporters really export, so a check
can verify that every rule refers to series that exist. No node-exporter runs locally, so the
CPU/memory/disk rules of ILS are left out.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

# The alert names a healthy deployment must have loaded (the environment's `required_alerts`).
REQUIRED_ALERTS = (
    "HighErrorRate",
    "SlowResponseTime",
    "HighRequestRate",
    "DatabaseConnectionsHigh",
    "PostgresDown",
    "RedisDown",
    "SLOAvailabilityBreach",
)

# A name no exporter serves: `prom_rule_unknown_metric` swaps it into HighRequestRate.
UNKNOWN_METRIC = "http_requests_count_total"

AVAILABILITY_RECORD = "ils:availability:ratio_rate30d"


def _alert(name: str, expr: str, duration: str, severity: str, summary: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": duration,
        "labels": {"severity": severity, "service": "ils"},
        "annotations": {"summary": summary},
    }


def rule_groups(active_faults: Collection[str]) -> dict[str, Any]:
    """The rule file's content for the given active faults."""
    request_metric = UNKNOWN_METRIC if "prom_rule_unknown_metric" in active_faults else "http_requests_total"
    alerts = [
        _alert(
            "HighErrorRate",
            'sum(rate(http_requests_total{status_code=~"5.."}[5m]))'
            " / sum(rate(http_requests_total[5m])) > 0.05",
            "5m", "critical", "More than 5 % of ILS requests fail with 5xx",
        ),
        _alert(
            "SlowResponseTime",
            "histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m]))) > 1",
            "10m", "warning", "ILS P95 response time above 1 s",
        ),
        _alert(
            "HighRequestRate",
            f"sum(rate({request_metric}[5m])) > 1000",
            "5m", "warning", "ILS serves more than 1000 requests per second",
        ),
        _alert(
            "DatabaseConnectionsHigh",
            "sum(pg_stat_database_numbackends) / scalar(max(pg_settings_max_connections)) > 0.8",
            "5m", "warning", "PostgreSQL uses more than 80 % of max_connections",
        ),
        _alert(
            "PostgresDown", 'up{job="postgres"} == 0 or pg_up == 0',
            "1m", "critical", "PostgreSQL or its exporter is down",
        ),
        _alert(
            "RedisDown", 'up{job="redis"} == 0 or redis_up == 0',
            "1m", "critical", "Redis or its exporter is down",
        ),
        _alert(
            "SLOAvailabilityBreach", f"{AVAILABILITY_RECORD} < 0.999",
            "1h", "critical", "ILS availability below the 99.9 % SLO over 30 days",
        ),
    ]
    if "prom_missing_rule" in active_faults:
        alerts = [a for a in alerts if a["alert"] != "HighErrorRate"]
    slo = {
        "record": AVAILABILITY_RECORD,
        "expr": '1 - (sum(rate(http_requests_total{status_code=~"5.."}[30d]))'
        " / sum(rate(http_requests_total[30d])))",
    }
    return {
        "groups": [
            {"name": "ils-alerts", "interval": "2s", "rules": alerts},
            {"name": "ils-slo", "interval": "2s", "rules": [slo]},
        ]
    }
