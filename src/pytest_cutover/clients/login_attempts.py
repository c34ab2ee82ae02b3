"""Sign-ins the suite makes on purpose with credentials that ought to be refused.

Every refused one is a failed login the target counts: ILS allows 5 per 15 minutes per client
address and locks an account after 5 (docs/ils-contract.md, limit.*), and the smoke checks spend
some too. So these attempts go through this one seam: it stops at `limit` per run, and books
each attempt first with `book` (the run's failed-login budget, pytest_cutover.failed_logins),
stopping when that says no. It never signs in as a configured account: deliberate failures are
made only with published (default or seeded) credentials.
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_cutover.clients.http import HttpClient, HttpResult


class LoginAttempts:
    def __init__(self, client: HttpClient, login_path: str, limit: int,
                 refused_emails: frozenset[str] = frozenset(),
                 book: Callable[[str], bool] | None = None) -> None:
        self.client = client
        self.login_path = login_path
        self.limit = limit
        self.refused_emails = refused_emails  # the configured accounts' addresses, never tried
        self.book = book  # True when the attempt (by e-mail) fits the run's budget
        self.spent = 0
        self.budget_spent = False

    def attempt(self, email: str, password: str) -> HttpResult | None:
        """The login's answer, or None when a budget is spent or the account is one of ours."""
        if self.spent >= self.limit or self.budget_spent or email.lower() in self.refused_emails:
            return None
        if self.book is not None and not self.book(email):
            self.budget_spent = True
            return None
        self.spent += 1
        return self.client.post(self.login_path, json={"email": email, "password": password})


def signed_in(result: HttpResult | None) -> bool:
    """Whether an answer is a successful sign-in (a token or a session came back)."""
    if result is None or result.status is None or not 200 <= result.status < 300:
        return False
    body = result.json()
    return isinstance(body, dict) and bool(body.get("accessToken") or body.get("token")
                                           or body.get("success") is True)
