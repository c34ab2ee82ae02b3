"""End to end: the verdict line and exit code of a run, for every way a check can end."""

from __future__ import annotations

import datetime as dt

import pytest
from cutover_project import Project

TODAY = dt.date.today()
LATER = TODAY + dt.timedelta(days=30)
EARLIER = TODAY - dt.timedelta(days=30)


def test_all_checks_pass_is_go_exit_0(project: Project) -> None:
    project.tests("smoke", test_ok="def test_health_answers():\n    pass\n")
    result = project.run()
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*= cutover verdict: GO =*",
                                 "environment 'local'; covers smoke; exit code 0"])


def test_failed_check_is_no_go_exit_1_naming_the_check(project: Project) -> None:
    project.tests("smoke", test_f="""
        def test_ok():
            pass

        def test_health_returns_200():
            status = 503
            assert status == 200, "GET /api/health returned 503 (expected 200)"
    """)
    result = project.run()
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*cutover verdict: NO-GO*", "reasons:",
        "  - smoke/test_f.py::test_health_returns_200 failed: AssertionError: GET /api/health "
        "returned 503 (expected 200)"])


def test_setup_error_is_no_go(project: Project) -> None:
    project.tests(test_e="""
        import pytest

        @pytest.fixture
        def broken():
            raise RuntimeError("no route to host")

        def test_uses_broken(broken):
            pass
    """)
    result = project.run()
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*cutover verdict: NO-GO*",
                                 "  - test_e.py::test_uses_broken error: setup error: *no route to host*"])


@pytest.mark.parametrize(("body", "decision", "code", "line"), [
    ("pytest_cutover.unverified('grafana token missing')", "NO-GO", 1,
     "  - test_o.py::test_o not verified: grafana token missing"),
    ("require('cdn')", "NO-GO", 1,
     "  - test_o.py::test_o not verified: cdn is not configured for environment 'local'*"),
    ("require('redis')", "GO", 0, None),  # declared not applicable in the config: neutral
    ("pytest_cutover.not_applicable('no CDN')", "GO", 0, None),
    ("pytest_cutover.pending('waiting for the CISO')", "NO-GO", 1,
     "  - test_o.py::test_o pending sign-off: waiting for the CISO"),
    ("pytest.skip('plain skip')", "NO-GO", 1, "  - test_o.py::test_o not verified: skipped: plain skip"),
    ("pytest.xfail('known broken')", "NO-GO", 1,
     "  - test_o.py::test_o not verified: marked xfail (known broken): record a waiver instead"),
])
def test_outcomes_that_are_not_a_pass(project: Project, body: str, decision: str, code: int,
                                      line: str | None) -> None:
    project.config('[environments.local.not_applicable]\nredis = "no cache in this deployment"\n')
    project.tests(test_o=f"""
        import pytest
        import pytest_cutover

        def test_o(require):
            {body}
    """)
    result = project.run()
    assert result.ret == code, result.stdout.str()
    result.stdout.fnmatch_lines([f"*cutover verdict: {decision}*", *([line] if line else [])])
    if decision == "GO":
        assert project.verdict()["counts"] == {"not_applicable": 1}


def test_non_blocking_failure_is_a_warning_and_go(project: Project) -> None:
    project.tests(test_n="""
        import pytest

        @pytest.mark.non_blocking
        def test_favicon_served():
            assert False, "favicon 404"

        def test_ok():
            pass
    """)
    result = project.run()
    assert result.ret == 0
    result.stdout.fnmatch_lines(["*cutover verdict: GO*", "warnings:",
                                 "  - test_n.py::test_favicon_served (non-blocking) failed:*favicon 404*"])


MEASURE = """
def test_p95(measure):
    measure("p95_ms", {value})
"""


@pytest.mark.parametrize(("value", "decision", "code", "line"), [
    (300, "GO", 0, None),
    (700, "GO", 0, "  - test_m.py::test_p95: p95_ms 700 ms is above the warning threshold 500 ms*"),
    (1500, "NO-GO", 1, "  - test_m.py::test_p95 failed: p95_ms 1500 ms is above the critical threshold "
                       "1000 ms (warning at 500 ms)"),
    (2500, "ROLLBACK", 10, "  - test_m.py::test_p95: p95_ms 2500 ms is above the rollback trigger 2000 ms"),
])
def test_measurements_decide_by_level(project: Project, value: float, decision: str, code: int,
                                      line: str | None) -> None:
    project.tests(test_m=MEASURE.format(value=value))
    result = project.run()
    assert result.ret == code, result.stdout.str()
    result.stdout.fnmatch_lines([f"*cutover verdict: {decision}*", *([line] if line else [])])


