"""Prometheus metrics with the ILS names; `path` labels are route templates, never raw paths."""

from __future__ import annotations

import time

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Match, Mount
from starlette.types import Message, Receive, Scope, Send

from ilsref.app.middleware import HttpMiddleware

disable_created_metrics()  # ILS (prom-client) exports no *_created series
REGISTRY = CollectorRegistry()
ProcessCollector(registry=REGISTRY)

HTTP_REQUESTS = Counter("http_requests_total", "HTTP requests",
                        ("method", "path", "status_code"), registry=REGISTRY)
HTTP_DURATION = Histogram("http_request_duration_seconds", "HTTP request duration",
                          ("method", "path", "status_code"), registry=REGISTRY,
                          buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
HTTP_ACTIVE = Gauge("http_active_requests", "Requests being served", registry=REGISTRY)
HTTP_ERRORS = Counter("http_errors_total", "HTTP responses with status >= 400",
                      ("method", "path", "status_code"), registry=REGISTRY)
DB_QUERY_DURATION = Histogram("db_query_duration_seconds", "Database query duration",
                              ("operation",), registry=REGISTRY,
                              buckets=(0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 2.5, 5))
DB_POOL = Gauge("db_connection_pool", "Database connection pool", ("state",), registry=REGISTRY)
DB_SLOW_QUERIES = Counter("db_slow_queries_total", "Queries slower than 1 s", ("operation",),
                          registry=REGISTRY)
CACHE_HITS = Counter("cache_hits_total", "Cache hits", ("cache",), registry=REGISTRY)
CACHE_MISSES = Counter("cache_misses_total", "Cache misses", ("cache",), registry=REGISTRY)
ACTIVE_PATIENTS = Gauge("business_active_patients", "Patients on record", registry=REGISTRY)
ORDERS_PROCESSED = Counter("business_orders_processed_total", "Orders created",
                           ("status",), registry=REGISTRY)
LOGINS = Counter("auth_login_attempts_total", "Login attempts", ("outcome",), registry=REGISTRY)


def route_template(scope: Scope) -> str:
    route = scope.get("route")
    if route is None and "app" in scope:
        # Answered before routing (CSRF 403, 429): find the route it was meant for.
        route = next((r for r in scope["app"].routes if r.matches(scope)[0] != Match.NONE), None)
    if isinstance(route, Mount):
        return route.path + "/{path}"
    path = getattr(route, "path", None)
    return path if isinstance(path, str) else "unmatched"


class MetricsMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        status = 500
        started = time.perf_counter()

        async def recording_send(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        HTTP_ACTIVE.inc()
        try:
            await self.app(scope, receive, recording_send)
        finally:
            HTTP_ACTIVE.dec()
            labels = (scope["method"], route_template(scope), str(status))
            HTTP_REQUESTS.labels(*labels).inc()
            HTTP_DURATION.labels(*labels).observe(time.perf_counter() - started)
            if status >= 400:
                HTTP_ERRORS.labels(*labels).inc()


async def metrics_endpoint(request: Request) -> Response:
    stats = request.app.state.ils.db.pool_stats()
    for state, value in stats.items():
        DB_POOL.labels(state).set(value)
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)
