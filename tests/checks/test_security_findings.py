"""The attacker's-view checks against the reference deployment: healthy stays GO, each hole is
NO-GO naming the variant, path or directive, the probes write nothing, the leak detector sees
what only the browser saw, and production refuses a known seeded account as the suite's own.
"""

from __future__ import annotations

import json
import os
import re
import ssl
import subprocess
import urllib.request
from collections import Counter

import pytest

from conftest import PYTHON, REPO, Reference, SmokeRun

CORS, HEADERS = "smoke/test_cors.py", "smoke/test_security_headers.py"
SWEEP, ACCESS = "readiness/test_route_sweep.py", "readiness/test_access_control.py"
LEAK_CHECK = "cutover::answers_leak_no_internals"
WRITES = frozenset({"POST", "PUT", "PATCH", "DELETE"})
METRIC = re.compile(r'^http_requests_total\{method="(\w+)",path="([^"]*)",status_code="\d+"\} (\S+)$')


def _requests_by_method(ilsref: Reference) -> Counter[tuple[str, str]]:
    """(method, route template) -> requests the app counted (its /metrics)."""
    local = (ilsref.home / "run" / "local.toml").read_text()
    base = re.search(r'^base_url = "([^"]+)"', local, re.M).group(1)  # type: ignore[union-attr]
    context = ssl.create_default_context(cafile=str(ilsref.home / "run" / "ca.pem"))
    with urllib.request.urlopen(f"{base}/metrics", timeout=10, context=context) as answer:
        text = answer.read().decode()
    counts: Counter[tuple[str, str]] = Counter()
    for line in text.splitlines():
        found = METRIC.match(line)
        if found:
            counts[(found.group(1), found.group(2))] += int(float(found.group(3)))
    return counts


def _security_run(ilsref: Reference, *select: str) -> SmokeRun:
    return ilsref.suite("smoke or readiness", *select)


def _reasons(run: SmokeRun) -> str:
    return "\n".join(run.verdict["reasons"])


def _failing_named(run: SmokeRun, *names: str) -> None:
    failing = " ".join(run.failing)
    assert run.verdict["decision"] == "NO-GO", run.explain()
    missing = [n for n in names if n not in failing]
    assert not missing, f"{missing} not among the failing checks {run.failing}; {run.explain()}"


@pytest.fixture(scope="module")
def healthy(ilsref: Reference) -> tuple[SmokeRun, Counter[tuple[str, str]]]:
    before = _requests_by_method(ilsref)
    run = _security_run(ilsref, CORS, SWEEP)
    after = _requests_by_method(ilsref)
    return run, after - before


def test_healthy_deployment_stays_go(healthy, ilsref: Reference):
    run, _ = healthy
    assert run.returncode == 0 and run.verdict["decision"] == "GO", run.explain()
    ran = {c["nodeid"] for c in run.verdict["checks"]}
    assert any("test_no_route_answers_an_anonymous_caller" in n for n in ran), sorted(ran)
    assert any("[allowed-as-substring]" in n for n in ran), sorted(ran)
    assert LEAK_CHECK not in ran  # nothing leaked, so no session result
    others = ilsref.suite("smoke or readiness", HEADERS, ACCESS, "-k", "csp or seeded")
    assert others.verdict["decision"] == "GO", others.explain()


def test_sweep_and_cors_probes_write_nothing(healthy):
    _, asked = healthy
    writes = {key: n for key, n in asked.items()
              if key[0] in WRITES and not key[1].startswith("/api/auth/")}  # the sign-ins
    assert sum(n for (m, _), n in asked.items() if m == "GET") >= 20, asked  # the sweep did run
    assert sum(n for (m, _), n in asked.items() if m == "OPTIONS") >= 10, asked  # and the preflights
    assert writes == {}, f"requests that write, counted by the app: {writes}"


# --- one fault per hole -------------------------------------------------------------------------

def test_origin_substring_reflection_is_named_by_variant(ilsref: Reference):
    with ilsref.fault("cors_origin_substring"):
        run = _security_run(ilsref, CORS)
    _failing_named(run, "test_origin_is_not_granted_credentialed_access[allowed-as-substring]",
                   "test_origin_preflight_is_not_granted[allowed-as-prefix]",
                   "test_origin_is_not_granted_credentialed_access[localhost-in-foreign]")
    assert "[foreign]" not in " ".join(run.failing) and "[null]" not in " ".join(run.failing)
    reasons = _reasons(run).lower()
    assert "allowed-as-substring: get /api/patients with origin 'https://localhost-evil.example" in reasons
    assert "'access-control-allow-credentials': 'true'" in reasons, reasons


def test_null_origin_is_named(ilsref: Reference):
    with ilsref.fault("cors_null_origin"):
        run = _security_run(ilsref, CORS)
    assert sorted(n.split("::")[-1] for n in run.failing) == [
        "test_origin_is_not_granted_credentialed_access[null]",
        "test_origin_preflight_is_not_granted[null]"], run.explain()
    assert "null: OPTIONS /api/patients with Origin 'null' answered" in _reasons(run), _reasons(run)


