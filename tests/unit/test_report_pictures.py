"""The go/no-go page's pure parts: causes (given by the verdict, or grouped from its reasons),
the first-screen tables, and the SVG pictures (threshold lines, budgets, timeline links)."""

from __future__ import annotations

import datetime as dt
import re

from pytest_cutover import checklist
from pytest_cutover.report import charts, dashboard

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


def _doc(**extra: object) -> dict[str, object]:
    return {"decision": "NO-GO", "environment": "staging", "environment_kind": "staging",
            "target": "https://staging.example.com", "release": "2.0.0", "markers": ["readiness"],
            "counts": {"failed": 3}, "warnings": [], "rollback_reasons": [], "exit_code": 1,
            "generated_at": (NOW - dt.timedelta(minutes=18)).isoformat(), "checks": [],
            "checklist": [], "signoffs": [], "triggers": [], **extra}


def test_causes_given_by_the_verdict_are_shown_as_given() -> None:
    given = [{"cause": "blocked by rate limiting: 429", "kind": "blocked", "checks": ["a", "b"]}]
    assert dashboard.causes(_doc(causes=given, reasons=["x failed: y"])) == given


def test_causes_grouped_from_reasons_when_the_verdict_has_none() -> None:
    reasons = [f"smoke/test_api.py::test_get[/api/v{n}] failed: AssertionError: GET /api/v{n} "
               "answered 429 (expected 200)" for n in range(17)]
    reasons += ["readiness/test_signoffs.py::test_signed[a - DevOps Lead] pending sign-off: no sign-off",
                "readiness/test_signoffs.py::test_signed[b - QA Lead] pending sign-off: expired",
                "readiness/test_cdn.py::test_cdn not verified: no cdn table"]
    found = dashboard.causes(_doc(reasons=reasons))
    assert [c["kind"] for c in found] == ["failed", "unverified", "pending"]
    assert len(found[0]["checks"]) == 17 and found[0]["cause"].startswith("GET /api/v0 answered 429")
    assert len(found[2]["checks"]) == 2


def test_a_failed_rollback_trigger_is_one_cause_not_two() -> None:
    doc = _doc(rollback_reasons=["e2e/test_f.py::test_order (critical_flow): order flow broken"],
               reasons=["e2e/test_f.py::test_order failed: order flow broken"])
    assert [c["kind"] for c in dashboard.causes(doc)] == ["rollback"]


def test_banner_shows_at_most_six_causes_and_links_the_rest() -> None:
    reasons = [f"t.py::test_{n} failed: distinct problem {chr(65 + n)}x" for n in range(9)]
    html = dashboard.banner(_doc(reasons=reasons), NOW)
    assert html.count('class="cv-cause cv-kind') == 6 and "3 more causes below" in html
    assert "18 min ago" in html


def test_success_table_has_the_sixteen_criteria_with_targets_and_measured_values() -> None:
    items = checklist.load()
    checks = [{"nodeid": "load/t.py::test_p95", "outcome": "passed", "checklist": ["success.p95-latency"],
               "measurements": [{"name": "p95_ms", "value": 231.6123, "unit": "ms"}]}]
    html = dashboard.success_table(_doc(checks=checks), items)
    assert html.count("<tr class=") == 16
    assert "&lt; 500 ms" in html and "232 ms" in html and "&lt; 1 %" in html


def test_phase_grid_names_the_plan_sections_and_the_worst_status() -> None:
    rows = [{"id": "sec.rate-limiting", "status": "failed"},
            {"id": "sec.https-enforced", "status": "verified"}]
    html = dashboard.phase_grid(_doc(checklist=rows), checklist.load())
    for label in ("T-7d infrastructure", "T-7d security", "T-24 hours", "Go/no-go",
                  "Deployment verification", "Monitoring"):
        assert label in html
    security = re.search(r'<a class="cv-cell st-([a-z-]+)"[^>]*><b>T-7d security', html)
    assert security and security.group(1) == "failed"


def test_pending_signoffs_are_grouped_by_the_role_that_must_sign() -> None:
    checks = [{"nodeid": f"r.py::test_s[{n}]", "outcome": "pending", "checklist": [f"i{n}"],
               "message": f"no sign-off for 'i{n}': it must be signed by the {role} in signoffs.toml"}
              for n, role in enumerate(["DevOps Lead", "DevOps Lead", "QA Lead"])]
    html = dashboard.pending_by_role(_doc(checks=checks))
    assert "<b>DevOps Lead</b>: 2 pending" in html and "<b>QA Lead</b>: 1 pending" in html


def test_series_chart_draws_each_threshold_and_merges_equal_ones() -> None:
    svg = charts.series_chart("P95", [(0, 100), (1, 300), (2, 250)], "ms",
                              {"warning": 500, "critical": 1000, "rollback": 2000}, "c")
    assert all(f"cv-level-{k}" in svg for k in ("warning", "critical", "rollback"))
    merged = charts.series_chart("err", [(0, 1.0)], "%", {"warning": 1, "critical": 5, "rollback": 5}, "e")
    assert merged.count("<line class=\"cv-level") == 2 and "critical = rollback" in merged
    assert charts.series_chart("none", [], "ms", {}, "n") == ""


def test_budget_bars_colour_by_budget_and_timeline_links_each_run() -> None:
    svg = charts.budget_bars([("GET /a", 1200.0, 500, 1000), ("GET /b", 100.0, 500, 1000)], "b")
    assert charts.COLOURS["critical"] in svg and charts.COLOURS["GO"] in svg and "1,200 ms" in svg
    runs = [{"time": NOW - dt.timedelta(days=7), "label": "staging readiness", "verdict": "NO-GO",
             "link": "history/runs/1/go-no-go.html"},
            {"time": NOW, "label": "production smoke", "verdict": "GO", "link": None}]
    line = charts.timeline(runs, "t", NOW)
    assert '<a href="history/runs/1/go-no-go.html">' in line and "NO-GO" in line and "7 days ago" in line
