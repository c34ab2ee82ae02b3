"""The governance checks (security, application, documentation, sign-offs, T-24h, the gate)
against the reference deployment: healthy with complete sign-offs and a ledger of earlier runs
gives GO; each fault fails the check that sees it; a missing sign-off, an expired waiver and bad
ledger evidence give NO-GO naming what is wrong; no secret value reaches any output.

Runs are real `pytest -m readiness` subprocesses over the governance modules only (the platform
modules have their own self-tests), each with its own reports folder, sign-off file and ledger.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from conftest import GENEROUS_LIMITS
from pytest_cutover import checklist
from pytest_cutover.ledger import CheckOutcome, Ledger, Record

REPO = Path(__file__).resolve().parents[2]
MODULES = [f"readiness/test_{name}.py" for name in (
    "access_control", "application_config", "application_release", "dependency_audit",
    "documentation", "go_no_go_gate", "https_enforced", "integration_tests", "load_results",
    "rate_limit", "rate_limit_fit", "security_headers_grade", "security_secrets", "signoffs",
    "t24_final_verification")]
DEMO_SIGNOFFS = REPO / "examples" / "signoffs.local.toml"
NOW = dt.datetime.now(dt.UTC)


@dataclass
class Run:
    returncode: int
    reports: Path
    output: str

    @property
    def verdict(self) -> dict[str, Any]:
        return json.loads((self.reports / "verdict.json").read_text())

    @property
    def outcomes(self) -> dict[str, str]:
        return {c["nodeid"]: c["outcome"] for c in self.verdict["checks"]}

    def outcome(self, fragment: str) -> str:
        found = [o for n, o in self.outcomes.items() if fragment in n]
        assert found, f"no check matching {fragment!r} ran; ran: {sorted(self.outcomes)[:60]}"
        return "failed" if "failed" in found else found[0]

    def explain(self) -> str:
        doc = self.verdict if (self.reports / "verdict.json").exists() else {}
        return (f"exit {self.returncode}; {doc.get('decision')}; reasons {doc.get('reasons')};"
                f" {self.output[-1500:]}")


def seed_ledger(folder: Path, *, drill: str = "GO", load: str = "GO", smoke_hours: float = 1) -> None:
    """Records that stand for earlier smoke, rollback-drill and load runs of `local`."""
    ledger = Ledger(folder)
    passed = "passed" if drill == "GO" else "failed"
    ledger.append(Record(NOW - dt.timedelta(hours=smoke_hours), "local", "other", "2.0.0", ("smoke",), "GO"))
    drill_checks = (
        CheckOutcome("rollback/test_rollout_undo.py::test_undo", passed, ("rollback.rollout-undo",)),
        CheckOutcome("rollback/test_restore.py::test_restore", passed, ("rollback.db-restore",)))
    ledger.append(Record(NOW - dt.timedelta(days=1), "local", "other", "2.0.0", ("rollback_drill",), drill,
                         checks=drill_checks))
    ledger.append(Record(NOW - dt.timedelta(days=2), "local", "other", "2.0.0", ("load",), load))


def readiness(ilsref: Any, name: str, *select: str, signoffs: Path = DEMO_SIGNOFFS,
              ledger: Path | None = None) -> Run:
    work = ilsref.workdir / name
    work.mkdir(parents=True, exist_ok=True)
    config = work / "cutover.toml"
    config.write_text(
        '[cutover]\ndefault_environment = "local"\n\n[environments.local]\nkind = "other"\n'
        f'include = "{ilsref.home / "run" / "local.toml"}"\nsignoffs = "{signoffs}"\n'
        f'ledger = {{ directory = "{ledger or work / "history"}" }}\n')
    reports = work / f"reports-{time.monotonic_ns()}"
    command = [sys.executable, "-m", "pytest", "-m", "readiness", f"--cutover-config={config}",
               "--cutover-env=local", "-p", "no:cacheprovider", f"--cutover-reports={reports}",
               f"--html={reports / 'go-no-go.html'}", f"--junitxml={reports / 'junit.xml'}", "-q",
               *(select or MODULES)]
    done = subprocess.run(command, cwd=REPO, env=ilsref.env, capture_output=True, text=True, timeout=180,
                          check=False)
    return Run(done.returncode, reports, done.stdout + done.stderr)


# --- healthy ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def healthy(ilsref) -> tuple[Run, Run]:
    """Two readiness runs on one ledger: the first has no earlier readiness run for the gate,
    the second reads the first's outcome from the ledger."""
    history = ilsref.workdir / "healthy-history"
    seed_ledger(history)
    first = readiness(ilsref, "healthy", ledger=history)
    return first, readiness(ilsref, "healthy", ledger=history)


