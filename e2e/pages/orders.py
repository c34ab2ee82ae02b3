"""The new-order wizard (/ecp/new-order) and the order cards (/ecp/orders)."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Locator

from e2e.pages.base import PageObject


class NewOrderPage(PageObject):
    route = "new_order"

    def next(self) -> None:
        self.sel("wizard_next").click()

    def patient_info(self, name: str, dob: str) -> None:
        self.sel("order_patient_name").fill(name)
        self.sel("order_patient_dob").fill(dob)

    def prescription(self, values: dict[str, Any]) -> None:
        """`values` by profile key suffix: od_sphere, os_axis, pd ..."""
        for key, value in values.items():
            self.sel(f"order_{key}").fill(str(value))

    def lens_and_frame(self, choices: dict[str, str], notes: str) -> None:
        for key in ("lens_type", "lens_material", "coating"):
            self.choose(f"order_{key}", choices[key])
        self.sel("order_notes").fill(notes)

    def complete(self) -> None:
        self.sel("wizard_complete").click()

    def created_message(self) -> Locator:
        return self.page.get_by_text(self.profile.texts["order_created"]).first

    def outcome(self) -> Locator:
        """The success message or the form's error, whichever appears."""
        return self.created_message().or_(self.sel("form_error")).first


class OrdersPage(PageObject):
    route = "orders"

    def card(self, number: str) -> Locator:
        """The order's card (ILS's OrderCard, by order number)."""
        return self.page.locator(self.profile.selectors["order_card"].format(number=number))
