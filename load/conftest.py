"""Fixtures of the load checks: one Locust run per session, judged by many checks.

`load_session` runs the configured profile once (Locust in subprocesses, never imported here),
sampling the HPA while it runs; `server_view` is Prometheus' account of the same window.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import blocked, evidence_floor, unverified
from pytest_cutover.clients import machine
from pytest_cutover.clients.locust import LoadRun, LocustRunner
from pytest_cutover.clients.promql import PromClient, PromError
from pytest_cutover.clients.serverview import ServerView
from pytest_cutover.clients.testdata import LOAD_ORDER_TABLES, SuiteData
from pytest_cutover.fixtures import component_or_unverified
from pytest_cutover.loadplan import (
    DEFAULT_BUDGETS,
    FALLBACK_THRESHOLDS,
    LoadPlan,
    PlanError,
    plan,
    setting,
)
from pytest_cutover.settings import Environment, Unavailable
from pytest_cutover.stash import leak_log_key, measurements_key, settings_key
from pytest_cutover.thresholds import Threshold

LOCUSTFILE = Path(__file__).with_name("locustfile.py")
SCRAPE_WAIT_S = 15.0  # before and after the load, wait at most this long for Prometheus' next scrape


@dataclass
class LoadSession:
    run: LoadRun
    start: float  # epoch seconds, a moment before the first request
    end: float  # epoch seconds, when Locust had exited
    hpa_samples: list[dict[str, Any]] = field(default_factory=list)
    hpa_problem: str = ""
    hpa_not_applicable: str = ""  # kubernetes declared not applicable: the reason given
    orders: SuiteData | None = None  # the orders the load created, removed after the run
    cleanup_problem: str = ""
    machine: machine.MachineLoad = field(default_factory=machine.MachineLoad)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`budget` parametrizes a check by the configured per-endpoint budgets (ids: their keys)."""
    if "budget" in metafunc.fixturenames:
        settings = metafunc.config.stash.get(settings_key, None)
        table = settings.environment.data.get("load", {}) if settings else {}
        budgets = table.get("budgets") or DEFAULT_BUDGETS
        metafunc.parametrize("budget", sorted(budgets), ids=sorted(budgets))


@pytest.fixture(scope="session")
def load_plan(target: Environment) -> LoadPlan:
    try:
        return plan(target.data.get("load", {}), os.environ)
    except PlanError as exc:
        raise pytest.UsageError(f"[environments.{target.name}.load]: {exc}") from None


@pytest.fixture(scope="session")
def load_threshold(target: Environment) -> Callable[[str], Threshold]:
    """Thresholds of this part: the plan's defaults, ours, and the environment's overrides."""
    return lambda name: target.threshold(name, FALLBACK_THRESHOLDS.get(name))


def _credentials(target: Environment, load_plan: LoadPlan) -> dict[str, str]:
    account = target.data.get("accounts", {}).get(load_plan.account)
    if account is None:
        unverified(f"the load account {load_plan.account!r} is not configured: add "
                   f"[environments.{target.name}.accounts.{load_plan.account}] or set load.account")
    try:
        return {"CUTOVER_LOAD_EMAIL": target.secret(account["email_env"]),
                "CUTOVER_LOAD_PASSWORD": target.secret(account["password_env"])}
    except Unavailable as exc:
        unverified(f"load account {load_plan.account!r}: {exc}")


def _hpa_sampler(target: Environment, session: LoadSession) -> Callable[[], None] | None:
    kube = target.data.get("kubernetes")
    declared = target.not_applicable_reason("kubernetes")
    if declared:
        session.hpa_not_applicable = (f"kubernetes is declared not applicable for "
                                      f"{target.name!r}: {declared}")
        return None
    if not kube:
        session.hpa_problem = "kubernetes is not configured for this environment"
        return None
    from pytest_cutover.clients.k8s import K8s, KubeUnavailable

    name = kube.get("hpa", "ils-app-hpa")
    try:
        client = K8s(kube.get("kubeconfig"), kube.get("context"), kube.get("namespace", "default"),
                     timeout_s=3.0)
    except KubeUnavailable as exc:
        session.hpa_problem = str(exc)
        return None

    def sample() -> None:
        try:
            hpa = client.hpa(name)
        except KubeUnavailable as exc:
            session.hpa_problem = str(exc)
            return
        session.hpa_samples.append({"at": time.time(), "name": name, "hpa": hpa})

    return sample


