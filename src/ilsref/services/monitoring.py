"""Monitoring: postgres-exporter, redis-exporter, and Prometheus + Alertmanager under a supervisor.

Facts read: postgres_admin_dsn (or postgres_dsn), redis_url, app_https_port, ca_pem, and
alert_webhook_url (set by the stand-ins service, which must start first).
All monitoring faults toggle at run time: the supervisor rewrites the config and reloads.
"""

from __future__ import annotations

import shutil
import time
import urllib.error
import urllib.request
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from ilsref.faults import Fault
from ilsref.monitoring.plan import MonitoringPlan, ScrapeTarget
from ilsref.monitoring.rules import REQUIRED_ALERTS
from ilsref.runtime import free_port, require_binary, wait_for_port
from ilsref.services.base import Context
from ilsref.services.pychild import module_argv, module_env

FAULTS = (
    Fault("prom_target_down", "readiness/monitoring", "Prometheus scrapes the redis job from a dead port"),
    Fault("prom_missing_rule", "readiness/monitoring", "the HighErrorRate alert rule is not loaded"),
    Fault("prom_rule_unknown_metric", "readiness/monitoring",
          "HighRequestRate refers to http_requests_count_total, which nothing exports"),
    Fault("am_no_receiver", "readiness/monitoring",
          "Alertmanager routes every alert to a receiver without integrations"),
    Fault("prom_down", "readiness/monitoring", "Prometheus is stopped (does not answer /-/ready)"),
)

EXPECTED_TARGETS = ["ils-app", "postgres", "redis"]
READY_TIMEOUT = 30.0


def _exporter_dsn(dsn: str) -> str:
    """The DSN with sslmode=disable unless set: the exporter's driver insists on TLS otherwise."""
    parts = urlsplit(dsn)
    query = dict(parse_qsl(parts.query))
    query.setdefault("sslmode", "disable")
    return urlunsplit(parts._replace(query=urlencode(query)))


def _start_postgres_exporter(ctx: Context) -> int:
    binary = require_binary("prometheus-postgres-exporter", "prometheus-postgres-exporter")
    dsn = ctx.facts.get("postgres_admin_dsn") or ctx.facts["postgres_dsn"]
    port = free_port()
    ctx.run.spawn(
        "postgres-exporter",
        [binary, f"--web.listen-address=127.0.0.1:{port}"],
        env={"DATA_SOURCE_NAME": _exporter_dsn(dsn)},  # in the environment, not in `ps`
    )
    return port


def _start_redis_exporter(ctx: Context) -> int:
    binary = require_binary("prometheus-redis-exporter", "prometheus-redis-exporter")
    redis = urlsplit(ctx.facts["redis_url"])
    port = free_port()
    ctx.run.spawn(
        "redis-exporter",
        [binary, f"--redis.addr=redis://{redis.hostname}:{redis.port}",
         f"--web.listen-address=127.0.0.1:{port}"],
        env={"REDIS_PASSWORD": redis.password or ""},
    )
    return port


def wait_ready(url: str, timeout: float = READY_TIMEOUT) -> None:
    """Poll <url>/-/ready until it answers 200, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{url}/-/ready", timeout=2) as response:
                if response.status == 200:
                    return
                last = f"status {response.status}"
        except (urllib.error.URLError, OSError) as exc:
            last = str(exc)
        time.sleep(0.2)
    raise TimeoutError(f"{url}/-/ready did not answer 200 within {timeout:.0f} s (last: {last})")


def start(ctx: Context) -> None:
    if "alert_webhook_url" not in ctx.facts:
        raise RuntimeError("monitoring needs facts['alert_webhook_url']:"
                           " start ilsref.services.standins first")
    postgres_exporter_port = _start_postgres_exporter(ctx)
    redis_exporter_port = _start_redis_exporter(ctx)

    directory = ctx.run.path / "monitoring"
    # Throwaway state: series of an earlier deployment in this run dir (other ports, `up == 0` from
    # its shutdown) would stay visible for Prometheus' 5-minute look-back and fire PostgresDown.
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, exist_ok=True)
    prometheus_port = free_port()
    plan = MonitoringPlan(
        directory=str(directory),
        faults_file=str(ctx.faults.path),
        logs_dir=str(ctx.run.logs),
        prometheus_binary=require_binary("prometheus", "prometheus"),
        alertmanager_binary=require_binary("alertmanager", "prometheus-alertmanager",
                                           "prometheus-alertmanager"),
        prometheus_port=prometheus_port,
        alertmanager_port=free_port(),
        webhook_url=ctx.facts["alert_webhook_url"],
        dead_port=free_port(),
        targets=[
            # The app's certificate names localhost, so the target must too.
            ScrapeTarget("ils-app", f"localhost:{ctx.facts['app_https_port']}", "https",
                         str(ctx.facts["ca_pem"])),
            ScrapeTarget("postgres", f"127.0.0.1:{postgres_exporter_port}"),
            ScrapeTarget("redis", f"127.0.0.1:{redis_exporter_port}"),
            ScrapeTarget("prometheus", f"127.0.0.1:{prometheus_port}"),
        ],
    )
    plan_file = directory / "plan.json"
    plan.save(plan_file)
    supervisor = ctx.run.spawn("monitoring", module_argv("ilsref.monitoring.supervisor", str(plan_file)),
                               env=module_env())

    wait_for_port(postgres_exporter_port, process=supervisor)
    wait_for_port(redis_exporter_port, process=supervisor)
    wait_ready(plan.alertmanager_url)
    if "prom_down" not in ctx.faults:
        wait_ready(plan.prometheus_url)

    ctx.facts.update(prometheus_url=plan.prometheus_url, alertmanager_url=plan.alertmanager_url)
    ctx.environment["prometheus"] = {
        "url": plan.prometheus_url,
        "expected_targets": list(EXPECTED_TARGETS),
        "required_alerts": list(REQUIRED_ALERTS),
    }
    ctx.environment["alertmanager"] = {"url": plan.alertmanager_url}