def test_threshold_override_in_the_config_is_used(project: Project) -> None:
    project.config("[environments.local.thresholds]\np95_ms = { warn = 100, crit = 200 }\n")
    project.tests(test_m=MEASURE.format(value=300))
    result = project.run()
    assert result.ret == 1
    result.stdout.fnmatch_lines(["*p95_ms 300 ms is above the critical threshold 200 ms*"])


def test_failing_rollback_trigger_check_is_rollback_exit_10(project: Project) -> None:
    project.tests("smoke", test_r="""
        import pytest

        @pytest.mark.rollback_trigger("critical_flow")
        def test_login_works():
            assert False, "login returned 500"

        def test_other_failure():
            assert False
    """)
    result = project.run()
    assert result.ret == 10
    result.stdout.fnmatch_lines([
        "*cutover verdict: ROLLBACK*", "environment 'local'; covers smoke; exit code 10",
        "rollback triggers:", "  - smoke/test_r.py::test_login_works (critical_flow): *login returned 500*"])


# --- manual items and sign-offs ---------------------------------------------------------------

MANUAL = """
import pytest

@pytest.mark.manual
@pytest.mark.checklist("team.war-room")
def test_war_room_is_staffed(signoff):
    signoff("team.war-room", role="Release Manager")
"""


def signoff_entry(role: str = "Release Manager", expires: dt.date | None = LATER) -> str:
    return (f'[[signoff]]\nitem = "team.war-room"\nwho = "Dana Reyes"\nrole = "{role}"\n'
            f'when = {EARLIER}\nevidence = "https://wiki.example.com/war-room"\n'
            + (f"expires = {expires}\n" if expires else ""))


def test_missing_signoff_is_no_go_naming_item_and_role(project: Project) -> None:
    project.tests(test_manual=MANUAL)
    result = project.run()
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        "*cutover verdict: NO-GO*",
        "  - test_manual.py::test_war_room_is_staffed pending sign-off: no sign-off for "
        "'team.war-room': it must be signed by the Release Manager in signoffs.toml*"])


@pytest.mark.parametrize(("entry", "decision", "line"), [
    (signoff_entry(), "GO", None),
    (signoff_entry(expires=None), "GO", None),
    (signoff_entry(expires=EARLIER), "NO-GO",
     f"*the sign-off for 'team.war-room' by Dana Reyes expired on {EARLIER}*"),
    (signoff_entry(role="Intern"), "NO-GO",
     "*'team.war-room' was signed by Dana Reyes as 'Intern'; it needs the Release Manager*"),
])
def test_signoff_decides_manual_items(project: Project, entry: str, decision: str,
                                      line: str | None) -> None:
    project.signoffs(entry)
    project.tests(test_manual=MANUAL)
    result = project.run()
    assert result.ret == (0 if decision == "GO" else 1), result.stdout.str()
    result.stdout.fnmatch_lines([f"*cutover verdict: {decision}*", *([line] if line else [])])
    if decision == "GO":
        row = next(r for r in project.verdict()["checklist"] if r["id"] == "team.war-room")
        assert row["status"] == "verified"


# --- waivers --------------------------------------------------------------------------------

FAILING_CSP = """
def test_csp_is_set():
    assert False, "Content-Security-Policy header missing"

def test_ok():
    pass
"""


def waiver(expires: dt.date, check: str = "smoke/test_w.py::test_csp_is_set") -> str:
    return (f'[[waiver]]\ncheck = "{check}"\njustification = "CSP behind a flag next sprint"\n'
            f'approver = "Sam Ito (CISO)"\nexpires = {expires}\n')


