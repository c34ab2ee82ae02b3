"""pytest-cutover hooks: options, markers, results, verdict, reports, production guard.

Hooks only; fixtures live in fixtures.py, logic in the pure modules. State lives on stash keys.
Aggregation (verdict, report files) happens only on the xdist controller or a serial run.
"""

from __future__ import annotations

import difflib
import json
import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import checklist, governance, outcomes, startup_gc
from pytest_cutover.redact import Redactor
from pytest_cutover.settings import ConfigError, choose, collect, settings_of
from pytest_cutover.stash import (
    clients_key,
    evidence_key,
    evidence_store_key,
    governance_key,
    leak_log_key,
    leak_totals_key,
    measurements_key,
    notify_key,
    redactor_key,
    results_key,
    run_key,
    settings_key,
    started_key,
    verdict_key,
)
from pytest_cutover.verdict import CheckResult, decide

pytest_plugins = ["pytest_cutover.fixtures", "pytest_cutover.throttling"]
discard_key = pytest.StashKey[Path]()
learnt_key = pytest.StashKey[dict[int, int]]()
marks_key = pytest.StashKey[tuple[list[str], list[str], list[str], bool]]()

NO_CHECK_OPTIONS = ("collectonly", "setupplan", "setuponly", "showfixtures", "show_fixtures_per_test")
FOLDER_MARKERS = {"readiness": "readiness", "smoke": "smoke", "e2e": "e2e", "load": "load",
                  "rollback": "rollback_drill", "post_launch": "post_launch"}
MARKERS = {
    "readiness": "readiness checks (T-7d, T-24h): is the platform ready",
    "smoke": "smoke checks right after a deploy (seconds)",
    "e2e": "browser user flows (Playwright)",
    "load": "load and live SLO checks (Locust, Prometheus)",
    "rollback_drill": "rollback rehearsal: rollout undo, restore drill, data integrity",
    "post_launch": "post-launch checks (T+1h, T+24h, week 1)",
    "destructive": "changes the target; refused on production without --cutover-allow-destructive",
    "manual": "verified by a recorded sign-off in signoffs.toml",
    "checklist(*ids)": "links the check to items of the plan's checklist catalogue",
    "rollback_trigger(name)": "a failure of this check is a rollback trigger (ROLLBACK verdict)",
    "non_blocking": "a failure is reported as a warning and does not block GO",
}


@pytest.hookimpl(tryfirst=True)  # before the conftests and their imports
def pytest_load_initial_conftests(early_config: pytest.Config) -> None:
    startup_gc.pause()
    early_config.add_cleanup(startup_gc.settle)  # runs even when the command line is refused


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("cutover", "production cutover verification")
    group.addoption("--cutover-env", help="environment to verify (also $CUTOVER_ENV, ini cutover_env)")
    group.addoption("--cutover-config",
                    help="path of cutover.toml (also $CUTOVER_CONFIG, ini cutover_config)")
    group.addoption("--cutover-allow-destructive", metavar="ENV", default=None,
                    help="allow destructive checks against ENV of kind production (name it exactly)")
    group.addoption("--cutover-snapshot", action="store_true", default=False,
                    help="take the pre-cutover data snapshot now (rollback/test_data_integrity.py) "
                         "and save it in the ledger folder; without it the integrity checks "
                         "compare with the saved one (also $CUTOVER_SNAPSHOT=take)")
    group.addoption("--cutover-reports", metavar="DIR", default=None,
                    help="folder for every report file: go-no-go.html, junit.xml, verdict.json, "
                         "summary.md, announcement.md, evidence/ (also $CUTOVER_REPORTS; default: reports)")
    group.addoption("--cutover-notify", metavar="URL", action="append", default=[],
                    help="post the verdict to this chat webhook (Slack-compatible JSON; "
                         "repeatable; also [environments.X.notify]); a failed post only warns")
    group.addoption("--cutover-phase", metavar="NAME", default=None,
                    help="the phase this run stands for in the ledger (e.g. smoke, readiness, load); "
                         "default: the -m expression; later runs read the ledger by phase")
    parser.addini("cutover_env", "default cutover environment")
    parser.addini("cutover_config", "path of cutover.toml, relative to the ini file")
    parser.addini("cutover_reports", "folder for report files", default="reports")


