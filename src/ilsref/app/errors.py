"""Error responses in the ILS shape `{"success": false, "error": {"code", "message"}}`."""

from __future__ import annotations

import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ilsref.app.middleware import HttpMiddleware
from ilsref.app.responses import ApiJSONResponse

log = logging.getLogger("ilsref.app")


class ApiError(Exception):
    """Raised by handlers; rendered by `api_error_handler`."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None,
                 **extra: Any) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.extra = extra


def error_response(status: int, code: str, message: str, headers: dict[str, str] | None = None,
                   **extra: Any) -> Response:
    body: dict[str, Any] = {"success": False, "error": {"code": code, "message": message, **extra}}
    return ApiJSONResponse(body, status_code=status, headers=headers)


async def api_error_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ApiError)
    return error_response(exc.status, exc.code, exc.message, exc.headers, **exc.extra)


def route_not_found(method: str, path: str) -> Response:
    return error_response(404, "NOT_FOUND", f"Route {method} {path} not found")


class UnhandledErrorMiddleware(HttpMiddleware):
    """Turns an unexpected exception into a 500 JSON answer *inside* the header middleware.

    Starlette's own ServerErrorMiddleware sits outside every user middleware, so its 500s would
    miss the security headers and the metrics.
    """

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = False

        async def tracking_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception:
            log.exception("unhandled error on %s %s", scope["method"], scope["path"])
            if started:
                raise
            response = error_response(500, "INTERNAL_ERROR", "Internal server error")
            await response(scope, receive, send)
