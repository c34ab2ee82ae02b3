"""`/api/docs/openapi.json` (generated from the real routes) and `/api/docs` (HTML)."""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ilsref.app.responses import ApiJSONResponse

PUBLIC = ("/health", "/api/health", "/api/auth/jwt/login", "/api/auth/login", "/api/csrf-token",
          "/api/docs", "/metrics")


def openapi_document(app_routes: list[Any], version: str) -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in app_routes:
        if not isinstance(route, Route) or "{rest" in route.path or not route.include_in_schema:
            continue
        if not route.path.startswith(("/api", "/health", "/metrics")):
            continue
        summary = (route.endpoint.__doc__ or route.name).strip().splitlines()[0]
        for method in sorted((route.methods or set()) - {"HEAD"}):
            operation: dict[str, Any] = {
                "summary": summary,
                "operationId": f"{method.lower()}_{route.name}",
                "responses": {"200": {"description": "OK"}},
            }
            if not route.path.startswith(PUBLIC):
                operation["security"] = [{"bearerAuth": []}]
                operation["responses"]["401"] = {"description": "NO_TOKEN / TOKEN_EXPIRED / TOKEN_INVALID"}
            if route.param_convertors:
                operation["parameters"] = [
                    {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                    for name in route.param_convertors]
            paths.setdefault(route.path, {})[method.lower()] = operation
    return {
        "openapi": "3.0.3",
        "info": {"title": "Integrated Lens System API", "version": version},
        "paths": paths,
        "components": {"securitySchemes": {
            "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


async def openapi_json(request: Request) -> Response:
    """The OpenAPI document of this API."""
    state = request.app.state.ils
    return ApiJSONResponse(openapi_document(request.app.routes, state.config.release))


async def docs_page(request: Request) -> Response:
    """API documentation."""
    from ilsref.app.pages import render  # pages imports nothing from here; avoid a cycle anyway
    return render(request, "api_docs.html", "API documentation")


routes = [
    Route("/api/docs/openapi.json", openapi_json, methods=["GET"]),
    Route("/api/docs", docs_page, methods=["GET"]),
]
