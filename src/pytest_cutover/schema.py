"""The known keys of cutover.toml, with their kinds, and the ILS profile defaults.

Pure data plus a small validator. Every table an environment may hold is listed here, so a typo
(`databse`, `base_ur`) is reported instead of silently ignored.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Kinds of leaf values.
STR, URL, PATH, INT, NUMBER, BOOL, STRLIST, LIST, TABLE, THRESHOLD = (
    "str", "url", "path", "int", "number", "bool", "strlist", "list", "table", "threshold")


@dataclass(frozen=True)
class MapOf:
    """A table whose keys are free names (accounts, endpoints) each holding `spec`."""

    spec: dict[str, Any] | str


ENDPOINT = {
    "path": STR, "method": STR, "expect_status": INT, "latency": THRESHOLD,
    "critical": BOOL, "auth": STR, "expect_json": TABLE,
}

# Governance tables (readiness/test_security_*, test_application_*, test_documentation, the gate).
SECURITY = {
    "secrets": STRLIST,  # Secrets whose age is held against the rotation policy
    "secret_min_length": MapOf(INT),  # key of kubernetes.secret -> minimum length in bytes
    "configmaps": STRLIST,  # ConfigMaps scanned for secrets (default: all in the namespace)
    "minimum_grade": STR,  # lowest acceptable header grade, A+ .. F (default "A")
    "grade_path": STR,  # page whose headers are graded (default "/")
    "http_urls": STRLIST,  # plain-HTTP URLs that must redirect to HTTPS (default: http_url)
    "rate_limit": {"path": STR, "method": STR, "max_requests": INT, "recovery_max_s": NUMBER},
    "default_credentials": LIST,  # [{email = "...", password = "..."}]: public defaults, not secrets
    "admin_paths": STRLIST,
    "non_admin_account": STR,  # name under accounts.* of a user without admin rights
    "debug_paths": STRLIST,
    "audit_report": STR,  # npm audit / pip-audit / Trivy JSON: a path or an http(s) URL
    "audit_unknown_severity": STR,  # how to count findings without severity (default "high")
}
APPLICATION = {
    "staging_environment": STR,  # the environment that stands for staging in these checks
    "junit_report": STR,  # the release's integration-test JUnit XML: a path or an http(s) URL
    "min_tests": INT,
    "feature_flags": {"url": STR, "expected": TABLE},
    "code_freeze": STR,  # ISO 8601 time of the code freeze, e.g. "2026-11-25T18:00:00Z"
    "repository": PATH,  # a git checkout; with release_branch: no commit after the freeze
    "release_branch": STR,
}
DOCUMENT = {"location": STR, "max_age_days": INT, "min_bytes": INT}
DOCUMENTATION = {
    "documents": MapOf(DOCUMENT),  # name (e.g. runbooks) -> a path or an http(s) URL
    "max_age_days": INT,  # default for every document (90)
    "openapi": STR,  # the published OpenAPI JSON: a path, an URL, or a path on base_url
    "critical_endpoints": STRLIST,  # e.g. "GET /api/patients"
}
EXTERNAL_DEPENDENCY = {"url": URL, "expect_status": INT, "latency": THRESHOLD}
LEDGER = {
    "directory": PATH,  # default: <reports>/history
    "load_environment": STR,  # whose load verdict counts (default: application.staging_environment)
}

# The rollback drill and data-integrity checks (rollback/; defaults in rollback/conftest.py).
ROLLBACK = {
    "undo_with": STR,  # "api" (kubectl's undo algorithm over the API; default) or "kubectl"
    "previous_release": STR,  # what the undo must serve (default: the previous revision's tag)
    "rollout_timeout_s": NUMBER,  # deadline per rollout (default kubernetes.rollout_timeout_s, 600)
    "smoke_timeout_s": NUMBER,  # deadline of the smoke re-run against the previous release (300)
    "scale_back_replicas": INT,  # replicas after the scale drill (default: as before it)
    "restore_from": STR,  # "newest" backup in backups.directory (default) or "pg_dump" (fresh)
    "scratch_database": STR,  # default cutover_scratch_<source>; never the source
    "restore_jobs": INT,  # pg_restore --jobs (default 2)
    "restore_timeout_s": NUMBER,  # deadline of one restore (default 1800)
    "pg_bin": PATH,  # folder of pg_dump/pg_restore/psql (default: PATH)
    "mutable_columns": STRLIST,  # left out of checksums (default updated_at, last_login_at)
    "created_columns": STRLIST,  # creation-time columns bounding historical rows
    "relations": STRLIST,  # "orders.patient_id -> patients.id" (default: every foreign key)
    "sample_requests": INT,  # requests per rollback-decision probe (default 20)
}

# The browser flows (e2e/; pytest_cutover.e2e_profile has the ILS defaults of every map).
E2E = {
    "flows": MapOf({"critical": BOOL, "not_applicable": STR}),  # per flow: override, or N/A why
    "routes": MapOf(STR),  # UI routes and the API paths the flows use, by name
    "selectors": MapOf(STR),  # Playwright selectors by name
    "texts": MapOf(STR),  # texts and patterns the flows look for
    "widgets": MapOf(STRLIST),  # key widgets by page route name (user_dashboard, reports ...)
    "landing": MapOf(STR),  # role -> the route name it lands on after sign-in (ecp, admin ...)
    "order": MapOf(STR),  # what the order flow picks: lens_type, lens_material, coating
    "storage": MapOf(STR),  # the SPA's localStorage keys: access_token, refresh_token ...
    "accounts": MapOf(STR),  # flow role (user, admin) -> account name in [accounts]
    "test_tenant": STR,  # companyId kept for tests: data flows may then run on production
    "data_prefix": STR,  # start of every name the suite creates (a run id follows)
    "cleanup": STR,  # "database" (delete the recorded rows via database.dsn_env; default) or "none"
    "cleanup_tables": LIST,  # [{table, column}]: where the ids the flows record live, deletion order
    "strict_third_party": BOOL,  # third-party request/console errors fail a flow (default: warn)
    "trust_ca_bundle": BOOL,  # Chromium trusts the leaf that verifies with ca_bundle (default true)
    "action_timeout_ms": INT,  # bound of every click, fill and expectation (default 5000)
    "navigation_timeout_ms": INT,  # bound of every page load (default 15000)
    "page_load_ms": THRESHOLD,  # page load budget (default warn 2000, crit 4000)
    "ignore_console": STRLIST,  # regexes of console errors that do not fail a flow
}

# The load gate (load/, pytest_cutover.loadplan has the defaults and meanings).
LOAD = {
    "profile": STR, "users": INT, "duration_s": NUMBER, "time_scale": NUMBER,
    "max_users": INT, "max_duration_s": NUMBER, "workers": INT, "account": STR,
    "user_class": STR, "think_time_s": LIST, "user_weights": MapOf(INT),
    "task_weights": MapOf(INT), "warmup_s": NUMBER, "abort_after_s": NUMBER,
    "abort_min_requests": INT,
    "timeout_margin_s": NUMBER, "budgets": MapOf(THRESHOLD),
    "memory_limit_mb": NUMBER, "cpu_limit_cores": NUMBER, "post_launch_window": STR,
    "error_log_patterns": STRLIST, "max_error_log_lines": INT,
}

COMPONENTS: dict[str, Any] = {
    "version": {"source": STR, "path": STR, "field": STR},
    "accounts": MapOf({"email_env": STR, "password_env": STR, "role": STR}),
    "endpoints": MapOf(ENDPOINT),
    "profile": TABLE,  # paths, selectors and names of the app (see ILS_PROFILE)
    "kubernetes": {
        "kubeconfig": PATH, "context": STR, "namespace": STR, "deployment": STR,
        "container": STR, "service": STR, "hpa": STR, "pdb": STR, "ingress": STR,
        "configmap": STR, "secret": STR, "label_selector": STR, "min_replicas": INT,
        "rollout_timeout_s": NUMBER, "log_error_patterns": STRLIST, "required_env": TABLE,
        "secret_keys": STRLIST, "kubectl": PATH, "log_tail_lines": INT, "log_since_s": INT,
    },
    "database": {
        "dsn_env": STR, "admin_dsn_env": STR, "expected_migration_head": STR,
        "migration_query": STR, "min_version": INT, "settings": TABLE, "require_tls": BOOL,
        "tables": STRLIST, "scratch_allowed": BOOL, "replicas": STRLIST,
        "long_transaction_s": NUMBER,
    },
    "redis": {"url_env": STR, "min_version": STR, "maxmemory_policy": STR, "persistence": STR,
              "require_auth": BOOL, "maxmemory": STR},
    "prometheus": {"url": URL, "expected_targets": STRLIST, "required_alerts": STRLIST,
                   "job": STR},
    "alertmanager": {"url": URL},
    "grafana": {"url": URL, "token_env": STR, "required_dashboards": STRLIST},
    "sentry": {"url": URL, "token_env": STR, "org": STR, "project": STR, "dsn_env": STR},
    "logs": {"url": URL, "query": STR, "max_age_minutes": NUMBER, "token_env": STR},
    "dns": {"resolvers": STRLIST, "records": LIST, "ttl_max": INT, "ttl_min": INT},
    "tls": {"hosts": STRLIST, "min_version": STR, "min_rsa_bits": INT, "min_ec_bits": INT},
    "backups": {"directory": PATH, "list_command": STR, "pattern": STR, "min_count": INT,
                "max_age_hours": THRESHOLD, "min_size_ratio": NUMBER, "pg_restore": PATH},
    "cdn": {"asset": STR, "headers": STRLIST, "url": URL},
    "security": SECURITY,
    "application": APPLICATION,
    "documentation": DOCUMENTATION,
    "external": MapOf(EXTERNAL_DEPENDENCY),
    "load": LOAD,
    "e2e": E2E,
    "rollback": ROLLBACK,
    "ledger": LEDGER,
}

# Chat webhooks that receive the verdict (report/notify.py); --cutover-notify adds URLs.
NOTIFY = {
    "urls": STRLIST,  # webhook URLs without a secret in them
    "url_env": STR,  # variable holding a webhook URL with a token (Slack, Teams, Mattermost)
    "timeout_s": NUMBER,  # per post (default 5)
    "format": STR,  # "both" (Slack blocks + plain `cutover` object, default), "slack", "json"
    "report_url": STR,  # where readers find the report (e.g. the CI artifact page)
}

ENVIRONMENT: dict[str, Any] = {
    "kind": STR, "base_url": URL, "http_url": URL, "release": STR, "ca_bundle": PATH,
    "env_file": PATH, "include": PATH, "description": STR, "timeout_s": NUMBER,
    "signoffs": PATH, "notify": NOTIFY,
    "not_applicable": TABLE, "thresholds": MapOf(THRESHOLD),
    **COMPONENTS,
}

TOP_LEVEL: dict[str, Any] = {
    "cutover": {"default_environment": STR, "signoffs": PATH, "reports": PATH},
    "environments": MapOf(ENVIRONMENT),
}

KINDS = ("production", "staging", "other")

# Defaults that fit ILS 2.0 (docs/ils-contract.md: each path is read from its source at 0f8f009;
# tests/unit/test_ils_contract.py keeps them listed); every value is overridable per environment.
ILS_ENDPOINTS: dict[str, dict[str, Any]] = {
    "health": {"path": "/api/health", "expect_status": 200, "critical": True,
               "latency": {"warn": 200, "crit": 500}},
    "liveness": {"path": "/health/live", "expect_status": 200, "critical": True},
    "readiness": {"path": "/health/ready", "expect_status": 200, "critical": True},
    "homepage": {"path": "/", "expect_status": 200, "critical": True,
                 "latency": {"warn": 1000, "crit": 2000}},
    "favicon": {"path": "/favicon.png", "expect_status": 200, "critical": False},
}

ILS_PROFILE: dict[str, Any] = {
    "health_paths": ["/health", "/api/health", "/health/live"],
    "ready_path": "/health/ready",
    "detailed_health_path": "/api/health/detailed",
    "login_path": "/api/auth/jwt/login",
    "me_path": "/api/auth/jwt/me",
    "protected_paths": ["/api/patients", "/api/orders", "/api/admin/users"],  # see api.patients-missing
    "static_asset": "/favicon.png",
    "unknown_api_path": "/api/cutover-probe-does-not-exist",
    "csrf_cookie": "csrf-token",
    "csrf_header": "X-CSRF-Token",
    "session_cookies": ["ils.sid", "connect.sid", "session"],
    "ready_wait_s": 20,  # a hanging target is NO-GO in well under 30 s with the defaults
    "ready_poll_s": 1,
}


def _kind_error(kind: str, value: Any) -> str | None:
    checks = {
        STR: lambda v: isinstance(v, str),
        PATH: lambda v: isinstance(v, str) and v != "",
        INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
        NUMBER: lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        BOOL: lambda v: isinstance(v, bool),
        STRLIST: lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
        LIST: lambda v: isinstance(v, list),
        TABLE: lambda v: isinstance(v, dict),
        THRESHOLD: lambda v: isinstance(v, dict),
        URL: lambda v: isinstance(v, str),
    }
    names = {STR: "a string", PATH: "a non-empty path", INT: "an integer", NUMBER: "a number",
             BOOL: "true or false", STRLIST: "a list of strings", LIST: "a list",
             TABLE: "a table", THRESHOLD: "a table like {warn = 500, crit = 1000}",
             URL: "a URL"}
    if not checks[kind](value):
        return f"expected {names[kind]}, got {value!r}"
    if kind == URL:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"expected an http(s) URL with a host, got {value!r}"
    if kind == THRESHOLD:
        unknown = sorted(set(value) - {"warn", "crit", "unit", "rollback", "higher_is_worse"})
        if unknown:
            return f"unknown threshold key(s) {', '.join(unknown)} (use warn, crit, rollback)"
    return None


def validate(data: Any, spec: Any, path: str, problems: list[str]) -> None:
    """Append one message per problem found in `data` against `spec` (never stops at the first)."""
    if isinstance(spec, str):
        error = _kind_error(spec, data)
        if error:
            problems.append(f"{path}: {error}")
        return
    if isinstance(spec, MapOf):
        if not isinstance(data, dict):
            problems.append(f"{path}: expected a table, got {data!r}")
            return
        for key, value in data.items():
            validate(value, spec.spec, f"{path}.{key}", problems)
        return
    if not isinstance(data, dict):
        problems.append(f"{path}: expected a table, got {data!r}")
        return
    for key, value in data.items():
        if key not in spec:
            hint = _closest(key, list(spec))
            problems.append(f"{path}.{key}: unknown key" + (f" (did you mean {hint!r}?)" if hint else ""))
            continue
        validate(value, spec[key], f"{path}.{key}", problems)


def _closest(word: str, options: list[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, options, n=1, cutoff=0.7)
    return match[0] if match else None
