"""Smoke fixtures: short timeouts, a bounded wait for the target, the smoke account's token.

Smoke runs right after a deploy and must answer in seconds: every request gets a short timeout,
and once the target is known not to answer, every check fails at once instead of timing out
one after another.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import blocked, causes, unverified
from pytest_cutover.clients.http import HttpClient, HttpResult
from pytest_cutover.clients.prefetch import DEFAULT_MAX_IN_FLIGHT, Planned, Prefetch
from pytest_cutover.fixtures import component_or_unverified, secret_or_unverified
from pytest_cutover.settings import Environment
from pytest_cutover.stash import settings_key

SMOKE_TIMEOUT_S = 5.0  # a smoke probe that takes longer is a finding, not something to wait for
SMOKE_DIR = Path(__file__).parent
# fixtures that read the run's one smoke login (`smoke_auth` through `tokens("smoke")`)
READS_SMOKE_LOGIN = frozenset({"smoke_login", "smoke_auth"})


@dataclass(frozen=True)
class Endpoint:
    """One entry of the environment's `endpoints` table (defaults: schema.ILS_ENDPOINTS)."""

    name: str
    path: str
    method: str = "GET"
    expect_status: int = 200
    latency: dict[str, Any] | None = None
    critical: bool = True
    auth: str | None = None  # account name whose token the call carries
    expect_json: dict[str, Any] | None = None

    @classmethod
    def from_config(cls, name: str, table: dict[str, Any]) -> Endpoint:
        return cls(name=name, **table)


@dataclass(frozen=True)
class Readiness:
    """What the bounded wait for the target's health path found."""

    ready: bool
    path: str
    waited_s: float
    attempts: int
    last: str  # HttpResult.describe() of the last attempt
    cause: str | None = None  # why no response came (connection refused ...), when none came

    def explain(self) -> str:
        return (f"GET {self.path} did not answer 200 within {self.waited_s:.0f} s "
                f"({self.attempts} attempts); last: {self.last}")


@dataclass(frozen=True)
class Account:
    name: str
    email: str
    password: str


# --- collection: parametrize from configuration, link every check to the smoke-test item -------

def _environment(config: pytest.Config) -> Environment | None:
    settings = config.stash.get(settings_key, None)
    return settings.environment if settings is not None else None


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    env = _environment(metafunc.config)
    if env is None:
        return  # the plugin is inactive; the fixtures say how to configure it
    if "endpoint" in metafunc.fixturenames:
        endpoints = [Endpoint.from_config(name, table) for name, table in env.endpoints.items()]
        # A non-critical endpoint (e.g. the favicon) is reported but does not block GO.
        metafunc.parametrize("endpoint", [
            pytest.param(e, id=e.name, marks=() if e.critical else pytest.mark.non_blocking)
            for e in endpoints])
    for fixture, key in (("health_path", "health_paths"), ("protected_path", "protected_paths")):
        if fixture in metafunc.fixturenames:
            paths = env.profile.get(key) or []
            metafunc.parametrize(fixture, paths, ids=[p.strip("/") or "root" for p in paths])


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if SMOKE_DIR in Path(item.path).parents:
            item.add_marker(pytest.mark.checklist("verify.smoke-tests"))


# --- fixtures ------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def smoke_timeout_s(target: Environment) -> float:
    """Per-request timeout: profile `smoke_timeout_s`, else the target's, capped at 5 s."""
    configured = target.profile.get("smoke_timeout_s")
    return float(configured) if configured else min(target.timeout_s, SMOKE_TIMEOUT_S)


@pytest.fixture
def http(http: HttpClient, smoke_timeout_s: float, prefetch: Prefetch | None) -> HttpClient:
    """The plugin's client (transcripts become evidence) with the smoke timeout; a plain GET
    the prefetch sent ahead for this check is answered from there."""
    http.timeout_s = smoke_timeout_s
    http.sent_ahead = prefetch.take if prefetch is not None else None
    return http


# --- prefetch: the independent anonymous GETs of the selected checks, sent ahead, bounded ------

def _api_health_path(target: Environment) -> str:
    paths = target.profile.get("health_paths") or ["/api/health"]
    return str(next((p for p in paths if p.startswith("/api/")), paths[0]))


def planned_gets(item: pytest.Item, target: Environment) -> list[Planned]:
    """The anonymous GETs `item` will send whose answers depend on no other check. A plan that
    does not match what the check asks only costs a request: the check then sends its own."""
    name = getattr(item, "originalname", item.name)
    params = getattr(getattr(item, "callspec", None), "params", {})
    profile = target.profile
    paths: list[str] = []
    if name in ("test_health_path_reports_status_ok", "test_health_path_reports_database_connected"):
        paths = [params["health_path"]]
    elif name == "test_readiness_path_reports_ready":
        paths = [profile["ready_path"]]
    elif name == "test_protected_path_rejects_anonymous_call":
        paths = [params["protected_path"]]
    elif name == "test_unknown_api_path_answers_json_404":
        paths = [profile["unknown_api_path"]]
    elif name == "test_homepage_serves_html":
        paths = ["/"]
    elif name == "test_static_asset_is_served":
        paths = [profile["static_asset"]]
    elif name == "test_endpoint_answers_expected_status_and_body":
        endpoint = params["endpoint"]
        paths = [endpoint.path] if endpoint.method == "GET" and not endpoint.auth else []
    elif "answer" in params and Path(item.path).name == "test_security_headers.py":
        paths = ["/" if params["answer"] == "homepage" else _api_health_path(target)]
    return [Planned.get(str(path)) for path in paths]


