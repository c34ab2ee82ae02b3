"""The load gate against the reference deployment: healthy gives GO with client and server P95
side by side; injected latency and errors give the verdict the plan's levels say; a distributed
run (2 local workers) merges its statistics and reaches the same verdict.

Each case is a real `pytest -m "load and not post_launch"` subprocess with a short profile
(10 users, 4 s warm-up, 8 s measured), so the whole module takes about three minutes.
"""

from __future__ import annotations

import re
import secrets
import tomllib
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from ilsref.launcher import to_toml
from pytest_cutover.clients.testdata import LOAD_ORDER_TABLES, SuiteData

pytestmark = pytest.mark.slow
SHORT_PROFILE = """
[environments.local.load]
profile = "ci"
users = 10
duration_s = 8
warmup_s = 4
think_time_s = [0.2, 0.6]
abort_after_s = 4

# This machine is shared and has 2 cores: a 200 ms health budget over ~15 samples trips on CPU
# starvation alone. 500 ms (the smoke suite's health level) still fails under every latency fault.
# A busy machine sends ~15-30 requests in the 8 s measured: these cases are about the levels, so
# the evidence floor is lowered (tests/plugin/test_verdict_trust.py shows the default floor).
[environments.local.min_samples]
p95 = 5
p99 = 5
ratio = 5

[environments.local.load.budgets]
"/api/health" = {warn = 200, crit = 500}
"/api/auth/jwt/login" = {warn = 1000, crit = 2000}
"/api/*" = {warn = 500, crit = 1000}
"""


@contextmanager
def variables(ilsref: Any, **values: str) -> Iterator[None]:
    saved = dict(ilsref.env)
    ilsref.env.update(values)
    try:
        yield
    finally:
        ilsref.env.clear()
        ilsref.env.update(saved)


def load_run(ilsref: Any, workers: int = 0) -> Any:
    """A `pytest load -m "load and not post_launch"` subprocess with a short profile (the
    reference's runner, whose later -m and --cutover-config win over its smoke defaults)."""
    config = ilsref.workdir / "cutover-load.toml"
    if not config.exists():
        config.write_text(ilsref.config.read_text() + SHORT_PROFILE)
    with variables(ilsref, CUTOVER_LOAD_WORKERS=str(workers)):
        return ilsref.smoke("load", "-m", "load and not post_launch", f"--cutover-config={config}")


def evidence_text(run: Any, check: str, title: str) -> str:
    """An evidence file of the run's bundle (reports/evidence/<check>/NN-<title>.*)."""
    found = sorted((run.reports / "evidence").glob(f"*{check}/*{title}*"))
    assert found, f"no evidence {title!r} of {check!r} in {run.reports / 'evidence'}"
    return str(found[0].read_text())


def measurement(run: Any, test: str, name: str) -> dict[str, object]:
    for check in run.verdict["checks"]:
        if test in check["nodeid"]:
            found = [m for m in check["measurements"] if m["name"] == name]
            if found:
                return found[0]
    raise AssertionError(f"no measurement {name!r} from {test!r}: {run.explain()}")


@pytest.fixture(scope="module")
def healthy_load(ilsref: Any) -> Any:
    return load_run(ilsref)


def test_healthy_short_profile_gives_go(healthy_load: Any) -> None:
    assert healthy_load.verdict["decision"] == "GO", healthy_load.explain()
    assert healthy_load.returncode == 0, healthy_load.explain()


def test_healthy_report_shows_client_and_server_p95_side_by_side(healthy_load: Any) -> None:
    assert "client vs server P95" in healthy_load.html, "the side-by-side table is not in the report"
    table = evidence_text(healthy_load, "test_client_and_server_p95_agree", "client_vs_server")
    assert "| **all** |" in table and "| /api/health |" in table, table
    client = measurement(healthy_load, "test_p95_latency_within_thresholds", "p95_ms")
    server = measurement(healthy_load, "test_server_p95_within_thresholds", "p95_ms")
    assert float(client["value"]) > 0 and float(server["value"]) > 0, (client, server)


def test_healthy_report_attaches_the_locust_report_and_endpoint_table(healthy_load: Any
                                                                      ) -> None:
    html = healthy_load.html
    assert "Locust report" in html and "per-endpoint statistics" in html, healthy_load.explain()
    table = evidence_text(healthy_load, "final_statistics", "per-endpoint")
    assert "| POST | /api/orders |" in table, f"the order flow is missing from the table:\n{table}"
    locust = evidence_text(healthy_load, "final_statistics", "Locust_report")
    assert "srcdoc=" in locust and len(locust) > 10_000, "the Locust HTML report is not attached"


