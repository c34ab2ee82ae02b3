"""Report files: verdict.json, summary.md, announcement.md, JUnit, the go/no-go HTML, evidence with
a SHA-256 manifest; planted secrets reach none of them; `-n 2` gives the serial verdict."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import xml.etree.ElementTree as ET

import pytest
from cutover_project import Project

LATER = dt.date.today() + dt.timedelta(days=30)
REPORT_ARGS = ("--html=reports/go-no-go.html", "--self-contained-html", "--junitxml=reports/junit.xml")

SUITE = """
import pytest

@pytest.mark.checklist("verify.health-green")
def test_health_answers(http, evidence, measure):
    response = http.get("/api/health")
    assert response.status == 200, response.describe()
    evidence("health body", response.json(), "json")
    measure("health_latency_ms", 700)  # warning level: passes, recorded

@pytest.mark.manual
@pytest.mark.checklist("team.war-room")
def test_war_room_is_staffed(signoff):
    signoff("team.war-room")

def test_csp_is_set():
    assert False, "Content-Security-Policy header missing"
"""

GOVERNANCE = f"""
[[signoff]]
item = "team.war-room"
who = "Dana Reyes"
role = "Release Manager"
when = 2026-01-01T10:00:00Z
evidence = "https://wiki.example.com/war-room"

[[waiver]]
check = "smoke/test_suite.py::test_csp_is_set"
justification = "CSP behind a flag next sprint"
approver = "Sam Ito (CISO)"
expires = {LATER}
"""


@pytest.fixture
def go_run(project: Project) -> Project:
    project.signoffs(GOVERNANCE)
    project.tests("smoke", test_suite=SUITE)
    result = project.run(*REPORT_ARGS)
    assert result.ret == 0, result.stdout.str()
    return project


def test_verdict_json_holds_decision_reasons_and_checks(go_run: Project) -> None:
    doc = go_run.verdict()
    assert doc["decision"] == "GO"
    assert doc["exit_code"] == 0
    assert doc["reasons"] == [] and doc["rollback_reasons"] == []
    assert any("health_latency_ms 700 ms is above the warning threshold" in w for w in doc["warnings"])
    assert any("failure waived by Sam Ito (CISO)" in w for w in doc["warnings"])
    assert (doc["environment"], doc["environment_kind"], doc["release"], doc["target"]) == (
        "local", "other", "2.0.0", go_run.url)
    assert doc["markers"] == ["smoke"]
    checks = {c["nodeid"].split("::")[-1]: c for c in doc["checks"]}
    assert {n: c["outcome"] for n, c in checks.items()} == {
        "test_health_answers": "passed", "test_war_room_is_staffed": "passed", "test_csp_is_set": "waived"}
    health = checks["test_health_answers"]
    assert health["checklist"] == ["verify.health-green"]
    assert health["measurements"][0]["level"] == "warning"
    assert health["measurements"][0]["value"] == 700
    rows = {r["id"]: r for r in doc["checklist"]}
    assert rows["team.war-room"]["status"] == "verified"
    assert rows["verify.health-green"]["status"] == "verified"
    assert doc["signoffs"][0]["who"] == "Dana Reyes"
    assert doc["waivers"][0]["approver"] == "Sam Ito (CISO)"


def test_summary_and_go_announcement(go_run: Project) -> None:
    summary = go_run.report("summary.md").read_text()
    assert "Cutover verdict: **GO**" in summary
    assert "| `test_health_answers` | health_latency_ms | 700 ms | 500 ms | 1,000 ms | warning |" in summary
    announcement = go_run.report("announcement.md").read_text()
    title = announcement.splitlines()[0]
    assert title.startswith("# ") and "2.0.0" in title and "rollback" not in title.lower()


def test_junit_xml_carries_markers_and_checklist_ids(go_run: Project) -> None:
    tree = ET.parse(go_run.report("junit.xml"))  # noqa: S314 - the report this test run just wrote
    props = {(p.get("name"), p.get("value")) for p in tree.iter("property")}
    assert ("cutover_checklist", "verify.health-green") in props
    assert ("cutover_markers", "smoke") in props
    assert any(name == "cutover_measurements" for name, _ in props)


def test_html_has_banner_thresholds_matrix_signoffs_and_waivers(go_run: Project) -> None:
    html = go_run.report("go-no-go.html").read_text()
    for fragment in ('id="cutover-verdict"', "<h1>GO</h1>", "id='cutover-thresholds'",
                     "health_latency_ms", "class='cutover-matrix'", "team.war-room",
                     "<h2>Sign-offs</h2>", "id='cutover-signoffs'", "Dana Reyes",
                     "<h2>Waivers</h2>", "id='cutover-waivers'", "CSP behind a flag next sprint",
                     "failure waived by Sam Ito (CISO)"):
        assert fragment in html, fragment


def test_evidence_files_match_their_sha256_manifest(go_run: Project) -> None:
    folder = go_run.report("evidence")
    lines = (folder / "SHA256SUMS").read_text().splitlines()
    names = [line.split("  ", 1)[1] for line in lines]
    assert any(n.endswith("health_body.json") for n in names)
    assert any(n.endswith("HTTP_transcript.txt") for n in names)
    assert any("sign-off_team.war-room" in n for n in names)
    for line in lines:
        digest, name = line.split("  ", 1)
        assert hashlib.sha256((folder / name).read_bytes()).hexdigest() == digest, name
    transcript = next(folder.glob("*test_health_answers/*HTTP_transcript.txt")).read_text()
    assert "> GET " + go_run.url + "/api/health" in transcript and "< 200" in transcript


# The wording of the drafts is the report author's; these pin only what each draft must hold.
@pytest.mark.parametrize(("body", "decision", "heading"), [
    ("assert False, 'login broken'", "NO-GO", "NO-GO"),
    ("measure('error_rate_pct', 9)", "ROLLBACK", "rollback"),
])
def test_announcement_for_no_go_and_rollback(project: Project, body: str, decision: str,
                                             heading: str) -> None:
    project.tests(test_a=f"def test_a(measure):\n    {body}\n")
    project.run(*REPORT_ARGS)
    text = project.report("announcement.md").read_text()
    title = text.splitlines()[0]
    assert title.startswith("# ") and heading.lower() in title.lower() and "2.0.0" in title
    if decision == "ROLLBACK":
        assert "rollout undo deployment/" in text
        assert "error_rate_pct 9% is above the rollback trigger 5%" in text
    else:
        assert "test_a.py::test_a" in text
    assert project.verdict()["decision"] == decision
    assert f'<h1>{decision}</h1>' in project.report("go-no-go.html").read_text()


# --- secrets --------------------------------------------------------------------------------

DSN_PASSWORD = "DSN-PASSWORD-77x"
BEARER = "BEARER-TOKEN-99x"
COOKIE = "COOKIE-SECRET-42"
KNOWN = "KNOWN-API-SECRET-5150"

LEAKY = f"""
import pytest

