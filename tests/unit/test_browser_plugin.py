"""When the suite loads pytest-playwright again: only for runs that can select a browser check."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from pytest_cutover.browser_plugin import _blocks, marker_expression_may_select_e2e, paths_reach_e2e


@pytest.mark.parametrize(("expression", "selects"), [
    ("", True),
    ("e2e", True),
    ("smoke", False),
    ("readiness or smoke", False),
    ("not smoke", True),
    ("not e2e", False),
    ("smoke or e2e", True),
    ("e2e and not destructive", True),  # an e2e check without the destructive marker
    ("e2e and destructive", True),
    ("destructive", True),  # an e2e check may carry it
    ("rollback_drill and destructive", False),
    ("not (e2e or smoke)", False),
])
def test_marker_expression(expression, selects):
    assert marker_expression_may_select_e2e(expression) is selects


def test_a_broken_expression_loads_the_plugin_so_pytest_reports_it():
    assert marker_expression_may_select_e2e("smoke and (") is True


@pytest.mark.parametrize(("arguments", "reaches"), [
    ([], True),
    (["."], True),
    (["e2e"], True),
    (["e2e/test_login.py::test_login"], True),
    (["smoke"], False),
    (["smoke/test_health.py", "readiness"], False),
    (["smoke", "e2e/test_login.py"], True),
])
def test_paths(tmp_path, monkeypatch, arguments, reaches):
    for folder in ("e2e", "smoke", "readiness"):
        (tmp_path / folder).mkdir()
    monkeypatch.chdir(tmp_path)
    assert paths_reach_e2e(tmp_path, arguments) is reaches


def test_a_block_typed_on_the_command_line_is_counted():
    suite = ["-p", "no:locust", "-p", "no:playwright"]
    assert _blocks(suite) == 1
    assert _blocks([*suite, "-p", "no:playwright", "smoke"]) == 2
    assert _blocks([*suite, "-pno:playwright"]) == 2
    assert _blocks(["no:playwright"]) == 0  # a path of that name, not an option value


def test_the_base_url_block_is_counted_on_its_own():
    suite = ["-p", "no:playwright", "-p", "no:base_url"]
    assert _blocks(suite, "base_url") == 1
    assert _blocks([*suite, "-pno:base_url"], "base_url") == 2


REPO = Path(__file__).resolve().parents[2]


def _fixture_sources(*args: str) -> str:
    """`pytest --fixtures -v` in this repository (its own addopts): names every plugin's fixtures.
    Without the cutover plugin: in a fresh clone its configuration names a deployment not yet up."""
    done = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:cutover",
                           "--fixtures", "-v", *args], cwd=REPO, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.parametrize(("arguments", "loaded"), [
    (["smoke/test_health.py"], False),
    (["e2e"], True),
    (["smoke/test_health.py", "--base-url=https://ils.example.com"], True),  # its option still works
])
def test_the_browser_plugins_load_only_for_runs_that_can_use_them(arguments, loaded):
    found = _fixture_sources(*arguments)
    assert ("from pytest_playwright" in found) is loaded, found[-2000:]
    assert ("from pytest_base_url" in found) is loaded, found[-2000:]
