"""UI pages: one `UiPage` per route, with the roles allowed to see it.

An anonymous visitor is sent to sign in; a signed-in user without the role gets a 403 page that
reads like ILS's NotFound page ("404 Page Not Found"), unless `ui_admin_open` lifts the check on
admin pages.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from ilsref.app.auth import current_user
from ilsref.app.errors import ApiError
from ilsref.app.pages import templates
from ilsref.app.state import AppState
from ilsref.app.ui.wiring import OPTIONS, SLOW_PAGE_S, wiring

LOGIN_PATH = "/email-login"
ECP = frozenset({"ecp", "admin"})
STAFF = frozenset({"ecp", "admin", "lab_tech", "engineer"})
ADMIN = frozenset({"admin"})
LAB = frozenset({"lab_tech", "engineer"})
PLATFORM = frozenset({"platform_admin"})


@dataclass(frozen=True)
class UiPage:
    path: str
    template: str
    title: str
    roles: frozenset[str] | None  # None: public
    admin: bool = False  # `ui_admin_open` shows it to any signed-in user
    dashboard: bool = False  # `ui_page_slow` delays it
    fails_with: str | None = None  # a fault that turns it into a 500


UI_PAGES = (
    UiPage(LOGIN_PATH, "ui/login.html", "Sign in", None),
    UiPage("/login", "ui/login.html", "Sign in", None),  # where ILS's sign-out sends the browser
    UiPage("/ecp/dashboard", "ui/dashboard_ecp.html", "Dashboard", ECP, dashboard=True),
    UiPage("/admin/dashboard", "ui/dashboard_admin.html", "Admin dashboard", ADMIN, admin=True,
           dashboard=True),
    UiPage("/platform-admin/dashboard", "ui/dashboard_platform.html", "Platform dashboard", PLATFORM,
           dashboard=True),
    UiPage("/lab/dashboard", "ui/dashboard_lab.html", "Lab dashboard", LAB, dashboard=True),
    UiPage("/ecp/patients", "ui/patients.html", "Patients", ECP),
    UiPage("/ecp/new-order", "ui/new_order.html", "New order", ECP),
    UiPage("/ecp/orders", "ui/orders.html", "Orders", STAFF),
    UiPage("/ecp/reports", "ui/reports.html", "Reports", STAFF, fails_with="ui_reports_500"),
    UiPage("/admin/users", "ui/admin_users.html", "Users", ADMIN, admin=True),
    UiPage("/admin/audit-logs", "ui/admin_audit.html", "Audit log", ADMIN, admin=True,
           fails_with="ui_audit_log_broken"),
)


def _allowed(page: UiPage, user: dict[str, Any], state: AppState) -> bool:
    if page.roles is None or user["role"] in page.roles or user["role"] == "platform_admin":
        return True
    return page.admin and state.fault("ui_admin_open")


def page_endpoint(page: UiPage) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        state: AppState = request.app.state.ils
        if page.fails_with and state.fault(page.fails_with):
            raise RuntimeError(f"{page.fails_with}: {page.path} failed to render")
        user = None
        if page.roles is not None:
            try:
                user = await current_user(request)
            except ApiError:
                return RedirectResponse(f"{LOGIN_PATH}?next={quote(page.path)}", status_code=303)
            if not _allowed(page, user, state):
                return _render(request, "ui/denied.html", "Access denied", user, status_code=403)
        if page.dashboard and state.fault("ui_page_slow"):
            await asyncio.sleep(SLOW_PAGE_S)
        return _render(request, page.template, page.title, user)

    endpoint.__name__ = "ui_" + page.path.strip("/").replace("/", "_").replace("-", "_")
    endpoint.__doc__ = page.title
    return endpoint


def _render(request: Request, template: str, title: str, user: dict[str, Any] | None,
            status_code: int = 200) -> Response:
    state: AppState = request.app.state.ils
    context = {"title": title, "user": user, "wiring": wiring(state.faults), "options": OPTIONS}
    return templates.TemplateResponse(request, template, context, status_code=status_code)


def routes() -> list[BaseRoute]:
    """Must come before the app's own pages and the SPA fallback."""
    return [Route(p.path, page_endpoint(p), methods=["GET"]) for p in UI_PAGES]
