"""E2E: signing in through the form lands on the role's own page; a wrong password is refused.

The refused sign-in is made with a made-up address, booked with the failed-login budget first: a
real account's wrong password would count toward its lockout and the address's failed-login limit
(ILS answers both alike: 401 "Invalid email or password").
"""

from __future__ import annotations

import secrets

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
    flow.step(f"sign in as the {role} account (waiting for POST {e2e_profile.routes['api_login']})")
    with flow.answer_to("POST", e2e_profile.routes["api_login"]) as answer:
        login.sign_in(account.email, account.password)
    user = (answer.body or {}).get("user") or {} if answer.ok else {}
    landing = e2e_profile.landing_route(str(user.get("role")))
    if landing is None:
        pytest.fail(f"POST {e2e_profile.routes['api_login']} as the {role} account answered "
                    f"{answer.status} with role {user.get('role')!r}; e2e.landing names no page for "
                    f"it (known roles: {', '.join(e2e_profile.landing)})", pytrace=False)
    dashboard = e2e_profile.routes[landing]
    flow.step(f"wait to land on {dashboard} (the {user.get('role')} role's page)")
    if not login.wait_to_leave(login.url_pattern(landing), e2e_profile.navigation_timeout_ms):
        shown = login.error.all_inner_texts()
        pytest.fail(f"after 'Sign in' the browser is at {page.url} (expected {dashboard} for the "
                    f"{user.get('role')} role); the page says: {' | '.join(shown) or 'nothing'}",
                    pytrace=False)
    flow.step("check the token is kept for the app")
    assert login.stored_token(), (
        f"signed in, but localStorage holds no {e2e_profile.storage['access_token']!r} "
        f"(expected the access token there)")


@pytest.mark.flow("login_rejected")
@pytest.mark.checklist("verify.login")
def test_wrong_password_is_refused_with_a_message(flow, page, e2e_profile, failed_logins):
    login = LoginPage(page, e2e_profile)
    flow.open("login")
    address = failed_logins.spend("e2e refused sign-in")
    # long enough to pass ILS's body validation (12+ characters), so the password itself is refused
    flow.step(f"sign in as {address} (no such account) with a wrong password")
    login.sign_in(address, "wrong-password-" + secrets.token_hex(6))
    expected = e2e_profile.texts["login_error"]
    flow.step(f"wait for the refusal {e2e_profile.selectors['login_error']}")
    expect(login.error, "no error message after a wrong password").to_be_visible()
    shown = login.error.inner_text().strip()
    assert expected in shown, f"after a wrong password the page says {shown!r} (expected {expected!r})"
    assert login.url_pattern().search(page.url), (
        f"after a wrong password the browser is at {page.url} (expected to stay on "
        f"{e2e_profile.routes['login']})")
    assert not login.stored_token(), "a wrong password left an access token in localStorage"
