"""docs/configuration.md, generated from the schema: every key with its type, default and meaning.

Pure module. A key's meaning is its `K(..., doc)` or, for a bare `"key": KIND,  # meaning` line,
the comment at the end of its line in schema.py (read with ast and tokenize, so the tables stay
the single source); `MEANINGS` covers keys written several to a line. Regenerate with
`scripts/config-doc`; tests/unit/test_configuration_doc.py fails when the file is out of date.
"""

from __future__ import annotations

import ast
import io
import sys
import tokenize
from pathlib import Path
from typing import Any

from pytest_cutover import schema
from pytest_cutover.schema import MapOf

DOC_PATH = Path("docs/configuration.md")

# Meanings of keys that share a line in schema.py (so no comment can be told apart).
MEANINGS: dict[str, str] = {
    "endpoints.path": "path on base_url", "endpoints.expect_status": "status the endpoint answers",
    "endpoints.latency": "latency budget in ms", "endpoints.critical": "a failure blocks GO",
    "endpoints.auth": "account name whose token is sent", "endpoints.expect_json": "fields the body "
                                                                                   "must hold",
    "version.source": '"endpoint" (path + field) or "image_tag" (the Deployment\'s image)',
    "version.path": "endpoint that reports the version", "version.field": "JSON field holding it",
    "accounts.role": "the account's role (for messages)",
    "kubernetes.kubeconfig": "kubeconfig file (default: the usual lookup)",
    "kubernetes.context": "kubeconfig context", "kubernetes.namespace": "namespace of the app",
    "kubernetes.deployment": "the app's Deployment", "kubernetes.container": "the app's container",
    "kubernetes.service": "the app's Service", "kubernetes.hpa": "its HorizontalPodAutoscaler",
    "kubernetes.pdb": "its PodDisruptionBudget", "kubernetes.ingress": "its Ingress",
    "kubernetes.configmap": "its ConfigMap", "kubernetes.secret": "its Secret",
    "kubernetes.label_selector": "selects the app's pods", "kubernetes.min_replicas": "replicas required",
    "kubernetes.rollout_timeout_s": "deadline of a rollout (default 600)",
    "kubernetes.log_error_patterns": "log lines that count as errors",
    "kubernetes.required_env": "environment variables the container must set (name = value or \"\")",
    "kubernetes.secret_keys": "keys the Secret must hold", "kubernetes.kubectl": "kubectl binary",
    "kubernetes.log_tail_lines": "log lines read per pod", "kubernetes.log_since_s": "log window",
    "database.dsn_env": "variable holding the app's DSN (postgresql://user:PASSWORD@host/db)",
    "database.admin_dsn_env": "variable holding an admin DSN (restore drill, scratch database)",
    "database.expected_migration_head": "migration the release ships last",
    "database.migration_query": "SQL returning the applied head", "database.min_version": "PostgreSQL major",
    "database.settings": "server settings expected (name = value)", "database.require_tls": "TLS required",
    "database.tables": "tables counted and checksummed", "database.scratch_allowed": "scratch db allowed",
    "database.replicas": "replica names expected", "database.long_transaction_s": "longest allowed",
    "redis.url_env": "variable holding the Redis URL (redis://:PASSWORD@host:6379/0)",
    "redis.min_version": "lowest Redis version", "redis.maxmemory_policy": "planned eviction policy",
    "redis.persistence": "planned persistence (rdb, aof)", "redis.require_auth": "a password is required",
    "redis.maxmemory": "planned maxmemory",
    "prometheus.url": "Prometheus base URL", "prometheus.expected_targets": "scrape jobs that must be up",
    "prometheus.required_alerts": "alert rules that must be loaded", "prometheus.job": "the app's job",
    "alertmanager.url": "Alertmanager base URL",
    "grafana.url": "Grafana base URL", "grafana.token_env": "variable holding an API token",
    "grafana.required_dashboards": "dashboard titles that must exist",
    "sentry.url": "Sentry base URL", "sentry.token_env": "variable holding an API token",
    "sentry.org": "organisation slug", "sentry.project": "project slug",
    "sentry.dsn_env": "variable holding the app's Sentry DSN",
    "logs.url": "log store query URL", "logs.query": "query for the app's lines",
    "logs.max_age_minutes": "newest line must be this recent", "logs.token_env": "variable holding a token",
    "dns.resolvers": "resolvers asked", "dns.records": "records expected ({name, type, value})",
    "dns.ttl_max": "highest TTL", "dns.ttl_min": "lowest TTL",
    "tls.hosts": "hosts whose certificates are checked", "tls.min_version": "lowest TLS version",
    "tls.min_rsa_bits": "smallest RSA key", "tls.min_ec_bits": "smallest EC key",
    "backups.directory": "folder of the backups", "backups.list_command": "command listing them",
    "backups.pattern": "glob of backup files", "backups.min_count": "backups kept (retention)",
    "backups.max_age_hours": "age of the newest backup", "backups.min_size_ratio": "size vs the previous",
    "backups.pg_restore": "pg_restore binary (archives are read back)",
    "cdn.asset": "asset fetched through the CDN", "cdn.headers": "headers showing a CDN hit",
    "cdn.url": "CDN base URL",
    "security.rate_limit.path": "path bursted", "security.rate_limit.method": "method of the burst",
    "security.rate_limit.max_requests": "requests at most", "security.rate_limit.recovery_max_s": "wait "
                                                                                                  "at most",
    "application.feature_flags.url": "endpoint listing flags",
    "application.feature_flags.expected": "flag = value expected",
    "documentation.documents.location": "path or http(s) URL",
    "documentation.documents.max_age_days": "age limit of this document",
    "documentation.documents.min_bytes": "smallest size",
    "external.url": "URL of the dependency", "external.expect_status": "status it answers",
    "external.latency": "latency budget in ms",
    "e2e.flows.critical": "override: a failure blocks GO", "e2e.flows.not_applicable": "why not applicable",
    "load.profile": "ci, staged, spike or soak", "load.users": "peak users", "load.duration_s": "run time",
    "load.time_scale": "stretches the staged profile", "load.max_users": "cap on users",
    "load.max_duration_s": "cap on run time", "load.workers": "Locust worker processes (0: one process)",
    "load.account": "account name in [accounts]", "load.user_class": "fast (FastHttpUser) or http",
    "load.think_time_s": "[min, max] seconds between tasks", "load.user_weights": "user type -> weight",
    "load.task_weights": "task -> weight", "load.warmup_s": "ramp discarded from the results",
    "load.abort_after_s": "a critical breach stops the run after", "load.abort_min_requests": "requests "
                                                                                              "first",
    "load.timeout_margin_s": "subprocess deadline beyond the plan", "load.budgets": "P95 budget per "
                                                                                    "request name",
    "load.memory_limit_mb": "the app container's memory limit", "load.cpu_limit_cores": "its CPU limit",
    "load.post_launch_window": "window of the post-launch checks", "load.error_log_patterns": "error lines",
    "load.max_error_log_lines": "error lines allowed",
    "cutover.default_environment": "environment when none is chosen",
    "cutover.signoffs": "sign-off file (default signoffs.toml)", "cutover.reports": "report folder",
    "http_url": "plain-HTTP URL that must redirect to HTTPS", "env_file": "dotenv file holding secrets",
    "include": "TOML file merged under this table (${VAR:-default} expanded)",
    "description": "free text", "timeout_s": "HTTP timeout per request (default 10)",
    "signoffs": "this environment's sign-off file", "not_applicable": "component = reason (see below)",
    "thresholds": "name = {warn, crit, rollback} overrides (see below)",
    "profile": "paths and names of the app (keys below)", "accounts": "accounts by name",
    "endpoints": "critical endpoints by name (default: the ILS ones)", "external": "dependencies by name",
    "security.admin_paths": "admin endpoints that must refuse anonymous and non-admin callers",
    "security.debug_paths": "paths that must not be served (debug, internals)",
    "application.min_tests": "fewest test cases the JUnit report must hold",
    "application.release_branch": "branch checked for commits after the code freeze",
    "profile.health_paths": "liveness-style paths that must answer 200",
    "profile.ready_path": "readiness path", "profile.detailed_health_path": "detailed health (degraded "
                                                                            "fails)",
    "profile.login_path": "JSON login endpoint", "profile.me_path": "current-user endpoint",
    "profile.protected_paths": "paths that refuse anonymous calls",
    "profile.static_asset": "a static asset that must be served",
    "profile.unknown_api_path": "a path that must answer the API's 404 JSON",
    "profile.csrf_cookie": "CSRF cookie name", "profile.csrf_header": "CSRF header name",
    "profile.session_cookies": "session cookie names (flags checked)",
    "profile.ready_wait_s": "bounded wait for readiness before the smoke checks",
    "profile.ready_poll_s": "poll interval of that wait",
    "profile.failed_login_limit": "failed logins the target allows per window and client address "
                                  "(ILS: 5); the suite's deliberate ones stay below it",
    "profile.failed_login_window_s": "that limiter's window in seconds (ILS: 900)",
    "profile.smoke_prefetch_max_in_flight": "independent smoke reads (GETs, the CORS probes) sent "
                                            "ahead at once, each answer serving one check (0: "
                                            "every check sends its own)",
    "profile.openapi_path": "the published OpenAPI document (routes for the sweep)",
    "profile.public_routes": "GET routes open to anyone on purpose (exact or shell-style)",
    "profile.internal_routes": "routes read from the app's source that the sweep asks too",
    "profile.admin_route_prefixes": "route prefixes a non-admin must be refused",
    "profile.login_min_password": "shortest password the login validates (shorter: never tried)",
    "profile.seeded_accounts": "accounts the app's own code creates with published passwords "
                               "({name, email, password, role, source}); none may log in",
}

