"""A role's own dashboard (/ecp/dashboard, /admin/dashboard, /platform-admin/dashboard)."""

from __future__ import annotations

from playwright.sync_api import Page

from e2e.pages.base import PageObject
from pytest_cutover.e2e_profile import E2eProfile


class DashboardPage(PageObject):
    def __init__(self, page: Page, profile: E2eProfile, route: str) -> None:
        super().__init__(page, profile)
        self.route = route  # the route name the role lands on (profile `landing`)
