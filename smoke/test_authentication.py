"""Smoke: the API is closed to anonymous callers and open to a real login of the smoke account;
bad credentials and malformed logins are refused.

Every refused login counts against the target's failed-login limiter (ILS: 5 per 15 minutes per
address, and then real sign-ins are refused too), so each is booked with `failed_logins` first,
and bad credentials are tried on a made-up address, never on a real account: ILS answers an
unknown account and a wrong password alike (401 INVALID_CREDENTIALS), and no account is locked.
"""

from __future__ import annotations

import secrets

import pytest

pytestmark = pytest.mark.checklist("verify.login", "success.users-log-in")


@pytest.mark.checklist("verify.api-responds")
def test_protected_path_rejects_anonymous_call(http, protected_path):
    result = http.get(protected_path)
    assert result.status == 401, f"{result.describe()} (expected 401 without a token)"


@pytest.mark.checklist("verify.api-responds")
def test_protected_path_accepts_the_smoke_token(http, protected_path, smoke_auth):
    # 403 is an answer to an authenticated caller whose role may not see the path.
    result = http.get(protected_path, headers=smoke_auth)
    assert result.status is not None and (200 <= result.status < 300 or result.status == 403), (
        f"{result.describe()} (expected 2xx, or 403 for the role, with the smoke token)")


def test_smoke_account_logs_in(http, smoke_login):
    http.history.extend(smoke_login.exchanges)  # the run's one smoke login is this evidence
    result = smoke_login.answer
    assert result is not None, "the smoke account's login was not attempted (target not ready)"
    body = result.json() if result.status == 200 else None
    assert result.status == 200 and isinstance(body, dict) and body.get("accessToken"), (
        f"{result.describe()} (expected 200 with an accessToken)")


def test_current_user_is_the_smoke_account(http, target, smoke_account, smoke_auth):
    path = target.profile["me_path"]
    result = http.get(path, headers=smoke_auth)
    body = result.json()
    user = body.get("user", body) if isinstance(body, dict) else {}
    email = user.get("email") if isinstance(user, dict) else None
    assert result.status == 200 and str(email).lower() == smoke_account.email.lower(), (
        f"GET {path} answered {result.status} for user {email!r} (expected 200 for the smoke "
        f"account)")


def test_bad_credentials_are_refused(login, failed_logins):
    # one attempt per run; the e2e audit flow reads its entry instead of making another
    result = failed_logins.once("smoke bad credentials", lambda: login(
        failed_logins.spend("smoke bad credentials"), "wrong-" + secrets.token_urlsafe(12)))
    body = result.json() if isinstance(result.json(), dict) else {}
    assert result.status == 401 and not body.get("accessToken"), (
        f"{result.describe()} (expected 401 and no token for credentials that match no account)")


def test_login_without_body_is_rejected(http, target, failed_logins):
    path = target.profile["login_path"]
    failed_logins.spend("smoke empty login", kind="empty-body")
    result = http.post(path, headers={"Content-Type": "application/json"})
    assert result.status == 400, f"{result.describe()} (expected 400 for a login without body)"
