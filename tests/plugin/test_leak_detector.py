"""The leak detector: an answer showing a stack trace, to any check, is one session-level result
of the verdict that names the request and the check, with the excerpt redacted; the same with
xdist workers."""

from __future__ import annotations

import pytest
from cutover_project import Project

CHECKS = """
    def test_health_answers(http):
        assert http.get("/api/health").status == 200

    def test_probe_of_an_internal_path(http):
        assert http.get("/api/boom").status == 500  # the check itself is content with a 500
"""


@pytest.mark.parametrize("workers", [(), ("-n", "2")], ids=["serial", "xdist"])
def test_a_stack_trace_in_any_answer_is_a_session_result_naming_the_request(project: Project,
                                                                              workers) -> None:
    project.tests("smoke", test_leaks=CHECKS)
    result = project.run(*workers)
    assert result.ret == 1, result.stdout.str()
    result.stdout.fnmatch_lines([
        "*cutover verdict: NO-GO*", "reasons:",
        "  - cutover::answers_leak_no_internals failed: * GET /api/boom answered 500 showing a "
        "python traceback (http, during test_probe_of_an_internal_path)*"])
    leak = next(c for c in project.verdict()["checks"]
                if c["nodeid"] == "cutover::answers_leak_no_internals")
    assert leak["outcome"] == "failed" and leak["blocking"]
    assert "internal file path" in leak["message"]


def test_clean_answers_add_no_result(project: Project) -> None:
    project.tests("smoke", test_clean="def test_health_answers(http):\n"
                                      "    assert http.get('/api/health').status == 200\n")
    result = project.run()
    assert result.ret == 0, result.stdout.str()
    assert [c["nodeid"] for c in project.verdict()["checks"]] == ["smoke/test_clean.py::test_health_answers"]
