"""Application: production environment variables are set with production values, and feature
flags have their intended values.

Variables are looked up where the container gets them: literal env, env from a ConfigMap, or a
Secret reference (present by key; a Secret's value is never read or compared).
"""

from __future__ import annotations

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients.k8s import KubeUnavailable

# ILS's readiness script: NODE_ENV=production and these present (values from Secrets).
DEFAULT_REQUIRED_ENV = {"NODE_ENV": ["production"], "DATABASE_URL": [], "SESSION_SECRET": [],
                        "REDIS_URL": []}


def _effective_env(kube, table) -> dict[str, str | None]:
    """name -> value (None when it comes from a Secret) for the app container."""
    deployment = kube.deployment(table.get("deployment", "ils-app"))
    if deployment is None:
        pytest.fail(f"Deployment {table.get('deployment', 'ils-app')!r} not found", pytrace=False)
    container = deployment.container(table.get("container"))
    env: dict[str, str | None] = {}
    for name in container.env_from_configmaps:
        configmap = kube.configmap(name)
        env.update(configmap.data if configmap else {})
    for name in container.env_from_secrets:
        secret = kube.secret(name)
        env.update({key: None for key in (secret.keys if secret else [])})
    for var in container.env:
        if var.configmap:
            configmap = kube.configmap(var.configmap[0])
            env[var.name] = (configmap.data if configmap else {}).get(var.configmap[1])
        else:
            env[var.name] = var.value if var.secret is None else None
    return env


@pytest.mark.checklist("app.env-vars")
def test_required_environment_variables_have_production_values(kube, require, evidence):
    table = require("kubernetes")
    required = table.get("required_env") or DEFAULT_REQUIRED_ENV
    try:
        env = _effective_env(kube, table)
    except KubeUnavailable as exc:
        unverified(str(exc))
    evidence("environment variable names", sorted(env), "json")
    problems = []
    for name, allowed in sorted(required.items()):
        allowed = [allowed] if isinstance(allowed, str) else list(allowed)
        if name not in env:
            problems.append(f"{name} is not set")
        elif allowed and env[name] not in allowed:
            problems.append(f"{name}={env[name]!r} (expected one of {allowed})")
    assert not problems, "environment variables: " + "; ".join(problems)


@pytest.mark.non_blocking
@pytest.mark.checklist("app.feature-flags")
def test_feature_flags_have_their_intended_values(require, http, evidence):
    flags = require("application").get("feature_flags")
    if not flags or not flags.get("url"):
        unverified("application.feature_flags (url and expected values) is not configured")
    result = http.get(flags["url"])
    actual = result.json() if result.status == 200 else None
    assert isinstance(actual, dict), f"feature flags at {flags['url']} could not be read: {result.describe()}"
    actual = actual.get("flags", actual)
    evidence("feature flags", actual, "json")
    wrong = [f"{name}={actual.get(name)!r} (expected {value!r})"
             for name, value in sorted((flags.get("expected") or {}).items()) if actual.get(name) != value]
    assert not wrong, "feature flags: " + "; ".join(wrong)
