"""Security: secrets live only in Secrets, are rotated on time, and are present and strong enough.

Values are never shown: the Kubernetes client returns key names and lengths, and findings say
where a secret-looking value sits and why it looks secret, not what it is.
"""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_cutover import secret_scan, unverified
from pytest_cutover.clients.k8s import KubeUnavailable
from pytest_cutover.stash import settings_key

DEFAULT_SECRET = "ils-secrets"  # noqa: S105 - the Kubernetes Secret's name, not a secret
# ILS: the app refuses to start without these; the session/JWT/CSRF secrets need >= 32 characters.
DEFAULT_SECRET_KEYS = ["DATABASE_URL", "REDIS_URL", "SESSION_SECRET", "JWT_SECRET", "CSRF_SECRET"]
DEFAULT_MIN_LENGTH = {"SESSION_SECRET": 32, "JWT_SECRET": 32, "CSRF_SECRET": 32}


def _kubernetes(data: dict) -> dict:
    table = data.get("kubernetes")
    return table if isinstance(table, dict) else {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "secret_name" in metafunc.fixturenames:
        settings = metafunc.config.stash.get(settings_key, None)
        data = settings.environment.data if settings else {}
        names = (data.get("security") or {}).get("secrets") or [
            _kubernetes(data).get("secret", DEFAULT_SECRET)]
        metafunc.parametrize("secret_name", names, ids=names)


@pytest.mark.checklist("sec.secrets-rotated")
def test_secrets_are_kept_only_in_secrets(kube, target, evidence):
    security = target.data.get("security") or {}
    try:
        wanted = security.get("configmaps")
        configmaps = ([c for c in kube.configmaps() if c.name in wanted] if wanted
                      else kube.configmaps())
        deployment = kube.deployment(_kubernetes(target.data).get("deployment", "ils-app"))
    except KubeUnavailable as exc:
        unverified(str(exc))
    findings = [f for cm in configmaps for f in secret_scan.scan(cm.data, f"ConfigMap {cm.name}")]
    for container in deployment.containers if deployment else ():
        literal = {e.name: e.value for e in container.env if e.value}
        findings += secret_scan.scan(literal, f"Deployment {deployment.name} container {container.name} env")
    evidence("places scanned", {"configmaps": [c.name for c in configmaps],
                                "findings": [f.describe() for f in findings]}, "json")
    assert not findings, (f"{len(findings)} secret(s) outside Secrets (expected none): "
                          + "; ".join(f.describe() for f in findings))


@pytest.mark.checklist("sec.secrets-rotated")
def test_secret_was_rotated_within_policy(kube, secret_name, measure, evidence):
    try:
        secret = kube.secret(secret_name)
    except KubeUnavailable as exc:
        unverified(str(exc))
    assert secret is not None, f"Secret {secret_name!r} does not exist in namespace {kube.namespace!r}"
    rotated = secret_scan.rotated_at(secret.created, secret.annotations)
    if rotated is None:
        unverified(f"Secret {secret_name!r} has neither a rotation annotation nor a creation time")
    evidence(f"Secret {secret_name}", {"keys": secret.keys, "created": str(secret.created),
                                       "rotated": rotated.isoformat()}, "json")
    measure("secret_age_days", secret_scan.age_days(rotated, dt.datetime.now(dt.UTC)),
            subject=f"Secret {secret_name} (last rotated {rotated:%Y-%m-%d})")


@pytest.mark.checklist("sec.secrets-rotated", "app.env-vars")
def test_required_secret_keys_are_present_and_long_enough(kube, target, evidence):
    table = _kubernetes(target.data)
    name = table.get("secret", DEFAULT_SECRET)
    required = table.get("secret_keys") or DEFAULT_SECRET_KEYS
    minimum = {**DEFAULT_MIN_LENGTH, **((target.data.get("security") or {}).get("secret_min_length") or {})}
    try:
        secret = kube.secret(name)
    except KubeUnavailable as exc:
        unverified(str(exc))
    assert secret is not None, f"Secret {name!r} does not exist in namespace {kube.namespace!r}"
    evidence(f"Secret {name} key lengths", secret.key_lengths, "json")
    problems = [f"{key} is missing" for key in required if key not in secret.key_lengths]
    problems += [f"{key} is {secret.key_lengths[key]} bytes (expected >= {length})"
                 for key, length in sorted(minimum.items())
                 if key in secret.key_lengths and secret.key_lengths[key] < length]
    problems += [f"{key} is empty" for key in required if secret.key_lengths.get(key) == 0]
    assert not problems, f"Secret {name}: " + "; ".join(problems)
