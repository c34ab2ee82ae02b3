"""Internal routes ILS 2.0 serves beside its API (contract: internal.*), closed unless a fault
opens them.

`/api/system/events` is ILS's event history (server/routes/events.ts, mounted without
authentication); here it needs an admin unless `internal_events_open`. `/api/diagnostic/filesystem`
is ILS's "temporary" diagnostic route (server/index.ts), which answers anyone and returns the
error's stack when it fails; here it does not exist unless `internal_stack_trace`.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ilsref.app.auth import ADMIN_ROLES, current_user
from ilsref.app.errors import route_not_found
from ilsref.app.responses import ApiJSONResponse, camel
from ilsref.app.state import AppState

DIAGNOSTIC_STACK = (
    "Error: ENOENT: no such file or directory, scandir '/app/dist/public'\n"
    "    at Object.readdirSync (node:fs:1507:3)\n"
    "    at /app/dist/index.js:418:20\n"
    "    at Layer.handle [as handle_request] (/app/node_modules/express/lib/router/layer.js:95:5)")


async def events(request: Request) -> Response:
    """The system event history."""
    state: AppState = request.app.state.ils
    if not state.fault("internal_events_open"):
        await current_user(request, ADMIN_ROLES)
    rows = await state.db.fetch(
        "SELECT id, action AS type, entity_type, entity_id, company_id, created_at"
        " FROM audit_logs ORDER BY id DESC LIMIT 20")
    return ApiJSONResponse({"success": True, "count": len(rows), "events": [camel(r) for r in rows]})


async def diagnostic_filesystem(request: Request) -> Response:
    state: AppState = request.app.state.ils
    if not state.fault("internal_stack_trace"):
        return route_not_found(request.method, request.url.path)
    return ApiJSONResponse({"error": "ENOENT: no such file or directory, scandir '/app/dist/public'",
                            "stack": DIAGNOSTIC_STACK}, status_code=500)


routes = [
    Route("/api/system/events", events, methods=["GET"]),
    Route("/api/diagnostic/filesystem", diagnostic_filesystem, methods=["GET"],
          include_in_schema=False),  # not published: only a fault brings it to life
]
