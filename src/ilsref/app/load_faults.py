"""The load faults (`ilsref.services.loadfaults`) acting on requests: latency, errors, slow
queries and a memory leak. Read per request, so `ilsref fault set/clear` takes effect at once.

`/metrics` is never touched (Prometheus must keep seeing the app), and errors spare the login
so a load test's users still sign in once: the injected error rate is then exact on the rest.
"""

from __future__ import annotations

import asyncio
import itertools
import random

from starlette.types import ASGIApp, Receive, Scope, Send

from ilsref.app.errors import error_response
from ilsref.app.middleware import HttpMiddleware
from ilsref.app.security import is_health

ADDED_LATENCY_S = {"latency_700ms": 0.7, "latency_1500ms": 1.5, "latency_2500ms": 2.5}
JITTER_MAX_S = 1.0
# fault -> which request numbers (modulo 100) fail: an exact rate, not a random one
ERROR_SLOTS = {"error_rate_10pct": frozenset(range(0, 100, 10)),
               "error_rate_3pct": frozenset({0, 33, 66})}
SLOW_QUERY_S = 1.2
SLOW_QUERY_EVERY = 4
LEAK_BYTES = 1 << 20
LEAK_CAP_BYTES = 768 << 20


class LoadFaultsMiddleware(HttpMiddleware):
    def __init__(self, app: ASGIApp) -> None:
        super().__init__(app)
        self.requests = itertools.count()
        self.api_requests = itertools.count()
        self.leaked: list[bytes] = []

    def applies(self, scope: Scope) -> bool:
        path: str = scope["path"]
        return path != "/metrics"  # the scrape itself must not be slowed or counted

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["app"].state.ils
        active = state.faults.active()
        path: str = scope["path"]
        self._leak("memory_leak" in active)
        delay = sum(s for name, s in ADDED_LATENCY_S.items() if name in active)
        if "latency_jitter" in active:
            delay += random.uniform(0.0, JITTER_MAX_S)
        if delay:
            await asyncio.sleep(delay)
        is_api = path.startswith("/api/") and not is_health(path) and not path.startswith("/api/auth")
        if "slow_db_queries" in active and is_api and next(self.api_requests) % SLOW_QUERY_EVERY == 0:
            await state.db.fetch("SELECT pg_sleep(%s)", (SLOW_QUERY_S,))
        if not path.startswith("/api/auth"):
            slot = next(self.requests) % 100
            if any(name in active and slot in slots for name, slots in ERROR_SLOTS.items()):
                response = error_response(500, "INTERNAL_ERROR", "injected failure (load fault)")
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)

    def _leak(self, on: bool) -> None:
        if not on:
            self.leaked.clear()
        elif len(self.leaked) * LEAK_BYTES < LEAK_CAP_BYTES:
            self.leaked.append(b"\x01" * LEAK_BYTES)  # written, so the pages are really resident
