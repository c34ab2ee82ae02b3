"""Admin endpoints (admin and platform_admin only): users, audit logs, stats."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ilsref.app.auth import ADMIN_ROLES, USER_COLUMNS, current_user, public_user
from ilsref.app.responses import ApiJSONResponse, camel
from ilsref.app.state import AppState
from ilsref.app.validation import paging


async def users(request: Request) -> Response:
    state: AppState = request.app.state.ils
    await current_user(request, ADMIN_ROLES)
    rows = await state.db.fetch(f"SELECT {USER_COLUMNS}, last_login_at FROM users ORDER BY email")
    listed = [{**public_user(r), "isActive": r["is_active"], "lastLoginAt": r["last_login_at"]}
              for r in rows]
    return ApiJSONResponse({"success": True, "users": listed})


async def audit_logs(request: Request) -> Response:
    state: AppState = request.app.state.ils
    await current_user(request, ADMIN_ROLES)
    limit, offset = paging(request, default=100, maximum=500)
    rows = await state.db.fetch(
        "SELECT id, user_id, company_id, action, entity_type, entity_id, ip_address, details,"
        " created_at FROM audit_logs ORDER BY id DESC LIMIT %s OFFSET %s", (limit, offset))
    return ApiJSONResponse({"success": True, "logs": [camel(r) for r in rows]})


async def stats(request: Request) -> Response:
    state: AppState = request.app.state.ils
    await current_user(request, ADMIN_ROLES)
    row = await state.db.fetchrow(
        "SELECT (SELECT count(*)::int FROM users) AS users,"
        " (SELECT count(*)::int FROM companies) AS companies,"
        " (SELECT count(*)::int FROM patients) AS patients,"
        " (SELECT count(*)::int FROM orders) AS orders,"
        " (SELECT count(*)::int FROM audit_logs) AS audit_logs,"
        " (SELECT count(*)::int FROM sessions WHERE expire > now() AT TIME ZONE 'utc')"
        "   AS active_sessions,"
        " pg_database_size(current_database())::bigint AS database_bytes")
    assert row is not None
    return ApiJSONResponse({"success": True, "stats": camel(row), "uptime": state.uptime()})


routes = [
    Route("/api/admin/users", users, methods=["GET"]),
    Route("/api/admin/audit-logs", audit_logs, methods=["GET"]),
    Route("/api/admin/stats", stats, methods=["GET"]),
]
