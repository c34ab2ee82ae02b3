"""E2E: an order placed through the 4-step wizard gets a number, is pending and is listed."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from e2e.pages.orders import NewOrderPage, OrdersPage

PRESCRIPTION = {"od_sphere": -1.25, "od_cylinder": -0.5, "od_axis": 90, "od_add": 1.5,
                "os_sphere": -1.0, "os_cylinder": -0.25, "os_axis": 85, "os_add": 1.5, "pd": 63}


@pytest.mark.flow("create_order")
@pytest.mark.destructive
@pytest.mark.rollback_trigger("critical_flow")
@pytest.mark.checklist("verify.create-order", "success.core-workflows")
def test_wizard_order_is_numbered_pending_and_listed(flow, page, e2e_profile, sign_in, new_data):
    signed_in = sign_in("user")
    patient = new_data.name("Order patient")
    wizard = NewOrderPage(page, e2e_profile)
    flow.open("new_order")
    flow.step("Patient Info")
    wizard.patient_info(patient, "1975-09-30")
    wizard.next()
    flow.step("Prescription")
    wizard.prescription(PRESCRIPTION)
    wizard.next()
    flow.step("Lens & Frame")
    wizard.lens_and_frame(e2e_profile.order, "placed by the cutover e2e suite; removed after the run")
    wizard.next()
    flow.step("Review and Complete")
    wizard.complete()
    expect(wizard.outcome(), "the wizard gave no answer to 'Complete'").to_be_visible()
    assert not wizard.alert_text(), (
        f"Complete failed: the page says {wizard.alert_text()!r} "
        f"(expected {e2e_profile.texts['order_created']!r})")
    expect(wizard.created_message()).to_be_visible()
    number = wizard.order_number.inner_text().strip()
    assert re.fullmatch(e2e_profile.texts["order_number_pattern"], number), (
        f"the order number shown is {number!r} (expected one like "
        f"{e2e_profile.texts['order_number_pattern']!r})")

    flow.step(f"find {number} in the orders list")
    orders = OrdersPage(page, e2e_profile)
    flow.open("orders")
    orders.search(number)
    expect(orders.rows_with(number), f"order {number} is not listed on {orders.path}").to_have_count(1)
    expected = e2e_profile.texts["order_status"]
    expect(orders.rows_with(number), f"order {number} is listed, but not as {expected!r}"
           ).to_contain_text(expected)
    flow.step(f"read {number} through the API")
    path = e2e_profile.routes["api_orders"]
    answer = page.request.get(path, params={"search": number},
                              headers={"Authorization": f"Bearer {signed_in.token}"})
    found = [o for o in (answer.json().get("orders", []) if answer.ok else [])
             if o.get("orderNumber") == number]
    assert [o.get("status") for o in found] == [expected], (
        f"GET {path}?search={number} answered {answer.status} with statuses "
        f"{[o.get('status') for o in found]} (expected one order, {expected!r})")