def _ini_dir(config: pytest.Config) -> Path:
    return Path(config.inipath).parent if config.inipath else Path(config.rootpath)


def _active(config: pytest.Config) -> bool:
    """Inert unless a cutover config is in play, so installing the plugin does not disturb
    unrelated test suites."""
    return bool(config.getoption("--cutover-env") or config.getoption("--cutover-config")
                or os.environ.get("CUTOVER_ENV") or os.environ.get("CUTOVER_CONFIG")
                or config.getini("cutover_config") or config.getini("cutover_env"))


def reports_dir(config: pytest.Config) -> Path:
    chosen = config.getoption("--cutover-reports") or os.environ.get("CUTOVER_REPORTS")
    return Path(chosen) if chosen else _ini_dir(config) / config.getini("cutover_reports")


@pytest.hookimpl(tryfirst=True)  # before configure: junitxml and pytest-html read their paths there
def pytest_cmdline_main(config: pytest.Config) -> None:
    if _active(config):
        _move_pytest_reports(config)


def pytest_configure(config: pytest.Config) -> None:
    # default priority: conftests' trylast configure hooks (the root conftest's) read the settings
    for name, text in MARKERS.items():
        config.addinivalue_line("markers", f"{name}: {text}")
    if not _active(config):
        return
    if config.option.help:  # --help works even while the config is broken
        return
    settings, gov, problems, context = validate_run(config)
    if problems or settings is None:
        raise pytest.UsageError(ConfigError(problems or ["no cutover environment"], context).render())
    config.stash[settings_key] = settings
    config.stash[governance_key] = gov
    config.stash[redactor_key] = Redactor(settings.environment.secret_values())
    config.stash[results_key] = {}
    config.stash[started_key] = time.time()
    config.stash[run_key] = run_facts(config, settings)
    _start_leak_detector(config)
    if config.pluginmanager.hasplugin("html"):
        from pytest_cutover.report import html

        config.pluginmanager.register(html.HtmlReport(config), "cutover-html")


def _start_leak_detector(config: pytest.Config) -> None:
    from pytest_cutover.clients import observers
    from pytest_cutover.leaks import LeakLog, LeakTotals, origin

    target = config.stash[settings_key].environment.base_url
    log = LeakLog(config.stash[redactor_key], origins=frozenset({origin(target)}))
    config.stash[leak_log_key] = log
    config.stash[leak_totals_key] = LeakTotals()
    observers.OBSERVERS.append(log.observe_http)


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    log = item.config.stash.get(leak_log_key, None)
    if log is not None:
        log.current = item.nodeid  # a leak found from now on names this check


def run_facts(config: pytest.Config, settings: Any) -> dict[str, Any]:
    """What every report file of this run shows: one run id (so the five files can be matched)
    and the destructive opt-in, when given."""
    import datetime as dt

    started = dt.datetime.fromtimestamp(config.stash[started_key], dt.UTC)
    allowed = config.getoption("--cutover-allow-destructive")
    return {"run_id": f"{settings.environment.name}-{started:%Y%m%dT%H%M%S}-{os.getpid()}",
            # what the ledger files this run under: a run of `-m readiness` whose checks also
            # carry the smoke marker is a readiness run, not the latest smoke run
            "phase": run_phase(config),
            # -k, --deselect, --lf, --sw: some checks of the phase may not run, so the ledger files
            # the run under no phase unless --cutover-phase names one (ledger.Record.covers)
            "narrowed_by": _narrowing_options(config),
            "phase_named": bool(config.getoption("--cutover-phase")),
            "destructive_allowed": allowed or None,
            "destructive_note": (f"destructive checks ALLOWED against {allowed!r} "
                                 f"(--cutover-allow-destructive={allowed})" if allowed else
                                 "destructive checks refused (no --cutover-allow-destructive)"
                                 if settings.environment.is_production else
                                 "destructive checks run (environment is not of kind production)")}


def run_phase(config: pytest.Config) -> str:
    """--cutover-phase, else the -m expression, else "" (every check the paths hold)."""
    return str(config.getoption("--cutover-phase") or config.option.markexpr or "").strip()


