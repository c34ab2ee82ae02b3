"""Markers, folder markers, environment precedence shown in the header, inertness without a
config, and operator mistakes ending the run with exit code 4 and one readable message."""

from __future__ import annotations

import json
from fnmatch import fnmatch

import pytest
from cutover_project import CONFIG, Project

PASSING = {"test_a": "def test_a():\n    pass\n"}


def test_markers_are_registered_and_listed(project: Project) -> None:
    result = project.run("--markers")
    result.stdout.fnmatch_lines([
        "@pytest.mark.readiness:*", "@pytest.mark.smoke:*", "@pytest.mark.e2e:*",
        "@pytest.mark.load:*", "@pytest.mark.rollback_drill:*", "@pytest.mark.post_launch:*",
        "@pytest.mark.destructive:*", "@pytest.mark.manual:*", "@pytest.mark.checklist(*ids):*",
        "@pytest.mark.rollback_trigger(name):*", "@pytest.mark.non_blocking:*"])


def test_cutover_markers_pass_strict_markers_and_typos_do_not(project: Project) -> None:
    project.tests(test_m="""
        import pytest

        @pytest.mark.smoke
        @pytest.mark.destructive
        @pytest.mark.manual
        @pytest.mark.non_blocking
        @pytest.mark.rollback_trigger("latency")
        @pytest.mark.checklist("infra.redis")
        def test_all_markers():
            pass
    """)
    assert project.run("--strict-markers", "-m", "smoke").ret == 0
    project.tests(test_typo="import pytest\n\n@pytest.mark.smok\ndef test_t():\n    pass\n")
    result = project.run("--strict-markers")
    assert result.ret == 2
    result.stdout.fnmatch_lines(["*'smok' not found in `markers` configuration option*"])


@pytest.mark.parametrize(("folder", "marker"), [
    ("readiness", "readiness"), ("smoke", "smoke"), ("e2e", "e2e"), ("load", "load"),
    ("rollback", "rollback_drill"),
])
def test_folder_gives_its_marker(project: Project, folder: str, marker: str) -> None:
    # module names unique in this process: tests/checks already imports test_e2e, test_load …
    for f in ("readiness", "smoke", "e2e", "load", "rollback"):
        project.tests(f, **{f"test_probe_{f}": f"def test_in_{f}():\n    pass\n"})
    result = project.run("-m", marker)
    assert result.ret == 0
    result.assert_outcomes(passed=1, deselected=4)
    check = project.verdict()["checks"][0]
    assert check["nodeid"] == f"{folder}/test_probe_{folder}.py::test_in_{folder}"
    assert check["markers"] == [marker]
    assert f"-m {marker}" in project.verdict()["markers"]


@pytest.mark.parametrize(("args", "env", "ini", "chosen", "source"), [
    (["--cutover-env", "staging"], "poison-env", "poison-ini", "staging", "--cutover-env"),
    ([], "staging", "poison-ini", "staging", "$CUTOVER_ENV"),
    ([], None, "staging", "staging", "ini cutover_env"),
    ([], None, None, "local", "[cutover] default_environment"),
])
def test_environment_precedence_is_shown_in_the_header(
        project: Project, monkeypatch: pytest.MonkeyPatch, args: list[str], env: str | None,
        ini: str | None, chosen: str, source: str) -> None:
    if env:
        monkeypatch.setenv("CUTOVER_ENV", env)
    project.ini("cutover_config = cutover.toml", *([f"cutover_env = {ini}"] if ini else []))
    project.tests(**PASSING)
    result = project.run(*args)
    assert result.ret == 0, result.stdout.str()
    kind = {"staging": "staging", "local": "other"}[chosen]
    result.stdout.fnmatch_lines([f"cutover: environment '{chosen}' (kind {kind}; chosen by {source}) "
                                 f"target {project.url}"])
    assert project.verdict()["environment"] == chosen