def test_first_run_waits_only_for_an_earlier_readiness_run(healthy):
    first, _ = healthy
    assert first.verdict["decision"] == "NO-GO", first.explain()
    assert len(first.verdict["reasons"]) == 1 and "no readiness run" in first.verdict["reasons"][0], (
        first.explain())


def test_healthy_reference_with_complete_signoffs_is_go(healthy):
    _, second = healthy
    assert (second.returncode, second.verdict["decision"]) == (0, "GO"), second.explain()


def test_every_run_appends_its_verdict_to_the_ledger(healthy, ilsref):
    records = list(Ledger(ilsref.workdir / "healthy-history").records())
    mine = [r for r in records if "readiness" in r.markers]
    assert [r.verdict for r in mine] == ["NO-GO", "GO"]
    assert any("t24.code-freeze" in c.checklist for c in mine[-1].checks)


def test_report_shows_signoffs_and_the_header_grade(healthy):
    html = (healthy[1].reports / "go-no-go.html").read_text()
    assert "Demo DevOps Lead" in html and "cutover-signoffs" in html
    assert "grade A+ (score 115); missing headers: none" in html


# --- faults -------------------------------------------------------------------------------------

RUNTIME_FAULTS = {
    "k8s_secret_in_configmap": "test_secrets_are_kept_only_in_secrets",
    "k8s_old_secret": "test_secret_was_rotated_within_policy[ils-secrets]",
    "weak_session_secret": "test_required_secret_keys_are_present_and_long_enough",
    "debug_log_level": "test_required_environment_variables_have_production_values",
    "no_csp": "test_security_headers_earn_the_minimum_grade",
    "no_https_redirect": "test_plain_http_redirects_to_https",
    "rate_limit_off": "test_burst_is_throttled_with_retry_headers",
    "accepts_bad_password": "test_default_credentials_are_refused[default-1]",
    "auth_open": "test_admin_endpoint_refuses_anonymous_callers[/api/admin/users]",
    "admin_role_bypass": "test_admin_endpoint_refuses_non_admin_users[/api/admin/users]",
    "debug_path_exposed": "test_debug_path_is_not_exposed[/api/debug]",
    "audit_critical": "test_dependency_audit_has_no_critical_findings",
    "wrong_version": "test_staging_runs_the_release_build",
    "junit_failures": "test_integration_tests_passed_in_full",
    "feature_flag_wrong": "test_feature_flags_have_their_intended_values",
    "docs_stale": "test_document_exists_is_not_empty_and_recent[runbooks]",
    "openapi_missing_endpoint": "test_published_api_docs_parse_and_cover_the_critical_endpoints",
    "sentry_critical_issue": "test_staging_has_no_unresolved_critical_sentry_issue",
    "staging_critical_alert": "test_staging_has_no_critical_alert_firing",
    "external_dependency_down": "test_external_dependency_answers_in_time[payments]",
}


def _alert_firing(ilsref) -> bool:
    local = (ilsref.home / "run" / "local.toml").read_text()
    url = local.split("[alertmanager]")[1].split('"')[1]
    with urllib.request.urlopen(f"{url}/api/v2/alerts?filter=severity=%22critical%22", timeout=5) as r:
        return bool(json.loads(r.read()))


@pytest.fixture(scope="module")
def faulty(ilsref, healthy) -> Run:
    """One run with every run-time governance fault on: each breaks a different check."""
    ilsref.ilsref("fault", "set", *RUNTIME_FAULTS)
    try:
        deadline = time.monotonic() + 10  # the watcher posts the alert and patches within ~0.3 s
        while not _alert_firing(ilsref) and time.monotonic() < deadline:
            time.sleep(0.2)
        return readiness(ilsref, "faulty", *[m for m in MODULES if "signoffs" not in m])
    finally:
        ilsref.ilsref("fault", "clear", *RUNTIME_FAULTS)


@pytest.mark.parametrize("fault", sorted(RUNTIME_FAULTS))
def test_fault_fails_its_check(faulty, fault):
    assert faulty.outcome(RUNTIME_FAULTS[fault]) == "failed", faulty.explain()