def validate_run(config: pytest.Config) -> tuple[Any, Any, list[str], str]:
    """One pass over everything the run will read, before anything is sent: the config file
    (every environment, includes), sign-offs and waivers, options and environment variables."""
    ini_config = config.getini("cutover_config")
    ini_path = str(_ini_dir(config) / ini_config) if ini_config else None
    config_choice = choose(config.getoption("--cutover-config"), "--cutover-config", os.environ,
                           "CUTOVER_CONFIG", ini_path, "cutover_config",
                           str(Path.cwd() / "cutover.toml"), "default")
    env_choice = choose(config.getoption("--cutover-env"), "--cutover-env", os.environ,
                        "CUTOVER_ENV", config.getini("cutover_env") or None, "cutover_env",
                        None, "[cutover] default_environment")
    found = collect(config_choice, env_choice)
    problems = list(found.problems)
    known_items = {i.id for i in checklist.load()}
    gov, gov_problems = governance.load(
        found.signoffs_path, known_items,
        lambda: governance.known_checks(_suite_root(config), _suite_paths(config)))
    problems += gov_problems
    problems += _option_problems(config, found)
    settings = None
    if not problems and found.name is not None:
        settings = settings_of(found, config_choice, env_choice, os.environ)
        from pytest_cutover.default_accounts import own_account_problems

        problems += own_account_problems(settings.environment)
    env_source = env_choice.source if env_choice.value else "[cutover] default_environment"
    context = (f"config {found.path} chosen by {config_choice.source}; environment "
               f"{found.name or env_choice.value or '(none)'} chosen by {env_source}; "
               f"sign-offs {found.signoffs_path}")
    return settings, gov, problems, context


def _suite_root(config: pytest.Config) -> Path:
    return Path(config.rootpath)


def _suite_paths(config: pytest.Config) -> list[Path]:
    """Where the run's checks live: the testpaths (waivers may name any check of the suite)."""
    root = _suite_root(config)
    paths = [root / p for p in config.getini("testpaths")] or [root]
    paths += [Path(a.split("::")[0]) for a in config.args if Path(a.split("::")[0]).exists()]
    return paths


def _option_problems(config: pytest.Config, found: Any) -> list[str]:
    problems = []
    names = sorted(found.raw.get("environments", {}) if isinstance(found.raw.get("environments"),
                                                                    dict) else [])
    allowed = config.getoption("--cutover-allow-destructive")
    if allowed and allowed not in names:
        problems.append(f"--cutover-allow-destructive={allowed!r} names no environment; expected "
                        f"one of: {', '.join(names)}")
    elif allowed and found.name and allowed != found.name:
        problems.append(f"--cutover-allow-destructive={allowed!r} does not name the environment "
                        f"under test ({found.name!r}); name it exactly, or leave the option out")
    snapshot = os.environ.get("CUTOVER_SNAPSHOT", "")
    if snapshot and snapshot.lower() not in ("take", "1", "yes", "0", "no", ""):
        problems.append(f"$CUTOVER_SNAPSHOT={snapshot!r}: expected 'take' (or leave it unset)")
    folder = reports_dir(config)
    source = "--cutover-reports" if config.getoption("--cutover-reports") else (
        "$CUTOVER_REPORTS" if os.environ.get("CUTOVER_REPORTS") else "ini cutover_reports")
    if folder.exists() and not folder.is_dir():
        problems.append(f"{source}: {str(folder)!r} is a file; expected a folder for the reports")
    markexpr = config.option.markexpr
    if markexpr:
        # conftests registered theirs already; pytest's own and other plugins' may come after this
        known = {line.split(":")[0].split("(")[0].strip() for line in config.getini("markers")}
        known |= PLUGIN_MARKERS
        words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", markexpr)) - {"and", "or", "not"}
        for word in sorted(words - known):
            hint = difflib.get_close_matches(word, sorted(known), n=1)
            problems.append(f"-m {markexpr!r}: {word!r} is no registered marker"
                            + (f" (did you mean {hint[0]!r}?)" if hint else "")
                            + f"; cutover markers: {', '.join(sorted(MARKERS_PLAIN))}")
    return problems


MARKERS_PLAIN = [name.split("(")[0] for name in MARKERS]
PLUGIN_MARKERS = {"skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings", "timeout",
                  "only_browser", "skip_browser", "browser_context_args", "flaky", "asyncio", "anyio"}