def test_config_option_beats_variable_and_ini(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    (project.path / "other.toml").write_text(CONFIG.format(url=project.url).replace(
        '"local"', '"staging"', 1))
    monkeypatch.setenv("CUTOVER_CONFIG", "poison.toml")
    project.ini("cutover_config = poison-too.toml")
    project.tests(**PASSING)
    result = project.run("--cutover-config", "other.toml")
    assert result.ret == 0, result.stdout.str() + result.stderr.str()
    result.stdout.fnmatch_lines(["cutover: environment 'staging' *", "cutover: config other.toml "
                                 "(chosen by --cutover-config)*"])


def test_plugin_is_inert_without_a_cutover_config(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\naddopts = -p no:locust -p no:playwright\n")
    pytester.makepyfile("def test_ok():\n    pass\n\ndef test_bad():\n    assert 0\n")
    result = pytester.runpytest()
    assert result.ret == 1
    result.assert_outcomes(passed=1, failed=1)
    assert "cutover verdict" not in result.stdout.str()
    assert "cutover: environment" not in result.stdout.str()
    assert not (pytester.path / "reports").exists()


def test_collect_only_neither_fails_nor_overwrites_reports(project: Project) -> None:
    project.tests(**PASSING)
    result = project.run("--collect-only", "-q")
    assert result.ret == 0, result.stdout.str()
    assert not project.report("verdict.json").exists()


@pytest.mark.parametrize("option", ["--setup-plan", "--setup-only", "--fixtures", "--fixtures-per-test"])
def test_options_that_run_no_check_judge_nothing_and_keep_the_last_reports(project: Project,
                                                                             option: str) -> None:
    # --setup-plan and --setup-only report every check passed without calling it: never a GO
    project.tests(**PASSING)
    assert project.run().ret == 0
    kept = {name: project.report(name).read_bytes() for name in ("verdict.json", "summary.md")}
    ledger = project.report("history/ledger.jsonl").read_bytes()
    result = project.run(option)
    assert result.ret == 0, result.stdout.str()
    assert "cutover verdict" not in result.stdout.str()
    result.stdout.fnmatch_lines(["cutover: no report written (nothing was judged)*"])
    assert {name: project.report(name).read_bytes() for name in kept} == kept
    assert project.report("history/ledger.jsonl").read_bytes() == ledger


TWO_SMOKE = {"test_a": "def test_one():\n    pass\n\ndef test_two():\n    pass\n"}


@pytest.mark.parametrize("narrowing", [["-k", "one"], ["--deselect", "smoke/test_a.py::test_two"]],
                         ids=["-k", "--deselect"])
def test_a_narrowed_run_says_so_and_covers_no_phase_in_the_ledger(project: Project,
                                                                    narrowing: list[str]) -> None:
    from pytest_cutover.ledger import Ledger

    project.tests("smoke", **TWO_SMOKE)
    assert project.run("-m", "smoke", *narrowing).ret == 0
    doc = project.verdict()
    assert doc["counts"] == {"passed": 1}
    assert any("options that leave checks out were given" in w and "covers the 1 check that ran" in w
               for w in doc["warnings"]), doc["warnings"]
    assert doc["narrowed_by"] and doc["narrowed_by"][0].startswith(narrowing[0])
    ledger = Ledger(project.report("history"))
    assert ledger.latest("local", "smoke") is None  # the GO above is no smoke run
    assert project.run("-m", "smoke").ret == 0  # the whole phase: no warning, and it counts
    assert not any("leave checks out" in w for w in project.verdict()["warnings"])
    assert ledger.latest("local", "smoke") is not None


def test_a_narrowed_run_that_names_its_phase_is_filed_under_it(project: Project) -> None:
    from pytest_cutover.ledger import Ledger

    project.tests("smoke", **TWO_SMOKE)
    assert project.run("-m", "smoke", "-k", "one", "--cutover-phase", "smoke").ret == 0
    assert any("named by --cutover-phase" in w for w in project.verdict()["warnings"])
    assert Ledger(project.report("history")).latest("local", "smoke") is not None


def test_a_keyword_expression_is_shown_with_the_markers(project: Project) -> None:
    project.tests("smoke", **TWO_SMOKE)
    assert project.run("-m", "smoke", "-k", "one or two").ret == 0
    assert project.verdict()["markers"] == ["smoke", "-m smoke", "-k one or two"]
    record = json.loads(project.report("history/ledger.jsonl").read_text().splitlines()[-1])
    assert record["markers"] == ["smoke"] and record["narrowed"] == ["-k one or two"]


BASE = CONFIG


def _bad(extra: str = "", replace: tuple[str, str] | None = None) -> str:
    # extra lines go into the local environment's table (the first one)
    text = BASE.replace('release = "2.0.0"\n', 'release = "2.0.0"\n' + extra, 1)
    if replace:
        text = text.replace(*replace)
    return text


BAD = {
    "unknown environment": (None, ["--cutover-env", "prod"],
                            "unknown cutover environment 'prod' (chosen by --cutover-env); expected one of: "
                            "local, production, staging"),
    "missing file": (None, ["--cutover-config", "nope.toml"], "config file '*nope.toml' does not exist"),
    "malformed TOML": ("[environments.local\n", [], "*is not valid TOML*"),
    "bad URL": (_bad(replace=('kind = "other"', 'kind = "other"\nhttp_url = "localhost:80"')), [],
                "*cutover.toml: environments.local.http_url: found 'localhost:80'; expected an http(s) URL*"),
    "missing secret": (_bad('database = { dsn_env = "T_UNSET_DSN" }\n'), [],
                       "*secret variable 'T_UNSET_DSN' is not set*"),
    "negative threshold": (_bad("thresholds.p95_ms = { crit = -1 }\n"), [],
                           "*thresholds.p95_ms: crit must be a number >= 0, got -1*"),
    "inverted threshold": (_bad("thresholds.cert_days_left = { warn = 5, crit = 30 }\n"), [],
                           "*warn 5 is below crit 30: levels are inverted*"),
    "unknown key": (_bad('[environments.local.kubernets]\nnamespace = "x"\n'), [],
                    "*kubernets: unknown key (did you mean 'kubernetes'?)*"),
    "wrong kind": (_bad("timeout_s = true\n"), [], "*timeout_s: found True (bool); expected a number*"),
    "thresholds not a table": (_bad("thresholds = 5\n"), [], "*thresholds: found 5; expected a table*"),
    "missing base_url": (_bad(replace=('kind = "other"\nbase_url = "{url}"', 'kind = "other"')), [],
                         "*environments.local.base_url: missing*"),
    "include missing": (_bad('include = "run/local.toml"\n'), [],
                        "*include: '*run/local.toml' does not exist; the reference deployment writes*"),
    "env_file missing": (_bad('env_file = "secrets.env"\n'), [],
                         "*env_file: '*secrets.env' does not exist*"),
    "unknown top-level table": ("[enviroments.x]\n" + BASE, [], "*enviroments: unknown top-level table*"),
    "allow destructive names nothing": (None, ["--cutover-allow-destructive=nonexistent"],
                                        "*--cutover-allow-destructive='nonexistent' names no environment*"),
}


@pytest.mark.parametrize(("text", "args", "message"), list(BAD.values()), ids=list(BAD))
def test_operator_mistake_is_exit_4_with_one_readable_message(
        project: Project, text: str | None, args: list[str], message: str) -> None:
    if text is not None:
        (project.path / "cutover.toml").write_text(text.replace("{url}", project.url))
    project.tests(**PASSING)
    result = project.run(*args)
    output = result.stdout.str() + result.stderr.str()
    assert result.ret == 4, output
    stderr = result.stderr.str()
    assert fnmatch(stderr, f"ERROR: *{message}*"), stderr
    assert stderr.count("ERROR:") == 1
    assert "Traceback" not in output
    assert "1 passed" not in output  # nothing ran


def test_several_problems_are_listed_together(project: Project) -> None:
    (project.path / "cutover.toml").write_text(_bad(
        'timeout_s = "x"\nenv_file = "nope.env"\nredis = { url_env = "T_UNSET" }\n',
    ).replace("{url}", project.url))
    project.tests(**PASSING)
    result = project.run()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: cutover configuration has 3 problems:", "  - *timeout_s*",
                                 "  - *env_file*", "  - *T_UNSET*"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_bad_signoff_file_is_a_usage_error(project: Project) -> None:
    project.signoffs('[[waiver]]\ncheck = "x"\n')
    project.tests(**PASSING)
    result = project.run()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: cutover configuration error: *signoffs.toml: waiver #1: "
                                 "missing justification, approver, expires"])


def test_unknown_checklist_id_is_a_usage_error(project: Project) -> None:
    project.tests(test_c="import pytest\n\n@pytest.mark.checklist('no.such-item')\ndef test_c():\n    pass\n")
    result = project.run()
    assert result.ret == 4
    result.stderr.fnmatch_lines(["ERROR: test_c.py::test_c: unknown checklist id 'no.such-item'"])
    assert "Traceback" not in result.stdout.str() + result.stderr.str()


def test_no_tests_collected_keeps_exit_code_5(project: Project) -> None:
    result = project.run()
    assert result.ret == 5
    result.stdout.fnmatch_lines(["*cutover verdict: NO-GO*", "*no check ran*"])


def test_help_works_while_the_config_is_broken(project: Project) -> None:
    (project.path / "cutover.toml").write_text(
        _bad('include = "run/local.toml"\n').replace("{url}", project.url))
    result = project.run("--help")
    assert result.ret == 0, result.stderr.str()
    result.stdout.fnmatch_lines(["production cutover verification:", "*--cutover-env=CUTOVER_ENV*"])
