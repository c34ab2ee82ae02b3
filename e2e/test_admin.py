"""E2E: admins see the users and an audit log of what just happened; other roles are refused."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from e2e.pages.admin import AuditLogPage, UsersPage
from pytest_cutover import outcomes


@pytest.mark.flow("admin_users")
@pytest.mark.checklist("verify.admin-functions")
def test_admin_users_list_shows_the_accounts(flow, page, e2e_profile, sign_in, e2e_account):
    admin = sign_in("admin")
    users = UsersPage(page, e2e_profile)
    flow.open("admin_users")
    for role, email in (("admin", admin.account.email), ("user", e2e_account("user").email)):
        flow.step(f"find the {role} account in the users list")
        expect(users.rows_with(email), f"{email} is not listed on {users.path}").to_have_count(1)


@pytest.mark.flow("admin_audit")
@pytest.mark.checklist("verify.admin-functions")
def test_audit_log_shows_a_sign_in_failure_just_made(flow, page, e2e_profile, sign_in, failed_logins):
    action = e2e_profile.texts["failed_login_action"]
    if not (action and e2e_profile.selectors["audit_row"]):
        pytest.skip(outcomes.tag(outcomes.NOT_APPLICABLE, (
            "ILS 2.0 writes no audit row for a sign-in and its audit page has no row test ids "
            "(docs/ils-contract.md auth.login-audit, ui.audit-page): set "
            "e2e.texts.failed_login_action and e2e.selectors.audit_row to check one")))
    sign_in("admin")
    earlier = failed_logins.reusable()  # this run's refused sign-in (smoke's, the login flow's)
    if earlier is not None:
        marker = earlier.account
        flow.step(f"read the refused sign-in as {marker} made by {earlier.purpose!r}")
    else:
        marker = failed_logins.spend("e2e audit flow")
        flow.step(f"fail a sign-in as {marker} (the action the audit log must show)")
        # 12+ characters: past ILS's body validation, so the sign-in itself is refused (401)
        answer = page.request.post(e2e_profile.routes["api_login"],
                                   data={"email": marker, "password": "wrong-password-0"})
        assert answer.status == 401, (
            f"a sign-in as the unknown {marker} answered {answer.status} (expected 401)")
    audit = AuditLogPage(page, e2e_profile)
    flow.open("audit_log")
    expect(audit.rows_with(action, marker),
           f"the audit log on {audit.path} has no {action!r} entry for {marker}").to_have_count(1)


@pytest.mark.flow("admin_refused")
@pytest.mark.checklist("verify.admin-functions")
def test_admin_pages_refuse_other_roles(flow, page, e2e_profile, sign_in):
    user = sign_in("user")
    users = UsersPage(page, e2e_profile)
    flow.open("admin_users")
    flow.step("check the page refuses the non-admin")
    expect(users.sel("access_denied"), f"{users.path} does not refuse the {user.user.get('role')!r} "
           f"account {user.account.email}").to_be_visible()
    expect(users.sel("users_table"), f"{users.path} shows the users to the "
           f"{user.user.get('role')!r} account {user.account.email}").to_have_count(0)
