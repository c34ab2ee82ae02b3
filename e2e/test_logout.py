"""E2E: after signing out, the app asks to sign in again."""

from __future__ import annotations

import pytest

from e2e.pages.login import LoginPage


@pytest.mark.flow("logout")
@pytest.mark.checklist("verify.login")
def test_signed_out_user_must_sign_in_again(flow, page, e2e_profile, sign_in):
    sign_in("user")
    login = LoginPage(page, e2e_profile)
    flow.open("patients")
    flow.step("sign out")
    login.sign_out()
    page.wait_for_url(login.url_pattern())
    assert not login.stored_token(), "signed out, but the access token is still in localStorage"
    flow.step("open the dashboard again")
    flow.open("user_dashboard")
    assert login.url_pattern().search(page.url), (
        f"after sign-out {e2e_profile.routes['user_dashboard']} opened at {page.url} "
        f"(expected the sign-in page)")