def prefetch_bound(target: Environment) -> int:
    """Profile `smoke_prefetch_max_in_flight`: requests in flight at once (0: no prefetch)."""
    value = target.profile.get("smoke_prefetch_max_in_flight", DEFAULT_MAX_IN_FLIGHT)
    return max(0, int(value))


def start_prefetch(request: pytest.FixtureRequest, target: Environment, smoke_timeout_s: float,
                   readiness: Readiness, http_pool: Any, planned: list[Planned]) -> Prefetch | None:
    """A bounded batch through clients like the checks' own; none once the target is known not
    to answer, with a bound of 0, or under xdist (each worker collects every check, so it would
    ask for answers other workers' checks use). The caller closes it."""
    bound = prefetch_bound(target)
    if not readiness.ready or bound == 0 or hasattr(request.config, "workerinput") or not planned:
        return None
    return Prefetch(lambda: HttpClient(target.base_url, ca_bundle=target.ca_bundle,
                                       timeout_s=smoke_timeout_s, pool=http_pool),
                    planned, max_in_flight=bound)


@pytest.fixture(scope="session")
def prefetcher(request: pytest.FixtureRequest, target: Environment, smoke_timeout_s: float,
               readiness: Readiness, http_pool: Any) -> Callable[[list[Planned]], Prefetch | None]:
    """`prefetcher(planned)`: `start_prefetch` for this run (a module's own batch)."""
    return lambda planned: start_prefetch(request, target, smoke_timeout_s, readiness, http_pool,
                                          planned)


@pytest.fixture(scope="session")
def prefetch(request: pytest.FixtureRequest, target: Environment,
             prefetcher: Callable[[list[Planned]], Prefetch | None]) -> Iterator[Prefetch | None]:
    """The selected checks' independent anonymous GETs, started once the target answers."""
    smoke_items = [item for item in request.session.items if SMOKE_DIR in Path(item.path).parents]
    batch = prefetcher([p for item in smoke_items for p in planned_gets(item, target)])
    if batch is not None and any(READS_SMOKE_LOGIN & set(item.fixturenames) for item in smoke_items):
        # the smoke login too, when a selected check reads it: the password hash the server
        # computes for it overlaps the checks that run meanwhile; a login that cannot start
        # (no smoke account) is reported by the checks that read it, as before
        with suppress(Exception, pytest.skip.Exception):
            request.getfixturevalue("smoke_login_sent")
    yield batch
    if batch is not None:
        batch.close()


def _new_client(target: Environment, timeout_s: float) -> HttpClient:
    return HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=timeout_s)


def wait_for_health(client: HttpClient, path: str, wait_s: float, poll_s: float) -> Readiness:
    """Poll `path` until it answers 200 or `wait_s` is spent; no request outlives the deadline.

    Certificates are not verified here: whether the target answers and whether it is trusted
    are separate claims, and the TLS checks make the second one.
    """
    started = time.monotonic()
    deadline = started + wait_s
    attempts, last, cause = 0, "no attempt", None
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        attempts += 1
        result = client.get(path, verify=False, timeout_s=max(0.5, min(client.timeout_s, remaining)))
        last = result.describe()
        cause = causes.no_response_cause(client.url(path), result.error) if result.status is None \
            else None
        if result.status == 200:
            return Readiness(True, path, time.monotonic() - started, attempts, last)
        time.sleep(max(0.0, min(poll_s, deadline - time.monotonic())))
    return Readiness(False, path, time.monotonic() - started, attempts, last, cause)


@pytest.fixture(scope="session")
def readiness(target: Environment, smoke_timeout_s: float) -> Readiness:
    """The bounded wait (profile ready_wait_s / ready_poll_s) for the first health path."""
    profile = target.profile
    paths = profile.get("health_paths") or ["/api/health"]
    client = _new_client(target, smoke_timeout_s)
    try:
        return wait_for_health(client, paths[0], float(profile["ready_wait_s"]),
                               float(profile["ready_poll_s"]))
    finally:
        client.close()


@pytest.fixture(autouse=True)
def target_answers(readiness: Readiness) -> None:
    """Fail fast: once the target is known not to answer, no check waits for its own timeout.
    The check did not run its flow: it is blocked by the target's state (the ready-wait check
    itself is the one that fails)."""
    if not readiness.ready:
        blocked(readiness.cause or f"target not ready ({readiness.path} did not answer 200)",
                readiness.explain())