def test_healthy_report_draws_the_load_run_with_its_threshold_lines(healthy_load: Any) -> None:
    html = healthy_load.html
    for chart in ("cv-load-p95", "cv-load-errors"):
        found = re.search(rf'<svg[^>]*id="{chart}".*?</svg>', html, flags=re.S)
        assert found, f"no {chart} chart in a report that ran the load gate: {healthy_load.explain()}"
        for level in ("warning", "critical", "rollback"):
            assert f"cv-level-{level}" in found.group(0), f"{chart} has no {level} line"
        assert found.group(0).count(" L") >= 3, f"{chart} draws fewer than four samples"
    assert 'id="cv-endpoint-budgets"' in html, "no per-endpoint P95 against budget"
    series = evidence_text(healthy_load, "final_statistics", "load_time_series")
    assert '"p95_ms"' in series and '"error_rate_pct"' in series, series[:300]


@pytest.mark.parametrize(("fault", "decision", "failing", "p95_level"), [
    # overall P95 ~710 ms: warning; but the success criterion (P95 < 500 ms) is missed: NO-GO.
    # (Health's own budget sees a handful of requests in this short profile: too few to judge.)
    pytest.param("latency_700ms", "NO-GO", "test_p95_latency_meets_the_success_criterion",
                 "warning", id="latency_700ms"),
    pytest.param("latency_1500ms", "NO-GO", "test_p95_latency_within_thresholds", "critical",
                 id="latency_1500ms"),
    pytest.param("latency_2500ms", "ROLLBACK", "test_p95_latency_within_thresholds", "critical",
                 id="latency_2500ms"),
    # with slow_db_queries (every 4th API request also holds a 1.2 s query: dozens a minute
    # against a critical level of 10) the server-side slow-query check fails too, and the P95
    # rises past its critical level; the error rate makes the run a ROLLBACK either way. (Beside
    # 2.5 s of latency the short run sent too few requests: 7 in one CI run, 1 slow query, a
    # warning only.)
    pytest.param("error_rate_10pct+slow_db_queries", "ROLLBACK",
                 "test_error_rate_within_thresholds test_no_slow_queries_during_the_load",
                 "critical", id="error_rate_10pct+slow_db_queries"),
])
def test_load_fault_gives_the_verdict_the_thresholds_say(ilsref: Any, fault: str,
                                                         decision: str, failing: str,
                                                         p95_level: str) -> None:
    with ExitStack() as faults:
        for name in fault.split("+"):
            faults.enter_context(ilsref.fault(name))
        run = load_run(ilsref)
    assert run.verdict["decision"] == decision, run.explain()
    for check in failing.split():
        assert any(check in nodeid for nodeid in run.failing), (
            f"{check} did not fail under {fault}; failing: {run.failing}; {run.explain()}")
    p95 = measurement(run, "test_p95_latency_within_thresholds", "p95_ms")
    assert p95["level"] == p95_level, f"overall P95 {p95['value']} ms judged {p95['level']!r}"


def test_distributed_run_with_two_workers_merges_stats_and_gives_the_same_verdict(
        ilsref: Any, healthy_load: Any) -> None:
    """After the single-process run (so both meet a warm app: a cold one grows its memory and
    answers its first requests slowly, which the checks rightly flag)."""
    run = load_run(ilsref, workers=2)
    assert run.verdict["decision"] == healthy_load.verdict["decision"] == "GO", run.explain()
    text = evidence_text(run, "final_statistics", "load_plan")
    assert "2 workers" in text and "workers connected: 2" in text, text
    # client-side queueing is measured where the users run: in each worker, not the master
    lag = evidence_text(run, "test_load_generator_is_not_saturated", "generator_processes")
    assert "timed sleeps of 50 ms in 2 process(es)" in lag, lag


# --- the server-side checks and the load's own data: one short run, each fault on a different check ---

AUTOSCALER = "test_autoscaler_runs_the_replicas_it_recommends"
LEFT_ORDERS = "test_load_left_no_orders_behind"
MEMORY_GROWTH = "test_app_memory_does_not_grow_over_the_load"
# each fault of that run, and the one check it must fail
# (slow_db_queries slowed this short run until it sometimes created no order for the prefix test)
SERVER_FAULTS = {"hpa_ignored": AUTOSCALER, "memory_leak": MEMORY_GROWTH}


