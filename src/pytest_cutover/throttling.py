"""The suite's own traffic budget in pytest: the pacing bound, the failed-login budget fixture,
and a check stopped by the target's limiter ending as blocked (never failed).

Registered by plugin.py next to fixtures.py. The logic lives in the pure modules
traffic_budget.py and failed_logins.py (docs/traffic-budget.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit

import pytest

from pytest_cutover import blocked, traffic_budget, unverified
from pytest_cutover import failed_logins as login_budget
from pytest_cutover.settings import Environment, Settings
from pytest_cutover.stash import run_key, settings_key

T = TypeVar("T")


def traffic_table(environment: Environment) -> dict[str, Any]:
    from pytest_cutover.schema import TRAFFIC

    defaults = {key: spec.default for key, spec in TRAFFIC.items()}
    return {**defaults, **(environment.data.get("traffic") or {})}


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    settings = config.stash.get(settings_key, None)
    if settings is not None:
        traffic_budget.configure(float(traffic_table(settings.environment)["max_wait_s"]))


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Checks whose module sets `RUN_LAST = True` (the rate-limit probe: it spends the address's
    request budget) run after every other check of the run."""
    last = [item for item in items if runs_last(item)]
    if last:
        items[:] = [item for item in items if item not in last] + last


def runs_last(item: pytest.Item) -> bool:
    return bool(getattr(getattr(item, "module", None), "RUN_LAST", False))


def parallel_workers(config: pytest.Config) -> int:
    """xdist workers of this run when this process is one of several (0 otherwise)."""
    count = int(getattr(config, "workerinput", {}).get("workercount", 0) or 0)
    return count if count > 1 else 0


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item: pytest.Item) -> Any:
    workers = parallel_workers(item.config)
    if workers and runs_last(item):
        # RUN_LAST orders one process's checks only: another worker's checks could run during
        # the burst and meet the 429s it provokes (the failures this ordering exists to avoid)
        blocked(f"a run with {workers} parallel workers (xdist)",
                "not run: a check that spends the target's request budget must run after every "
                "other check, which only one process can guarantee; run it without -n "
                "(or with -n 0 or -n 1)")
    try:
        return (yield)
    except traffic_budget.Throttled as exc:  # a fixture's login or read was throttled
        blocked(exc.cause, exc.detail)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item: pytest.Item) -> Any:
    try:
        return (yield)
    except traffic_budget.Throttled as exc:
        blocked(exc.cause, exc.detail)


class FailedLogins:
    """`failed_logins.spend("smoke unknown account")` before each deliberate failed login."""

    def __init__(self, budget: login_budget.FailedLoginBudget) -> None:
        self.budget = budget
        self._made: dict[str, Any] = {}

    def spend(self, purpose: str, kind: str = login_budget.UNKNOWN_ACCOUNT,
              account: str | None = None) -> str:
        """Book one failed login and return the address to use (a made-up one unless given: a
        default credential's). Ends the check as not verified when the budget is spent."""
        address = account or login_budget.made_up_address(purpose.split()[0])
        try:
            self.budget.spend(purpose, kind, address)
        except login_budget.BudgetSpent as exc:
            unverified(exc.detail)
        return address

    def once(self, key: str, attempt: Callable[[], T]) -> T:
        """One attempt serves every check of this process that asks for `key`."""
        if key not in self._made:
            self._made[key] = attempt()
        return self._made[key]  # type: ignore[no-any-return]

    def reusable(self, kind: str = login_budget.UNKNOWN_ACCOUNT) -> login_budget.Spent | None:
        return self.budget.reusable(kind)


@pytest.fixture(scope="session")
def failed_logins_budget(pytestconfig: pytest.Config, settings: Settings) -> FailedLogins:
    """The run's failed-login budget (see `failed_logins`)."""
    from pytest_cutover import ledger as ledger_module
    from pytest_cutover.plugin import reports_dir

    env = settings.environment
    table = traffic_table(env)
    parts = urlsplit(env.base_url)
    run = (pytestconfig.stash.get(run_key, None) or {}).get("run_id", "")
    folder = ledger_module.folder(reports_dir(pytestconfig), env.data, settings.path.parent)
    return FailedLogins(login_budget.FailedLoginBudget(
        folder, f"{parts.scheme}://{parts.netloc}", str(run),
        limit=int(env.profile["failed_login_limit"]),
        window_s=float(env.profile["failed_login_window_s"]),
        cap=int(table["failed_login_budget"]), max_wait_s=float(table["max_wait_s"])))


@pytest.fixture
def failed_logins(failed_logins_budget: FailedLogins) -> FailedLogins:
    """Every deliberate failed login goes through `failed_logins.spend(purpose)` first; it is
    kept below the target's failed-login limit across the run and runs in the same window."""
    return failed_logins_budget
