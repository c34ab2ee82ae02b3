"""E2E: a patient added through the form is found by search and through the API."""

from __future__ import annotations

import secrets

import pytest
from playwright.sync_api import expect

from e2e.pages.patients import PatientsPage


@pytest.mark.flow("create_patient")
@pytest.mark.destructive
@pytest.mark.rollback_trigger("critical_flow")
@pytest.mark.checklist("verify.create-patient", "success.core-workflows")
def test_added_patient_is_found_by_search_and_api(flow, page, e2e_profile, sign_in, new_data):
    signed_in = sign_in("user")
    name = new_data.name("Patient")
    patients = PatientsPage(page, e2e_profile)
    flow.open("patients")
    api = e2e_profile.routes["api_patients"]
    flow.step(f"add the patient {name!r} (waiting for POST {api})")
    with flow.answer_to("POST", api) as answer:
        patients.add({"name": name, "dob": "1980-04-12", "nhs": f"9{secrets.randbelow(10**9):09d}",
                      "email": f"{name.split()[-1]}@example.invalid", "phone": "0113 496 0999",
                      "address": "1 Cutover Street", "city": "Leeds", "postcode": "LS1 1AA"})
    created = answer.body if answer.ok and isinstance(answer.body, dict) else {}
    if created.get("id"):  # exactly this row is removed after the run
        new_data.record("patients", str(created["id"]))
    added = e2e_profile.texts["patient_added"]
    flow.step(f"wait for {added!r}")
    expect(patients.save_outcome(), "the form gave no answer to 'Add Patient'").to_be_visible()
    assert not patients.alert_text(), (
        f"saving the patient failed: the page says {patients.alert_text()!r} (expected {added!r})")
    expect(patients.sel("toast").filter(has_text=added).first,
           f"POST {api} answered {answer.status}, and no {added!r} message").to_be_visible()
    flow.step(f"search for {name!r}")
    patients.search(name)
    rows = patients.rows_with(name)
    expect(rows, f"searching {name!r} does not list exactly the patient just added").to_have_count(1)
    flow.step("read the patient through the API")
    path = e2e_profile.routes["api_patient"].format(id=PatientsPage.patient_id(rows.first))
    answer = page.request.get(path, headers={"Authorization": f"Bearer {signed_in.token}"})
    assert answer.status == 200 and answer.json().get("name") == name, (
        f"GET {path} answered {answer.status} {answer.text()[:200]!r} (expected 200 with name {name!r})")
