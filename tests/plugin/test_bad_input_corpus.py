"""Bad input gets one clear answer and changes nothing (issue 13).

A corpus of operator mistakes in cutover.toml, signoffs.toml, the command line and environment
variables. For each: exit 4; one message listing every problem, naming the file and the key; no
traceback; no connection to the target (a loopback listener counts them); and the report files of
the earlier good run byte-identical.
"""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from cutover_project import Project

REPORT_ARGS = ("--html=reports/go-no-go.html", "--self-contained-html", "--junitxml=reports/junit.xml")
REPORT_FILES = ("go-no-go.html", "junit.xml", "verdict.json", "summary.md", "announcement.md")

GOOD = """
[cutover]
default_environment = "local"

[environments.local]
kind = "other"
base_url = "{url}"
release = "2.0.0"

[environments.staging]
kind = "staging"
base_url = "{url}"
release = "2.0.0"

[environments.production]
kind = "production"
base_url = "{url}"
release = "2.0.0"
"""

# The check sends a request to the target: a run that got past validation would be counted.
SUITE = '''
import pytest

@pytest.mark.checklist("verify.health-green")
def test_health_answers(http):
    assert http.get("/api/health").status == 200

def test_csp_is_set():
    pass
'''

SIGNOFF_OK = """
[[signoff]]
item = "team.war-room"
who = "Dana Reyes"
role = "Release Manager"
when = 2026-01-01T10:00:00Z
evidence = "https://wiki.example.com/war-room"
"""


class _Counting(BaseHTTPRequestHandler):
    server_version, sys_version = "cutover-test-target", ""  # no version banner to report

    def do_GET(self) -> None:  # noqa: N802 (http.server's name)
        body = b'{"status": "ok"}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: Any) -> None:
        pass


class CountingServer(ThreadingHTTPServer):
    """An HTTP target that counts every connection made to it."""

    connections = 0

    def verify_request(self, request: Any, client_address: Any) -> bool:
        self.connections += 1
        return True


@pytest.fixture(scope="module")
def listener() -> Iterator[CountingServer]:
    server = CountingServer(("127.0.0.1", 0), _Counting)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def _unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Case:
    expected: list[str]  # fnmatch fragments, each one problem: file and key named
    config: str = ""  # lines added to the local environment ("" = none)
    replace: tuple[str, str] | None = None
    config_bytes: bytes | None = None
    signoffs: str | bytes | None = None  # text, bytes, or "DIR"
    args: tuple[str, ...] = ()
    env: dict[str, str] = field(default_factory=dict)
    files: dict[str, str | bytes] = field(default_factory=dict)
    extra: str = ""  # appended to the whole config


