"""Faults that act on every request before it is handled: hanging and added latency."""

from __future__ import annotations

import asyncio

from starlette.types import Receive, Scope, Send

from ilsref.app.middleware import HttpMiddleware
from ilsref.app.security import is_health

HANG_S = 600.0  # "never answers" for any check with a sane timeout
SLOW_HEALTH_S = 1.5
SLOW_API_S = 0.7


class FaultEffectsMiddleware(HttpMiddleware):
    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        active = scope["app"].state.ils.faults.active()
        path = scope["path"]
        if "hang" in active:
            await asyncio.sleep(HANG_S)
        if "slow_health" in active and is_health(path):
            await asyncio.sleep(SLOW_HEALTH_S)
        elif "slow_api" in active and path.startswith("/api/") and not is_health(path):
            await asyncio.sleep(SLOW_API_S)
        await self.app(scope, receive, send)
