"""`/api/orders`: list with status/search/limit/offset, create (ECP and admin roles)."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ilsref.app import audit
from ilsref.app.auth import current_user
from ilsref.app.errors import ApiError
from ilsref.app.metrics import ORDERS_PROCESSED
from ilsref.app.responses import ApiJSONResponse, camel
from ilsref.app.state import AppState
from ilsref.app.validation import json_body, optional_date, optional_number, paging, require_fields

READ_ROLES = frozenset({"ecp", "admin", "lab_tech", "engineer"})
WRITE_ROLES = frozenset({"ecp", "admin"})
STATUSES = ("pending", "in_production", "quality_check", "shipped", "completed", "cancelled")
COLUMNS = ("id, order_number, patient_id, ecp_id, status, lens_type,"
           " lens_material, coating, frame_type, od_sphere, od_cylinder, od_axis, od_add,"
           " os_sphere, os_cylinder, os_axis, os_add, pd, notes, created_at, updated_at")
# as ILS: the order reaches its patient through patient_id (orders hold no patient name)
JOINED = ", ".join(f"o.{c.strip()}" for c in COLUMNS.split(",")) + ", p.name AS patient_name"
# body field -> (column, low, high): plausible prescription ranges
PRESCRIPTION = {
    "odSphere": ("od_sphere", -30, 30), "odCylinder": ("od_cylinder", -10, 10),
    "odAxis": ("od_axis", 0, 180), "odAdd": ("od_add", 0, 4),
    "osSphere": ("os_sphere", -30, 30), "osCylinder": ("os_cylinder", -10, 10),
    "osAxis": ("os_axis", 0, 180), "osAdd": ("os_add", 0, 4), "pd": ("pd", 40, 80),
}


async def list_orders(request: Request) -> Response:
    state: AppState = request.app.state.ils
    user = await current_user(request, READ_ROLES)
    limit, offset = paging(request)
    where, params = ["o.company_id = %s"], [user["company_id"]]
    status = request.query_params.get("status")
    if status:
        if status not in STATUSES:
            raise ApiError(400, "VALIDATION_ERROR", f"status must be one of {', '.join(STATUSES)}")
        where.append("o.status = %s")
        params.append(status)
    search = request.query_params.get("search", "").strip()
    if search:
        where.append("(o.order_number ILIKE %s OR p.name ILIKE %s)")
        params += [f"%{search}%"] * 2
    rows = await state.db.fetch(
        f"SELECT {JOINED}, count(*) OVER () AS total FROM orders o"
        f" JOIN patients p ON p.id = o.patient_id WHERE {' AND '.join(where)}"
        " ORDER BY o.created_at DESC LIMIT %s OFFSET %s", (*params, limit, offset))
    total = rows[0]["total"] if rows else 0
    orders = [camel({k: v for k, v in r.items() if k != "total"}) for r in rows]
    return ApiJSONResponse({"orders": orders, "total": total, "limit": limit, "offset": offset})


async def create_order(request: Request) -> Response:
    state: AppState = request.app.state.ils
    user = await current_user(request, WRITE_ROLES)
    body = await json_body(request)
    require_fields(body, "patientName", "lensType", "lensMaterial", "coating")
    numbers = {column: optional_number(body, field, low, high)
               for field, (column, low, high) in PRESCRIPTION.items()}
    for axis in ("od_axis", "os_axis"):
        numbers[axis] = int(numbers[axis]) if numbers[axis] is not None else None
    name = body["patientName"].strip()
    patient = await state.db.fetchrow(
        "SELECT id, name FROM patients WHERE company_id = %s AND (id = %s OR lower(name) = lower(%s))"
        " ORDER BY created_at LIMIT 1", (user["company_id"], body.get("patientId") or "", name))
    if patient is None:  # a new patient, named in the wizard's first step
        _, patient = await state.db.insert_numbered(
            "INSERT INTO patients (customer_number, company_id, name, date_of_birth)"
            " VALUES (%s, %s, %s, %s) RETURNING id, name",
            [user["company_id"], name, optional_date(body, "patientDOB")],
            lambda: f"CUST-{secrets.token_hex(4).upper()}", "a customer number")
    columns = ["company_id", "patient_id", "ecp_id", "lens_type",
               "lens_material", "coating", "frame_type", "notes", *numbers]
    values: list[Any] = [user["company_id"], patient["id"], user["id"],
                         body["lensType"], body["lensMaterial"], body["coating"],
                         body.get("frameType") or None, body.get("notes") or None,
                         *numbers.values()]
    number, row = await state.db.insert_numbered(
        f"INSERT INTO orders (order_number, {', '.join(columns)})"
        f" VALUES ({', '.join(['%s'] * (len(columns) + 1))}) RETURNING {COLUMNS}", values,
        lambda: f"ORD-{dt.date.today():%Y%m%d}-{secrets.token_hex(3).upper()}", "an order number")
    row = {**row, "patient_name": patient["name"]}
    ORDERS_PROCESSED.labels(row["status"]).inc()
    await audit.record(request, "create", user=user, entity_type="order", entity_id=row["id"],
                       details={"orderNumber": number})
    return ApiJSONResponse(camel(row), status_code=201)


async def get_order(request: Request) -> Response:
    state: AppState = request.app.state.ils
    user = await current_user(request, READ_ROLES)
    row = await state.db.fetchrow(
        f"SELECT {JOINED} FROM orders o JOIN patients p ON p.id = o.patient_id"
        " WHERE o.id = %s AND o.company_id = %s", (request.path_params["order_id"], user["company_id"]))
    if row is None:
        raise ApiError(404, "NOT_FOUND", "Order not found")
    return ApiJSONResponse(camel(row))


routes = [
    Route("/api/orders", list_orders, methods=["GET"]),
    Route("/api/orders", create_order, methods=["POST"]),
    Route("/api/orders/{order_id}", get_order, methods=["GET"]),
]
