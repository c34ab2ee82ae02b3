"""The role dashboards (/ecp/dashboard, /admin/dashboard) and their key widgets."""

from __future__ import annotations

from playwright.sync_api import Page

from e2e.pages.base import PageObject
from pytest_cutover.e2e_profile import E2eProfile


class DashboardPage(PageObject):
    def __init__(self, page: Page, profile: E2eProfile, role: str) -> None:
        super().__init__(page, profile)
        self.route = f"{role}_dashboard"