def test_unsafe_eval_is_named_by_directive(ilsref: Reference):
    with ilsref.fault("csp_unsafe_eval"):
        run = _security_run(ilsref, HEADERS, "-k", "weak")
    _failing_named(run, "test_content_security_policy_has_no_weak_sources[homepage]")
    assert "script-src 'unsafe-eval' allows eval()" in _reasons(run)


def test_stack_trace_of_an_internal_endpoint_is_named_by_path(ilsref: Reference):
    with ilsref.fault("internal_stack_trace"):
        run = _security_run(ilsref, SWEEP, "-k", "anonymous")
    _failing_named(run, "test_no_route_answers_an_anonymous_caller", LEAK_CHECK)
    assert "GET /api/diagnostic/filesystem (profile) answered 500" in _reasons(run)
    leak = next(c for c in run.verdict["checks"] if c["nodeid"] == LEAK_CHECK)
    assert "GET /api/diagnostic/filesystem answered 500 showing a node stack trace" in leak["message"]


def test_open_internal_endpoint_listing_data_is_named_by_path(ilsref: Reference):
    with ilsref.fault("internal_events_open"):
        run = _security_run(ilsref, SWEEP, "-k", "anonymous")
    _failing_named(run, "test_no_route_answers_an_anonymous_caller")
    assert "GET /api/system/events (openapi) answered 200" in _reasons(run), _reasons(run)


def test_seeded_admin_that_logs_in_is_named(ilsref: Reference):
    with ilsref.fault("seeded_admin"):
        run = _security_run(ilsref, ACCESS, "-k", "seeded")
    _failing_named(run, "test_accounts_seeded_by_the_app_do_not_log_in")
    assert "'ils-default-admin' (admin@ils2.com, role platform_admin" in _reasons(run), _reasons(run)


@pytest.mark.slow
def test_stack_trace_seen_only_by_the_browser_is_found(ilsref: Reference):
    with ilsref.fault("ui_stack_trace_leak"):
        swept = _security_run(ilsref, SWEEP, "-k", "anonymous")
        run = ilsref.suite("e2e", "e2e/test_reports.py", timeout_s=300)
    assert LEAK_CHECK not in {c["nodeid"] for c in swept.verdict["checks"]}, swept.explain()
    leak = next((c for c in run.verdict["checks"] if c["nodeid"] == LEAK_CHECK), None)
    assert leak is not None and leak["outcome"] == "failed", run.explain()
    assert ("GET /api/clinical/reporting/reports answered 200 showing a node stack trace (browser, "
            "during test_reports_page_shows_figures[chromium])") in leak["message"], leak["message"]
    flows = [c for c in run.verdict["checks"] if c["nodeid"] != LEAK_CHECK]
    assert flows and all(c["outcome"] == "passed" for c in flows), run.explain()  # the page works


# --- production refuses a known default account as its own ---------------------------------------

def test_production_with_a_seeded_admin_account_is_a_configuration_error(tmp_path):
    config = tmp_path / "cutover.toml"
    config.write_text('[cutover]\ndefault_environment = "production"\n\n'
                      '[environments.production]\nkind = "production"\n'
                      'base_url = "https://127.0.0.1:9"\n\n'
                      '[environments.production.accounts.admin]\n'
                      'email_env = "CUTOVER_TEST_ADMIN_EMAIL"\n'
                      'password_env = "CUTOVER_TEST_ADMIN_PASSWORD"\n')
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUTOVER_", "PYTEST_"))}
    env.update(CUTOVER_TEST_ADMIN_EMAIL="admin@ils2.com",
               CUTOVER_TEST_ADMIN_PASSWORD="not-the-published-one")
    done = subprocess.run([PYTHON, "-m", "pytest", "-m", "smoke", f"--cutover-config={config}",
                           f"--cutover-reports={tmp_path / 'reports'}", "-p", "no:cacheprovider",
                           "smoke/test_health.py"], cwd=REPO, env=env, capture_output=True,
                          text=True, timeout=120, check=False)
    output = done.stdout + done.stderr
    assert done.returncode == 4, output[-2000:]
    assert "accounts.admin is 'admin@ils2.com', a known default account" in output, output[-2000:]
    assert "AdminOperationsService.ts" in output
    assert not (tmp_path / "reports" / "verdict.json").exists()


def test_verdict_json_lists_the_leak_result_with_its_evidence(ilsref: Reference):
    with ilsref.fault("internal_stack_trace"):
        run = _security_run(ilsref, SWEEP, "-k", "anonymous")
    leak = next(c for c in run.verdict["checks"] if c["nodeid"] == LEAK_CHECK)
    assert leak["blocking"] and "sec.security-audit" in leak["checklist"]
    assert "go-no-go" in json.dumps(run.verdict) or run.html  # the report was written
    assert LEAK_CHECK in run.html