_KIND_WORDS = {schema.STR: "string", schema.URL: "http(s) URL", schema.PATH: "path", schema.INT: "integer",
               schema.NUMBER: "number", schema.BOOL: "boolean", schema.STRLIST: "list of strings",
               schema.LIST: "list", schema.TABLE: "table", schema.THRESHOLD: "threshold"}


def _source_comments() -> dict[tuple[int, str], str]:
    """(id of a spec dict at run time, key) -> the comment at the end of the key's line."""
    source = Path(schema.__file__).read_text(encoding="utf-8")
    comments: dict[int, str] = {}
    for token in tokenize.generate_tokens(io.StringIO(source).readline):
        if token.type == tokenize.COMMENT:
            comments[token.start[0]] = token.string.lstrip("# ").strip()
    tree = ast.parse(source)
    found: dict[tuple[int, str], str] = {}

    def walk(node: ast.AST, value: Any) -> None:
        if isinstance(node, ast.Call) and isinstance(value, MapOf) and node.args:
            walk(node.args[0], value.spec)
            return
        if not (isinstance(node, ast.Dict) and isinstance(value, dict)):
            return
        lines = [k.lineno for k in node.keys if isinstance(k, ast.Constant)]
        for key_node, child in zip(node.keys, node.values, strict=True):
            if not (isinstance(key_node, ast.Constant) and isinstance(key_node.value, str)) \
                    or key_node.value not in value:
                continue
            line = key_node.lineno
            if lines.count(line) == 1 and line in comments:  # one key on the line: its comment
                found[(id(value), key_node.value)] = comments[line]
            walk(child, value[key_node.value])

    for stmt in tree.body:
        if isinstance(stmt, ast.Assign):
            targets, node = [t.id for t in stmt.targets if isinstance(t, ast.Name)], stmt.value
        elif isinstance(stmt, ast.AnnAssign) and isinstance(stmt.target, ast.Name) and stmt.value:
            targets, node = [stmt.target.id], stmt.value
        else:
            continue
        for name in targets:
            if hasattr(schema, name):
                walk(node, getattr(schema, name))
    return found