def _config_without_database(ilsref: Any) -> Path:
    """The short profile against `local` minus its [database] table: no DSN to clean up with."""
    local = tomllib.loads((ilsref.home / "run" / "local.toml").read_text())
    trimmed = ilsref.workdir / "local-no-database.toml"
    trimmed.write_text(to_toml({k: v for k, v in local.items() if k != "database"}))
    config = ilsref.workdir / "cutover-load-no-database.toml"
    config.write_text('[cutover]\ndefault_environment = "local"\n\n[environments.local]\n'
                      f'kind = "other"\ninclude = "{trimmed}"\n' + SHORT_PROFILE)
    return config


@pytest.fixture(scope="module")
def ignored_hpa_without_dsn(ilsref: Any, healthy_load: Any) -> Any:
    """`hpa_ignored` and `memory_leak` (1 MiB kept per request) on, and no database DSN,
    running only the checks they break."""
    config = _config_without_database(ilsref)
    with ExitStack() as faults:
        for fault in SERVER_FAULTS:
            faults.enter_context(ilsref.fault(fault))
        faults.enter_context(variables(ilsref, CUTOVER_LOAD_WORKERS="0"))
        return ilsref.suite("load and not post_launch", f"--cutover-config={config}", "load",
                            "-k", " or ".join([*SERVER_FAULTS.values(), LEFT_ORDERS]))


def test_ignored_autoscaler_and_unverifiable_cleanup_give_no_go(ignored_hpa_without_dsn: Any) -> None:
    run = ignored_hpa_without_dsn
    assert (run.returncode, run.verdict["decision"]) == (1, "NO-GO"), run.explain()
    outcomes = {nodeid.split("::")[-1]: outcome for nodeid, outcome in run.outcomes.items()}
    assert outcomes == {**{check: "failed" for check in SERVER_FAULTS.values()},
                        LEFT_ORDERS: "unverified"}, run.explain()
    reasons = " ".join(run.verdict["reasons"])
    assert AUTOSCALER in reasons and LEFT_ORDERS in reasons, run.explain()
    shortfall = measurement(run, AUTOSCALER, "hpa_replica_shortfall")
    assert float(str(shortfall["value"])) == 3 and shortfall["level"] == "critical", shortfall


def test_orders_left_by_a_run_without_dsn_are_found_by_their_prefix(ignored_hpa_without_dsn: Any,
                                                                     ilsref: Any) -> None:
    """What the unverified check could not count is really there: the run's own prefixed orders
    (named in its message), found by SuiteData.left_over, then removed here."""
    message = next(c["message"] for c in ignored_hpa_without_dsn.verdict["checks"]
                   if LEFT_ORDERS in c["nodeid"])
    found = re.search(r"\((cutover-load-[0-9a-f]+)\*\)", message)
    assert found, f"the unverified check does not name the run's order prefix: {message!r}"
    orders = SuiteData(found[1], ilsref.secrets()["CUTOVER_LOCAL_DATABASE_URL"],
                       LOAD_ORDER_TABLES, by_prefix=True)
    left = orders.left_over()
    orders.remove()
    assert left.get("orders", 0) > 0, f"the load created no order named {found[1]}*"
    assert orders.left_over() == {}


# --- SuiteData against the reference's PostgreSQL ---------------------------------------------

def _plant_order(dsn: str, notes: str) -> None:
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        conn.execute("INSERT INTO orders (order_number, company_id, patient_id, notes, lens_type,"
                     " lens_material, coating) SELECT %s, company_id, id, %s, 'Single Vision',"
                     " 'CR-39', 'None' FROM patients ORDER BY created_at LIMIT 1",
                     (f"CUT-{secrets.token_hex(6)}", notes))


def test_suite_data_finds_a_planted_order_of_its_prefix_only(ilsref: Any) -> None:
    dsn = ilsref.secrets()["CUTOVER_LOCAL_DATABASE_URL"]
    mine, other = f"cutover-load-{secrets.token_hex(3)}", f"cutover-load-{secrets.token_hex(3)}"
    tables = LOAD_ORDER_TABLES
    _plant_order(dsn, f"{mine} order 1")
    _plant_order(dsn, f"{other} order 1")
    _plant_order(dsn, f"x{mine} not at the start")
    try:
        assert SuiteData(mine, dsn, tables, by_prefix=True).left_over() == {"orders": 1}
        assert SuiteData(mine, dsn, tables, by_prefix=True).remove() == {"orders": 1}
        assert SuiteData(mine, dsn, tables, by_prefix=True).left_over() == {}
        assert SuiteData(other, dsn, tables, by_prefix=True).left_over() == {"orders": 1}  # kept
    finally:
        with psycopg.connect(dsn, connect_timeout=5) as conn:
            conn.execute("DELETE FROM orders WHERE notes IN (%s, %s, %s)",
                         (f"{mine} order 1", f"{other} order 1", f"x{mine} not at the start"))


