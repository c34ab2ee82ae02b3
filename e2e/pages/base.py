"""What every page object has: the page, the profile, profile-named locators."""

from __future__ import annotations

import re

from playwright.sync_api import Locator, Page

from pytest_cutover.e2e_profile import E2eProfile


class PageObject:
    route = ""  # key of the profile's routes

    def __init__(self, page: Page, profile: E2eProfile) -> None:
        self.page, self.profile = page, profile

    def sel(self, key: str) -> Locator:
        return self.page.locator(self.profile.selectors[key])

    @property
    def path(self) -> str:
        return self.profile.routes[self.route]

    def url_pattern(self, route: str | None = None) -> re.Pattern[str]:
        """Matches the page's URL with any query string (e.g. `?next=...`)."""
        return re.compile(re.escape(self.profile.routes[route or self.route]) + r"(\?.*)?$")

    def widgets(self) -> dict[str, Locator]:
        """The page's key widgets (profile `widgets.<route>`), by selector."""
        return {selector: self.page.locator(selector) for selector in self.profile.widgets[self.route]}

    def choose(self, key: str, label: str) -> None:
        """Pick `label` in the choice `key`: a native select, or (as ILS's wizard has) a Radix
        select, a button whose options appear as `selectors.select_option` elements."""
        trigger = self.sel(key)
        if trigger.evaluate("element => element.tagName") == "SELECT":
            trigger.select_option(label=label)
            return
        trigger.click()
        option = self.page.locator(self.profile.selectors["select_option"])
        option.filter(has_text=re.compile(rf"^\s*{re.escape(label)}\s*$")).click()

    def alert_text(self) -> str:
        """What the page's visible alerts say (for failure messages), or ''."""
        alerts = self.sel("form_error")
        return " | ".join(t.strip() for t in alerts.all_inner_texts() if t.strip())
