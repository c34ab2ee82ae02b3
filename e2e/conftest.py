"""E2E set-up: flows and their evidence, accounts, signed-in browsers, suite data and clean-up.

The browser itself (Debian's Chromium, TLS trust, base URL, blocked service workers) is set up in
the root conftest.py. Every check here walks one user flow (`@pytest.mark.flow(name)`); a flow
marked `rollback_trigger("critical_flow")` is critical. The environment's `e2e.flows` table can
change that, or declare a flow not applicable, without touching the tests.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, Response, expect

from e2e.flowkit import Flow, Tracing, describe_failure, origin_of
from pytest_cutover import blocked, causes, outcomes, unverified
from pytest_cutover.clients.http import HttpClient
from pytest_cutover.clients.testdata import SuiteData
from pytest_cutover.e2e_profile import FLOWS, E2eProfile, resolve
from pytest_cutover.fixtures import component_or_unverified, secret_or_unverified
from pytest_cutover.plugin import reports_dir
from pytest_cutover.settings import Environment
from pytest_cutover.stash import leak_log_key, settings_key

flow_key = pytest.StashKey[tuple[Flow, Tracing]]()


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "flow(name): the user flow a browser check walks")


# --- collection: criticality, not-applicable flows, the test tenant -------------------------

def _drop_marker(item: pytest.Item, name: str) -> None:
    item.own_markers[:] = [m for m in item.own_markers if m.name != name]


@pytest.hookimpl(tryfirst=True)  # before the plugin's destructive guard and checklist validation
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = config.stash.get(settings_key, None)
    marked = [(item, mark.args[0]) for item in items if (mark := item.get_closest_marker("flow"))]
    if settings is None or not marked:
        return
    profile, problems = resolve(settings.environment.data.get("e2e", {}))
    problems += [f"{item.nodeid}: unknown flow {name!r}" for item, name in marked if name not in FLOWS]
    if problems:
        raise pytest.UsageError("cutover configuration: " + "; ".join(problems))
    for item, name in marked:
        declared = any("critical_flow" in m.args for m in item.iter_markers("rollback_trigger"))
        critical = profile.critical(name, declared)
        if critical and not declared:
            item.add_marker(pytest.mark.rollback_trigger("critical_flow"))
        elif declared and not critical:
            _drop_marker(item, "rollback_trigger")
        item.add_marker(pytest.mark.checklist("mon.qa-critical-flows",
                                              *(["trigger.critical-feature"] if critical else [])))
        reason = profile.not_applicable(name)
        if reason:
            item.add_marker(pytest.mark.skip(reason=outcomes.tag(
                outcomes.NOT_APPLICABLE, f"flow {name!r} is declared not applicable: {reason}")))
        if profile.test_tenant:  # data lands in the tenant kept for tests (checked at sign-in)
            _drop_marker(item, "destructive")


# --- the flow: steps, browser problems, screenshots, trace ----------------------------------

@pytest.fixture(scope="session", autouse=True)
def _bounded_expectations(e2e_profile: E2eProfile) -> None:
    expect.set_options(timeout=e2e_profile.action_timeout_ms)


def _own_origins(base_url: str, target: Environment) -> frozenset[str]:
    """The app's origins: its base URL's, and its API's when the environment names one."""
    urls = [base_url, str(target.data.get("api_url") or "")]
    return frozenset(origin for origin in map(origin_of, urls) if origin)


@pytest.fixture(scope="session")
def preflight(target: Environment) -> tuple[str, str] | None:
    """Can a flow start at all? One request to the base URL: (cause, detail) when no response
    came (refused, TLS verification failed), so every flow is blocked by it instead of failing
    on it one by one (and no critical flow fires ROLLBACK for a target it never reached)."""
    client = HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=target.timeout_s)
    try:
        result = client.get("/")
    finally:
        client.close()
    cause = causes.no_response_cause(result.url, result.error) if result.status is None else None
    return (cause, result.describe()) if cause else None