# --- a saturated generator: failing client-side readings are inconclusive (blocked) ------------

CLIENT_SIDE = ("test_p95_latency_within_thresholds", "test_p95_latency_meets_the_success_criterion",
               "test_p99_latency_within_thresholds", "test_error_rate_within_thresholds",
               "test_error_rate_meets_the_success_criterion", "test_endpoint_p95_within_its_budget")
# Any real event loop wakes from a timed sleep at least a fraction of a millisecond late (counted
# as 1 ms): a limit of 0 declares every run's generator saturated, whatever the machine's load.
DECLARED_SATURATED = "generator_max_lag_ms = 0\n"
WITHOUT_SERVER_VIEW = '\n[environments.local.not_applicable]\nprometheus = "self-test: no server view"\n'


def saturated_run(ilsref: Any, name: str, server_view: bool) -> Any:
    """A short load run whose generator is declared saturated (optionally without Prometheus,
    so no server-side account can confirm a slow client reading)."""
    profile = SHORT_PROFILE.replace("abort_after_s = 4\n", "abort_after_s = 4\n" + DECLARED_SATURATED)
    config = ilsref.workdir / f"cutover-load-{name}.toml"
    config.write_text(ilsref.config.read_text() + profile + ("" if server_view else WITHOUT_SERVER_VIEW))
    with variables(ilsref, CUTOVER_LOAD_WORKERS="0"):
        return ilsref.smoke("load", "-m", "load and not post_launch", f"--cutover-config={config}")


def client_side_checks(run: Any) -> dict[str, tuple[str, str]]:
    """nodeid -> (outcome, message) of the checks that judge a client-side reading."""
    return {c["nodeid"].split("::")[-1]: (c["outcome"], c.get("message") or "")
            for c in run.verdict["checks"] if any(name in c["nodeid"] for name in CLIENT_SIDE)}


def test_saturated_generator_blocks_failing_client_readings_not_the_app(ilsref: Any) -> None:
    """1.5 s of injected latency fails the P95 checks on the client side; the generator is
    declared saturated and no server view can confirm: those checks are blocked by the
    saturation (NO-GO, never ROLLBACK), and the passing error-rate readings stay passed."""
    with ilsref.fault("latency_1500ms"):
        run = saturated_run(ilsref, "saturated-unconfirmed", server_view=False)
    assert run.verdict["decision"] == "NO-GO", run.explain()
    assert not run.failing, f"a check failed on the app's account: {run.failing}; {run.explain()}"
    checks = client_side_checks(run)
    p95_outcome, p95_message = checks["test_p95_latency_within_thresholds"]
    assert p95_outcome == "blocked", checks
    assert "load generator was saturated" in p95_message and "event loop" in p95_message, p95_message
    for name in ("test_error_rate_within_thresholds", "test_error_rate_meets_the_success_criterion"):
        assert checks[name][0] == "passed", (name, checks[name])
    assert {outcome for outcome, _ in checks.values()} <= {"passed", "blocked"}, checks
    found = [c for c in run.verdict["causes"] if "saturated" in c["cause"]]
    assert found and found[0]["kind"] == "blocked", run.verdict["causes"]
    lag = evidence_text(run, "test_load_generator_is_not_saturated", "generator_processes")
    assert "ms late at P95" in lag and "timed sleeps" in lag, lag


def test_saturated_generator_still_fails_what_the_server_confirms(ilsref: Any) -> None:
    """Same declaration, Prometheus present: the server's own P95 shows the 2.5 s too, so the
    reading is the app's, whatever the generator's state (ROLLBACK)."""
    with ilsref.fault("latency_2500ms"):
        run = saturated_run(ilsref, "saturated-confirmed", server_view=True)
    assert run.verdict["decision"] == "ROLLBACK", run.explain()
    assert any("test_p95_latency_within_thresholds" in n for n in run.failing), run.explain()


def test_saturated_generator_leaves_passing_readings_passed(ilsref: Any) -> None:
    """A healthy target under a generator declared saturated: readings within their levels are
    conclusive (more room could only have made them faster) and stay passed."""
    run = saturated_run(ilsref, "saturated-healthy", server_view=False)
    checks = client_side_checks(run)
    for name in ("test_error_rate_within_thresholds", "test_error_rate_meets_the_success_criterion",
                 "test_p95_latency_within_thresholds"):
        assert checks[name][0] == "passed", (name, checks[name], run.explain())
    assert not run.failing, run.explain()
    assert run.verdict["decision"] in ("GO", "NO-GO"), run.explain()
    blocked = {n: m for n, (o, m) in checks.items() if o == "blocked"}
    assert all("saturated" in m for m in blocked.values()), blocked
