"""E2E: after signing out, the tokens are gone and the app no longer shows a signed-in page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.pages.login import LoginPage


@pytest.mark.flow("logout")
@pytest.mark.checklist("verify.login")
def test_signed_out_user_must_sign_in_again(flow, page, e2e_profile, sign_in):
    sign_in("user")
    login = LoginPage(page, e2e_profile)
    flow.open("patients")
    flow.step(f"sign out with {e2e_profile.selectors['logout']}")
    login.sign_out()
    flow.step(f"wait for {e2e_profile.routes['signed_out']}")
    page.wait_for_url(login.url_pattern("signed_out"))
    assert not login.stored_token(), "signed out, but the access token is still in localStorage"
    flow.open("user_dashboard")
    # ILS renders its public landing page in place (no redirect); either way no signed-in page
    flow.step(f"check {e2e_profile.routes['user_dashboard']} is not shown signed in")
    expect(login.signed_in_marker, f"after sign-out {e2e_profile.routes['user_dashboard']} still "
           f"shows the signed-in layout ({e2e_profile.selectors['signed_in']}) at {page.url}"
           ).to_have_count(0)
