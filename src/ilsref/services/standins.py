"""Grafana, Sentry, log store and alert-webhook stand-ins (one process, four loopback ports).

Facts written: alert_webhook_url (monitoring's Alertmanager delivers there).
All faults here toggle at run time: the stand-ins read run/faults.json on every request.
"""

from __future__ import annotations

import secrets

from ilsref.faults import Fault
from ilsref.runtime import free_port, wait_for_port
from ilsref.services.base import Context
from ilsref.services.pychild import module_argv, module_env
from ilsref.standins.grafana import OVERVIEW_TITLE
from ilsref.standins.sentry import ORG, PROJECT, PROJECT_ID

FAULTS = (
    Fault("grafana_down", "readiness/observability",
          "Grafana answers 503 on every endpoint, /api/health included"),
    Fault("grafana_missing_dashboard", "readiness/observability",
          "the 'ILS 2.0 Overview' dashboard does not exist"),
    Fault("sentry_unreachable", "readiness/observability", "Sentry's API answers 503"),
    Fault("sentry_critical_issue", "readiness/observability",
          "an unresolved fatal issue, first seen in the current release, is open in Sentry"),
    Fault("logs_not_ready", "readiness/observability", "the log store's /ready answers 503"),
    Fault("logs_stale", "readiness/observability", "the log store holds no app line from the last hour"),
    Fault("logs_error_lines", "load/post-launch",
          "the log store holds ERROR lines with stack traces from the app over the last 10 minutes"),
)

GRAFANA_TOKEN_ENV = "CUTOVER_LOCAL_GRAFANA_TOKEN"  # noqa: S105 - the name of an env variable
SENTRY_TOKEN_ENV = "CUTOVER_LOCAL_SENTRY_TOKEN"  # noqa: S105 - the name of an env variable
SENTRY_DSN_ENV = "CUTOVER_LOCAL_SENTRY_DSN"


def start(ctx: Context) -> None:
    ports = {name: free_port() for name in ("grafana", "sentry", "logs", "webhook")}
    grafana_token = "glsa_" + secrets.token_hex(16)
    sentry_token = "sntrys_" + secrets.token_hex(24)
    dsn_key = secrets.token_hex(16)
    argv = module_argv("ilsref.standins", "--run-dir", str(ctx.run.path), "--release", ctx.release,
                       *[arg for name, port in ports.items() for arg in (f"--{name}-port", str(port))])
    env = module_env(ILSREF_GRAFANA_TOKEN=grafana_token, ILSREF_SENTRY_TOKEN=sentry_token,
                     ILSREF_SENTRY_DSN_KEY=dsn_key)
    process = ctx.run.spawn("standins", argv, env=env)
    for port in ports.values():
        wait_for_port(port, process=process)

    url = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    ctx.facts["alert_webhook_url"] = f"{url['webhook']}/hooks/alertmanager"
    ctx.facts["alert_sink_url"] = f"{url['webhook']}/alerts"
    ctx.secrets[GRAFANA_TOKEN_ENV] = grafana_token
    ctx.secrets[SENTRY_TOKEN_ENV] = sentry_token
    ctx.secrets[SENTRY_DSN_ENV] = f"http://{dsn_key}@127.0.0.1:{ports['sentry']}/{PROJECT_ID}"
    ctx.environment["grafana"] = {
        "url": url["grafana"], "token_env": GRAFANA_TOKEN_ENV, "required_dashboards": [OVERVIEW_TITLE],
    }
    ctx.environment["sentry"] = {
        "url": url["sentry"], "token_env": SENTRY_TOKEN_ENV, "org": ORG, "project": PROJECT,
        "dsn_env": SENTRY_DSN_ENV,
    }
    ctx.environment["logs"] = {"url": url["logs"], "query": '{app="ils-app"}'}
