"""A verdict you can trust: blocked is not broken, causes first, enough evidence, phases."""

from __future__ import annotations

import json
import socket

import pytest
from cutover_project import Project

SAMPLED = """
def test_p95(measure):
    measure("p95_ms", {value}, samples={samples})
"""


@pytest.mark.parametrize(("samples", "decision", "code", "line"), [
    (14, "GO", 0, "  - test_m.py::test_p95: p95_ms 1500 ms is above the critical threshold 1000 ms*"
                  "too few samples (14; a p95 is judged on at least 20)*"),
    (20, "NO-GO", 1, "  - test_m.py::test_p95 failed: p95_ms 1500 ms is above the critical*"),
])
def test_a_percentile_on_too_few_samples_warns_instead_of_failing(
        project: Project, samples: int, decision: str, code: int, line: str) -> None:
    project.tests(test_m=SAMPLED.format(value=1500, samples=samples))
    result = project.run()
    assert result.ret == code, result.stdout.str()
    result.stdout.fnmatch_lines([f"*cutover verdict: {decision}*", line])
    recorded = project.verdict()["checks"][0]["measurements"][0]
    assert recorded["samples"] == samples


def test_too_few_samples_never_fires_rollback_and_the_minimum_is_configurable(
        project: Project) -> None:
    project.tests(test_m=SAMPLED.format(value=2500, samples=10))
    assert project.run().ret == 0
    project.config("[environments.local.min_samples]\np95 = 5\n")
    assert project.run().ret == 10


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


COOKIE_CHECKS = """
def _cookies(http):
    return [h for h in http.get("/login").set_cookies]

def test_session_cookie_is_httponly(http):
    assert all("HttpOnly" in c for c in _cookies(http))

def test_no_cookie_leaks_a_domain(http):
    assert not any("Domain=" in c for c in _cookies(http))

def test_health(http):
    assert http.get("/api/health").status == 200
"""


def test_no_response_blocks_every_check_that_needs_one_by_its_cause(project: Project) -> None:
    port = _closed_port()
    project.config(base=f"""
        [cutover]
        default_environment = "local"

        [environments.local]
        kind = "other"
        base_url = "http://127.0.0.1:{port}"
        release = "2.0.0"
    """)
    project.tests("smoke", test_c=COOKIE_CHECKS)
    result = project.run()
    assert result.ret == 1, result.stdout.str()
    verdict = project.verdict()
    assert verdict["counts"] == {"blocked": 3}, verdict["counts"]
    assert verdict["reasons"] == [f"connection refused by 127.0.0.1:{port}: 3 checks blocked "
                                  "(test_session_cookie_is_httponly, test_no_cookie_leaks_a_domain, "
                                  "test_health)"]
    assert verdict["causes"][0]["cause"] == f"connection refused by 127.0.0.1:{port}"
    assert verdict["causes"][0]["kind"] == "blocked"


def test_a_run_records_its_phase_in_the_verdict_and_the_ledger(project: Project) -> None:
    project.tests("readiness", test_r="""
        import pytest

        @pytest.mark.smoke
        def test_health_is_also_a_smoke_claim():
            pass
    """)
    assert project.run("-m", "readiness").ret == 0
    assert project.verdict()["phase"] == "readiness"
    assert project.run("-m", "readiness", "--cutover-phase", "t24-readiness").ret == 0
    assert project.verdict()["phase"] == "t24-readiness"
    lines = project.report("history/ledger.jsonl").read_text().splitlines()
    records = [json.loads(line) for line in lines]
    assert [r.get("phase") for r in records] == ["readiness", "t24-readiness"]
    assert "smoke" in records[0]["markers"]  # its checks carry smoke, yet it is no smoke run

    from pytest_cutover.ledger import Ledger

    ledger = Ledger(project.report("history"))
    assert ledger.latest("local", "smoke") is None
    assert ledger.latest("local", "readiness") is not None


def test_declared_not_applicable_holds_for_a_dependent_check(project: Project) -> None:
    project.config('[environments.local.not_applicable]\nkubernetes = "runs on a single VM"\n')
    project.tests(test_hpa="""
        from pytest_cutover.fixtures import unless_not_applicable

        def test_autoscaler_follows_the_load(target):
            unless_not_applicable(target, "kubernetes")
            raise AssertionError("kubernetes is not configured")
    """)
    assert project.run().ret == 0
    check = project.verdict()["checks"][0]
    assert check["outcome"] == "not_applicable"
    assert "runs on a single VM" in check["message"]
