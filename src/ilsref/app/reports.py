"""Reporting endpoints: analytics overview, BI summary, clinical reports (cached in Redis)."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ilsref.app.auth import current_user
from ilsref.app.metrics import CACHE_HITS, CACHE_MISSES
from ilsref.app.responses import ApiJSONResponse
from ilsref.app.state import AppState

ROLES = frozenset({"ecp", "admin", "lab_tech", "engineer"})
CACHE_TTL_S = 30


async def cached(state: AppState, name: str, company_id: str,
                 compute: Callable[[], Awaitable[dict[str, Any]]]) -> dict[str, Any]:
    """Read-through cache; a Redis failure only costs the cache, never the answer."""
    key = f"ils:cache:{name}:{company_id}"
    try:
        hit = await state.redis.get(key)
    except Exception:
        hit = None
    if hit is not None:
        CACHE_HITS.labels(name).inc()
        return json.loads(hit)  # type: ignore[no-any-return]
    CACHE_MISSES.labels(name).inc()
    value = await compute()
    with contextlib.suppress(Exception):  # a failed write only costs the next read a miss
        await state.redis.set(key, json.dumps(value, default=str), ex=CACHE_TTL_S)
    return value


async def analytics_overview(request: Request) -> Response:
    state: AppState = request.app.state.ils
    user = await current_user(request, ROLES)
    company = user["company_id"]

    async def compute() -> dict[str, Any]:
        by_status = await state.db.fetch(
            "SELECT status, count(*)::int AS n FROM orders WHERE company_id = %s GROUP BY status",
            (company,))
        totals = await state.db.fetchrow(
            "SELECT (SELECT count(*)::int FROM orders WHERE company_id = %(c)s) AS orders,"
            " (SELECT count(*)::int FROM orders WHERE company_id = %(c)s"
            "   AND created_at > now() - interval '30 days') AS orders_last_30_days,"
            " (SELECT count(*)::int FROM patients WHERE company_id = %(c)s) AS patients",
            {"c": company})
        assert totals is not None
        return {"totalOrders": totals["orders"], "ordersLast30Days": totals["orders_last_30_days"],
                "totalPatients": totals["patients"],
                "ordersByStatus": {r["status"]: r["n"] for r in by_status}}

    return ApiJSONResponse({"success": True, "data": await cached(state, "analytics", company, compute)})


async def bi_summary(request: Request) -> Response:
    state: AppState = request.app.state.ils
    user = await current_user(request, ROLES)
    company = user["company_id"]

    async def compute() -> dict[str, Any]:
        result: dict[str, Any] = {}
        for column, key in (("lens_type", "lensTypes"), ("lens_material", "lensMaterials"),
                            ("coating", "coatings")):
            rows = await state.db.fetch(
                f"SELECT {column} AS k, count(*)::int AS n FROM orders WHERE company_id = %s"
                f" GROUP BY {column} ORDER BY n DESC", (company,))
            result[key] = {r["k"]: r["n"] for r in rows}
        weekly = await state.db.fetch(
            "SELECT to_char(date_trunc('week', created_at), 'YYYY-MM-DD') AS week,"
            " count(*)::int AS n FROM orders WHERE company_id = %s"
            " AND created_at > now() - interval '12 weeks' GROUP BY 1 ORDER BY 1", (company,))
        result["ordersPerWeek"] = [{"week": r["week"], "orders": r["n"]} for r in weekly]
        return result

    return ApiJSONResponse({"success": True, "data": await cached(state, "bi", company, compute)})


async def clinical_reports(request: Request) -> Response:
    state: AppState = request.app.state.ils
    user = await current_user(request, ROLES)
    counts = await state.db.fetchrow(
        "SELECT (SELECT count(*)::int FROM prescriptions WHERE company_id = %(c)s) AS rx,"
        " (SELECT count(*)::int FROM eye_examinations WHERE company_id = %(c)s) AS exams",
        {"c": user["company_id"]})
    assert counts is not None
    reports = [
        {"id": "prescriptions", "name": "Prescriptions issued", "records": counts["rx"]},
        {"id": "eye-examinations", "name": "Eye examinations", "records": counts["exams"]},
    ]
    body: dict[str, Any] = {"success": True, "reports": reports}
    # `ui_stack_trace_leak`: only a browser's fetch (Sec-Fetch-Mode) gets the debug field, so only
    # the flows' network traffic can see it
    if state.fault("ui_stack_trace_leak") and "sec-fetch-mode" in request.headers:
        body["debug"] = {"stack": PLANTED_STACK}
    return ApiJSONResponse(body)


PLANTED_STACK = ("TypeError: Cannot read properties of undefined (reading 'rx')\n"
                 "    at clinicalReports (/app/dist/server/routes/clinical-reporting.js:87:31)\n"
                 "    at process.processTicksAndRejections (node:internal/process/task_queues:95:5)")


routes = [
    Route("/api/analytics/overview", analytics_overview, methods=["GET"]),
    Route("/api/bi/summary", bi_summary, methods=["GET"]),
    Route("/api/clinical/reporting/reports", clinical_reports, methods=["GET"]),
]
