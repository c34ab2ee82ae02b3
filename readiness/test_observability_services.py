"""Readiness, observability: Grafana is healthy with the required dashboards, the Sentry project is
reachable with the DSN the app uses and holds no unresolved fatal issue of this release, and the
log store is ready and holds recent lines of the app.
"""

from __future__ import annotations

import time
from urllib.parse import quote, urlsplit

import pytest

from pytest_cutover import unverified
from pytest_cutover.fixtures import secret_or_unverified

DEFAULT_LOG_QUERY = '{app="ils-app"}'
DEFAULT_LOG_MAX_AGE_MINUTES = 15.0
NS = 1_000_000_000


def _json(result, what):
    body = result.json()
    assert result.status == 200 and body is not None, f"{what}: {result.describe()} (expected 200 JSON)"
    return body


# --- Grafana ---------------------------------------------------------------------------------

@pytest.mark.checklist("infra.monitoring-stack")
def test_grafana_is_healthy(service_api):
    _, client = service_api("grafana")
    body = _json(client.get("/api/health"), "Grafana health")
    assert body.get("database") == "ok", (
        f"Grafana /api/health reports database {body.get('database')!r} (expected 'ok')")


@pytest.mark.checklist("infra.monitoring-stack")
def test_required_grafana_dashboards_exist(service_api, target):
    table, client = service_api("grafana")
    required = table.get("required_dashboards")
    if not required:
        unverified(f"grafana.required_dashboards is not set for environment {target.name!r}")
    hits = _json(client.get("/api/search?type=dash-db&limit=5000"), "Grafana dashboard search")
    titles = {h.get("title") for h in hits if isinstance(h, dict)}
    missing = [t for t in required if t not in titles]
    assert not missing, (f"Grafana has no dashboard titled {', '.join(map(repr, missing))} "
                         f"({len(titles)} dashboards found)")


# --- Sentry ----------------------------------------------------------------------------------

@pytest.fixture
def sentry(service_api, target):
    table, client = service_api("sentry")
    for key in ("org", "project"):
        if not table.get(key):
            unverified(f"sentry.{key} is not set for environment {target.name!r}")
    return table, client, f"/api/0/projects/{table['org']}/{table['project']}"


@pytest.mark.checklist("sec.sentry")
def test_sentry_project_is_reachable(sentry):
    table, client, path = sentry
    body = _json(client.get(f"{path}/"), "Sentry project")
    assert body.get("slug") == table["project"], (
        f"Sentry answered project {body.get('slug')!r} (expected {table['project']!r})")


@pytest.mark.checklist("sec.sentry")
def test_sentry_dsn_points_at_the_project(sentry, target):
    table, client, path = sentry
    if not table.get("dsn_env"):
        unverified(f"sentry.dsn_env is not set for environment {target.name!r}: name the "
                   f"variable holding the DSN the application reports to")
    dsn = urlsplit(secret_or_unverified(target, table["dsn_env"]))
    project_id = dsn.path.strip("/").rsplit("/", 1)[-1]
    body = _json(client.get(f"{path}/"), "Sentry project")
    assert dsn.username and project_id == str(body.get("id")), (
        f"the configured DSN names project id {project_id!r} with "
        f"{'a' if dsn.username else 'no'} public key (expected project {table['project']!r}, "
        f"id {body.get('id')!r})")


@pytest.mark.checklist("sec.sentry")
def test_no_unresolved_fatal_issue_in_this_release(sentry, target):
    _, client, path = sentry
    query = "is:unresolved level:fatal" + (f" release:{target.release}" if target.release else "")
    issues = _json(client.get(f"{path}/issues/?query={quote(query)}&limit=25"), "Sentry issues")
    shown = "; ".join(f"{i.get('shortId')} {i.get('title')!r} ({i.get('count')} events)"
                      for i in issues[:3])
    assert not issues, f"{len(issues)} unresolved fatal issue(s) in Sentry ({query}): {shown}"


# --- log store -------------------------------------------------------------------------------

@pytest.mark.checklist("infra.log-aggregation")
def test_log_store_is_ready(service_api):
    _, client = service_api("logs")
    result = client.get("/ready")
    assert result.status == 200, f"{result.describe()} (expected 200 from /ready)"


@pytest.mark.checklist("infra.log-aggregation")
def test_log_store_holds_recent_app_lines(service_api, measure):
    table, client = service_api("logs")
    query = table.get("query", DEFAULT_LOG_QUERY)
    max_age_min = float(table.get("max_age_minutes", DEFAULT_LOG_MAX_AGE_MINUTES))
    now_ns = time.time_ns()
    start_ns = now_ns - int(max_age_min * 60 * NS)
    body = _json(client.get(f"/loki/api/v1/query_range?query={quote(query)}&start={start_ns}"
                            f"&end={now_ns}&limit=1&direction=backward"), "log store query")
    stamps = [int(v[0]) for s in (body.get("data") or {}).get("result") or []
              for v in s.get("values") or []]
    assert stamps, (f"the log store holds no line for {query} from the last {max_age_min:g} min "
                    f"(expected the app's logs to arrive continuously)")
