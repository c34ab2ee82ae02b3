"""The sign-in page (/email-login) and the sign-out button every signed-in page has."""

from __future__ import annotations

from playwright.sync_api import Locator

from e2e.pages.base import PageObject


class LoginPage(PageObject):
    route = "login"

    def sign_in(self, email: str, password: str) -> None:
        self.sel("email").fill(email)
        self.sel("password").fill(password)
        self.sel("login_button").click()

    @property
    def error(self) -> Locator:
        return self.sel("login_error")

    def stored_token(self) -> str | None:
        key = self.profile.storage["access_token"]
        return self.page.evaluate("key => localStorage.getItem(key)", key)  # type: ignore[no-any-return]

    def sign_out(self) -> None:
        self.sel("logout").click()