CASES: dict[str, Case] = {
    # --- bytes and shapes -----------------------------------------------------------------------
    "config not UTF-8": Case(["*cutover.toml' is not UTF-8 text*"],
                             config_bytes=b'[cutover]\nx = "\xff\xfe"\n'),
    "signoffs not UTF-8": Case(["*signoffs.toml' is not UTF-8 text*"],
                               signoffs=b'[[signoff]]\nwho = "\xe9"\n'),
    "signoff is a string": Case(["*signoffs.toml: signoff: found str 'team.war-room'; expected "
                                 "[[signoff]] tables*"],
                                signoffs='signoff = "team.war-room"\n'),
    "signoffs is a directory": Case(["*signoffs.toml' is a directory, not a TOML file*"], signoffs="DIR"),
    "signoff entries not tables": Case(["*signoffs.toml: signoff: found list*expected [[signoff]] tables*"],
                                       signoffs="signoff = [1, 2]\n"),
    "config invalid TOML": Case(["*cutover.toml' is not valid TOML*"], config_bytes=b"[environments.local\n"),
    "signoffs invalid TOML": Case(["*signoffs.toml' is not valid TOML*"], signoffs="[[signoff]\n"),
    "config file missing": Case(["*config file '*nope.toml' does not exist (chosen by --cutover-config)*"],
                                args=("--cutover-config=nope.toml",)),
    "environment not a table": Case(["*cutover.toml: environments.qa: found 'x'; expected a table*"],
                                    extra='\n[environments]\nqa = "x"\n'),
    "env_file not UTF-8": Case(["*cutover.toml: environments.local.env_file: *secrets.env' is not UTF-8 "
                                "text*"],
                               config='env_file = "secrets.env"\n', files={"secrets.env": b"A=\xff\n"}),
    # --- schema: unknown keys, types, ranges ----------------------------------------------------
    "unknown threshold name": Case(["*environments.local.thresholds.p59_ms: unknown name (did you mean "
                                    "'p99_ms'?)*"],
                                   config="thresholds.p59_ms = { warn = 1 }\n"),
    "negative timeout": Case(["*environments.local.timeout_s: found -1; expected a number > 0*"],
                             config="timeout_s = -1\n"),
    "zero timeout": Case(["*environments.local.timeout_s: found 0; expected a number > 0*"],
                         config="timeout_s = 0\n"),
    "negative load duration": Case(["*environments.local.load.duration_s: found -5; expected a number > 0*"],
                                   config="load = { duration_s = -5 }\n"),
    "zero e2e action timeout": Case(["*environments.local.e2e.action_timeout_ms: found 0; expected a "
                                     "number > 0*"],
                                    config="e2e = { action_timeout_ms = 0 }\n"),
    "negative replicas": Case(["*environments.local.kubernetes.min_replicas: found -1; expected a "
                               "number >= 0*"],
                              config="kubernetes = { min_replicas = -1 }\n"),
    "status out of range": Case(["*environments.local.endpoints.health.expect_status: found 999*<= 599*"],
                                config='endpoints.health = { path = "/api/health", expect_status = 999 }\n'),
    "port out of range": Case(["*environments.local.http_url: found 'http://127.0.0.1:99999'*out of range*"],
                              config='http_url = "http://127.0.0.1:99999"\n'),
    "URL scheme": Case(["*environments.local.prometheus.url: found 'ftp://prom'*scheme 'ftp'*"],
                       config='prometheus = { url = "ftp://prom" }\n'),
    "ca_bundle not PEM": Case(["*environments.local.ca_bundle: *ca.pem' holds no PEM certificate*"],
                              config='ca_bundle = "ca.pem"\n', files={"ca.pem": "not a certificate\n"}),
    "ca_bundle bad PEM block": Case(["*environments.local.ca_bundle: *ca.pem' holds a PEM block that is "
                                     "not a valid*"],
                                    config='ca_bundle = "ca.pem"\n',
                                    files={"ca.pem": "-----BEGIN CERTIFICATE-----\nAAAA\n-----END "
                                                     "CERTIFICATE-----\n"}),
    "empty release": Case(["*environments.local.release: found an empty string; expected a non-empty value*"],
                          replace=('release = "2.0.0"', 'release = ""')),
    "account without password_env": Case(["*environments.local.accounts.smoke.password_env: missing*"],
                                         config='accounts.smoke = { email_env = "T_EMAIL" }\n',
                                         env={"T_EMAIL": "qa@example.com"}),
    "account is a string": Case(["*environments.local.accounts.smoke: found 'qa@example.com'; expected "
                                 "a table*"],
                                config='accounts.smoke = "qa@example.com"\n'),
    "mistake in another environment": Case(["*environments.production.timeout_s: found -3; expected a "
                                            "number > 0*"],
                                           replace=('kind = "production"\n',
                                                    'kind = "production"\ntimeout_s = -3\n')),
    "misspelt profile key": Case(["*environments.local.profile.health_path: unknown key (did you mean "
                                  "'health_paths'?)*"],
                                 config='profile = { health_path = ["/h"] }\n'),
    "misspelt not_applicable name": Case(["*environments.local.not_applicable.cnd: unknown name (did "
                                          "you mean 'cdn'?)*"],
                                         config='not_applicable = { cnd = "no CDN" }\n'),
    "unknown key": Case(["*environments.local.databse: unknown key (did you mean 'database'?)*"],
                        config='databse = { dsn_env = "X" }\n'),
    "unknown nested key": Case(["*environments.local.redis.url_enf: unknown key (did you mean 'url_env'?)*"],
                               config='redis = { url_enf = "X" }\n'),
    "wrong type": Case(["*environments.local.timeout_s: found 'ten' (str); expected a number*"],
                       config='timeout_s = "ten"\n'),
    "kind typo": Case(["*environments.local.kind: found 'prod'; expected one of production, staging, other*"],
                      replace=('kind = "other"', 'kind = "prod"')),
    "kind missing": Case(["*environments.local.kind: missing*"], replace=('kind = "other"\n', "")),
    "threshold key typo": Case(["*environments.local.thresholds.p95_ms: unknown threshold key(s) warning*"],
                               config="thresholds.p95_ms = { warning = 1 }\n"),
    "inverted threshold": Case(["*environments.local.thresholds.p95_ms: warn 900 is above crit 100*"],
                               config="thresholds.p95_ms = { warn = 900, crit = 100 }\n"),
    "variable name with a space": Case(["*environments.local.redis.url_env: found 'MY REDIS'; expected "
                                        "the NAME*"],
                                       config='redis = { url_env = "MY REDIS" }\n'),
    "cutover key typo": Case(["*cutover.toml: cutover.report: unknown key (did you mean 'reports'?)*"],
                             replace=("[cutover]", '[cutover]\nreport = "r"')),
    "unknown top-level table": Case(["*cutover.toml: enviroments: unknown top-level table (did you mean "
                                     "'environments'?)*"],
                                    extra='\n[enviroments.x]\nkind = "other"\n'),
    # --- secrets in variables, parsed offline ---------------------------------------------------
    "DSN port out of range": Case(["*environments.local.database.dsn_env: the value of $T_DSN is not "
                                   "usable: its port*"],
                                  config='database = { dsn_env = "T_DSN" }\n',
                                  env={"T_DSN": "postgresql://app:Hunter2-Secret@db:543210/ils"}),
    "DSN wrong scheme": Case(["*database.dsn_env: the value of $T_DSN is not usable: scheme 'mysql'*"],
                             config='database = { dsn_env = "T_DSN" }\n',
                             env={"T_DSN": "mysql://app:Hunter2-Secret@db/ils"}),
    "DSN typo in keyword form": Case(["*database.dsn_env: the value of $T_DSN is not usable: unknown "
                                      "keyword(s) pasword*"],
                                     config='database = { dsn_env = "T_DSN" }\n',
                                     env={"T_DSN": "host=db dbname=ils user=app pasword=Hunter2-Secret"}),
    "Redis URL scheme": Case(["*redis.url_env: the value of $T_REDIS is not usable: scheme 'http'*"],
                             config='redis = { url_env = "T_REDIS" }\n',
                             env={"T_REDIS": "http://:Hunter2-Secret@cache:6379/0"}),
    "secret variable unset": Case(["*environments.local: secret variable 'T_UNSET' is not set*"],
                                  config='grafana = { url = "http://g.example.com", '
                                         'token_env = "T_UNSET" }\n'),
    "load variable": Case(["*environments.local.load (with $CUTOVER_LOAD_*): CUTOVER_LOAD_USERS='many' "
                           "is not a valid int*"],
                          env={"CUTOVER_LOAD_USERS": "many"}),
    "post-launch window variable": Case(["*$CUTOVER_POST_LAUNCH_WINDOW='1 hour': expected a number and "
                                         "s, m, h or d*"],
                                        env={"CUTOVER_POST_LAUNCH_WINDOW": "1 hour"}),
    "post-launch window key": Case(["*environments.local.load.post_launch_window: found '1 day'; "
                                    "expected a value "
                                    "like 1h, 24h, 7d*"], config='load = { post_launch_window = "1 day" }\n'),
    "snapshot variable": Case(["*$CUTOVER_SNAPSHOT='maybe': expected 'take'*"],
                              env={"CUTOVER_SNAPSHOT": "maybe"}),
    # --- sign-offs and waivers ------------------------------------------------------------------
    "future sign-off": Case(["*signoffs.toml: signoff #1 (team.war-room).when: 2999-01-01 10:00 UTC is "
                             "in the future*"],
                            signoffs=SIGNOFF_OK.replace("2026-01-01", "2999-01-01")),
    "unknown checklist id": Case(["*signoffs.toml: signoff #1 (team.war-rom).item: 'team.war-rom' is no "
                                  "checklist id "
                                  "(did you mean 'team.war-room'?)*"],
                                 signoffs=SIGNOFF_OK.replace('"team.war-room"', '"team.war-rom"')),
    "invalid sign-off date": Case(["*signoffs.toml: signoff #1 (team.war-room).when: found 'last "
                                   "friday'; expected a "
                                   "TOML date or date-time (2026-11-20*"],
                                  signoffs=SIGNOFF_OK.replace("2026-01-01T10:00:00Z", '"last friday"')),
    "sign-off missing keys": Case(["*signoffs.toml: signoff #1 (team.war-room): missing who, role, "
                                   "evidence*"],
                                  signoffs='[[signoff]]\nitem = "team.war-room"\nwhen = 2026-01-01\n'),
    "waiver for no check": Case(["*signoffs.toml: waiver #1.check: "
                                 "'smoke/test_suite.py::test_csp_is_sett' matches no "
                                 "check of the suite (did you mean "
                                 "'smoke/test_suite.py::test_csp_is_set'?)*"],
                                signoffs='[[waiver]]\ncheck = "smoke/test_suite.py::test_csp_is_sett"\n'
                                         'justification = "j"\napprover = "a"\nexpires = 2026-12-15\n'),
    "waiver unknown key": Case(["*signoffs.toml: waiver #1.expiry: unknown key (did you mean 'expires'?)*"],
                               signoffs='[[waiver]]\ncheck = "smoke/test_suite.py::test_csp_is_set"\n'
                                        'justification = "j"\napprover = "a"\nexpiry = 2026-12-15\n'),
    "unknown signoffs table": Case(["*signoffs.toml: signof: unknown table (did you mean 'signoff'?)*"],
                                   signoffs='[[signof]]\nitem = "a"\n'),
    # --- options, variables and where a choice came from ----------------------------------------
    "unknown environment from $CUTOVER_ENV": Case(["*unknown cutover environment 'prod' (chosen by "
                                                   "$CUTOVER_ENV)*"],
                                                  env={"CUTOVER_ENV": "prod"}),
    "unknown environment from option": Case(["*unknown cutover environment 'stagin' (chosen by "
                                             "--cutover-env); "
                                             "did you mean 'staging'?*"], args=("--cutover-env=stagin",)),
    "allow-destructive names nothing": Case(["*--cutover-allow-destructive='prod' names no environment*"],
                                            args=("--cutover-allow-destructive=prod",)),
    "allow-destructive names another environment": Case(
        ["*--cutover-allow-destructive='production' does not name the environment under test ('local')*"],
        args=("--cutover-allow-destructive=production",)),
    "-m typo": Case(["*-m 'smok': 'smok' is no registered marker (did you mean 'smoke'?)*"],
                    args=("-m", "smok")),
    "reports folder is a file": Case(["*--cutover-reports: *not-a-folder' is a file; expected a folder*"],
                                     args=("--cutover-reports=not-a-folder",), files={"not-a-folder": "x"}),
    "include not the reference run file": Case(["*environments.local.include: *other.toml' does not exist"],
                                               config='include = "other.toml"\n'),
    "include is the reference run file": Case(["*environments.local.include: *run/local.toml' does not "
                                               "exist; the "
                                               "reference deployment writes this file: run `python -m "
                                               "ilsref up` first*"],
                                              config='include = "${ILSREF_HOME:-.ilsref}/run/local.toml"\n'),
    "include with a mistake": Case(["*inc.toml: environments.local.timeout_s: found -2; expected a "
                                    "number > 0*"],
                                   config='include = "inc.toml"\n', files={"inc.toml": "timeout_s = -2\n"}),
    "unknown e2e flow": Case(["*environments.local.e2e.flows.logn: unknown flow*"],
                             config='e2e = { flows = { logn = { critical = false } } }\n'),
    "load profile unknown in another environment": Case(
        ["*environments.staging.load: load profile 'stagged' is unknown*"],
        replace=('kind = "staging"\n', 'kind = "staging"\nload = { profile = "stagged" }\n')),
    "choice sources named": Case(["*(config *cutover.toml chosen by ini cutover_config; "
                                  "environment local chosen by $CUTOVER_ENV; sign-offs *signoffs.toml)*"],
                                 config="timeout_s = -1\n", env={"CUTOVER_ENV": "local"}),
    # --- every kind at once: one message, all of them -------------------------------------------
    "config, sign-off and option problems together": Case(
        ["*cutover.toml: environments.local.timeout_s: found -1*",
         "*signoffs.toml: signoff #1 (team.war-room).when: 2999-01-01 10:00 UTC is in the future*",
         "*--cutover-allow-destructive='nope' names no environment*",
         "*-m 'smok': 'smok' is no registered marker*"],
        config="timeout_s = -1\n", signoffs=SIGNOFF_OK.replace("2026-01-01", "2999-01-01"),
        args=("--cutover-allow-destructive=nope", "-m", "smok")),
}


