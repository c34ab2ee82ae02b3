"""E2E: signing in through the form lands on the role's dashboard; a wrong password is refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.pages.login import LoginPage


@pytest.mark.flow("login")
@pytest.mark.rollback_trigger("critical_flow")
@pytest.mark.checklist("verify.login")
@pytest.mark.parametrize("role", ["user", "admin"])
def test_sign_in_lands_on_the_role_dashboard(flow, page, e2e_profile, e2e_account, role):
    account = e2e_account(role)
    login = LoginPage(page, e2e_profile)
    flow.open("login")
    flow.step(f"sign in as the {role} account")
    login.sign_in(account.email, account.password)
    dashboard = e2e_profile.routes[f"{role}_dashboard"]
    if not login.wait_to_leave(login.url_pattern(f"{role}_dashboard"), e2e_profile.navigation_timeout_ms):
        shown = login.error.all_inner_texts()
        pytest.fail(f"after 'Sign in' the browser is at {page.url} (expected {dashboard}); "
                    f"the page says: {' | '.join(shown) or 'nothing'}", pytrace=False)
    flow.step("check the token is kept for the app")
    assert login.stored_token(), (
        f"signed in, but localStorage holds no {e2e_profile.storage['access_token']!r} "
        f"(expected the access token there)")


@pytest.mark.flow("login_rejected")
@pytest.mark.checklist("verify.login")
def test_wrong_password_is_refused_with_a_message(flow, page, e2e_profile, e2e_account):
    account = e2e_account("user")
    login = LoginPage(page, e2e_profile)
    flow.open("login")
    flow.step("sign in as the user account with a wrong password")
    login.sign_in(account.email, "wrong-" + account.password[::-1])
    expected = e2e_profile.texts["login_error"]
    expect(login.error, "no error message after a wrong password").to_be_visible()
    shown = login.error.inner_text().strip()
    assert expected in shown, f"after a wrong password the page says {shown!r} (expected {expected!r})"
    assert login.url_pattern().search(page.url), (
        f"after a wrong password the browser is at {page.url} (expected to stay on "
        f"{e2e_profile.routes['login']})")
    assert not login.stored_token(), "a wrong password left an access token in localStorage"