def _move_pytest_reports(config: pytest.Config) -> None:
    """--cutover-reports (or $CUTOVER_REPORTS) moves the HTML and JUnit reports too, when they
    were set to the default reports folder (as pyproject.toml's addopts do)."""
    if hasattr(config, "workerinput"):
        return
    default = (_ini_dir(config) / config.getini("cutover_reports")).resolve()
    target = reports_dir(config)
    if target.exists() and not target.is_dir():
        return  # reported by validate_run; pytest-html would crash on it
    for dest in ("htmlpath", "xmlpath"):
        value = getattr(config.option, dest, None)
        if value and Path(value).resolve().parent in (default, (Path.cwd() / "reports").resolve()):
            setattr(config.option, dest, str(target / Path(value).name))


def pytest_report_header(config: pytest.Config) -> list[str] | None:
    settings = config.stash.get(settings_key, None)
    if settings is None:
        return None
    env = settings.environment
    src = settings.sources
    return [
        f"cutover: environment {env.name!r} (kind {env.kind}; chosen by {src['environment'].source}) "
        f"target {env.base_url}",
        f"cutover: config {settings.path} (chosen by {src['config'].source}); release "
        f"{env.release or 'not set'}; reports in {reports_dir(config)}",
        f"cutover: {config.stash[run_key]['destructive_note']}; run {config.stash[run_key]['run_id']}",
    ]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    settings = config.stash.get(settings_key, None)
    known = {i.id for i in checklist.load()}
    bad: list[str] = []
    for item in items:
        try:
            top = Path(item.path).resolve().relative_to(Path(config.rootpath).resolve()).parts[0]
        except ValueError:
            top = ""
        if top in FOLDER_MARKERS:
            item.add_marker(FOLDER_MARKERS[top])
        for mark in item.iter_markers("checklist"):
            bad.extend(f"{item.nodeid}: unknown checklist id {i!r}" for i in mark.args if i not in known)
        if settings is not None and item.get_closest_marker("destructive"):
            _guard_destructive(config, settings, item)
    if bad:
        raise pytest.UsageError("\n".join(bad))


def _guard_destructive(config: pytest.Config, settings: Any, item: pytest.Item) -> None:
    env = settings.environment
    if env.is_production and config.getoption("--cutover-allow-destructive") != env.name:
        item.add_marker(pytest.mark.skip(reason=outcomes.tag(
            outcomes.UNVERIFIED,
            f"refused: destructive check against production environment {env.name!r}; "
            f"name it with --cutover-allow-destructive={env.name} to run it")))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    config = item.config
    if settings_key not in config.stash:
        return report
    redact = config.stash[redactor_key]
    _learn_session_secrets(item, redact)
    markers, ids, triggers, blocking = _marks(item)
    measurements = item.stash.get(measurements_key, [])
    for m in measurements:  # every text field: a subject may name an account, a URL, a DSN
        m.update({k: redact(v) for k, v in m.items() if isinstance(v, str)})
    report.user_properties.extend([
        ("cutover_markers", ",".join(markers)), ("cutover_checklist", ",".join(ids))])
    if measurements and report.when == "call":
        prop = ("cutover_measurements", json.dumps(measurements))
        report.user_properties.append(prop)
        item.user_properties.append(prop)  # JUnit writes the teardown report's properties only
    report.cutover = {"markers": markers, "checklist": ids, "rollback_triggers": triggers,
                      "measurements": measurements if report.when == "call" else [],
                      "blocking": blocking,
                      "evidence": _evidence(item, redact) if report.when == "call" else []}
    leaks = config.stash[leak_log_key].drain() if leak_log_key in config.stash else None
    if leaks and (leaks["scanned"] or leaks["findings"]):
        report.cutover["leaks"] = leaks
    if report.cutover["evidence"] and config.pluginmanager.hasplugin("html"):
        from pytest_cutover.report import html

        html.add_extras(report, report.cutover["evidence"])
    # redact before a waiver turns the failure into a skip: the waived failure is still shown
    if report.longrepr is not None and not report.skipped:
        text = str(report.longrepr)
        if redact(text) != text:  # keep pytest's structured repr unless a secret is in it
            report.longrepr = redact(text)
    elif report.skipped and isinstance(report.longrepr, tuple):  # a skip reason (unverified, N/A)
        where, line, reason = report.longrepr
        report.longrepr = (where, line, redact(reason))
    if report.failed and report.when == "call":
        _apply_waiver(config, item, report)
    report.sections = [(title, redact(text)) for title, text in report.sections]
    return report


