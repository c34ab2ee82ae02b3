"""E2E: the homepage loads in a real browser, without errors."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from pytest_cutover.e2e_profile import E2eProfile


@pytest.mark.flow("homepage")
@pytest.mark.rollback_trigger("critical_flow")
@pytest.mark.checklist("verify.homepage")
def test_homepage_loads_in_the_browser(flow, page, e2e_profile: E2eProfile):
    response, _ = flow.open("home")
    status = response.status if response else None
    assert status is not None and status < 400, (
        f"GET {e2e_profile.routes['home']} answered {status} in the browser (expected 2xx/3xx)")
    flow.step("wait for the page to render")
    expect(page.locator(e2e_profile.selectors["home_ready"]),
           "the homepage rendered nothing (expected content in its root element)").not_to_be_empty()