def _digest(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and "history" not in p.parts}


@pytest.fixture
def good_project(project: Project, listener: CountingServer) -> Project:
    """A project whose last run was good: the five report files exist."""
    project.url = f"http://127.0.0.1:{listener.server_address[1]}"
    project.config(base=GOOD)
    project.signoffs(SIGNOFF_OK)
    project.tests("smoke", test_suite=SUITE)
    result = project.run(*REPORT_ARGS)
    assert result.ret == 0, result.stdout.str()
    assert all(project.report(name).is_file() for name in REPORT_FILES)
    assert listener.connections > 0  # the check does reach the target when the input is good
    return project


def _apply(project: Project, case: Case, monkeypatch: pytest.MonkeyPatch) -> None:
    config = GOOD.replace('release = "2.0.0"\n', 'release = "2.0.0"\n' + case.config, 1)
    if case.replace:
        config = config.replace(*case.replace, 1)
    config += case.extra
    if case.config_bytes is not None:
        (project.path / "cutover.toml").write_bytes(case.config_bytes)
    else:
        (project.path / "cutover.toml").write_text(config.replace("{url}", project.url))
    signoffs = project.path / "signoffs.toml"
    if case.signoffs == "DIR":
        signoffs.unlink()
        signoffs.mkdir()
    elif isinstance(case.signoffs, bytes):
        signoffs.write_bytes(case.signoffs)
    elif case.signoffs is not None:
        signoffs.write_text(case.signoffs)
    for name, content in case.files.items():
        path = project.path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)
    for name, value in case.env.items():
        monkeypatch.setenv(name, value)