def _marks(item: pytest.Item) -> tuple[list[str], list[str], list[str], bool]:
    """(report markers, checklist ids, rollback triggers, blocking) of a check, read once for its
    three reports."""
    if marks_key not in item.stash:
        markers = sorted({m.name for m in item.iter_markers()} & (set(FOLDER_MARKERS.values())
                         | {"destructive", "manual", "non_blocking"}))
        ids = [i for m in item.iter_markers("checklist") for i in m.args]
        triggers = [str(a) for m in item.iter_markers("rollback_trigger") for a in m.args]
        item.stash[marks_key] = (markers, ids, triggers,
                                 item.get_closest_marker("non_blocking") is None)
    markers, ids, triggers, blocking = item.stash[marks_key]
    return list(markers), list(ids), list(triggers), blocking  # each report its own lists


def _learn_session_secrets(item: pytest.Item, redact: Redactor) -> None:
    """Cookie values and credentials the check's HTTP clients saw become known secrets, so they
    are masked even where no pattern can spot them (an assertion showing a bare cookie value).
    Each exchange is read once: the setup, call and teardown reports each add the new ones."""
    learnt = item.stash.setdefault(learnt_key, {})  # client's position in item.stash -> exchanges read
    clients: list[Any] = item.stash.get(clients_key, [])
    for position, client in enumerate(clients):
        start, learnt[position] = learnt.get(position, 0), len(client.history)
        for result in client.history[start:]:
            cookies = list(result.set_cookies)
            for name, value in result.request_headers.items():
                if name.lower() == "cookie":
                    cookies.extend(value.split(";"))
                elif name.lower() == "authorization":
                    redact.add(value, value.partition(" ")[2])
            redact.add(*(c.split(";")[0].partition("=")[2].strip() for c in cookies))


def _evidence(item: pytest.Item, redact: Redactor) -> list[dict[str, str]]:
    found = [dict(e, content=redact(e["content"])) if e["kind"] != "png" else e
             for e in item.stash.get(evidence_key, [])]
    transcripts = [r.transcript() for c in item.stash.get(clients_key, []) for r in c.history]
    if transcripts:
        found.append({"title": "HTTP transcript", "kind": "text",
                      "content": redact("\n\n".join(transcripts))})
    return found


def _apply_waiver(config: pytest.Config, item: pytest.Item, report: pytest.TestReport) -> None:
    import datetime as dt

    waiver = config.stash[governance_key].waiver_for(item.nodeid)
    if waiver is None:
        return
    if waiver.expired(dt.datetime.now(dt.UTC)):
        note = f"waiver by {waiver.approver} expired on {waiver.expires:%Y-%m-%d}"
        report.cutover["waiver_expired"] = note
        report.longrepr = f"{note}; the failure counts again:\n{report.longrepr}"
        return
    report.cutover["waiver"] = waiver.to_dict()
    report.cutover["waived_failure"] = str(report.longrepr)
    report.outcome = "skipped"
    report.wasxfail = (f"waived by {waiver.approver} until {waiver.expires:%Y-%m-%d}: "
                       f"{waiver.justification}")


@pytest.hookimpl(trylast=True)
def pytest_sessionstart(session: pytest.Session) -> None:
    config = session.config
    if settings_key in config.stash and not hasattr(config, "workerinput"):
        config.pluginmanager.register(_ResultCollector(config), "cutover-results")


class _ResultCollector:
    """Turns test reports (local or from xdist workers) into one CheckResult per check."""

    def __init__(self, config: pytest.Config) -> None:
        self.results = config.stash[results_key]
        self.evidence = config.stash.setdefault(evidence_store_key, {})
        self.leaks = config.stash[leak_totals_key]

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        info = getattr(report, "cutover", None) or {}
        if info.get("leaks"):
            self.leaks.add(info["leaks"])
        result = self.results.get(report.nodeid)
        if result is None:
            result = CheckResult(report.nodeid, "passed")
            self.results[report.nodeid] = result
        if info:
            result.markers = info.get("markers", result.markers)
            result.checklist = info.get("checklist", result.checklist)
            result.rollback_triggers = info.get("rollback_triggers", result.rollback_triggers)
            result.blocking = info.get("blocking", result.blocking)
            result.measurements.extend(info.get("measurements", []))
            if info.get("evidence"):
                self.evidence.setdefault(report.nodeid, []).extend(info["evidence"])
        result.duration_s += report.duration
        outcome, message = _outcome(report, info)
        if outcome is None:
            return
        # setup/teardown errors override a pass; a call outcome is recorded as it is
        if report.when == "call" or (outcome != "passed" and result.outcome == "passed"):
            result.outcome, result.message = outcome, message
        if info.get("waiver"):
            result.waiver = info["waiver"]


