"""Readiness fixtures: clients for the platform components, built from their config tables.

Each fixture first asks `require(component)`, so a component missing from the configuration ends
the check as not verified (or not applicable, when declared so with a reason), never as passed.
A component that is configured but cannot be asked fails the check with the reason.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any
from urllib.parse import urlsplit

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients.http import HttpClient
from pytest_cutover.fixtures import secret_or_unverified
from pytest_cutover.settings import Environment
from pytest_cutover.stash import clients_key, settings_key

PROBE_TIMEOUT_S = 10.0  # a platform API slower than this is a finding, not something to wait for


@pytest.fixture(scope="session")
def probe_timeout_s(target: Environment) -> float:
    return min(target.timeout_s, PROBE_TIMEOUT_S)


@contextmanager
def answering(what: str, *errors: type[BaseException]) -> Iterator[None]:
    """Turn a client's 'could not ask' error into a one-line failure naming the component."""
    try:
        yield
    except errors as exc:
        pytest.fail(f"{what} could not be asked: {exc}", pytrace=False)


# --- HTTP APIs: Prometheus, Alertmanager, Grafana, Sentry, the log store, a CDN -----------------

@pytest.fixture
def service_api(request: pytest.FixtureRequest, require: Callable[[str], dict[str, Any]],
                target: Environment, probe_timeout_s: float
                ) -> Iterator[Callable[..., tuple[dict[str, Any], HttpClient]]]:
    """`service_api("grafana")` -> (its table, an HTTP client on its `url` carrying the bearer
    token named by `token_env`); exchanges become the check's evidence (redacted)."""
    opened: list[HttpClient] = []

    def _open(component: str) -> tuple[dict[str, Any], HttpClient]:
        table = require(component)
        if "url" not in table:
            pytest.fail(f"{component}.url is not set for environment {target.name!r}",
                        pytrace=False)
        client = HttpClient(table["url"], ca_bundle=target.ca_bundle, timeout_s=probe_timeout_s)
        if table.get("token_env"):
            token = secret_or_unverified(target, table["token_env"])
            client.session.headers["Authorization"] = f"Bearer {token}"
        request.node.stash.setdefault(clients_key, []).append(client)
        opened.append(client)
        return table, client

    yield _open
    for client in opened:
        client.close()


# --- Kubernetes ------------------------------------------------------------------------------

ILS_OBJECT_NAMES = {  # defaults from the ILS manifests; each overridable in [kubernetes]
    "service": "{deployment}-service", "hpa": "{deployment}-hpa", "pdb": "{deployment}-pdb",
    "ingress": "ils-ingress",
}


@pytest.fixture
def kubernetes(require: Callable[[str], dict[str, Any]]) -> dict[str, Any]:
    """The [kubernetes] table with the ILS defaults filled in."""
    table = dict(require("kubernetes"))
    table.setdefault("namespace", "default")
    table.setdefault("deployment", "ils-app")
    table.setdefault("container", table["deployment"])
    table.setdefault("label_selector", f"app={table['deployment']}")
    for key, pattern in ILS_OBJECT_NAMES.items():
        table.setdefault(key, pattern.format(deployment=table["deployment"]))
    return table


@pytest.fixture
def kube(kubernetes: dict[str, Any], probe_timeout_s: float) -> Any:
    """A read-only Kubernetes client for the configured kubeconfig, context and namespace."""
    from pytest_cutover.clients.k8s import K8s, KubeUnavailable

    with answering("the Kubernetes API", KubeUnavailable):
        return K8s(kubernetes.get("kubeconfig"), kubernetes.get("context"),
                   kubernetes["namespace"], timeout_s=probe_timeout_s)


@pytest.fixture
def kube_answers() -> Callable[[], Any]:
    """`with kube_answers(): ...` fails the check in one line when the API cannot be asked."""
    from pytest_cutover.clients.k8s import KubeUnavailable

    return lambda: answering("the Kubernetes API", KubeUnavailable)


@pytest.fixture
def manifest(kube: Any, kubernetes: dict[str, Any], kube_answers: Callable[[], Any],
             evidence: Callable[..., None]) -> dict[str, Any]:
    """The Deployment as served by the API (spec and status), or a failure when it is missing."""
    with kube_answers():
        found = kube.deployment_manifest(kubernetes["deployment"])
    where = f"{kubernetes['namespace']}/{kubernetes['deployment']}"
    assert found is not None, f"Deployment {where} does not exist (expected the application's workload)"
    evidence(f"Deployment {where}", {"spec": found.get("spec"), "status": found.get("status")},
             "json")
    return found


# --- configuration-driven parameters ------------------------------------------------------------

def tls_hosts(env: Environment) -> list[str]:
    """`tls.hosts` ("host" or "host:port"); without the table, one empty entry so that the check
    runs once and reports tls as not verified."""
    if not env.has("tls"):
        return [""]
    hosts = env.data["tls"].get("hosts")
    if hosts:
        return list(hosts)
    url = urlsplit(env.base_url)
    return [f"{url.hostname}:{url.port or 443}"]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    settings = metafunc.config.stash.get(settings_key, None)
    if settings is None or "tls_host" not in metafunc.fixturenames:
        return
    hosts = tls_hosts(settings.environment)
    metafunc.parametrize("tls_host", hosts, ids=[h or "not-configured" for h in hosts])


@pytest.fixture(scope="session")
def non_admin_token(target: Environment) -> str:
    """A bearer token of `security.non_admin_account` (default `smoke`): one sign-in per run."""
    name = (target.data.get("security") or {}).get("non_admin_account", "smoke")
    account = (target.data.get("accounts") or {}).get(name)
    if not account:
        unverified(f"accounts.{name} (a user without admin rights) is not configured")
    client = HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=target.timeout_s)
    try:
        result = client.post(target.profile["login_path"], json={
            "email": secret_or_unverified(target, account["email_env"]),
            "password": secret_or_unverified(target, account["password_env"])})
    finally:
        client.close()
    token = (result.json() or {}).get("accessToken") if result.status == 200 else None
    if not token:
        unverified(f"login as accounts.{name} failed, so non-admin access cannot be tried: "
                   f"{result.describe()}")
    user = (result.json() or {}).get("user") or {}
    if user.get("role") in ("admin", "platform_admin"):
        unverified(f"accounts.{name} has the admin role {user.get('role')!r}; name a non-admin "
                   f"user in security.non_admin_account")
    return str(token)
