"""The patients page (/ecp/patients): list, search, and the add-patient form."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator

from e2e.pages.base import PageObject

FIELDS = ("name", "dob", "nhs", "email", "phone", "address", "city", "postcode")
ROW_PREFIX = "row-patient-"


class PatientsPage(PageObject):
    route = "patients"

    def add(self, patient: dict[str, Any]) -> None:
        self.sel("add_patient").click()
        for field in FIELDS:
            if patient.get(field):
                self.sel(f"patient_{field}").fill(str(patient[field]))
        self.sel("patient_submit").click()

    def save_outcome(self) -> Locator:
        """The confirmation toast or the form's error, whichever appears."""
        return self.sel("toast").or_(self.sel("form_error")).first

    def search(self, text: str) -> None:
        self.sel("patient_search").fill(text)

    def rows_with(self, text: str) -> Locator:
        return self.sel("patient_row").filter(has_text=text)

    @staticmethod
    def patient_id(row: Locator) -> str:
        return (row.get_attribute("data-testid") or "").removeprefix(ROW_PREFIX)