def _outcome(report: pytest.TestReport, info: dict[str, Any]) -> tuple[str | None, str]:
    if info.get("waiver"):
        return "waived", info.get("waived_failure", "")
    if report.passed:
        return ("passed", "") if report.when == "call" else (None, "")
    if report.failed:
        text = report.longreprtext.strip()
        if report.when == "call":
            expired = info.get("waiver_expired")
            line = _summary_line(text)
            return "failed", f"{expired}; {line}" if expired else line
        return "error", f"{report.when} error: {_summary_line(text)}"
    # skipped
    if hasattr(report, "wasxfail"):
        # A known failure is not a pass; waivers (with approver and expiry) are the way to accept one.
        return "unverified", f"marked xfail ({report.wasxfail or 'no reason'}): record a waiver instead"
    reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
    outcome, message = outcomes.parse(reason)
    return outcome, message


def _summary_line(text: str) -> str:
    """The most telling line of a failure: pytest's 'E ' lines, else the last line."""
    lines = [ln[1:].strip() for ln in text.splitlines() if ln.startswith("E ")]
    if lines:
        return lines[0][:500]
    return (text.splitlines() or [""])[-1][:500]


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    if settings_key not in config.stash or hasattr(config, "workerinput"):
        return
    # --co, --setup-plan, --fixtures and the like, or an interrupted, internal or usage error:
    # nothing was judged, so no report file is written, and the last run's files (all five of
    # them) stay as they were
    if _runs_no_check(config) or exitstatus not in (0, 1, 5):
        _discard_pytest_reports(config)
        return
    verdict = compute_verdict(config)
    from _pytest.junitxml import xml_key

    from pytest_cutover.report import files

    xml = config.stash.get(xml_key, None)
    if xml is not None:  # junitxml writes after this hook: the run id ties it to the other files
        xml.add_global_property("cutover_run_id", config.stash[run_key]["run_id"])

    doc = files.write_all(config, verdict, reports_dir(config))
    from pytest_cutover.report import notify

    html = getattr(config.option, "htmlpath", None)
    where = str(Path(html).resolve()) if html else str(reports_dir(config).resolve() / "summary.md")
    config.stash[notify_key] = notify.deliver(config, doc, config.stash[redactor_key], where)
    if exitstatus in (0, 1):
        session.exitstatus = verdict.exit_code


def _runs_no_check(config: pytest.Config) -> bool:
    """pytest options under which no check runs: `--setup-plan` and `--setup-only` report every
    check as passed without calling it, `--fixtures` and `--fixtures-per-test` run none."""
    return any(getattr(config.option, name, False) for name in NO_CHECK_OPTIONS)


def _discard_pytest_reports(config: pytest.Config) -> None:
    """Point junitxml and pytest-html (which write after this hook) at a scratch folder that
    pytest_unconfigure removes."""
    import tempfile

    from _pytest.junitxml import xml_key

    scratch = Path(tempfile.mkdtemp(prefix="cutover-unwritten-"))
    config.stash[discard_key] = scratch
    xml = config.stash.get(xml_key, None)
    if xml is not None:
        xml.logfile = str(scratch / "junit.xml")
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__module__.startswith("pytest_html") and hasattr(plugin, "_report_path"):
            plugin._report_path = scratch / "report.html"


@pytest.hookimpl(tryfirst=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    startup_gc.settle()


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:  # an xdist controller collects nothing
    startup_gc.settle()


def pytest_unconfigure(config: pytest.Config) -> None:
    import shutil

    from pytest_cutover.clients import observers

    log = config.stash.get(leak_log_key, None)
    if log is not None and log.observe_http in observers.OBSERVERS:
        observers.OBSERVERS.remove(log.observe_http)

    scratch = config.stash.get(discard_key, None)
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)


