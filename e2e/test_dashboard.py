"""E2E: each role's own dashboard renders its key widgets within the page-load budget."""

from __future__ import annotations

import pytest

from e2e.flowkit import expect_figure
from e2e.pages.dashboard import DashboardPage
from pytest_cutover.thresholds import Threshold


@pytest.mark.flow("dashboard")
@pytest.mark.rollback_trigger("critical_flow")
@pytest.mark.checklist("verify.dashboard")
@pytest.mark.parametrize("role", ["user", "admin"])
def test_dashboard_renders_its_widgets_in_time(flow, page, e2e_profile, sign_in, measure, role):
    signed_in = sign_in(role)
    account_role = str(signed_in.user.get("role"))
    landing = e2e_profile.landing_route(account_role)
    if landing is None:
        pytest.fail(f"the {role} account's role {account_role!r} has no landing page in "
                    f"e2e.landing (known roles: {', '.join(e2e_profile.landing)})", pytrace=False)
    dashboard = DashboardPage(page, e2e_profile, landing)
    response, load_ms = flow.open(dashboard.route)
    assert response is not None and response.ok, (
        f"GET {dashboard.path} answered {response.status if response else None} (expected 2xx)")
    measure("page_load_ms", load_ms, Threshold(**e2e_profile.page_load_ms), subject=dashboard.path)
    for selector, widget in dashboard.widgets().items():
        flow.step(f"wait for the widget {selector}")
        expect_figure(widget, f"the widget {selector} on {dashboard.path}")
