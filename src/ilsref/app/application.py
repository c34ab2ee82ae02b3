"""Assembles the Starlette app: routes, middleware (outermost first) and lifespan."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import BaseRoute, Route

from ilsref.app import admin, auth, docs, health, internal, orders, pages, patients, reports, ui
from ilsref.app.config import AppConfig
from ilsref.app.errors import ApiError, UnhandledErrorMiddleware, api_error_handler
from ilsref.app.fault_effects import FaultEffectsMiddleware
from ilsref.app.load_faults import LoadFaultsMiddleware
from ilsref.app.metrics import MetricsMiddleware, metrics_endpoint
from ilsref.app.security import CorsMiddleware, CsrfMiddleware, RateLimitMiddleware, SecurityHeadersMiddleware
from ilsref.app.state import AppState


def create_app(config: AppConfig) -> Starlette:
    state = AppState.build(config)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await state.db.open()
        try:
            yield
        finally:
            await state.close()

    routes: list[BaseRoute] = [
        *health.routes,
        Route("/metrics", metrics_endpoint, methods=["GET"]),
        *auth.routes,
        *patients.routes,
        *orders.routes,
        *reports.routes,
        *admin.routes,
        *internal.routes,
        *docs.routes,
        *ui.routes(),  # the user-flow pages, /email-login included
        *pages.routes(),
        *pages.fallback_routes(),
    ]
    middleware = [
        Middleware(MetricsMiddleware),  # counts everything, 429s and hangs included
        Middleware(SecurityHeadersMiddleware),  # on every answer, errors included
        Middleware(UnhandledErrorMiddleware),
        Middleware(FaultEffectsMiddleware),
        Middleware(LoadFaultsMiddleware),  # load/ faults: latency, errors, slow DB, leak
        Middleware(CorsMiddleware),
        Middleware(RateLimitMiddleware),
        Middleware(CsrfMiddleware),
    ]
    app = Starlette(routes=routes, middleware=middleware, lifespan=lifespan,
                    exception_handlers={ApiError: api_error_handler})
    app.state.ils = state
    return app
