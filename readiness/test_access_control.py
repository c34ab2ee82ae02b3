"""Security: the login refuses default credentials and the accounts the app's own code seeds,
admin endpoints refuse anonymous and non-admin callers, and debug or diagnostic paths are not
exposed.

Each refused default credential counts as one failed login for that account (ILS locks an
account after 5 in 15 minutes) and for the address (the failed-login limiter): each is booked with
the failed-login budget first, and is not run when it is spent. Keep the list short and free of
real users' addresses. The seeded accounts are tried through one seam (clients/login_attempts.py),
most dangerous first, at most `security.seeded_login_attempts` (3) per run, each booked with the
same budget.
"""

from __future__ import annotations

import secrets

import pytest

from pytest_cutover import default_accounts, unverified
from pytest_cutover.clients.http import HttpClient
from pytest_cutover.clients.login_attempts import LoginAttempts, signed_in
from pytest_cutover.failed_logins import BudgetSpent
from pytest_cutover.settings import Unavailable
from pytest_cutover.stash import settings_key

DEFAULT_CREDENTIALS = [{"email": "admin@example.com", "password": "admin"},
                       {"email": "admin@admin.com", "password": "password"},
                       {"email": "test@example.com", "password": "test"}]
DEFAULT_ADMIN_PATHS = ["/api/admin/users", "/api/admin/audit-logs", "/api/admin/stats"]
DEFAULT_DEBUG_PATHS = ["/debug", "/api/debug", "/.env", "/.git/config", "/server-status",
                       "/actuator/env", "/phpinfo.php", "/__debug__/", "/api/swagger-ui/../../.env"]
REFUSED = (400, 401, 403, 429)


def _security(config: pytest.Config) -> dict:
    settings = config.stash.get(settings_key, None)
    return (settings.environment.data.get("security") or {}) if settings else {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    security = _security(metafunc.config)
    if "credential" in metafunc.fixturenames:
        creds = security.get("default_credentials") or DEFAULT_CREDENTIALS
        # ids by position: an address may also be a configured account (and so be redacted)
        metafunc.parametrize("credential", creds, ids=[f"default-{n}" for n in range(1, len(creds) + 1)])
    if "admin_path" in metafunc.fixturenames:
        paths = security.get("admin_paths") or DEFAULT_ADMIN_PATHS
        metafunc.parametrize("admin_path", paths, ids=paths)
    if "debug_path" in metafunc.fixturenames:
        paths = security.get("debug_paths") or DEFAULT_DEBUG_PATHS
        metafunc.parametrize("debug_path", paths, ids=paths)


@pytest.mark.checklist("sec.security-audit")
def test_default_credentials_are_refused(http, target, credential, failed_logins):
    failed_logins.spend("default-credential probe", kind="default-credential",
                        account=str(credential.get("email")))
    result = http.post(target.profile["login_path"],
                       json={"email": credential.get("email"), "password": credential.get("password")})
    if result.status is None:
        unverified(f"the login could not be reached: {result.describe()}")
    body = result.json() if isinstance(result.json(), dict) else {}
    assert result.status in REFUSED and "accessToken" not in body, (
        f"login as {credential.get('email')!r} with a default password answered {result.status} "
        f"(expected one of {REFUSED} and no token): default credentials are accepted")


def _configured_emails(target) -> frozenset[str]:
    emails = set()
    for table in (target.data.get("accounts") or {}).values():
        try:
            emails.add(target.secret(table["email_env"]).strip().lower())
        except (Unavailable, KeyError, TypeError):
            continue
    return frozenset(emails)


def _booking(failed_logins):
    """Each seeded-account attempt is booked with the run's failed-login budget first."""
    def book(email: str) -> bool:
        try:
            failed_logins.budget.spend("seeded-account probe", "seeded-account", email)
        except BudgetSpent:
            return False
        return True
    return book


@pytest.mark.checklist("sec.security-audit")
def test_accounts_seeded_by_the_app_do_not_log_in(http, target, evidence, failed_logins):
    accounts = default_accounts.seeded(target)
    if not accounts:
        unverified(f"the profile of {target.name!r} lists no seeded_accounts the login accepts "
                   f"(accounts the app's own migrations, seeds or boot code create)")
    limit = int((target.data.get("security") or {}).get("seeded_login_attempts", 3))
    attempts = LoginAttempts(http, target.profile["login_path"], limit, _configured_emails(target),
                             book=_booking(failed_logins))
    tried, untried, accepted = [], [], []
    for account in accounts:
        result = attempts.attempt(account["email"], account["password"])
        if result is None:
            untried.append(account["name"])
            continue
        tried.append(f"{account['name']}: {result.status}")
        if signed_in(result):
            accepted.append(account)
    evidence("seeded accounts tried", {"tried": tried, "not tried (budget or own account)": untried,
                                       "limit": limit, "failed-login budget spent": attempts.budget_spent},
             "json")
    if not tried:
        unverified(f"no seeded account could be tried (failed-login budget spent: "
                   f"{attempts.budget_spent}; limit {limit}): {', '.join(untried)}")
    assert not accepted, "; ".join(
        f"the seeded account {a['name']!r} ({a['email']}, role {a.get('role')}, created by "
        f"{a.get('source')}) logs in with its published password" for a in accepted)


@pytest.mark.checklist("sec.security-audit")
def test_admin_endpoint_refuses_anonymous_callers(http, admin_path):
    result = http.get(admin_path)
    assert result.status in (401, 403), (
        f"anonymous GET {admin_path} answered {result.status} (expected 401 or 403); {result.describe()}")


@pytest.mark.checklist("sec.security-audit")
def test_admin_endpoint_refuses_non_admin_users(http, admin_path, non_admin_token):
    result = http.get(admin_path, headers={"Authorization": f"Bearer {non_admin_token}"})
    assert result.status in (401, 403), (
        f"GET {admin_path} as a non-admin user answered {result.status} (expected 403); "
        f"{result.describe()}")


@pytest.fixture(scope="module")
def fallback_body(target) -> str:
    """What the server answers for a path that surely does not exist (an SPA shell, a 404)."""
    client = HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=target.timeout_s)
    try:
        result = client.get(f"/cutover-no-such-page-{secrets.token_hex(4)}")
    finally:
        client.close()
    return result.text if result.status == 200 else ""


@pytest.mark.checklist("sec.security-audit")
def test_debug_path_is_not_exposed(http, debug_path, fallback_body):
    result = http.get(debug_path)
    exposed = result.status is not None and 200 <= result.status < 300 and result.text != fallback_body
    assert not exposed, (f"GET {debug_path} answered {result.status} with {len(result.text)} bytes "
                         f"of its own content (expected 401/403/404 or the unknown-page answer)")
