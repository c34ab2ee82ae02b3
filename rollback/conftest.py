"""Rollback drill fixtures: the `rollback` table with its defaults, the Deployment, the database.

The drills change the target; each is marked `destructive`, so the plugin refuses them on an
environment of kind production unless `--cutover-allow-destructive=<env>` names it. A drill runs
once per module (a module-scoped fixture records what happened at each step, with timings);
the checks then state one claim each about that record. Run the drills serially (no `-n`): two
workers would rehearse the same rollback at once.
"""

from __future__ import annotations

import math
import os
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

from pytest_cutover import unverified
from pytest_cutover.fixtures import component_or_unverified, secret_or_unverified
from pytest_cutover.settings import Environment

if TYPE_CHECKING:  # imported by the fixtures: a restore drill alone does not load them
    from pytest_cutover.clients.http import HttpClient, HttpResult
    from pytest_cutover.clients.k8s_rollout import Rollouts

DEFAULTS: dict[str, Any] = {
    "undo_with": "api",
    "rollout_timeout_s": None,  # kubernetes.rollout_timeout_s, else 600
    "smoke_timeout_s": 300,
    "restore_from": "newest",
    "restore_jobs": 2,
    "restore_timeout_s": 1800,
    "mutable_columns": ["updated_at", "last_login_at"],
    "created_columns": ["created_at"],
    "sample_requests": 20,
}


@pytest.fixture(scope="session")
def rollback_config(target: Environment) -> dict[str, Any]:
    """The environment's `rollback` table over the defaults (the table itself is optional)."""
    merged = {**DEFAULTS, **target.data.get("rollback", {})}
    if merged["rollout_timeout_s"] is None:
        merged["rollout_timeout_s"] = target.data.get("kubernetes", {}).get("rollout_timeout_s", 600)
    return merged


@pytest.fixture(scope="module")
def rollouts(target: Environment, rollback_config: dict[str, Any]) -> Rollouts:
    """The configured Deployment's rollouts (undo through the API, or kubectl when configured)."""
    from pytest_cutover.clients.k8s import K8s, KubeUnavailable
    from pytest_cutover.clients.k8s_rollout import Rollouts

    k8s_table = component_or_unverified(target, "kubernetes")
    try:
        k8s = K8s(k8s_table.get("kubeconfig"), k8s_table.get("context"),
                  k8s_table.get("namespace", "default"), timeout_s=target.timeout_s)
    except KubeUnavailable as exc:
        unverified(str(exc))
    kubectl = None
    if rollback_config["undo_with"] == "kubectl":
        kubectl = [k8s_table.get("kubectl", "kubectl")]
        if k8s_table.get("kubeconfig"):
            kubectl += ["--kubeconfig", k8s_table["kubeconfig"]]
        if k8s_table.get("context"):
            kubectl += ["--context", k8s_table["context"]]
    elif rollback_config["undo_with"] != "api":
        unverified(f"rollback.undo_with is {rollback_config['undo_with']!r}; expected 'api' or 'kubectl'")
    return Rollouts(k8s, k8s_table.get("deployment", "ils-app"), kubectl)


@pytest.fixture(scope="module")
def probe(target: Environment) -> Iterator[HttpClient]:
    """An HTTP client for the drills' own probes (the served version, the health path)."""
    from pytest_cutover.clients.http import HttpClient

    client = HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=min(target.timeout_s, 5))
    yield client
    client.close()


@pytest.fixture(scope="module")
def served_version(target: Environment, probe: HttpClient) -> Callable[[], tuple[str | None, str]]:
    """`served_version()` -> (version the app serves now, where it was read), from the
    `version` table (an endpoint and a JSON field; default GET /api/health field 'version')."""
    version = target.data.get("version") or {}
    path, field = version.get("path", "/api/health"), version.get("field", "version")

    def _read() -> tuple[str | None, str]:
        result = probe.get(path)
        body: Any = result.json() if result.status == 200 else None
        for key in field.split("."):
            body = body.get(key) if isinstance(body, dict) else None
        return (None if body is None else str(body)), f"GET {path} field {field!r}: {result.describe()}"

    return _read


@dataclass(frozen=True)
class Samples:
    """Requests to the critical endpoints: what the rollback triggers are judged from."""

    results: list[HttpResult]

    @property
    def error_rate_pct(self) -> float:
        failed = sum(1 for r in self.results if r.status is None or r.status >= 500)
        return 100.0 * failed / max(1, len(self.results))

    @property
    def p95_ms(self) -> float:
        times = sorted(r.elapsed_ms for r in self.results)
        return times[min(len(times) - 1, math.ceil(0.95 * len(times)) - 1)] if times else 0.0

    def describe(self) -> str:
        statuses = Counter(str(r.status) for r in self.results)
        return (f"{len(self.results)} requests: statuses {dict(sorted(statuses.items()))}, "
                f"error rate {self.error_rate_pct:.1f} %, p95 {self.p95_ms:.0f} ms")


@pytest.fixture(scope="module")
def sample(target: Environment, probe: HttpClient) -> Callable[[int], Samples]:
    """`sample(n)`: n GETs spread over the critical endpoints (every one is timed out)."""
    paths = [e["path"] for e in target.endpoints.values() if e.get("critical", True)
             and e.get("method", "GET") == "GET" and not e.get("auth")] or ["/"]
    return lambda count: Samples([probe.get(paths[i % len(paths)]) for i in range(count)])


@pytest.fixture(scope="session")
def database_dsns(target: Environment) -> tuple[str, str]:
    """(application DSN, admin DSN) from `database.dsn_env` / `database.admin_dsn_env`."""
    table = component_or_unverified(target, "database")
    if not table.get("dsn_env") and not table.get("admin_dsn_env"):
        unverified(f"database.dsn_env is not set for {target.name!r}")
    dsn = secret_or_unverified(target, table.get("dsn_env") or table["admin_dsn_env"])
    admin = secret_or_unverified(target, table["admin_dsn_env"]) if table.get("admin_dsn_env") else dsn
    return dsn, admin


@pytest.fixture(scope="session")
def snapshot_wanted(pytestconfig: pytest.Config) -> bool:
    """--cutover-snapshot (or $CUTOVER_SNAPSHOT=take): save a new pre-cutover snapshot now."""
    option = pytestconfig.getoption("--cutover-snapshot", default=False)
    return bool(option) or os.environ.get("CUTOVER_SNAPSHOT", "").lower() in ("take", "1", "yes")
