"""The go/no-go page decides on its first screen: rendered in Chromium at 1400x900, the verdict,
its causes, the rollback-triggers table and the success-criteria table lie inside the viewport;
the load chart carries its threshold lines; no value has a long decimal tail in the page, the
summary or the terminal. With CUTOVER_DOCS_SCREENSHOTS=1 the screenshots land in docs/."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cutover_project import Project
from decision_scenarios import SIGNOFFS, files

CHROMIUM = os.environ.get("CUTOVER_CHROMIUM", "/usr/lib/chromium/chromium")
DOCS = Path(__file__).resolve().parents[2] / "docs"
# read at import: the project fixture clears CUTOVER_* variables before each test
WRITE_DOCS = os.environ.get("CUTOVER_DOCS_SCREENSHOTS") == "1"
REPORT_ARGS = ("--html=reports/go-no-go.html", "--self-contained-html")
# a decimal with five or more fraction digits: more than a person writes (0.00133712)
LONG_TAIL = re.compile(r"(?<![\w.:/-])\d+\.\d{5,}(?![\d.])")


def _run(project: Project, decision: str) -> Project:
    project.signoffs(SIGNOFFS)
    for folder, modules in files(decision).items():
        project.tests(folder, **modules)
    result = project.run(*REPORT_ARGS)
    assert project.verdict()["decision"] == decision, result.stdout.str()
    project.terminal = result.stdout.str()  # type: ignore[attr-defined]
    return project


@pytest.fixture(params=["GO", "NO-GO", "ROLLBACK"])
def decided(request: pytest.FixtureRequest, project: Project) -> Project:
    return _run(project, request.param)


def _visible_text(html: str) -> str:
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    html = re.sub(r"data:image/[a-z]+;base64,[A-Za-z0-9+/=]+", " ", html)
    html = re.sub(r'<svg\b.*?</svg>', lambda m: " ".join(re.findall(r">([^<]+)<", m.group(0))), html,
                  flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_no_long_decimal_tails_in_page_summary_or_terminal(decided: Project) -> None:
    doc = decided.verdict()
    # the exact values stay in verdict.json
    assert any(m["value"] == 0.00234104 for c in doc["checks"] for m in c["measurements"])
    page = decided.report("go-no-go.html").read_text()
    cutover_part = page[page.index('id="cutover-first"'):]
    for where, text in (("page", _visible_text(cutover_part)),
                        ("summary.md", decided.report("summary.md").read_text()),
                        ("terminal", decided.terminal)):  # type: ignore[attr-defined]
        tails = LONG_TAIL.findall(text)
        assert not tails, f"{where} shows {tails[:5]} (expected at most 4 decimals)"
    assert "8.4 s" in page  # backup_age_hours 0.00234104 h, as a person writes it


def test_load_chart_has_its_threshold_lines(decided: Project) -> None:
    page = decided.report("go-no-go.html").read_text()
    chart = re.search(r'<svg[^>]*id="cv-load-p95".*?</svg>', page, flags=re.S)
    assert chart, "no load P95 chart in a report whose run included the load gate"
    for level in ("warning", "critical", "rollback"):
        assert f"cv-level-{level}" in chart.group(0), level
    assert 'id="cv-load-errors"' in page and 'id="cv-endpoint-budgets"' in page
    assert 'id="cv-timeline"' in page and "runs/" in page  # linked to the archived report
    assert "<script src=" not in page and "<link rel=\"stylesheet\" href" not in page


def test_no_go_causes_are_grouped_and_pending_signoffs_by_role(project: Project) -> None:
    _run(project, "NO-GO")
    page = project.report("go-no-go.html").read_text()
    banner = page[page.index('id="cutover-verdict"'):page.index('id="cutover-triggers"')]
    assert banner.count("429 Too Many Requests") <= 1 + 1  # one cause (plus the title text)
    assert "17 checks" in banner
    assert "DevOps Lead</b>: 3 pending" in page
    summary = project.report("summary.md").read_text()
    assert summary.index("### Causes") < summary.index("### Rollback triggers")


def test_first_screen_decides_at_1400x900(decided: Project, tmp_path: Path) -> None:
    if not Path(CHROMIUM).is_file():
        pytest.fail(f"no Chromium at {CHROMIUM}")
    decision = decided.verdict()["decision"]
    shot = tmp_path / f"report-{decision.lower()}.png"
    selectors = ["#cutover-verdict h1", "#cutover-causes", "#cutover-triggers", "#cutover-success",
                 "#cutover-phases", "#cutover-signoff-counts"]
    done = subprocess.run([sys.executable, str(Path(__file__).with_name("render_page.py")),
                           str(decided.report("go-no-go.html")), str(shot), "1400", "900", *selectors],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    found = json.loads(done.stdout)
    for selector, box in found["boxes"].items():
        assert box is not None, f"{selector} is not rendered"
        assert box["y"] >= 0 and box["y"] + box["height"] <= 900 and box["x"] + box["width"] <= 1400, (
            f"{selector} lies outside the first screen at 1400x900: {box}")
    assert found["verdict"] == decision
    assert found["trigger_rows"] == 5  # header + the plan's four
    assert found["success_rows"] == 16 + 2  # 16 criteria in two columns, each with a header
    assert found["a4"] and found["pdf_pages"] >= 2, found
    if WRITE_DOCS:
        shutil.copyfile(shot, DOCS / "img" / shot.name)