def test_faults_give_no_go_naming_the_checks_and_the_missing_headers(faulty):
    assert faulty.verdict["decision"] == "NO-GO" and faulty.returncode == 1
    reasons = " ".join(faulty.verdict["reasons"])
    assert "test_dependency_audit_has_no_critical_findings failed" in reasons
    assert "missing headers: Content-Security-Policy" in (faulty.reports / "go-no-go.html").read_text()


@pytest.mark.slow
def test_throttled_client_that_stays_blocked_fails_the_recovery_check(ilsref, healthy):
    """rate_limit_stuck cannot share the batch (rate_limit_off there turns the limiter off)."""
    with ilsref.fault("rate_limit_stuck"):
        run = readiness(ilsref, "rate-limit-stuck", "readiness/test_rate_limit.py")
    assert run.outcome("test_burst_is_throttled_with_retry_headers") == "passed", run.explain()
    assert run.outcome("test_throttled_client_recovers_after_the_window") == "failed", run.explain()
    assert run.verdict["decision"] == "NO-GO" and run.returncode == 1, run.explain()
    assert any("test_throttled_client_recovers_after_the_window" in r for r in run.verdict["reasons"])


@pytest.mark.slow
def test_start_time_faults_fail_freeze_migration_and_final_backup(ilsref, tmp_path):
    """Faults that act at `up`: a second deployment started with them."""
    (tmp_path / "home").mkdir()
    (tmp_path / "work").mkdir()
    other = type(ilsref)(tmp_path / "home", tmp_path / "work")
    other.ilsref("up", "--test-mode", *GENEROUS_LIMITS, "--faults",
                 "code_freeze_violated,migration_behind,backup_stale")
    try:
        run = readiness(other, "start-faults", "readiness/test_t24_final_verification.py",
                        "readiness/test_application_release.py", "-k", "freeze or migration or final_backup")
    finally:
        other.ilsref("down")
    for check in ("test_nothing_was_deployed_or_committed_since_the_code_freeze",
                  "test_staging_migration_head_is_the_release_head", "test_final_backup_is_fresh"):
        assert run.outcome(check) == "failed", run.explain()


# --- governance and ledger evidence ----------------------------------------------------------

def test_missing_signoff_gives_no_go_naming_item_and_role(ilsref, tmp_path):
    text = DEMO_SIGNOFFS.read_text()
    entry = '[[signoff]]\nitem = "gate.team-ready"\nwho = "Demo QA Lead"\nrole = "QA Lead"\n'
    assert entry in text
    partial = tmp_path / "signoffs.toml"
    # The whole block goes: its `when` and `evidence` lines would otherwise land in the block above.
    blocks = text.split("\n[[signoff]]\n")
    kept = [b for b in blocks if not b.startswith(entry.removeprefix("[[signoff]]\n"))]
    assert len(kept) == len(blocks) - 1
    partial.write_text("\n[[signoff]]\n".join(kept))
    run = readiness(ilsref, "missing-signoff", "readiness/test_signoffs.py", signoffs=partial)
    assert run.verdict["decision"] == "NO-GO", run.explain()
    assert [r for r in run.verdict["reasons"] if "gate.team-ready" in r and "QA Lead" in r
            and "pending sign-off" in r], run.verdict["reasons"]


def test_bad_ledger_evidence_and_an_expired_waiver_give_no_go(ilsref, tmp_path):
    history = tmp_path / "history"
    seed_ledger(history, drill="NO-GO", load="NO-GO", smoke_hours=30)
    signoffs = tmp_path / "signoffs.toml"
    signoffs.write_text(
        '[[waiver]]\ncheck = "readiness/test_load_results.py::test_latest_load_verdict_is_go"\n'
        'justification = "load re-run booked"\napprover = "Demo QA Lead"\nexpires = 2020-01-01\n\n'
        '[[waiver]]\n'
        'check = "readiness/test_t24_final_verification.py::test_staging_smoke_run_is_recent_and_go"\n'
        'justification = "staging smoke re-run tonight"\napprover = "Demo DevOps Lead"\n'
        'expires = 2099-01-01\n')
    run = readiness(ilsref, "ledger", "readiness/test_t24_final_verification.py",
                    "readiness/test_load_results.py", "-k", "rehearsed or restore or smoke or load",
                    signoffs=signoffs, ledger=history)
    assert run.outcome("test_rollback_was_rehearsed_on_staging") == "failed", run.explain()
    assert run.outcome("test_backup_restore_was_confirmed_on_staging") == "failed", run.explain()
    assert run.outcome("test_latest_load_verdict_is_go") == "failed", run.explain()  # expired waiver
    assert run.outcome("test_staging_smoke_run_is_recent_and_go") == "waived", run.explain()
    assert run.verdict["decision"] == "NO-GO"
    html = (run.reports / "go-no-go.html").read_text()
    assert "EXPIRED: counts as a failure" in html and "staging smoke re-run tonight" in html


