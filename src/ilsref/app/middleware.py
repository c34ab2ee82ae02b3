"""The plumbing every middleware of the reference app shares.

`HttpMiddleware` passes lifespan and websocket scopes, and the HTTP requests a middleware does
not apply to, straight through; subclasses write only `handle`. `on_response_start` edits the
response headers as they leave.
"""

from __future__ import annotations

from collections.abc import Callable

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class HttpMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.applies(scope):
            await self.app(scope, receive, send)
            return
        await self.handle(scope, receive, send)

    def applies(self, scope: Scope) -> bool:
        """Whether this HTTP request concerns the middleware (all of them unless overridden)."""
        return True

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        raise NotImplementedError


def on_response_start(send: Send, edit: Callable[[MutableHeaders, Message], None]) -> Send:
    """A `send` that lets `edit` change the headers of the response as it starts."""
    async def wrapped(message: Message) -> None:
        if message["type"] == "http.response.start":
            edit(MutableHeaders(scope=message), message)
        await send(message)
    return wrapped
