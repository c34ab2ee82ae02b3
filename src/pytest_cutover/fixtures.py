"""Fixtures the checks use: target, http, measure, evidence, signoff, require.

Fixtures are nouns (what a check works with); recorders are verbs (measure, evidence).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from pytest_cutover import evidence_floor, not_applicable, pending, unverified
from pytest_cutover.settings import Environment, Settings, Unavailable
from pytest_cutover.stash import clients_key, evidence_key, governance_key, measurements_key, settings_key
from pytest_cutover.thresholds import Level, Measurement, Threshold

if TYPE_CHECKING:  # requests is imported by the first check that uses `http`, not by the plugin
    from pytest_cutover.clients.http import HttpClient

Measure = Callable[..., Measurement]
Evidence = Callable[..., None]


def _settings(config: pytest.Config) -> Settings:
    settings = config.stash.get(settings_key, None)
    if settings is None:
        raise pytest.UsageError(
            "no cutover configuration is active: run from a folder with cutover.toml, or pass "
            "--cutover-config PATH and --cutover-env NAME")
    return settings


@pytest.fixture(scope="session")
def settings(pytestconfig: pytest.Config) -> Settings:
    """The validated configuration (all environments) of this run."""
    return _settings(pytestconfig)


@pytest.fixture(scope="session")
def target(settings: Settings) -> Environment:
    """The environment under test."""
    return settings.environment


@pytest.fixture
def require(target: Environment) -> Callable[[str], dict[str, Any]]:
    """`require("database")` returns the component's table, or ends the check as not verified
    (not configured) or not applicable (declared so, with a reason)."""

    return lambda component: component_or_unverified(target, component)


def component_or_unverified(target: Environment, component: str) -> dict[str, Any]:
    """What `require` does, for fixtures of wider scope (a drill set up once per module)."""
    try:
        return target.component(component)
    except Unavailable as exc:
        if exc.not_applicable:
            not_applicable(str(exc))
        unverified(str(exc))


def unless_not_applicable(environment: Environment, *components: str) -> None:
    """End the check as not applicable when any component it depends on is declared so: a
    declaration holds for every dependent check, not only the one that requires the table."""
    for component in components:
        reason = environment.not_applicable_reason(component)
        if reason:
            not_applicable(f"{component} is declared not applicable for {environment.name!r}: "
                           f"{reason}")


def secret_or_unverified(target: Environment, var_name: str) -> str:
    try:
        return target.secret(var_name)
    except Unavailable as exc:
        unverified(str(exc))


@pytest.fixture(scope="session")
def http_pool() -> Iterator[Any]:
    """One connection pool for the run, so checks reuse kept-alive connections (cookies are not
    shared: each check's client has its own session)."""
    from pytest_cutover.clients.http import Adapter

    pool = Adapter(pool_connections=8, pool_maxsize=8)
    yield pool
    pool.close()


@pytest.fixture
def http(request: pytest.FixtureRequest, target: Environment, http_pool: Any) -> Iterator[HttpClient]:
    """An HTTP client bound to the target's base URL and CA bundle; its exchanges become evidence.
    Without a response (refused, TLS verification failed) the check is blocked by that cause."""
    from pytest_cutover.check_http import CheckHttpClient

    client = CheckHttpClient(target.base_url, ca_bundle=target.ca_bundle,
                             timeout_s=target.timeout_s, pool=http_pool)
    request.node.stash.setdefault(clients_key, []).append(client)
    yield client
    client.close()


@pytest.fixture
def measure(request: pytest.FixtureRequest, target: Environment) -> Measure:
    """Record a measurement against a threshold; critical (or a rollback level) fails the check."""

    def _measure(name: str, value: float, threshold: Threshold | str | None = None,
                 subject: str = "", samples: int | None = None, statistic: str | None = None
                 ) -> Measurement:
        """`samples`: how many readings a percentile or ratio was computed from; below the
        minimum for its `statistic` (inferred from the name) a failing reading only warns."""
        if threshold is None or isinstance(threshold, str):
            threshold = target.threshold(threshold or name)
        measurement = Measurement(name, float(value), threshold, subject)
        recorded = measurement.to_dict()
        failing = measurement.level is Level.CRIT or measurement.rollback
        statistic = statistic or evidence_floor.statistic_of(name)
        needed = evidence_floor.too_few(samples, statistic, target.data.get("min_samples"))
        if samples is not None:
            recorded["samples"] = samples
        if failing and needed:
            recorded.update(level="warning", rollback=False, message=evidence_floor.warning_text(
                measurement.message(), int(samples or 0), needed, str(statistic)))
            failing = False
        request.node.stash.setdefault(measurements_key, []).append(recorded)
        if failing:
            pytest.fail(measurement.message(), pytrace=False)
        return measurement

    return _measure


@pytest.fixture
def evidence(request: pytest.FixtureRequest) -> Evidence:
    """Attach evidence to this check: kind is text, json, html or png (base64)."""

    def _evidence(title: str, content: Any, kind: str = "text") -> None:
        if kind == "json" and not isinstance(content, str):
            content = json.dumps(content, indent=2, default=str)
        request.node.stash.setdefault(evidence_key, []).append(
            {"title": title, "kind": kind, "content": str(content)})

    return _evidence


@pytest.fixture
def signoff(request: pytest.FixtureRequest, pytestconfig: pytest.Config, evidence: Evidence
            ) -> Callable[[str], Any]:
    """`signoff("team.war-room")` returns the valid sign-off, or ends the check as pending."""
    import datetime as dt

    def _signoff(item_id: str, role: str | None = None) -> Any:
        governance = pytestconfig.stash[governance_key]
        found = governance.signoff_for(item_id, role)
        who = f" by the {role}" if role else ""
        if found is None:
            pending(f"no sign-off for {item_id!r}: it must be signed{who} in "
                    f"{governance.path or 'signoffs.toml'} (who, role, when, evidence)")
        if found.expired(dt.datetime.now(dt.UTC)):
            pending(f"the sign-off for {item_id!r} by {found.who} expired on "
                    f"{found.expires:%Y-%m-%d}: it must be signed again{who}")
        if role and found.role.lower() != role.lower():
            pending(f"{item_id!r} was signed by {found.who} as {found.role!r}; it needs the {role}")
        evidence(f"sign-off {item_id}", found.to_dict(), "json")
        return found

    return _signoff


@pytest.fixture(scope="session")
def ledger(pytestconfig: pytest.Config, settings: Settings) -> Any:
    """The cutover ledger: earlier runs' verdicts (`ledger.latest("staging", "rollback_drill")`)."""
    from pytest_cutover import ledger as ledger_module
    from pytest_cutover.plugin import reports_dir

    where = ledger_module.folder(reports_dir(pytestconfig), settings.environment.data,
                                 settings.path.parent)
    return ledger_module.Ledger(where)


@pytest.fixture(scope="session")
def environments(settings: Settings) -> Callable[[str], Environment]:
    """`environments("staging")`: another environment of the same config file (its secrets
    too), e.g. to read staging's Sentry from a production run; unverified when it is unusable."""
    from pytest_cutover.settings import Chosen, ConfigError, load

    def _named(name: str) -> Environment:
        if name == settings.environment.name:
            return settings.environment
        try:
            return load(Chosen(str(settings.path), "config"), Chosen(name, "check")).environment
        except ConfigError as exc:
            unverified(f"environment {name!r} cannot be used: {exc.render()}")

    return _named


def kube_for(environment: Environment) -> Any:
    """A Kubernetes client for the environment's `kubernetes` table, or the check ends as not
    verified (not configured, unreachable) or not applicable."""
    from pytest_cutover.clients.k8s import K8s, KubeUnavailable

    table = component_or_unverified(environment, "kubernetes")
    try:
        return K8s(table.get("kubeconfig"), table.get("context"), table.get("namespace", "default"),
                   timeout_s=environment.timeout_s)
    except KubeUnavailable as exc:
        unverified(str(exc))


@pytest.fixture(scope="session")
def staging(target: Environment, settings: Settings,
            environments: Callable[[str], Environment]) -> Environment:
    """The environment that stands for staging: `application.staging_environment`, the target
    itself when it is of kind staging, else the one environment of kind staging."""
    configured = (target.data.get("application") or {}).get("staging_environment")
    if configured:
        return environments(str(configured))
    if target.kind == "staging":
        return target
    found = [name for name in settings.environments
             if (settings.raw["environments"][name] or {}).get("kind") == "staging"]
    if len(found) != 1:
        unverified(f"no single staging environment ({', '.join(found) or 'none'} of kind staging): "
                   f"set [environments.{target.name}.application] staging_environment")
    return environments(found[0])