@pytest.fixture(scope="session")
def load_session(target: Environment, load_plan: LoadPlan, tmp_path_factory: pytest.TempPathFactory,
                 load_threshold: Callable[[str], Threshold], pytestconfig: pytest.Config) -> LoadSession:
    """The one load run of this session (destructive: it loads the target and creates orders)."""
    env = _credentials(target, load_plan)
    if target.ca_bundle:
        env["CUTOVER_LOAD_CA_BUNDLE"] = target.ca_bundle
    error, p95 = load_threshold("error_rate_pct"), load_threshold("p95_ms")
    env["CUTOVER_LOAD_ABORT"] = (
        f'{{"error_rate_pct": {error.crit}, "p95_ms": {p95.crit}, '
        f'"after_s": {load_plan.abort_after_s}, "min_requests": {load_plan.abort_min_requests}}}')
    prefix = f"cutover-load-{secrets.token_hex(3)}"
    env["CUTOVER_LOAD_ORDER_PREFIX"] = prefix
    folder = tmp_path_factory.mktemp("locust")
    env["CUTOVER_LOAD_LEAK_SAMPLES"] = str(folder / "leak-samples")
    runner = LocustRunner(LOCUSTFILE, folder)
    _await_fresh_scrape(target)
    start = time.time()
    session = LoadSession(run=None, start=start, end=start)  # type: ignore[arg-type]
    hpa = _hpa_sampler(target, session)

    def on_poll() -> None:  # the machine's CPU during the run decides whether a reading counts
        session.machine.sample()
        if hpa is not None:
            hpa()

    session.machine.sample()
    session.run = runner.run(load_plan, target.base_url, env, on_poll=on_poll)
    session.machine.sample()
    session.end = time.time()
    _scan_samples(pytestconfig, folder)
    _remove_orders(target, session, prefix)
    return session


def _scan_samples(config: pytest.Config, folder: Path) -> None:
    """The load's sampled answers go to the run's leak detector."""
    log = config.stash.get(leak_log_key, None)
    for path in sorted(folder.glob("leak-samples.*")) if log is not None else []:
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            with contextlib.suppress(Exception):  # a bad sample never costs the load run
                sample = json.loads(line)
                log.observe(sample["method"], sample["url"], sample["status"], sample["headers"],
                            sample["text"], seen_by="load")


def _await_fresh_scrape(target: Environment) -> None:
    """Before the load starts, wait (bounded) for a Prometheus scrape of the app newer than now.

    The server's counters at the window's start are those of the last scrape before it, which
    can be a scrape interval old: requests made just before the load (a previous run's last
    seconds) would otherwise be counted as load. Without Prometheus there is nothing to wait for;
    an unreachable one is reported by the server-view checks."""
    try:
        prometheus = target.component("prometheus")
    except Unavailable:
        return
    with contextlib.suppress(PromError):
        _scraped_after(target, prometheus, time.time())


def _scraped_after(target: Environment, prometheus: dict[str, Any], moment: float
                   ) -> tuple[PromClient, str]:
    """A client of Prometheus and the app's job, once a scrape of the app newer than `moment`
    exists (or SCRAPE_WAIT_S has passed); raises PromError when Prometheus cannot be asked."""
    prom = PromClient(prometheus["url"], timeout_s=target.timeout_s, ca_bundle=target.ca_bundle)
    job = prometheus.get("job", "ils-app")
    prom.wait_for_scrape_after(f'up{{job="{job}"}}', moment, SCRAPE_WAIT_S)
    return prom, job


def _remove_orders(target: Environment, session: LoadSession, prefix: str) -> None:
    """Delete the orders this run created (by the prefix in their notes) through the database."""
    try:
        dsn = target.secret(target.component("database")["dsn_env"])
    except (Unavailable, KeyError) as exc:
        session.cleanup_problem = f"the orders the load created ({prefix}*) cannot be removed: {exc}"
        return
    session.orders = SuiteData(prefix, dsn, LOAD_ORDER_TABLES, by_prefix=True)
    try:
        session.orders.remove()
    except Exception as exc:  # noqa: BLE001 - reported by the hygiene check, never swallowed
        session.cleanup_problem = f"removing the orders {prefix}* failed: {type(exc).__name__}: {exc}"


