"""Self-tests of the browser flows (e2e/) against the reference deployment.

Playwright runs only in the `pytest -m e2e` subprocesses. Faults are batched: each batch breaks
different flows, so one run shows every fault of the batch failing its own flow (and only it).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import psycopg
import pytest

from conftest import Reference, SmokeRun

E2E_RUN_TIMEOUT_S = 300
FLOW_FILES = ("test_homepage", "test_login", "test_dashboard", "test_patients", "test_orders",
              "test_reports", "test_admin", "test_logout")

# fault -> the checks it must fail (test function names); critical ones make it ROLLBACK
NON_CRITICAL_BATCH = {
    "ui_reports_500": {"test_reports_page_shows_figures"},
    "ui_admin_open": {"test_admin_pages_refuse_other_roles"},
    "auth_open": {"test_signed_out_user_must_sign_in_again"},
    "ui_admin_users_broken": {"test_admin_users_list_shows_the_accounts"},
    "ui_audit_log_broken": {"test_audit_log_shows_a_sign_in_failure_just_made"},
}
CRITICAL_BATCH = {
    "ui_login_broken": {"test_sign_in_lands_on_the_role_dashboard",
                        "test_wrong_password_is_refused_with_a_message"},
    "ui_patient_save_fails": {"test_added_patient_is_found_by_search_and_api"},
    "ui_order_submit_fails": {"test_wizard_order_is_numbered_pending_and_listed"},
    "ui_page_slow": {"test_dashboard_renders_its_widgets_in_time"},
    "ui_js_error": {"test_reports_page_shows_figures"},
    "homepage_500": {"test_homepage_loads_in_the_browser"},
}

pytestmark = pytest.mark.slow


def _function(nodeid: str) -> str:
    return re.sub(r"\[.*\]$", "", nodeid.split("::")[-1])


def _failing_functions(run: SmokeRun) -> set[str]:
    return {_function(nodeid) for nodeid in run.failing}


def _left_over_rows(ilsref: Reference) -> dict[str, int]:
    dsn = ilsref.secrets()["CUTOVER_LOCAL_DATABASE_URL"]
    with psycopg.connect(dsn, connect_timeout=5) as conn:
        patients = conn.execute("SELECT count(*) FROM patients WHERE name LIKE 'cutover-e2e-%'")
        orders = conn.execute("SELECT count(*) FROM orders o JOIN patients p ON p.id = o.patient_id"
                              " WHERE p.name LIKE 'cutover-e2e-%'")
        counts = {"patients": patients.fetchone()[0], "orders": orders.fetchone()[0]}  # type: ignore[index]
    return {table: n for table, n in counts.items() if n}


@pytest.fixture(scope="module")
def e2e_config(ilsref: Reference) -> Path:
    """The shared test config plus shorter bounds, so a failing step fails sooner."""
    path = ilsref.workdir / "cutover-e2e.toml"
    path.write_text(ilsref.config.read_text() + "\n[environments.local.e2e]\n"
                    "action_timeout_ms = 3000\nnavigation_timeout_ms = 8000\n")
    return path


def _e2e(ilsref: Reference, config: Path, *args: str) -> SmokeRun:
    # the last --cutover-config wins over the one `suite` passes
    return ilsref.suite("e2e", f"--cutover-config={config}", *args, timeout_s=E2E_RUN_TIMEOUT_S)


def _with_faults(ilsref: Reference, config: Path, faults: dict[str, Any]) -> SmokeRun:
    ilsref.ilsref("fault", "set", *faults)
    try:
        return _e2e(ilsref, config)
    finally:
        ilsref.ilsref("fault", "clear", *faults)


@pytest.fixture(scope="module")
def healthy(ilsref: Reference, e2e_config: Path) -> SmokeRun:
    return _e2e(ilsref, e2e_config)


@pytest.fixture(scope="module")
def non_critical_faults(ilsref: Reference, e2e_config: Path) -> SmokeRun:
    return _with_faults(ilsref, e2e_config, NON_CRITICAL_BATCH)


@pytest.fixture(scope="module")
def critical_faults(ilsref: Reference, e2e_config: Path) -> SmokeRun:
    return _with_faults(ilsref, e2e_config, CRITICAL_BATCH)


@pytest.fixture(scope="module")
def ambiguous_next(ilsref: Reference, e2e_config: Path) -> SmokeRun:
    ilsref.ilsref("fault", "set", "ui_wizard_next_twice")
    try:
        return _e2e(ilsref, e2e_config, "e2e/test_orders.py")
    finally:
        ilsref.ilsref("fault", "clear", "ui_wizard_next_twice")


def _screenshots(run: SmokeRun, nodeid: str, title: str) -> list[str]:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")[:150]
    folder = run.reports / "evidence" / slug
    return [p.name for p in folder.glob("*.png") if p.name.split("-", 1)[1].startswith(title)]


# --- healthy ------------------------------------------------------------------------------

def test_healthy_deployment_gives_go(healthy: SmokeRun):
    assert healthy.returncode == 0 and healthy.verdict["decision"] == "GO", healthy.explain()


def test_every_flow_file_ran(healthy: SmokeRun):
    ran = {nodeid.split("::")[0].removeprefix("e2e/").removesuffix(".py") for nodeid in healthy.outcomes}
    assert ran == set(FLOW_FILES), f"flow files that ran: {sorted(ran)} (expected {sorted(FLOW_FILES)})"


def test_every_flow_ends_with_a_screenshot_in_the_report(healthy: SmokeRun):
    missing = [n for n in healthy.outcomes if not _screenshots(healthy, n, "end_of_flow")]
    assert not missing, f"no end-of-flow screenshot in the evidence for: {missing}"
    embedded = healthy.html.count("end of flow: ")
    assert embedded >= len(healthy.outcomes), (
        f"{embedded} end-of-flow screenshots in go-no-go.html (expected one per flow: "
        f"{len(healthy.outcomes)})")


def test_critical_flows_are_rollback_triggers(healthy: SmokeRun):
    critical = {_function(c["nodeid"]) for c in healthy.verdict["checks"]
                if "critical_flow" in c["rollback_triggers"]}
    assert critical == {"test_homepage_loads_in_the_browser", "test_sign_in_lands_on_the_role_dashboard",
                        "test_dashboard_renders_its_widgets_in_time",
                        "test_added_patient_is_found_by_search_and_api",
                        "test_wizard_order_is_numbered_pending_and_listed"}, critical


def test_healthy_run_leaves_no_rows_behind(healthy: SmokeRun, ilsref: Reference):
    assert healthy.outcomes, healthy.explain()
    assert _left_over_rows(ilsref) == {}, "rows with the suite's prefix remain after a run"


def test_two_workers_give_the_same_verdict(healthy: SmokeRun, ilsref: Reference, e2e_config: Path):
    parallel = _e2e(ilsref, e2e_config, "-n", "2")
    assert (parallel.verdict["decision"], parallel.outcomes) == (
        healthy.verdict["decision"], healthy.outcomes), parallel.explain()
    assert _left_over_rows(ilsref) == {}, "rows with the suite's prefix remain after a -n 2 run"


# --- faults -------------------------------------------------------------------------------

def test_non_critical_ui_faults_give_no_go(non_critical_faults: SmokeRun):
    run = non_critical_faults
    assert run.returncode == 1 and run.verdict["decision"] == "NO-GO", run.explain()


def test_critical_ui_faults_give_rollback(critical_faults: SmokeRun):
    run = critical_faults
    assert run.returncode == 10 and run.verdict["decision"] == "ROLLBACK", run.explain()


def test_the_report_shows_a_failed_flows_screenshot_among_its_pictures(critical_faults: SmokeRun):
    pictures = critical_faults.html.split("<h2>Pictures</h2>", 1)
    assert len(pictures) == 2, "no Pictures section in the go-no-go page of a failed browser run"
    assert "<figure class='cv-shot'><img alt='failing step: " in pictures[1].split("<h2>", 1)[0]


@pytest.mark.parametrize("batch", ["non_critical_faults", "critical_faults"])
def test_each_fault_fails_exactly_its_flows(request: pytest.FixtureRequest, batch: str):
    run: SmokeRun = request.getfixturevalue(batch)
    flows = NON_CRITICAL_BATCH if batch == "non_critical_faults" else CRITICAL_BATCH
    expected = set().union(*flows.values())
    assert _failing_functions(run) == expected, run.explain()


@pytest.mark.parametrize("batch", ["non_critical_faults", "critical_faults"])
def test_failures_name_the_flow_and_embed_the_failing_step(request: pytest.FixtureRequest, batch: str):
    run: SmokeRun = request.getfixturevalue(batch)
    reasons = " ".join(run.verdict["reasons"])
    for nodeid in run.failing:
        assert nodeid in reasons, f"{nodeid} is not named in the verdict's reasons: {reasons[:500]}"
        assert _screenshots(run, nodeid, "failing_step"), f"no failing-step screenshot for {nodeid}"
    assert run.html.count("failing step: ") >= len(run.failing), (
        "failing-step screenshots missing in go-no-go.html")


def _message(run: SmokeRun, function: str) -> str:
    messages = [c["message"] for c in run.verdict["checks"] if _function(c["nodeid"]) == function]
    assert messages, f"no check {function} in the verdict: {run.explain()}"
    return str(messages[0])


def test_a_broken_flow_names_its_step_and_selector_in_verdict_and_html(non_critical_faults: SmokeRun):
    """`ui_admin_open`: the refusal the flow waits for never shows; the message (verdict.json,
    go-no-go.html) names the step and the selector, not just Playwright's timeout."""
    message = _message(non_critical_faults, "test_admin_pages_refuse_other_roles")
    step, selector = "step 'check the page refuses the non-admin'", "404 Page Not Found"
    assert step in message and selector in message and "waited for" in message, message
    assert "check the page refuses the non-admin" in non_critical_faults.html
    assert "404 Page Not Found" in non_critical_faults.html