def account_named(target: Environment, name: str) -> Account:
    """An account of the `accounts` table with its secrets, or the check ends unverified."""
    accounts = component_or_unverified(target, "accounts")
    table = accounts.get(name)
    if not isinstance(table, dict) or not {"email_env", "password_env"} <= set(table):
        unverified(f"no {name!r} account for environment {target.name!r}: add "
                   f"[environments.{target.name}.accounts.{name}] with email_env and password_env")
    return Account(name, secret_or_unverified(target, table["email_env"]),
                   secret_or_unverified(target, table["password_env"]))


@pytest.fixture(scope="session")
def smoke_account(target: Environment) -> Account:
    """The dedicated smoke-test account (`accounts.smoke`)."""
    return account_named(target, "smoke")


def log_in(client: HttpClient, target: Environment, email: str, password: str) -> HttpResult:
    return client.post(target.profile["login_path"], json={"email": email, "password": password})


@pytest.fixture
def login(http: HttpClient, target: Environment) -> Callable[[str, str], HttpResult]:
    """`login(email, password)`: one login attempt through the check's own client."""
    return lambda email, password: log_in(http, target, email, password)


@dataclass(frozen=True)
class SmokeLogin:
    """One GET / and one real login of the smoke account by a fresh client."""

    exchanges: list[HttpResult]  # in order; none when the target was not ready

    @property
    def answer(self) -> HttpResult | None:
        """The login's answer (after a waited-out 429, the second attempt's)."""
        return next((r for r in reversed(self.exchanges) if r.method == "POST"), None)


def _smoke_login(target: Environment, account: Account, timeout_s: float) -> SmokeLogin:
    client = _new_client(target, timeout_s)
    try:
        client.get("/")
        log_in(client, target, account.email, account.password)
        return SmokeLogin(list(client.history))
    finally:
        client.close()


@pytest.fixture(scope="session")
def smoke_login_sent(target: Environment, smoke_account: Account, smoke_timeout_s: float,
                     readiness: Readiness) -> Iterator[Future[SmokeLogin]]:
    """The run's one smoke login, sent on its own thread (see `prefetch`)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="smoke-login") as pool:
        if not readiness.ready:
            yield pool.submit(SmokeLogin, [])
        else:
            yield pool.submit(_smoke_login, target, smoke_account, smoke_timeout_s)


@pytest.fixture(scope="session")
def smoke_login(smoke_login_sent: Future[SmokeLogin]) -> SmokeLogin:
    """The run's one smoke login. The login check, the cookie checks and `tokens("smoke")` all
    ask their question of these answers: each login costs the server a password hash, and three
    identical logins would prove nothing the first does not."""
    return smoke_login_sent.result()


@pytest.fixture(scope="session")
def tokens(request: pytest.FixtureRequest, target: Environment, smoke_timeout_s: float,
           readiness: Readiness) -> Iterator[Callable[[str], str]]:
    """`tokens("smoke")`: a bearer token from a real login of that account, one login per run
    (the smoke account's is `smoke_login`'s)."""
    client = _new_client(target, smoke_timeout_s)
    issued: dict[str, str] = {}
    refused: dict[str, str] = {}  # a failed login is not retried by every check that needs it
    unreached: dict[str, str] = {}  # login got no answer (refused, TLS) or was throttled: cause

    def _token(name: str) -> str:
        if not readiness.ready:
            blocked(readiness.cause or f"target not ready ({readiness.path} did not answer 200)",
                    readiness.explain())
        if name not in issued and name not in refused:
            account = account_named(target, name)
            shared = request.getfixturevalue("smoke_login").answer if name == "smoke" else None
            result = shared or log_in(client, target, account.email, account.password)
            body = result.json() if result.status == 200 else None
            if isinstance(body, dict) and body.get("accessToken"):
                issued[name] = str(body["accessToken"])
            else:
                # (no "token:" in the text: the redactor would mask what follows it)
                refused[name] = (f"login of the {name!r} account failed, so the check cannot "
                                 f"authenticate: {result.describe()}")
                if result.status is None or result.status == 429:
                    unreached[name] = (causes.no_response_cause(client.url(
                        target.profile["login_path"]), result.error) if result.status is None
                        else "throttled by the target (429) at login") or ""
        if unreached.get(name):  # the flow could not start: the login check itself judges login
            blocked(unreached[name], refused[name])
        if name in refused:
            pytest.fail(refused[name], pytrace=False)
        return issued[name]

    yield _token
    client.close()


@pytest.fixture
def api_health_path(target: Environment) -> str:
    """The health path under /api (the one the plan's scripts probe), else the first one."""
    paths = target.profile.get("health_paths") or ["/api/health"]
    return str(next((p for p in paths if p.startswith("/api/")), paths[0]))


@pytest.fixture
def protected_probe(target: Environment) -> str:
    """The first protected API path (profile `protected_paths`), for single-request probes."""
    paths = target.profile.get("protected_paths") or []
    if not paths:
        unverified(f"no protected_paths in the profile of {target.name!r}: list the API paths "
                   f"that need a token under [environments.{target.name}.profile]")
    return str(paths[0])


@pytest.fixture
def smoke_auth(tokens: Callable[[str], str]) -> dict[str, str]:
    """Request headers carrying the smoke account's bearer token."""
    return {"Authorization": f"Bearer {tokens('smoke')}"}