# --- catalogue coverage -------------------------------------------------------------------------

COLLECTOR = '''
import json, os
def pytest_collection_finish(session):
    found = {i.nodeid: [a for m in i.iter_markers("checklist") for a in m.args] for i in session.items}
    open(os.environ["CUTOVER_SELFTEST_COLLECTED"], "w").write(json.dumps(found))
'''


def test_readiness_phases_of_the_catalogue_are_each_covered_by_a_test(ilsref, tmp_path):
    (tmp_path / "collect_checklist.py").write_text(COLLECTOR)
    out = tmp_path / "collected.json"
    config = tmp_path / "cutover.toml"
    config.write_text('[cutover]\ndefault_environment = "local"\n[environments.local]\nkind = "other"\n'
                      f'include = "{ilsref.home / "run" / "local.toml"}"\n')
    env = dict(ilsref.env, PYTHONPATH=str(tmp_path), CUTOVER_SELFTEST_COLLECTED=str(out))
    done = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "collect_checklist",
                           "-p", "no:cacheprovider", f"--cutover-config={config}", "--cutover-env=local",
                           "readiness", "smoke", "e2e", "load", "rollback"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=120, check=False)
    assert out.exists(), done.stdout[-2000:] + done.stderr[-2000:]
    covered = {i for ids in json.loads(out.read_text()).values() for i in ids}
    items = [i for i in checklist.load() if i.phase in ("t-7d", "t-24h", "go-no-go") and not i.same_as]
    uncovered = sorted(i.id for i in items if i.id not in covered)
    assert not uncovered, (
        f"{len(uncovered)} T-7d/T-24h/communication/go-no-go item(s) have no test: {uncovered}")


# --- secrets never shown ------------------------------------------------------------------------

PLANTED_SECRET = "cutover-PLANTED-secret-Zq8vN3kLp0Xw7Rt2Yb5Hs9Jd"
PLANTED_IN_CONFIGMAP = "postgresql://ils_user:PLANTED-cm-Pw-91xQ@db:5432/ils_db"


def _kube_patch(ilsref, kind: str, name: str, data: dict[str, Any]) -> None:
    config = json.loads((ilsref.home / "run" / "kubeconfig").read_text())
    server = config["clusters"][0]["cluster"]["server"]
    request = urllib.request.Request(
        f"{server}/api/v1/namespaces/ils-local/{kind}/{name}", method="PATCH",
        data=json.dumps({"data": data}).encode(), headers={"Content-Type": "application/merge-patch+json"})
    urllib.request.urlopen(request, timeout=5).close()


def test_no_planted_secret_value_appears_in_any_output(ilsref, tmp_path):
    encoded = base64.b64encode(PLANTED_SECRET.encode()).decode()
    _kube_patch(ilsref, "secrets", "ils-secrets", {"PLANTED_TOKEN": encoded})
    _kube_patch(ilsref, "configmaps", "ils-config", {"LEGACY_DB_URL": PLANTED_IN_CONFIGMAP})
    try:
        run = readiness(ilsref, "planted", "readiness/test_security_secrets.py",
                        "readiness/test_application_config.py")
    finally:
        _kube_patch(ilsref, "secrets", "ils-secrets", {"PLANTED_TOKEN": None})
        _kube_patch(ilsref, "configmaps", "ils-config", {"LEGACY_DB_URL": None})
    assert run.outcome("test_secrets_are_kept_only_in_secrets") == "failed", run.explain()
    outputs = {"stdout": run.output, **{str(p.relative_to(run.reports)): p.read_text(errors="replace")
                                        for p in run.reports.rglob("*") if p.is_file()}}
    for planted in (PLANTED_SECRET, encoded, "PLANTED-cm-Pw-91xQ"):
        leaked = [where for where, text in outputs.items() if planted in text]
        assert not leaked, f"a planted secret value appears in {leaked}"
    assert "LEGACY_DB_URL: a URL with an embedded password" in run.output
