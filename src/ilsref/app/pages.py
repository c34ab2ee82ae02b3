"""HTML: the homepage, the login page, static assets and the SPA fallback.

A UI page is one `Page` entry (path, template, title); add new ones to PAGES. Anything else
that is not an API path gets the SPA shell (200), as ILS's React router would.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from pathlib import Path

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from ilsref.app.errors import route_not_found
from ilsref.app.responses import ApiJSONResponse
from ilsref.app.state import AppState

HERE = Path(__file__).parent
STATIC = HERE / "static"
templates = Jinja2Templates(directory=str(HERE / "templates"))
DEBUG_PATHS = ("/api/debug", "/api/debug/env")  # answered only under `debug_path_exposed`


@dataclass(frozen=True)
class Page:
    path: str
    template: str
    title: str
    fault: str | None = None  # a fault that turns this page into a 500


PAGES: list[Page] = [
    Page("/", "home.html", "Integrated Lens System", fault="homepage_500"),
    # /email-login and the other user-flow pages live in ilsref.app.ui
]


def render(request: Request, template: str, title: str, status_code: int = 200) -> Response:
    return templates.TemplateResponse(request, template, {"title": title},
                                      status_code=status_code)


def page_endpoint(page: Page):  # type: ignore[no-untyped-def]
    async def endpoint(request: Request) -> Response:
        state: AppState = request.app.state.ils
        if page.fault and state.fault(page.fault):
            raise RuntimeError(f"{page.fault}: template rendering failed")
        return render(request, page.template, page.title)
    endpoint.__name__ = f"page_{page.template.split('.')[0]}"
    endpoint.__doc__ = page.title
    return endpoint


async def favicon(request: Request) -> Response:
    state: AppState = request.app.state.ils
    if state.fault("favicon_missing"):
        return Response("Not Found", status_code=404, media_type="text/plain")
    if request.url.path.endswith(".png"):  # ILS serves /favicon.png (client/public)
        return FileResponse(STATIC / "favicon.png", media_type="image/png")
    return FileResponse(STATIC / "favicon.ico", media_type="image/x-icon")


async def api_not_found(request: Request) -> Response:
    state: AppState = request.app.state.ils
    if state.fault("debug_path_exposed") and request.url.path in DEBUG_PATHS:
        return ApiJSONResponse({"env": debug_environment(state), "pid": os.getpid(),
                                "uptime": state.uptime()})
    if state.fault("unknown_api_200"):
        return render(request, "spa.html", "Integrated Lens System")
    return route_not_found(request.method, request.url.path)


def debug_environment(state: AppState) -> dict[str, str]:
    """What `debug_path_exposed` leaks: an env dump (the DSN's password masked, as such pages
    often do; the leak of the rest is the finding)."""
    def masked(url: str) -> str:
        return re.sub(r"://([^:@/]*):[^@/]*@", r"://\1:****@", url)

    return {"NODE_ENV": "production", "LOG_LEVEL": "info", "PORT": str(state.config.https_port),
            "DATABASE_URL": masked(state.config.database_url),
            "REDIS_URL": masked(state.config.redis_url), "ILS_RELEASE": state.config.release,
            "PATH": os.environ.get("PATH", "")}


async def spa_shell(request: Request) -> Response:
    return render(request, "spa.html", "Integrated Lens System")


def routes() -> list[BaseRoute]:
    pages: list[BaseRoute] = [Route(p.path, page_endpoint(p), methods=["GET"]) for p in PAGES]
    return [*pages,
            Route("/favicon.ico", favicon, methods=["GET"]),
            Route("/favicon.png", favicon, methods=["GET"]),
            Mount("/assets", StaticFiles(directory=str(STATIC)), name="assets")]


def fallback_routes() -> list[BaseRoute]:
    """Must come after every other route."""
    every_method = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
    return [Route("/api/{rest:path}", api_not_found, methods=every_method),
            Route("/api", api_not_found, methods=every_method),
            Route("/{rest:path}", spa_shell, methods=["GET"])]
