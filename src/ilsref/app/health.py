"""Health endpoints with ILS's exact shapes (note: `ok`, not `healthy`, on the simple ones)."""

from __future__ import annotations

import datetime as dt
import os
import resource
import time
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ilsref.app.errors import route_not_found
from ilsref.app.responses import ApiJSONResponse
from ilsref.app.state import AppState

DB_SLOW_S = 1.0  # ILS: degraded when the database answers in more than 1 s ...
REDIS_SLOW_S = 0.1  # ... or Redis in more than 100 ms
WRONG_VERSION = "0.0.0-wrong"


def served_version(state: AppState) -> str:
    return WRONG_VERSION if state.fault("wrong_version") else state.versions.current()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def database_status(state: AppState) -> tuple[str, float | None, str | None]:
    """("connected" | "slow" | "disconnected", seconds, error) from a real query."""
    if state.fault("health_db_disconnected"):
        return "disconnected", None, "connection refused"
    sql = "SELECT pg_sleep(1.1), 1" if state.fault("db_slow") else "SELECT 1"
    try:
        seconds = await state.db.ping(sql, timeout=3.0)
    except Exception as exc:
        return "disconnected", None, type(exc).__name__
    return ("slow" if seconds > DB_SLOW_S else "connected"), seconds, None


async def redis_status(state: AppState) -> tuple[str, float | None, str | None]:
    """("up" | "degraded" | "down", seconds, error) from a real PING."""
    client = state.dead_redis if state.fault("redis_down") else state.redis
    started = time.perf_counter()
    try:
        if state.fault("redis_slow"):
            await client.execute_command("DEBUG", "SLEEP", "0.15")
        await client.ping()
    except Exception as exc:
        return "down", None, type(exc).__name__
    seconds = time.perf_counter() - started
    return ("degraded" if seconds > REDIS_SLOW_S else "up"), seconds, None


async def _simple_health(request: Request) -> dict[str, Any]:
    state: AppState = request.app.state.ils
    database, _, _ = await database_status(state)
    connected = database in ("connected", "slow")
    degraded = state.fault("health_degraded") or not connected
    return {
        "status": "degraded" if degraded else "ok",
        "server": "ready",
        "database": "connected" if connected else "initializing",
        "timestamp": _now(),
        "uptime": state.uptime(),
        "version": served_version(state),
    }


async def health(request: Request) -> Response:
    state: AppState = request.app.state.ils
    if request.method == "DELETE" and not state.fault("delete_allowed"):
        return route_not_found(request.method, request.url.path)
    return ApiJSONResponse(await _simple_health(request))


async def ready(request: Request) -> Response:
    state: AppState = request.app.state.ils
    database, _, _ = await database_status(state)
    if state.fault("not_ready") or database == "disconnected":
        return ApiJSONResponse({"status": "not_ready"}, status_code=503)
    return ApiJSONResponse({"status": "ready"})


async def detailed(request: Request) -> Response:
    state: AppState = request.app.state.ils
    database, db_s, db_error = await database_status(state)
    redis_state, redis_s, redis_error = await redis_status(state)
    if database == "disconnected":
        status = "unhealthy"
    elif (database == "slow" or redis_state != "up" or state.fault("health_degraded")):
        status = "degraded"
    else:
        status = "healthy"
    body = {
        "status": status,
        "database": database,
        "redis": redis_state,
        "checks": {
            "database": _check(database, "connected", db_s, db_error),
            "redis": _check(redis_state, "up", redis_s, redis_error),
        },
        "environment": "production" if not state.config.test_mode else "test",
        "version": served_version(state),
        "timestamp": _now(),
        "uptime": state.uptime(),
        "memory": _memory(),
    }
    return ApiJSONResponse(body, status_code=503 if status == "unhealthy" else 200)


def _check(value: str, good: str, seconds: float | None, error: str | None) -> dict[str, Any]:
    check: dict[str, Any] = {"status": "pass" if value == good else "fail" if error else "warn",
                             "value": value}
    if seconds is not None:
        check["responseTimeMs"] = round(seconds * 1000, 2)
    if error:
        check["error"] = error
    return check


def _memory() -> dict[str, int]:
    page = os.sysconf("SC_PAGE_SIZE")
    with open("/proc/self/statm") as statm:
        rss_pages = int(statm.read().split()[1])
    return {"rss": rss_pages * page,
            "maxRss": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024}


routes = [
    Route("/health", health, methods=["GET", "DELETE"]),
    Route("/api/health", health, methods=["GET", "DELETE"]),
    Route("/health/live", health, methods=["GET"]),
    Route("/health/ready", ready, methods=["GET"]),
    Route("/api/health/detailed", detailed, methods=["GET"]),
]