@pytest.fixture
def flow(request: pytest.FixtureRequest, page: Page, context: BrowserContext, base_url: str,
         target: Environment, e2e_profile: E2eProfile, evidence: Callable[..., None],
         preflight: tuple[str, str] | None) -> Iterator[Flow]:
    """The flow this check walks, on pytest-playwright's page (one fresh context per check)."""
    if preflight is not None:
        blocked(*preflight)
    page.set_default_timeout(e2e_profile.action_timeout_ms)
    page.set_default_navigation_timeout(e2e_profile.navigation_timeout_ms)
    config = request.config
    tracing = Tracing(context, reports_dir(config) / "traces", request.node.nodeid,
                      owned=config.getoption("--tracing", "off") == "off")
    own = _own_origins(base_url, target)
    current = Flow(page, e2e_profile, evidence, own)
    request.node.stash[flow_key] = (current, tracing)
    answers: list[Response] = []
    page.on("response", lambda answer: _keep_for_leak_scan(answers, answer, own))
    yield current
    _scan_for_leaks(request.config, answers)
    tracing.discard()


LEAK_SCAN_PER_FLOW = 150  # answers of the app's own origins scanned per flow
LEAK_SCAN_MAX_BYTES = 1_000_000


def _keep_for_leak_scan(answers: list[Response], answer: Response, own: frozenset[str]) -> None:
    """Only collected here: reading a body inside a Playwright event handler may deadlock."""
    if len(answers) < LEAK_SCAN_PER_FLOW and origin_of(answer.url) in own:
        answers.append(answer)


def _scan_for_leaks(config: pytest.Config, answers: list[Response]) -> None:
    """The flow's network answers go to the run's leak detector (pytest_cutover.leaks)."""
    log = config.stash.get(leak_log_key, None)
    if log is None:
        return
    for answer in answers:
        headers = answer.headers
        try:
            size = int(headers.get("content-length") or 0)
            text = "" if size > LEAK_SCAN_MAX_BYTES or 300 <= answer.status < 400 else answer.text()
        except Exception:  # noqa: BLE001 - a body the browser no longer holds: headers only
            text = ""
        log.observe(answer.request.method, answer.url, answer.status, headers, text,
                    seen_by="browser")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    """Evidence at the end of every flow; browser problems fail a flow whose steps all passed."""
    found = item.stash.get(flow_key, None)
    if found is None:
        return (yield)
    current, tracing = found
    try:
        result = yield
    except (pytest.skip.Exception, pytest.xfail.Exception, pytest.exit.Exception, KeyboardInterrupt):
        raise
    except BaseException as exc:
        current.failed(tracing.keep)
        current.report_warnings()
        message = describe_failure(current.current_step, exc)
        if current.problems:  # the browser's own complaint is often the cause: name it too
            message += f"; {current.problem_summary()}"
        raise AssertionError(message) from None
    current.settle()
    current.report_warnings()
    if current.problems:
        current.failed(tracing.keep)
        pytest.fail(current.problem_summary(), pytrace=False)
    current.passed()
    return result


# --- accounts and signed-in browsers -------------------------------------------------------

@dataclass(frozen=True)
class Account:
    role: str  # the flow's role: user (an ECP) or admin
    email: str
    password: str


@dataclass(frozen=True)
class SignedIn:
    account: Account
    token: str
    user: dict[str, Any]  # the API's user object: id, email, role, companyId ...


@pytest.fixture(scope="session")
def e2e_account(target: Environment, e2e_profile: E2eProfile) -> Callable[[str], Account]:
    """`e2e_account("admin")`: the account the profile names for that role, with its secrets."""

    def _account(role: str) -> Account:
        name = e2e_profile.accounts.get(role)
        accounts = component_or_unverified(target, "accounts")
        table = accounts.get(name or "")
        if not isinstance(table, dict) or not {"email_env", "password_env"} <= set(table):
            unverified(f"the e2e {role} account {name!r} is not in [environments.{target.name}."
                       f"accounts] (set e2e.accounts.{role} to one of: {', '.join(accounts)})")
        return Account(role, secret_or_unverified(target, table["email_env"]),
                       secret_or_unverified(target, table["password_env"]))

    return _account