def test_database_reachable(target):
    dsn = target.secret("T_DSN")
    print("connecting to", dsn)
    assert False, f"could not connect to {{dsn}}"

def test_api_rejects_bad_token():
    headers = {{"Authorization": "Bearer {BEARER}"}}
    assert headers == {{}}, f"sent Authorization: Bearer {BEARER}"

def test_session_cookie_is_secure(http, evidence):
    response = http.get("/login")
    evidence("cookies", response.set_cookies)
    assert "Secure" in response.headers["Set-Cookie"], dict(response.headers)

def test_known_secret_in_a_waived_failure(target):
    assert False, "grafana said no to " + target.secret("T_GRAFANA")
"""


def test_planted_secrets_appear_in_no_report_and_not_in_the_terminal(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_DSN", f"postgresql://ils_app:{DSN_PASSWORD}@db.internal:5432/ils")
    monkeypatch.setenv("T_GRAFANA", KNOWN)
    project.config('database = { dsn_env = "T_DSN" }\ngrafana = { url = "https://g.example.com", '
                   'token_env = "T_GRAFANA" }\n',
                   base=project_config_with_local_last())
    project.signoffs(f'[[waiver]]\ncheck = "test_leaky.py::test_known_secret_in_a_waived_failure"\n'
                     f'justification = "j"\napprover = "a"\nexpires = {LATER}\n')
    project.tests(test_leaky=LEAKY)
    result = project.run(*REPORT_ARGS, "-rA")
    assert result.ret == 1
    terminal = result.stdout.str() + result.stderr.str()
    assert "could not connect to ***" in terminal  # redacted, not dropped
    files = {p: p.read_text(errors="replace") for p in project.path.joinpath("reports").rglob("*")
             if p.is_file()}
    assert {p.name for p in files} >= {"verdict.json", "summary.md", "announcement.md", "junit.xml",
                                        "go-no-go.html", "SHA256SUMS"}
    for secret in (DSN_PASSWORD, BEARER, COOKIE, KNOWN):
        assert secret not in terminal, secret
        leaks = [p.name for p, text in files.items() if secret in text]
        assert leaks == [], f"{secret} leaked into {leaks}"


def project_config_with_local_last() -> str:
    """The standard config with the local environment last, so extra lines land in its table."""
    return """
    [cutover]
    default_environment = "local"

    [environments.production]
    kind = "production"
    base_url = "{url}"

    [environments.local]
    kind = "other"
    base_url = "{url}"
    release = "2.0.0"
    """


# --- xdist ----------------------------------------------------------------------------------

XDIST_SUITE = """
import pytest

@pytest.mark.parametrize("n", range(6))
def test_pass(n):
    pass

@pytest.mark.checklist("team.war-room")
def test_unverified():
    import pytest_cutover
    pytest_cutover.unverified("grafana token missing")

def test_warns(measure):
    measure("p95_ms", 600)

@pytest.mark.rollback_trigger("critical_flow")
def test_flow(request):
    assert request.config.getoption("--cutover-env") != "production", "checkout broken"
"""


@pytest.mark.parametrize(("env", "decision", "code"), [("local", "NO-GO", 1), ("production", "ROLLBACK", 10)])
def test_parallel_run_gives_the_serial_verdict(project: Project, env: str, decision: str,
                                               code: int) -> None:
    project.tests("smoke", test_x=XDIST_SUITE)
    verdicts = []
    for extra in ([], ["-n", "2"]):
        result = project.pytester.runpytest_subprocess("--cutover-env", env, *extra)
        assert result.ret == code, result.stdout.str()
        result.stdout.fnmatch_lines([f"*cutover verdict: {decision}*"])
        doc = project.verdict()
        verdicts.append({k: doc[k] for k in ("decision", "reasons", "warnings", "rollback_reasons",
                                             "counts", "markers", "environment")}
                        | {"checks": sorted((c["nodeid"], c["outcome"], json.dumps(c["measurements"]),
                                             tuple(c["checklist"])) for c in doc["checks"])})
    assert verdicts[0] == verdicts[1]


