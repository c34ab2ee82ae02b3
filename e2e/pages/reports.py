"""The reports page (/ecp/reports): totals, a chart, the clinical reports."""

from __future__ import annotations

from e2e.pages.base import PageObject


class ReportsPage(PageObject):
    route = "reports"
