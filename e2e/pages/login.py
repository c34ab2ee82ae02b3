"""The sign-in page (/email-login) and the sign-out button every signed-in page has."""

from __future__ import annotations

import re
import time

from playwright.sync_api import Locator

from e2e.pages.base import PageObject


class LoginPage(PageObject):
    route = "login"

    def sign_in(self, email: str, password: str) -> None:
        self.sel("email").fill(email)
        self.sel("password").fill(password)
        self.sel("login_button").click()

    def wait_to_leave(self, target: re.Pattern[str], timeout_ms: float) -> bool:
        """After 'Sign in': True once the URL matches `target`; False as soon as the page shows
        an error, or when `timeout_ms` is spent."""
        deadline = time.monotonic() + timeout_ms / 1000
        while time.monotonic() < deadline:
            if target.search(self.page.url):
                return True
            if self.error.is_visible():
                return False
            self.page.wait_for_timeout(100)
        return bool(target.search(self.page.url))

    @property
    def error(self) -> Locator:
        return self.sel("login_error")

    def stored_token(self) -> str | None:
        key = self.profile.storage["access_token"]
        return self.page.evaluate("key => localStorage.getItem(key)", key)  # type: ignore[no-any-return]

    def sign_out(self) -> None:
        self.sel("logout").click()

    @property
    def signed_in_marker(self) -> Locator:
        """What only the signed-in layout shows (ILS: its sign-out button)."""
        return self.sel("signed_in")