def test_a_failing_wizard_names_its_step(critical_faults: SmokeRun):
    message = _message(critical_faults, "test_wizard_order_is_numbered_pending_and_listed")
    assert "step 'Review and Complete" in message and "/api/orders answered 400" in message, message


def test_an_ambiguous_selector_is_reported_as_a_strict_mode_violation(ambiguous_next: SmokeRun):
    """`ui_wizard_next_twice`: two 'Next' buttons in the page, the wizard's real ILS trap."""
    run = ambiguous_next
    assert run.verdict["decision"] == "ROLLBACK", run.explain()
    message = _message(run, "test_wizard_order_is_numbered_pending_and_listed")
    assert "step 'Patient Info'" in message and "strict-mode violation" in message, message
    assert 'text-is(\\"Next\\")' in message or 'text-is("Next")' in message, message
    assert "strict-mode violation" in run.html


def test_javascript_error_is_named_in_the_failure(critical_faults: SmokeRun):
    messages = [c["message"] for c in critical_faults.verdict["checks"]
                if _function(c["nodeid"]) == "test_reports_page_shows_figures"]
    assert messages and "uncaught JavaScript error" in messages[0], messages


def test_faulty_runs_leave_no_rows_behind(non_critical_faults: SmokeRun, critical_faults: SmokeRun,
                                          ilsref: Reference):
    assert _left_over_rows(ilsref) == {}, "rows with the suite's prefix remain after the fault runs"
