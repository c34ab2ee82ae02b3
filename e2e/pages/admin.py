"""Admin pages: users (/admin/users) and the audit log (/admin/audit-logs)."""

from __future__ import annotations

from playwright.sync_api import Locator

from e2e.pages.base import PageObject


class UsersPage(PageObject):
    route = "admin_users"

    def rows_with(self, text: str) -> Locator:
        return self.sel("user_row").filter(has_text=text)


class AuditLogPage(PageObject):
    route = "audit_log"

    def rows_with(self, *texts: str) -> Locator:
        rows = self.sel("audit_row")
        for text in texts:
            rows = rows.filter(has_text=text)
        return rows
