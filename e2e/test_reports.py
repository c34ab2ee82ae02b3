"""E2E: the reports page shows figures from the live data."""

from __future__ import annotations

import pytest

from e2e.flowkit import expect_figure
from e2e.pages.reports import ReportsPage
from pytest_cutover import outcomes


@pytest.mark.flow("reports")
@pytest.mark.checklist("verify.view-reports")
def test_reports_page_shows_figures(flow, page, e2e_profile, sign_in):
    if not (e2e_profile.routes["reports"] and e2e_profile.widgets["reports"]):
        pytest.skip(outcomes.tag(outcomes.NOT_APPLICABLE, (
            "ILS 2.0 has no reports page (docs/ils-contract.md route.no-reports): set "
            "e2e.routes.reports and e2e.widgets.reports to check one")))
    sign_in("user")
    reports = ReportsPage(page, e2e_profile)
    response, _ = flow.open("reports")
    status = response.status if response else None
    assert status is not None and status < 400, f"GET {reports.path} answered {status} (expected 2xx)"
    for selector, widget in reports.widgets().items():
        flow.step(f"wait for {selector}")
        expect_figure(widget, f"{selector} on {reports.path}")