@pytest.fixture
def sign_in(page: Page, flow: Flow, target: Environment, e2e_profile: E2eProfile,
            e2e_account: Callable[[str], Account]) -> Callable[[str], SignedIn]:
    """`sign_in("user")`: signs the browser in through the API (cookie and localStorage tokens
    under the SPA's keys, as its own sign-in leaves them; the welcome dialog marked as seen), so
    only the login flow depends on the sign-in form."""

    def _sign_in(role: str) -> SignedIn:
        account = e2e_account(role)
        flow.step(f"sign in as the {role} account through the API")
        path = e2e_profile.routes["api_login"]
        answer = page.request.post(path, data={"email": account.email, "password": account.password},
                                   timeout=e2e_profile.navigation_timeout_ms)
        if answer.status == 429:  # the flow cannot start; the login flow itself judges login
            blocked("throttled by the target (429) at sign-in",
                    f"POST {path} for the {role} account answered 429")
        if answer.status != 200:
            pytest.fail(f"POST {path} for the {role} account {account.email!r} answered "
                        f"{answer.status} (expected 200): {answer.text()[:200]!r}", pytrace=False)
        body = answer.json()
        user = body.get("user") or {}
        tenant = e2e_profile.test_tenant
        if target.is_production and tenant and user.get("companyId") != tenant:
            pytest.fail(f"the {role} account {account.email!r} belongs to company "
                        f"{user.get('companyId')!r}, not the test tenant {tenant!r}: the flows "
                        f"refuse to run in a real practice on production", pytrace=False)
        flow.open("login")  # an origin for localStorage
        storage = e2e_profile.storage
        expires_ms = int(time.time() * 1000) + int(body.get("expiresIn") or 0) * 1000
        items = {"access_token": body.get("accessToken", ""),
                 "refresh_token": body.get("refreshToken", ""),
                 "token_expiry": str(expires_ms), "welcome_seen": "true"}
        page.evaluate("items => items.forEach(([k, v]) => localStorage.setItem(k, v))",
                      [[storage[key], value] for key, value in items.items() if storage.get(key)])
        return SignedIn(account, str(body.get("accessToken", "")), user)

    return _sign_in


# --- data the flows create ------------------------------------------------------------------

def _run_id(config: pytest.Config) -> tuple[str, str]:
    """(run, worker): shared by the xdist workers of one run; the worker keeps clean-ups apart."""
    worker_input = getattr(config, "workerinput", None)
    if worker_input:
        return str(worker_input["testrunuid"])[:6], str(worker_input["workerid"])
    return secrets.token_hex(3), "main"


@pytest.fixture(scope="package")
def suite_data(pytestconfig: pytest.Config, target: Environment, e2e_profile: E2eProfile
               ) -> Iterator[SuiteData]:
    """Names for created data, the ids of the rows the flows create (`record`), and the removal of
    exactly those rows when the e2e checks are done (then a count: none left). Package scope, not
    session: later checks of the same run (the restore drill, the integrity checks) must see the
    data as it was before the flows."""
    run, worker = _run_id(pytestconfig)
    prefix = f"{e2e_profile.data_prefix}-{run}-{worker}"
    dsn = None
    if e2e_profile.cleanup == "database" and target.has("database"):
        dsn_env = target.data["database"].get("dsn_env")
        dsn = target.env.get(dsn_env) or target.secrets_source.get(dsn_env) if dsn_env else None
    data = SuiteData(prefix, dsn, e2e_profile.cleanup_tables)
    yield data
    if data.dsn is None or not data.pending:
        return
    try:
        data.remove()
    except Exception as exc:  # noqa: BLE001 - reported as the clean-up's failure, with the rows
        pytest.fail(f"removing the rows the e2e flows recorded {data.recorded} failed: "
                    f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
                    pytrace=False)
    left = data.left_over()
    if left:
        pytest.fail(f"rows created by the e2e flows are still there after clean-up: {left} of "
                    f"the ids recorded {data.recorded} (expected none)", pytrace=False)


@pytest.fixture
def new_data(suite_data: SuiteData, target: Environment) -> SuiteData:
    """For flows that create data: refuses (not verified) when it could not be removed again."""
    if suite_data.dsn is None:
        unverified(f"this flow creates data and nothing could remove it from {target.name!r}: "
                   f"set e2e.cleanup = \"database\" and [environments.{target.name}.database] "
                   f"dsn_env (the DSN of a role that may delete the suite's rows)")
    return suite_data
