"""`/api/patients`: list and create (ECP and admin roles); customer numbers are generated."""

from __future__ import annotations

import re
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ilsref.app import audit
from ilsref.app.auth import current_user
from ilsref.app.errors import ApiError
from ilsref.app.metrics import ACTIVE_PATIENTS
from ilsref.app.responses import ApiJSONResponse, camel
from ilsref.app.state import AppState
from ilsref.app.validation import json_body, optional_date, paging, require_fields

ROLES = frozenset({"ecp", "admin"})
COLUMNS = ("id, customer_number, name, date_of_birth, email, phone, nhs_number, address, city,"
           " postcode, customer_reference_label, customer_reference_number, created_at, updated_at")


def _patient(row: dict[str, Any]) -> dict[str, Any]:
    patient = camel(row)
    patient["fullAddress"] = {"address": patient.pop("address"), "city": patient.pop("city"),
                              "postcode": patient.pop("postcode")}
    return patient


async def list_patients(request: Request) -> Response:
    state: AppState = request.app.state.ils
    user = await current_user(request, ROLES)
    if state.fault("patients_500"):
        raise RuntimeError("patients_500: patient repository failed")
    limit, offset = paging(request, default=100, maximum=500)
    search = request.query_params.get("search", "").strip()
    where, params = "company_id = %s", [user["company_id"]]
    if search:
        where += " AND (name ILIKE %s OR customer_number ILIKE %s OR email ILIKE %s)"
        params += [f"%{search}%"] * 3
    rows = await state.db.fetch(
        f"SELECT {COLUMNS}, count(*) OVER () AS total FROM patients WHERE {where}"
        " ORDER BY created_at DESC LIMIT %s OFFSET %s", (*params, limit, offset))
    total = rows[0].pop("total") if rows else 0
    for row in rows:
        row.pop("total", None)
    if not search:
        ACTIVE_PATIENTS.set(total)
    return ApiJSONResponse([_patient(r) for r in rows], headers={"X-Total-Count": str(total)})


async def create_patient(request: Request) -> Response:
    state: AppState = request.app.state.ils
    user = await current_user(request, ROLES)
    body = await json_body(request)
    require_fields(body, "name")
    nhs = str(body.get("nhsNumber") or "").replace(" ", "")
    if nhs and not re.fullmatch(r"\d{10}", nhs):
        raise ApiError(400, "VALIDATION_ERROR", "Validation failed",
                       details=[{"field": "nhsNumber", "message": "nhsNumber must be 10 digits"}])
    address = body.get("fullAddress") if isinstance(body.get("fullAddress"), dict) else {}
    values = (user["company_id"], body["name"].strip(), optional_date(body, "dateOfBirth"),
              body.get("email") or None, body.get("phone") or None, nhs or None,
              address.get("address") or None, address.get("city") or None,
              address.get("postcode") or None, body.get("customerReferenceLabel") or None,
              body.get("customerReferenceNumber") or None)
    number, row = await state.db.insert_numbered(
        "INSERT INTO patients (customer_number, company_id, name, date_of_birth, email,"
        " phone, nhs_number, address, city, postcode, customer_reference_label,"
        f" customer_reference_number) VALUES (%s, {', '.join(['%s'] * 11)})"
        f" RETURNING {COLUMNS}", values, lambda: f"CUST-{secrets.token_hex(4).upper()}",
        "a customer number")
    await audit.record(request, "create", user=user, entity_type="patient", entity_id=row["id"],
                       details={"customerNumber": number})
    return ApiJSONResponse(_patient(row), status_code=201)


async def get_patient(request: Request) -> Response:
    state: AppState = request.app.state.ils
    user = await current_user(request, ROLES)
    row = await state.db.fetchrow(f"SELECT {COLUMNS} FROM patients WHERE id = %s AND company_id = %s",
                                  (request.path_params["patient_id"], user["company_id"]))
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Patient not found")
    return ApiJSONResponse(_patient(row))


routes = [
    Route("/api/patients", list_patients, methods=["GET"]),
    Route("/api/patients", create_patient, methods=["POST"]),
    Route("/api/patients/{patient_id}", get_patient, methods=["GET"]),
]