@pytest.fixture(scope="session")
def load_saturation(target: Environment, load_session: LoadSession) -> str | None:
    """Why this load run cannot judge the target (its generator saturated: its CPU, the
    machine's, or requests queued in its event loop), or None."""
    table = target.data.get("load", {})
    lag = machine.lag_saturation(load_session.run.lag, float(setting(table, "generator_max_lag_ms")),
                                 evidence_floor.minimum("p95", target.data.get("min_samples")))
    busiest = load_session.run.busiest_generator
    return machine.saturation(load_session.machine, busiest.cpu_pct if busiest else None,
                              float(setting(table, "generator_max_cpu_pct")), lag)


@pytest.fixture
def measure(measure: Callable[..., Any], request: pytest.FixtureRequest) -> Callable[..., Any]:
    """The plugin's `measure`; a client-side latency or error reading of this load run that
    would fail while its generator was saturated is inconclusive: the check is blocked by the
    saturation, never NO-GO or ROLLBACK on the app's account. Server-side facts (Prometheus,
    the HPA) are the app's own and are judged as they are."""
    if "load_session" not in request.fixturenames or "server_view" in request.fixturenames:
        return measure

    def _measure(*args: Any, **kwargs: Any) -> Any:
        try:
            return measure(*args, **kwargs)
        except pytest.fail.Exception as exc:
            reading = request.node.stash[measurements_key][-1]
            client_side = evidence_floor.statistic_of(str(reading.get("name", ""))) is not None
            cause = request.getfixturevalue("load_saturation") if client_side else None
            if cause and not _server_confirms(request, reading):
                blocked(cause, f"this reading is inconclusive: {exc.msg}")
            raise

    return _measure


def _server_confirms(request: pytest.FixtureRequest, reading: dict[str, Any]) -> bool:
    """Whether the app's own account (Prometheus, server side) fails the same level as a client
    reading: then the app is slow or failing by itself, whatever the generator's state. A
    saturated generator inflates the client's numbers only; the server's are its own."""
    name = str(reading.get("name", ""))
    if "server side" in str(reading.get("subject", "")):
        return True  # the reading is the server's own
    try:
        view = request.getfixturevalue("server_view")
        path = re.match(r"[A-Z]+ (/\S*) \(budget", str(reading.get("subject", "")))
        value = (view.p95_ms(path[1] if path else None) if "p95" in name else
                 view.error_ratio_pct() if "error_rate" in name else None)
    except (pytest.skip.Exception, PromError):
        return False
    level = reading.get("crit") if reading.get("level") == "critical" else reading.get("rollback_at")
    level = level if level is not None else reading.get("crit")
    return value is not None and level is not None and float(value) > float(level)


@pytest.fixture
def load_run(load_session: LoadSession) -> LoadRun:
    """The run's facts; ends the check as failed when Locust produced no statistics."""
    if load_session.run.stats is None:
        pytest.fail(load_session.run.describe_failure(), pytrace=False)
    return load_session.run


@pytest.fixture(scope="session")
def server_view(target: Environment, load_session: LoadSession) -> ServerView:
    """Prometheus' view of the load window (after its next scrape has caught the last requests)."""
    prometheus = component_or_unverified(target, "prometheus")
    try:
        prom, job = _scraped_after(target, prometheus, load_session.end)
    except PromError as exc:  # the checks cannot see the server side at all
        unverified(str(exc))
    stats = load_session.run.stats
    # the measured part only: the warm-up's statistics were discarded on the client side too
    start = max(load_session.start, stats.started - 1.0) if stats else load_session.start
    return ServerView(prom, job, start, time.time())


@pytest.fixture
def promql(server_view: ServerView, evidence: Callable[..., None]) -> Callable[[], None]:
    """`promql()` attaches the queries this check made, with their answers."""
    mark = len(server_view.prom.history)
    return lambda: evidence("PromQL and result", "\n".join(server_view.prom.history[mark:]))
