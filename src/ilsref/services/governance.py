"""Governance: the release's hand-over (docs, audit and test reports, flags, external
dependencies) as a stand-in, and the `local` environment's governance configuration.

Writes into local.toml: security (audit report, default credentials, rate-limit probe),
application (staging = this deployment, JUnit report, feature flags, code freeze),
documentation (two files under the run dir, three pages of the stand-in, the published OpenAPI
document) and external dependencies. Facts read: app_base_url, ca_pem, alertmanager_url,
kube_api (each optional: what is missing is left out of the configuration).
"""

from __future__ import annotations

import datetime as dt
import json

from ilsref.faults import Fault
from ilsref.runtime import free_port, wait_for_port
from ilsref.services.base import Context
from ilsref.services.pychild import module_argv, module_env
from ilsref.standins.governance import DOCS, EXTERNAL, FLAGS, doc_text

SERVICE = "governance"
FAMILY = "readiness/governance"
FILE_DOCS = ("deployment-guide", "contact-list")
FREEZE_AGO = dt.timedelta(days=1)  # the seeded rollout happened two days ago
VIOLATED_FREEZE_AGO = dt.timedelta(days=3)

FAULTS = (
    Fault("audit_critical", FAMILY, "the release's dependency audit reports a critical advisory"),
    Fault("junit_failures", FAMILY, "two of the release's integration tests failed"),
    Fault("docs_stale", FAMILY, "the runbooks were last updated 200 days ago"),
    Fault("openapi_missing_endpoint", FAMILY, "the published API docs lack /api/orders"),
    Fault("feature_flag_wrong", FAMILY, "the feature flag new_order_wizard is off"),
    Fault("external_dependency_down", FAMILY, "the external dependency 'payments' answers 503"),
    Fault("staging_critical_alert", FAMILY, "a critical alert (HighErrorRate) fires in Alertmanager"),
    Fault("weak_session_secret", FAMILY, "SESSION_SECRET in the Secret ils-secrets is 8 bytes long"),
    Fault("debug_log_level", FAMILY, "the ConfigMap ils-config sets LOG_LEVEL=debug"),
    Fault("code_freeze_violated", FAMILY,
          "the code freeze is set 3 days back, before the last rollout", restart=True),
)


def start(ctx: Context) -> None:
    home = ctx.run.path / "governance"
    docs_dir = home / "docs"
    docs_dir.mkdir(parents=True, exist_ok=True)
    for name in FILE_DOCS:
        (docs_dir / f"{name}.md").write_text(doc_text(name))
    if "app_base_url" in ctx.facts:
        (home / "app-openapi.url").write_text(json.dumps(
            [f"{ctx.facts['app_base_url']}/api/docs/openapi.json", str(ctx.facts["ca_pem"])]))

    port = free_port()
    argv = module_argv("ilsref.standins.governance", "--run-dir", str(ctx.run.path), "--port", str(port),
                       "--alertmanager", str(ctx.facts.get("alertmanager_url", "")),
                       "--kube-api", str(ctx.facts.get("kube_api", "")))
    process = ctx.run.spawn(SERVICE, argv, env=module_env())
    wait_for_port(port, process=process)
    url = f"http://127.0.0.1:{port}"

    freeze_ago = VIOLATED_FREEZE_AGO if "code_freeze_violated" in ctx.faults else FREEZE_AGO
    freeze = (dt.datetime.now(dt.UTC) - freeze_ago).isoformat(timespec="seconds")
    ctx.environment["security"] = {
        "audit_report": f"{url}/reports/dependency-audit.json",
        # public defaults (not secrets): refused unless `accepts_bad_password` is on; 12+
        # characters, or ILS's body validation refuses them before any password is compared
        "default_credentials": [{"email": "admin@ils.local", "password": "Admin@123456"}],
        "non_admin_account": "smoke",
        # two windows of the reference's general limit (300 per 10 s): a burst that straddles a
        # window boundary still reaches its 429
        "rate_limit": {"path": "/api/auth/jwt/me", "max_requests": 650, "recovery_max_s": 15},
    }
    ctx.environment["application"] = {
        "staging_environment": "local",  # the reference deployment stands for staging too
        "junit_report": f"{url}/reports/integration-junit.xml", "min_tests": 10,
        "feature_flags": {"url": f"{url}/flags.json", "expected": dict(FLAGS)},
        "code_freeze": freeze,
    }
    documents = {name.replace("-", "_"): {"location": str(docs_dir / f"{name}.md")} for name in FILE_DOCS}
    documents |= {name.replace("-", "_"): {"location": f"{url}/docs/{name}.md"} for name in DOCS}
    ctx.environment["documentation"] = {"documents": documents, "max_age_days": 90,
                                        "openapi": f"{url}/api-docs/openapi.json"}
    ctx.environment["external"] = {name: {"url": f"{url}/external/{name}", "expect_status": 200,
                                          "latency": {"warn": 500, "crit": 2000}} for name in EXTERNAL}
    if "kubernetes" in ctx.environment:  # production values the app container must get
        ctx.environment["kubernetes"]["required_env"] = {
            "NODE_ENV": ["production"], "LOG_LEVEL": ["info", "warn", "error"], "DATABASE_URL": [],
            "REDIS_URL": [], "SESSION_SECRET": [], "JWT_SECRET": []}
    ctx.facts["governance_url"] = url