@pytest.mark.parametrize("check", ["smoke/test_w.py::test_csp_is_set", "smoke/test_w.py::test_csp*"])
def test_active_waiver_is_go_with_a_warning(project: Project, check: str) -> None:
    project.signoffs(waiver(LATER, check))
    project.tests("smoke", test_w=FAILING_CSP)
    result = project.run()
    assert result.ret == 0, result.stdout.str()
    result.stdout.fnmatch_lines([
        "*cutover verdict: GO*", "warnings:",
        f"  - smoke/test_w.py::test_csp_is_set: failure waived by Sam Ito (CISO) until {LATER}*: "
        "CSP behind a flag next sprint"])
    check_result = next(c for c in project.verdict()["checks"] if c["nodeid"].endswith("test_csp_is_set"))
    assert check_result["outcome"] == "waived"
    assert "Content-Security-Policy header missing" in check_result["message"]


def test_expired_waiver_is_no_go(project: Project) -> None:
    project.signoffs(waiver(EARLIER))
    project.tests("smoke", test_w=FAILING_CSP)
    result = project.run()
    assert result.ret == 1
    result.stdout.fnmatch_lines([
        f"waiver by Sam Ito (CISO) expired on {EARLIER}; the failure counts again:",
        "*cutover verdict: NO-GO*",
        f"  - smoke/test_w.py::test_csp_is_set failed: waiver by Sam Ito (CISO) expired on {EARLIER}; "
        "AssertionError: Content-Security-Policy header missing"])


def test_renewed_waiver_beats_the_expired_one(project: Project) -> None:
    project.signoffs(waiver(EARLIER) + waiver(LATER))
    project.tests("smoke", test_w=FAILING_CSP)
    assert project.run().ret == 0


# --- destructive checks against production --------------------------------------------------

DESTRUCTIVE = """
import pytest

@pytest.mark.destructive
def test_rollout_undo_restores_previous_version(tmp_path):
    (tmp_path / "ran").write_text("yes")
    print("DESTRUCTIVE-RAN")
"""


def test_destructive_check_is_refused_on_production(project: Project) -> None:
    project.tests(test_d=DESTRUCTIVE)
    result = project.run("--cutover-env", "production", "-s")
    assert result.ret == 1
    assert "DESTRUCTIVE-RAN" not in result.stdout.str()
    result.stdout.fnmatch_lines([
        "*cutover verdict: NO-GO*",
        "  - test_d.py::test_rollout_undo_restores_previous_version not verified: refused: destructive "
        "check against production environment 'production'; name it with "
        "--cutover-allow-destructive=production to run it"])


@pytest.mark.parametrize(("args"), [
    ["--cutover-env", "production", "--cutover-allow-destructive=production"],
    ["--cutover-env", "staging"],
])
def test_destructive_check_runs_when_allowed_or_not_production(project: Project, args: list[str]) -> None:
    project.tests(test_d=DESTRUCTIVE)
    result = project.run(*args, "-s")
    assert result.ret == 0, result.stdout.str()
    assert "DESTRUCTIVE-RAN" in result.stdout.str()


def test_allowing_another_environment_does_not_unlock_production(project: Project) -> None:
    project.tests(test_d=DESTRUCTIVE)
    result = project.run("--cutover-env", "production", "--cutover-allow-destructive=staging", "-s")
    assert result.ret == 4  # a mistake: the opt-in must name the environment under test
    assert "does not name the environment under test ('production')" in result.stderr.str()
    assert "DESTRUCTIVE-RAN" not in result.stdout.str()


def test_usage_error_keeps_the_last_reports(project: Project) -> None:
    project.tests(test_ok="def test_ok():\n    pass\n")
    assert project.run().ret == 0
    before = project.report("verdict.json").read_text()
    project.tests(test_bad="""
        import pytest

        @pytest.mark.checklist("no.such-item")
        def test_bad():
            pass
    """)
    result = project.run()
    assert result.ret == 4
    assert project.report("verdict.json").read_text() == before


def test_check_throttled_by_the_target_is_blocked_not_failed(project: Project) -> None:
    project.tests("smoke", test_throttled="""
        def test_patients_answer(http):
            result = http.get("/api/throttled")
            assert result.status == 200, result.describe()
    """)
    result = project.run()
    assert result.ret == 1
    check = project.verdict()["checks"][0]
    assert check["outcome"] == "blocked", check
    assert project.verdict()["decision"] == "NO-GO"
    result.stdout.fnmatch_lines(["*the target's rate limit on the suite's own traffic*max_wait_s*"])