def _type(key: str, leaf: Any) -> str:
    if isinstance(leaf, MapOf):
        inner = _type(key, leaf.spec) if not isinstance(leaf.spec, dict) else "table"
        return f"table of name = {inner}"
    if isinstance(leaf, dict):
        return "table"
    rule = schema.implied(key, leaf)
    word = _KIND_WORDS[rule.kind]
    if rule.choices:
        word += ": " + ", ".join(rule.choices)
    elif rule.positive:
        word += " > 0"
    elif rule.lo is not None and rule.hi is not None:
        word += f" {rule.lo:g}-{rule.hi:g}"
    elif rule.lo is not None:
        word += f" ≥ {rule.lo:g}"
    elif rule.example:
        word += f" like {rule.example}"
    return word + (", required" if rule.required else "") + (", non-empty" if rule.nonempty else "")


def _default(table: str, key: str, leaf: Any) -> str:
    from pytest_cutover.loadplan import DEFAULTS as LOAD_DEFAULTS

    value = leaf.default if isinstance(leaf, schema.K) else None
    if value is None and table == "load":
        value = LOAD_DEFAULTS.get(key)
    if value is None:
        return "—"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value}`".replace("'", '"')


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _rows(spec: dict[str, Any], table: str, comments: dict[tuple[int, str], str]) -> list[str]:
    rows = []
    for key, leaf in spec.items():
        meaning = (leaf.doc if isinstance(leaf, schema.K) and leaf.doc else "") or \
            comments.get((id(spec), key)) or MEANINGS.get(f"{table}.{key}" if table else key, "")
        nested = isinstance(leaf, dict) or (isinstance(leaf, MapOf) and isinstance(leaf.spec, dict))
        if not meaning and nested:
            meaning = "its keys: see the section below"
        rows.append(f"| `{key}` | {_cell(_type(key, leaf))} | {_cell(_default(table, key, leaf))} | "
                    f"{_cell(meaning) or '—'} |")
    return rows


def _section(title: str, spec: dict[str, Any], table: str, comments: dict[tuple[int, str], str],
             out: list[str]) -> None:
    out += ["", f"### `{title}`", "", "| key | type | default | meaning |", "|---|---|---|---|",
            *_rows(spec, table, comments)]
    for key, leaf in spec.items():
        inner = leaf.spec if isinstance(leaf, MapOf) and isinstance(leaf.spec, dict) else leaf
        if isinstance(inner, dict) and key != "profile":
            name = f"{title[:-1]}.{key}.NAME]" if isinstance(leaf, MapOf) else f"{title[:-1]}.{key}]"
            _section(name, inner, f"{table}.{key}" if table else key, comments, out)


def render() -> str:
    from pytest_cutover.loadplan import FALLBACK_THRESHOLDS
    from pytest_cutover.thresholds import DEFAULTS

    comments = _source_comments()
    out = [
        "# Configuration reference (`cutover.toml`, `signoffs.toml`)",
        "",
        "<!-- Generated from src/pytest_cutover/schema.py by scripts/config-doc: do not edit by hand. -->",
        "",
        "Every key the suite reads. Unknown keys are configuration errors (with the nearest known name",
        "suggested), and so are wrong types, values out of range, unparsable URLs, CA bundles that hold",
        "no PEM certificate, DSNs and Redis URLs that cannot be used (parsed offline, never echoed), and",
        "mistakes in any environment, not only the selected one. All problems are reported together,",
        "before anything is sent, with exit code 4.",
        "",
        "Numbers are never negative; keys naming a timeout, duration, wait or poll interval must be",
        "greater than 0; ports are 1-65535; `expect_status` is 100-599. Keys ending in `_env` name the",
        "environment variable (or `env_file` entry) that holds a secret: secrets never live in the file.",
        "",
        "## `cutover.toml`",
    ]
    _section("[cutover]", schema.TOP_LEVEL["cutover"], "cutover", comments, out)
    env_spec = dict(schema.ENVIRONMENT)
    _section("[environments.NAME]", env_spec, "", comments, out)
    out += ["", "### `[environments.NAME.profile]`", "",
            "Paths and names of the application (the ILS defaults shown).", "",
            "| key | type | default | meaning |", "|---|---|---|---|",
            *_rows(schema.ENVIRONMENT["profile"], "profile", comments)]
    out += ["", "### `[environments.NAME.not_applicable]`", "",
            "`component = \"reason\"`: the component's checks end *not applicable* with the reason instead",
            "of *not verified*. Component names:", "",
            ", ".join(f"`{n}`" for n in schema.not_applicable_names()) + ".",
            "", "### `[environments.NAME.thresholds]`", "",
            "`name = { warn = …, crit = …, rollback = … }` overrides a threshold (also `unit`,",
            "`higher_is_worse`). Known names and their built-in levels:", "",
            "| name | warn | crit | rollback | unit |", "|---|---|---|---|---|"]
    levels = {**FALLBACK_THRESHOLDS, **DEFAULTS}
    for name in schema.threshold_names():
        t = levels.get(name)
        cells = [("—" if v is None else f"{v:g}") for v in (t.warn, t.crit, t.rollback)] if t else \
            ["set in the check", "—", "—"]
        out.append(f"| `{name}` | {' | '.join(cells)} | {t.unit if t else ''} |")
    out += ["", "## `signoffs.toml`", "",
            "| table | keys | meaning |", "|---|---|---|",
            "| `[[signoff]]` | `item`, `who`, `role`, `when`, `evidence`; optional `expires` | a manual "
            "checklist item confirmed: `item` is a checklist id (src/pytest_cutover/data/checklist.toml); "
            "`when` a TOML date or date-time, not in the future |",
            "| `[[waiver]]` | `check`, `justification`, `approver`, `expires` | a failing check accepted "
            "until `expires`: `check` is a node id, a prefix of parametrized ids or a glob that matches a "
            "check of the suite |", ""]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    target = Path(args[0]) if args else DOC_PATH
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

