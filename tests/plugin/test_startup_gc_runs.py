"""In real runs of the plugin the tests run with the collector on, the start-up frozen, and a run
refused before its tests gives the collector back (startup_gc.py)."""

from __future__ import annotations

import pytest
from cutover_project import Project

SEES_THE_COLLECTOR = """
import gc

def test_the_collector_is_on_and_the_start_up_frozen():
    assert gc.isenabled()
    assert gc.get_freeze_count() > 0
"""
# every process (a serial run, each xdist worker, the controller) notes the collector at its end
NOTES = """
import gc, os, pathlib

def pytest_sessionfinish(session):
    name = getattr(session.config, "workerinput", {}).get("workerid", "main")
    pathlib.Path(os.environ["GC_NOTES"], name).write_text(str(gc.isenabled()))
"""


@pytest.mark.parametrize("workers", [[], ["-n", "2"]], ids=["serial", "xdist"])
def test_checks_run_with_the_collector_on(project: Project, workers: list[str],
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    notes = project.path / "gc-notes"
    notes.mkdir()
    monkeypatch.setenv("GC_NOTES", str(notes))
    project.tests("smoke", test_gc=SEES_THE_COLLECTOR)
    project.tests(conftest=NOTES)  # at the root: the xdist controller loads it too
    result = project.pytester.runpytest_subprocess(*workers)
    assert result.ret == 0, result.stdout.str()
    seen = {p.name: p.read_text() for p in notes.iterdir()}
    expected = {"main"} if not workers else {"main", "gw0", "gw1"}
    assert set(seen) == expected and set(seen.values()) == {"True"}, seen


def test_a_refused_command_line_gives_the_collector_back(project: Project,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from pytest_cutover import startup_gc

    monkeypatch.setattr(startup_gc, "_paused", False)  # as in a fresh process
    monkeypatch.setattr(startup_gc, "_settled", False)
    paused: list[bool] = []
    pause = startup_gc.pause
    monkeypatch.setattr(startup_gc, "pause", lambda: (pause(), paused.append(not gc.isenabled())))
    project.tests("smoke", test_gc=SEES_THE_COLLECTOR)
    assert gc.isenabled()
    result = project.pytester.runpytest_inprocess("--no-such-option")
    assert result.ret != 0
    assert paused == [True]  # the run did pause it
    assert gc.isenabled()
