"""`RUN_LAST` checks (the rate-limit probe) run after every other check of a run; several xdist
workers cannot promise that, so there they are blocked with that cause instead of run."""

from __future__ import annotations

from cutover_project import Project

PROBE = """
RUN_LAST = True

def test_probe_burst():
    pass

def test_probe_recovery():
    pass
"""
OTHERS = """
import pytest

@pytest.mark.parametrize("n", range(4))
def test_other(n):
    pass
"""


def _outcomes(project: Project) -> dict[str, tuple[str, str]]:
    return {c["nodeid"].split("::")[-1]: (c["outcome"], c.get("message") or "")
            for c in project.verdict()["checks"]}


def test_run_last_checks_run_last_in_a_serial_run(project: Project) -> None:
    project.tests("smoke", test_a_probe=PROBE, test_b_others=OTHERS)
    result = project.pytester.runpytest_subprocess("-v")
    lines = [line for line in result.stdout.lines if "PASSED" in line]
    assert [("test_probe" in line) for line in lines][-2:] == [True, True], result.stdout.str()
    assert not any("test_probe" in line for line in lines[:-2]), result.stdout.str()
    assert {o for o, _ in _outcomes(project).values()} == {"passed"}


def test_run_last_checks_are_blocked_under_parallel_workers(project: Project) -> None:
    project.tests("smoke", test_a_probe=PROBE, test_b_others=OTHERS)
    result = project.pytester.runpytest_subprocess("-n", "2")
    outcomes = _outcomes(project)
    probes = {n: v for n, v in outcomes.items() if n.startswith("test_probe")}
    assert len(probes) == 2 and all(o == "blocked" for o, _ in probes.values()), outcomes
    assert all("2 parallel workers" in m for _, m in probes.values()), probes
    others = {o for n, (o, _) in outcomes.items() if not n.startswith("test_probe")}
    assert others == {"passed"}, outcomes
    doc = project.verdict()
    assert doc["decision"] == "NO-GO" and result.ret != 10, result.stdout.str()
    assert [c["kind"] for c in doc["causes"] if "parallel workers" in c["cause"]] == ["blocked"], \
        doc["causes"]


def test_one_worker_runs_them_last(project: Project) -> None:
    project.tests("smoke", test_a_probe=PROBE, test_b_others=OTHERS)
    project.pytester.runpytest_subprocess("-n", "1")
    assert {o for o, _ in _outcomes(project).values()} == {"passed"}