def compute_verdict(config: pytest.Config) -> Any:
    if verdict_key not in config.stash:
        settings = config.stash[settings_key]
        results = list(config.stash[results_key].values())
        ran = len(results)  # the checks (the leak detector's result below is the session's)
        leak_result = _leak_result(config)
        markers = sorted({m for r in results for m in r.markers} - {"destructive", "manual",
                                                                       "non_blocking"})
        if leak_result is not None:  # a session-level result: not a check's, so not in `markers`
            results.append(leak_result)
        verdict = decide(results, settings.environment.name, markers)
        verdict.markers = [*markers, *(f"{flag} {value}" for flag, value in (
            ("-m", config.option.markexpr), ("-k", getattr(config.option, "keyword", ""))) if value)]
        run = config.stash[run_key]
        if run["narrowed_by"]:
            filed = (f"filed in the ledger as the phase {run['phase']!r} named by --cutover-phase"
                     if run["phase_named"] else "the ledger counts it as no phase's run")
            verdict.warnings.append(
                f"options that leave checks out were given ({', '.join(run['narrowed_by'])}): this "
                f"verdict covers the {ran} check{'s' if ran != 1 else ''} that ran, not every check "
                f"the markers select; {filed}")
        config.stash[verdict_key] = verdict
    return config.stash[verdict_key]


def _narrowing_options(config: pytest.Config) -> list[str]:
    """The options given that can leave checks of the selected markers out of the run."""
    option = config.option
    found = [f"-k {option.keyword}"] if getattr(option, "keyword", "") else []
    if getattr(option, "deselect", None):
        found.append(f"--deselect ({len(option.deselect)})")
    # (-x and --maxfail leave checks out only after a failure: the verdict is no GO anyway)
    found += [flag for flag, name in (("--lf", "lf"), ("--sw", "stepwise"), ("--sw-skip", "stepwise_skip"))
              if getattr(option, name, False)]
    return found


def _leak_result(config: pytest.Config) -> CheckResult | None:
    """The leak detector's verdict over every answer of the run; none when nothing leaked. A
    version banner alone is a warning: the header checks judge banners on their own."""
    from pytest_cutover.leaks import LEAK_CHECK

    totals = config.stash[leak_totals_key]
    if leak_log_key in config.stash:  # what this process saw after its last report
        totals.add(config.stash[leak_log_key].drain())
    if not totals.findings:
        return None
    result = CheckResult(LEAK_CHECK, "failed", totals.message(), checklist=["sec.security-audit"],
                         blocking=totals.blocking())
    config.stash[results_key][LEAK_CHECK] = result
    config.stash.setdefault(evidence_store_key, {})[LEAK_CHECK] = [{
        "title": f"leak detector: {totals.scanned} answers scanned", "kind": "json",
        "content": json.dumps(totals.findings, indent=2)}]
    return result


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if discard_key in config.stash:  # pytest-html names its scratch file: say what really happened
        terminalreporter.write_line(f"cutover: no report written (nothing was judged); the last run's "
                                    f"reports are kept in {reports_dir(config)}")
    if verdict_key not in config.stash:
        return
    verdict = config.stash[verdict_key]
    tr = terminalreporter
    colour = {"GO": {"green": True}, "NO-GO": {"red": True}, "ROLLBACK": {"red": True}}[verdict.decision]
    tr.section(f"cutover verdict: {verdict.decision}", sep="=", bold=True, **colour)
    tr.write_line(f"environment {verdict.environment!r}; "
                  f"covers {', '.join(verdict.markers) or 'no markers'}; exit code {verdict.exit_code}")
    from pytest_cutover.humanize import tidy

    tr.write_line(config.stash[run_key]["destructive_note"])
    for title, lines in (("rollback triggers", verdict.rollback_reasons), ("reasons", verdict.reasons),
                         ("warnings", verdict.warnings)):
        if lines:
            tr.write_line(f"{title}:")
            for line in lines[:30]:
                tr.write_line(f"  - {tidy(line)}")
            if len(lines) > 30:
                tr.write_line(f"  … and {len(lines) - 30} more (see reports/verdict.json)")
    tr.write_line(f"reports: {reports_dir(config)}")
    for line in config.stash.get(notify_key, []):
        tr.write_line(line, yellow="WARNING" in line)
