"""The known keys of cutover.toml, with their kinds, and the ILS profile defaults.

Pure data plus a small validator. Every table an environment may hold is listed here, so a typo
(`databse`, `base_ur`) is reported instead of silently ignored. Adding a key is one line:
`"name": KIND` (ranges follow from the name: see `implied`), or `"name": K(KIND, "meaning",
default=..., lo=..., choices=...)` when it needs more; docs/configuration.md is generated from
these tables (`scripts/config-doc`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

# Kinds of leaf values.
STR, URL, PATH, INT, NUMBER, BOOL, STRLIST, LIST, TABLE, THRESHOLD = (
    "str", "url", "path", "int", "number", "bool", "strlist", "list", "table", "threshold")


@dataclass(frozen=True)
class K:
    """A leaf key with more than a kind: meaning, default (for the docs), bounds, choices."""

    kind: str
    doc: str = ""
    default: Any = None
    lo: float | None = None  # inclusive lower bound of a number
    hi: float | None = None  # inclusive upper bound
    positive: bool = False  # a number > 0
    choices: tuple[str, ...] = ()
    required: bool = False  # must be present (and non-empty)
    nonempty: bool = False  # may be absent, but not ""
    pattern: str = ""  # a string must match it whole (with `example` shown in the message)
    example: str = ""


@dataclass(frozen=True)
class MapOf:
    """A table whose keys are free names (accounts, endpoints) each holding `spec`."""

    spec: dict[str, Any] | str | K
    names: tuple[str, ...] = ()  # when given, the only names allowed (with suggestions)


ENDPOINT = {
    "path": STR, "expect_status": INT, "latency": THRESHOLD,
    "method": K(STR, "HTTP method (smoke checks only read)", "GET", choices=("GET", "HEAD", "OPTIONS")),
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
    "cors_allowed_origins": K(STRLIST, "origins the app is meant to grant (CORS checks build "
                              "their look-alikes from them; default: learnt from a same-origin "
                              "request, else the base URL's origin)"),
    "cors_path": K(STR, "path the CORS probes ask (default: the profile's first protected path)"),
    "public_routes": K(STRLIST, "routes open to anonymous callers on purpose, beside the "
                       "profile's public_routes (exact, or shell-style like /api/docs*)"),
    "sweep_max_routes": K(INT, "most routes the anonymous route sweep asks (GET only)", 30, lo=1),
    "sweep_exclude": K(STRLIST, "routes the sweep never asks (exact or shell-style)"),
    "seeded_login_attempts": K(INT, "most sign-ins with the profile's seeded accounts per run "
                               "(each refused one is a failed login)", 3, lo=0, hi=5),
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
    "restore_jobs": INT,  # pg_restore --jobs (default 2; from 2 the drill verifies in its free job slots)
    "restore_timeout_s": NUMBER,  # deadline of one restore (default 1800)
    "pg_bin": PATH,  # folder of pg_dump/pg_restore/psql/createdb (default: PATH)
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
    "memory_limit_mb": NUMBER, "cpu_limit_cores": NUMBER,
    "post_launch_window": K(STR, "window the post-launch checks judge (also $CUTOVER_POST_LAUNCH_WINDOW)",
                            "1h", pattern=r"\d+[smhd]", example="1h, 24h, 7d"),
    "error_log_patterns": STRLIST, "max_error_log_lines": INT,
    "generator_max_cpu_pct": K(NUMBER, "above this CPU use (the generator's process or the whole "
                               "machine, during the run) a failing load reading is inconclusive: "
                               "blocked, not NO-GO", 90.0, lo=1, hi=100),
    "generator_max_lag_ms": K(NUMBER, "above this lag of the generator's event loop (how late its "
                              "timed sleeps woke, P95 over the measured run; judged on at least "
                              "min_samples.p95 sleeps) requests queued in the generator: a failing "
                              "client-side load reading is inconclusive, blocked, not NO-GO",
                              100.0, lo=0),
}

# What the suite's own traffic may cost the target (docs/traffic-budget.md).
TRAFFIC = {
    "max_wait_s": K(NUMBER, "longest wait for a rate-limit window (or the failed-login budget) to "
                    "reset before the checks concerned are blocked", 60, lo=0),
    "failed_login_budget": K(INT, "deliberate failed logins per failed-login window, shared by "
                             "runs through the ledger; never more than profile failed_login_limit "
                             "- 2", 3, lo=1),
    "users_per_address": K(INT, "users the plan expects behind one client address (a practice "
                           "behind one router), for the limit-fit check", 5, lo=1),
}

COMPONENTS: dict[str, Any] = {
    "version": {"source": STR, "path": STR, "field": STR},
    "accounts": MapOf({"email_env": K(STR, "variable holding the account's email", required=True),
                       "password_env": K(STR, "variable holding its password", required=True),
                       "role": STR}),
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

# Enough evidence (pytest_cutover.evidence_floor): below these a failing reading only warns.
MIN_SAMPLES = {
    "p95": K(INT, "fewest samples a P95 (or P90) is judged failed on", 20, lo=1),
    "p99": K(INT, "fewest samples a P99 is judged failed on", 100, lo=1),
    "ratio": K(INT, "fewest samples an error rate or other ratio is judged failed on", 20, lo=1),
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
    "kind": K(STR, "production, staging or other: production refuses destructive checks",
              choices=("production", "staging", "other"), required=True),
    "base_url": K(URL, "the URL users open, e.g. https://ils.example.com", required=True),
    "http_url": URL,
    "release": K(STR, "the release under test; the deployed version must equal it", nonempty=True),
    "ca_bundle": K(PATH, "PEM file of the CA certificates that sign the target's certificates"),
    "env_file": PATH, "include": PATH, "description": STR, "timeout_s": NUMBER,
    "signoffs": PATH, "notify": NOTIFY, "traffic": TRAFFIC,
    "not_applicable": TABLE, "thresholds": MapOf(THRESHOLD),
    "min_samples": MIN_SAMPLES,
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
    # ILS's failed-login limiter (docs/ils-contract.md limit.failed-login): 5 failed sign-ins per
    # 15 minutes per client address; the suite's deliberate failures stay below it (traffic.*)
    "failed_login_limit": 5,
    "failed_login_window_s": 900,
    "smoke_prefetch_max_in_flight": 6,  # smoke reads sent ahead at once (0: none); clients/prefetch.py
    # --- what an attacker finds (readiness/test_route_sweep.py, test_access_control.py) ---------
    "openapi_path": "/api/docs/openapi.json",  # contract internal.openapi
    # GET routes open to anyone on purpose (contract health.*, internal.openapi, internal.flags)
    "public_routes": ["/health", "/health/*", "/api/health", "/api/health/*", "/api/docs",
                      "/api/docs/*", "/api/csrf-token", "/api/system/feature-flags",
                      "/api/system/feature-flags/*", "/metrics"],
    # internal routes read from the source, swept beside the OpenAPI ones (contract internal.*)
    "internal_routes": ["/api/diagnostic/filesystem", "/api/system/events",
                        "/api/system/events/stats", "/api/system/events/webhooks",
                        "/api/system/events/websocket/stats"],
    "admin_route_prefixes": ["/api/admin", "/api/system", "/api/db-migration", "/api/test-accounts"],
    "login_min_password": 12,  # a shorter password is refused before any lookup (auth.login-validation-first)
    # accounts the app's own code creates with published passwords, most dangerous first
    # (contract acct.*): any that logs in is a finding, none may be the suite's own on production
    "seeded_accounts": [
        {"name": "ils-default-admin", "email": "admin@ils2.com", "password": "Admin@123456",
         "role": "platform_admin", "source": "server/services/admin/AdminOperationsService.ts"},
        {"name": "ils-test-ecp", "email": "test.ecp@ils2.com", "password": "TestECP12345",
         "role": "ecp", "source": "server/routes/create-test-ecp-endpoint.ts"},
        {"name": "ils-demo-ecp", "email": "ecp.demo@ils2.com", "password": "EcpDemoPass2024",
         "role": "ecp", "source": "server/routes/create-fresh-ecp.ts"},
        {"name": "ils-seed-company-admin", "email": "admin@testoptical.com",
         "password": "TestAdmin123!", "role": "admin", "source": "server/scripts/seed-test-users.ts"},
        {"name": "ils-seed-platform-admin", "email": "platform@ils.com",
         "password": "PlatformAdmin123!", "role": "platform_admin",
         "source": "server/scripts/seed-test-users.ts"},
        {"name": "ils-test-ecp-reset", "email": "test.ecp@ils2.com", "password": "TestPassword123",
         "role": "ecp", "source": "server/routes/quick-password-reset.ts"},
        {"name": "ils-test-ecp-unlocked", "email": "test.ecp@ils2.com",
         "password": "EcpTestPass2024", "role": "ecp", "source": "server/routes/unlock-and-reset.ts"},
    ],
}



# --- names the configuration may use ----------------------------------------------------------

# not_applicable takes a component name: a table of the environment a check requires, or one of
# these names that checks look up without a table of their own.
NOT_APPLICABLE_EXTRA = ("legacy_backup",)


def not_applicable_names() -> tuple[str, ...]:
    return tuple(sorted({*COMPONENTS, *NOT_APPLICABLE_EXTRA} - {"profile", "accounts", "endpoints"}))


# Threshold names checks look up (DEFAULTS and loadplan.FALLBACK_THRESHOLDS hold most; these are
# the names with a fallback in the check itself). tests/unit/test_schema.py keeps this in sync.
THRESHOLDS_WITH_LOCAL_DEFAULTS = (
    "replication_lag_s", "readiness_age_hours", "load_verdict_age_days", "final_backup_age_hours",
    "staging_smoke_age_hours", "rollback_drill_age_days",
)


def threshold_names() -> tuple[str, ...]:
    from pytest_cutover.loadplan import FALLBACK_THRESHOLDS
    from pytest_cutover.thresholds import DEFAULTS

    return tuple(sorted({*DEFAULTS, *FALLBACK_THRESHOLDS, *THRESHOLDS_WITH_LOCAL_DEFAULTS}))


def _profile_spec() -> dict[str, Any]:
    """The profile's keys are ILS_PROFILE's; each takes the kind of its default."""
    def kind_of(value: Any) -> str:
        if isinstance(value, bool):
            return BOOL
        if isinstance(value, int | float):
            return NUMBER
        if isinstance(value, list):
            return LIST if any(isinstance(v, dict) for v in value) else STRLIST
        if isinstance(value, dict):
            return TABLE
        return STR
    return {key: K(kind_of(value), default=value) for key, value in ILS_PROFILE.items()}


COMPONENTS["profile"] = ENVIRONMENT["profile"] = _profile_spec()
ENVIRONMENT["not_applicable"] = MapOf(STR, names=not_applicable_names())
ENVIRONMENT["thresholds"] = MapOf(THRESHOLD, names=threshold_names())


# --- validation -----------------------------------------------------------------------------------

_NAMES = {STR: "a string", PATH: "a non-empty path", INT: "an integer", NUMBER: "a number",
          BOOL: "true or false", STRLIST: "a list of strings", LIST: "a list", TABLE: "a table",
          THRESHOLD: "a table like {warn = 500, crit = 1000}", URL: "an http(s) URL"}
_CHECKS = {
    STR: lambda v: isinstance(v, str),
    PATH: lambda v: isinstance(v, str) and v != "",
    INT: lambda v: isinstance(v, int) and not isinstance(v, bool),
    NUMBER: lambda v: isinstance(v, int | float) and not isinstance(v, bool) and v == v,
    BOOL: lambda v: isinstance(v, bool),
    STRLIST: lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
    LIST: lambda v: isinstance(v, list),
    TABLE: lambda v: isinstance(v, dict),
    THRESHOLD: lambda v: isinstance(v, dict),
    URL: lambda v: isinstance(v, str),
}
_SECRETISH = re.compile(r"password|passwd|secret|token|dsn|cookie|api_?key", re.I)
_TIMEOUT = re.compile(r"(^|_)(timeout|duration|wait|poll)(_|$)")
_PORT = re.compile(r"(^|_)port$")
_ENV_VAR = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def implied(key: str, leaf: str | K) -> K:
    """A key's rules, with bounds implied by its name when the spec gives none: every number is
    >= 0, timeouts and durations are > 0, ports are 1-65535, HTTP statuses 100-599."""
    rule = leaf if isinstance(leaf, K) else K(leaf)
    if rule.kind not in (INT, NUMBER) or rule.lo is not None or rule.hi is not None or rule.positive:
        return rule
    if _PORT.search(key):
        return K(rule.kind, rule.doc, rule.default, lo=1, hi=65535, required=rule.required)
    if key == "expect_status":
        return K(rule.kind, rule.doc, rule.default, lo=100, hi=599, required=rule.required)
    if _TIMEOUT.search(key):
        return K(rule.kind, rule.doc, rule.default, positive=True, required=rule.required)
    return K(rule.kind, rule.doc, rule.default, lo=0, required=rule.required)


def show(key: str, value: Any) -> str:
    """A found value fit for a message: never a secret, never pages long."""
    if _SECRETISH.search(key) and not key.endswith("_env") and isinstance(value, str):
        return f"a hidden value of {len(value)} characters"
    from pytest_cutover.redact import Redactor

    text = Redactor()(repr(value))
    return text if len(text) <= 80 else text[:77] + "..."


def _kind_error(key: str, rule: K, value: Any) -> str | None:
    kind = rule.kind
    if not _CHECKS[kind](value):
        return f"found {show(key, value)} ({type(value).__name__}); expected {_NAMES[kind]}"
    if kind == URL:
        problem = url_problem(value)
        if problem:
            return f"found {show(key, value)}; expected an http(s) URL with a host ({problem})"
    if kind in (INT, NUMBER):
        if rule.positive and value <= 0:
            return f"found {value!r}; expected a number > 0"
        if (rule.lo is not None and value < rule.lo) or (rule.hi is not None and value > rule.hi):
            upper = f" and <= {rule.hi:g}" if rule.hi is not None else ""
            return f"found {value!r}; expected a number >= {rule.lo:g}{upper}"
    if kind == STR and rule.choices and value not in rule.choices:
        hint = _closest(value, list(rule.choices))
        return (f"found {show(key, value)}; expected one of {', '.join(rule.choices)}"
                + (f" (did you mean {hint!r}?)" if hint else ""))
    if kind == STR and rule.pattern and not re.fullmatch(rule.pattern, value.strip()):
        return f"found {show(key, value)}; expected a value like {rule.example or rule.pattern}"
    if kind in (STR, URL) and (rule.nonempty or rule.required) and not value.strip():
        return "found an empty string; expected a non-empty value"
    if kind == STR and key.endswith("_env") and not _ENV_VAR.fullmatch(value):
        return f"found {show(key, value)}; expected the NAME of an environment variable"
    if kind == THRESHOLD:
        unknown = sorted(set(value) - {"warn", "crit", "unit", "rollback", "higher_is_worse"})
        if unknown:
            return (f"unknown threshold key(s) {', '.join(unknown)}; expected warn, crit, rollback, "
                    f"unit or higher_is_worse")
    return None


def url_problem(value: str) -> str | None:
    """Why `value` is not a usable http(s) URL (offline), or None."""
    try:
        parts = urlsplit(value)
        port = parts.port  # raises for a port out of range or not a number
    except ValueError as exc:
        return str(exc).replace(value, "<url>")
    if parts.scheme not in ("http", "https"):
        return f"scheme {parts.scheme or 'missing'!r}"
    if not parts.hostname:
        return "no host"
    if port == 0:
        return "port 0"
    return None


def validate(data: Any, spec: Any, path: str, problems: list[str], file: str = "") -> None:
    """Append one message per problem found in `data` against `spec` (never stops at the first).
    Every message starts with the file (when given) and the key path."""
    where = f"{file}: {path}" if file else path
    key = path.rsplit(".", 1)[-1]
    if isinstance(spec, str | K):
        error = _kind_error(key, implied(key, spec), data)
        if error:
            problems.append(f"{where}: {error}")
        return
    if isinstance(spec, MapOf):
        if not isinstance(data, dict):
            problems.append(f"{where}: found {show(key, data)}; expected a table")
            return
        for name, value in data.items():
            if spec.names and name not in spec.names:
                hint = _closest(name, list(spec.names))
                problems.append(f"{where}.{name}: unknown name" + (
                    f" (did you mean {hint!r}?)" if hint else "") +
                    f"; expected one of {', '.join(spec.names)}")
                continue
            validate(value, spec.spec, f"{path}.{name}", problems, file)
        return
    if not isinstance(data, dict):
        problems.append(f"{where}: found {show(key, data)}; expected a table")
        return
    for name, value in data.items():
        if name not in spec:
            hint = _closest(name, list(spec))
            problems.append(f"{where}.{name}: unknown key" + (
                f" (did you mean {hint!r}?)" if hint else f"; expected one of {', '.join(spec)}"))
            continue
        validate(value, spec[name], f"{path}.{name}", problems, file)


def missing_required(data: dict[str, Any], spec: dict[str, Any], path: str, file: str,
                     problems: list[str]) -> None:
    """Required keys absent from a (merged) table, and in each entry of its maps."""
    where = f"{file}: {path}" if file else path
    for name, leaf in spec.items():
        if isinstance(leaf, K) and leaf.required and name not in data:
            expected = f" ({leaf.doc})" if leaf.doc else ""
            problems.append(f"{where}.{name}: missing; expected {_NAMES[leaf.kind]}{expected}")
        sub = data.get(name)
        if isinstance(leaf, MapOf) and isinstance(leaf.spec, dict) and isinstance(sub, dict):
            for entry, value in sub.items():
                if isinstance(value, dict):
                    missing_required(value, leaf.spec, f"{path}.{name}.{entry}", file, problems)
        elif isinstance(leaf, dict) and isinstance(sub, dict):
            missing_required(sub, leaf, f"{path}.{name}", file, problems)


def _closest(word: str, options: list[str]) -> str | None:
    import difflib

    match = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    return match[0] if match else None


# --- secrets held in variables, parsed offline and never echoed ----------------------------------

def dsn_problem(value: str) -> str | None:
    """Why a PostgreSQL DSN (URL or key=value form) cannot be used, without quoting it."""
    text = value.strip()
    if not text:
        return "it is empty"
    if "://" in text:
        try:
            parts = urlsplit(text)
            port = parts.port
        except ValueError as exc:
            return "its port is not a number from 1 to 65535" if "port" in str(exc).lower() \
                else "it is not a valid URL"
        if parts.scheme not in ("postgres", "postgresql"):
            return f"scheme {parts.scheme!r} (expected postgresql:// or postgres://)"
        if not parts.hostname and "host=" not in parts.query:
            return "it names no host"
        if port == 0:
            return "its port is 0"
        if not parts.path.strip("/"):
            return "it names no database (postgresql://user:PASSWORD@host:5432/DBNAME)"
        return None
    pairs = re.findall(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", text)
    rest = re.sub(r"(\w+)\s*=\s*('(?:[^'\\]|\\.)*'|\S+)", "", text).strip()
    if rest or not pairs:
        return "it is neither a postgresql:// URL nor key=value pairs"
    known = {"host", "hostaddr", "port", "dbname", "user", "password", "sslmode", "sslrootcert",
             "sslcert", "sslkey", "connect_timeout", "application_name", "options", "passfile",
             "target_session_attrs", "gssencmode", "service", "channel_binding", "sslcrl"}
    unknown = sorted({k for k, _ in pairs} - known)
    if unknown:
        return f"unknown keyword(s) {', '.join(unknown)}"
    ports = [v for k, v in pairs if k == "port"]
    if ports and not all(p.isdigit() and 1 <= int(p) <= 65535 for p in ports):
        return "its port is not a number from 1 to 65535"
    return None


def redis_url_problem(value: str) -> str | None:
    """Why a Redis URL cannot be used, without quoting it."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return "its port is not a number from 1 to 65535"
    if parts.scheme not in ("redis", "rediss", "unix"):
        return f"scheme {parts.scheme or 'missing'!r} (expected redis://, rediss:// or unix://)"
    if parts.scheme != "unix" and not parts.hostname:
        return "it names no host"
    if port == 0:
        return "its port is 0"
    db = parts.path.strip("/")
    if parts.scheme != "unix" and db and not db.isdigit():
        return "its database (the path) is not a number"
    return None


# Variables whose values are parsed offline: (component, key naming the variable) -> parser.
SECRET_FORMATS = {("database", "dsn_env"): dsn_problem, ("database", "admin_dsn_env"): dsn_problem,
                  ("redis", "url_env"): redis_url_problem}