def test_the_corpus_covers_at_least_45_mistakes() -> None:
    assert len(CASES) >= 45


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input_is_exit_4_one_message_nothing_sent_reports_kept(
        good_project: Project, listener: CountingServer, monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    case = CASES[name]
    before = _digest(good_project.path / "reports")
    _apply(good_project, case, monkeypatch)
    listener.connections = 0
    result = good_project.run(*REPORT_ARGS, *case.args)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 4, output
    stderr = result.stderr.str()
    assert stderr.count("ERROR:") == 1, stderr  # one message
    message = stderr[stderr.index("ERROR:"):]
    lines = [ln.strip() for ln in message.splitlines() if ln.strip()]
    for fragment in case.expected:  # every problem, each on its own line of the one message
        assert any(_fnmatch(ln, fragment) for ln in lines), f"{fragment!r} not in:\n{message}"
    assert "Traceback" not in output and "INTERNALERROR" not in output
    assert "Hunter2-Secret" not in output  # a value that could not be used is never echoed
    assert listener.connections == 0, "the target was contacted"
    assert _digest(good_project.path / "reports") == before


def _fnmatch(line: str, pattern: str) -> bool:
    from fnmatch import fnmatchcase

    pattern = pattern.replace("[", "[[]")  # [[signoff]] is text here, not a character class
    return fnmatchcase(line, pattern)


@pytest.mark.parametrize("args", [("--co",), ("--help",), ("-k", "nothing_matches_this")])
def test_collect_only_help_and_an_interrupted_collection_write_no_report(
        good_project: Project, args: tuple[str, ...]) -> None:
    before = _digest(good_project.path / "reports")
    result = good_project.run(*REPORT_ARGS, *args)
    if args[0] == "--co":
        result.stdout.fnmatch_lines(["cutover: no report written (nothing was judged); the last run's "
                                     "reports are kept in *reports"])
    if args[0] == "-k":  # no check selected (exit 5): a verdict run, reports rewritten together
        return
    assert _digest(good_project.path / "reports") == before


def test_interrupted_collection_keeps_every_report(good_project: Project) -> None:
    before = _digest(good_project.path / "reports")
    good_project.tests("smoke", test_broken="import no_such_module_anywhere\n")
    result = good_project.run(*REPORT_ARGS)
    assert result.ret == 2
    assert _digest(good_project.path / "reports") == before


def test_unknown_checklist_id_in_code_keeps_every_report(good_project: Project) -> None:
    before = _digest(good_project.path / "reports")
    good_project.tests("smoke", test_c="import pytest\n\n@pytest.mark.checklist('no.such')\ndef "
                                       "test_c():\n    pass\n")
    result = good_project.run(*REPORT_ARGS)
    assert result.ret == 4
    assert _digest(good_project.path / "reports") == before


def test_cutover_reports_moves_every_report_file(good_project: Project) -> None:
    before = _digest(good_project.path / "reports")
    result = good_project.run(*REPORT_ARGS, "--cutover-reports=elsewhere")
    assert result.ret == 0, result.stdout.str()
    for name in REPORT_FILES:
        assert (good_project.path / "elsewhere" / name).is_file(), name
    assert _digest(good_project.path / "reports") == before  # the default folder is untouched


def test_the_five_files_of_one_run_agree(good_project: Project) -> None:
    import json
    import xml.etree.ElementTree as ET

    reports = good_project.path / "reports"
    doc = json.loads((reports / "verdict.json").read_text())
    run_id = doc["run_id"]
    assert run_id in (reports / "summary.md").read_text()
    assert run_id in (reports / "go-no-go.html").read_text()
    tree = ET.parse(reports / "junit.xml")  # noqa: S314 - the report this run just wrote
    props = {p.get("name"): p.get("value") for p in tree.iter("property")}
    assert props.get("cutover_run_id") == run_id
    assert doc["decision"] in (reports / "announcement.md").read_text() or doc["decision"] == "GO"


def test_evidence_of_an_earlier_run_does_not_linger(good_project: Project) -> None:
    stale = good_project.path / "reports" / "evidence" / "old_check" / "01-old.txt"
    stale.parent.mkdir(parents=True)
    stale.write_text("from an earlier run")
    assert good_project.run(*REPORT_ARGS).ret == 0
    assert not stale.exists()


def test_a_trylast_conftest_configure_sees_the_settings(good_project: Project) -> None:
    """The root conftest.py sets NODE_EXTRA_CA_CERTS from the settings in a trylast configure."""
    (good_project.path / "conftest.py").write_text(
        "import pytest\nfrom pytest_cutover.stash import settings_key\n\n"
        "@pytest.hookimpl(trylast=True)\ndef pytest_configure(config):\n"
        "    print('SETTINGS-SEEN', settings_key in config.stash)\n")
    result = good_project.run(*REPORT_ARGS, "-s", "-m", "smoke and not skip")
    assert "SETTINGS-SEEN True" in result.stdout.str() + result.stderr.str()
    assert result.ret in (0, 5), result.stdout.str()
