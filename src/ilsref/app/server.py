"""Runs the app: HTTPS with per-handshake certificate choice, plus a plain-HTTP redirector.

The TLS faults swap the certificate at run time: uvicorn's SSLContext gets an SNI callback that
points the connection at the context of the active `cert_*` fault (OpenSSL calls it on every
handshake, with or without SNI), so no restart is needed.

Protocol versions work the same way: uvicorn's context lets a ClientHello negotiate TLS 1.0 and
up, and the context the callback picks decides. Its security level (OpenSSL 3's default, 2,
forbids TLS 1.0/1.1) refuses legacy versions with a handshake failure; `tls_legacy_accepted`
picks a twin context at TLSv1 and @SECLEVEL=0, which completes TLS 1.0 and 1.1 handshakes.
"""

from __future__ import annotations

import asyncio
import ssl
import warnings
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.responses import RedirectResponse
from starlette.types import Receive, Scope, Send

from ilsref.app.application import create_app
from ilsref.app.config import AppConfig
from ilsref.certs import FAULT_VARIANTS
from ilsref.faults import FaultState

GRACEFUL_SHUTDOWN_S = 2  # `hang` keeps requests open for minutes; don't wait for them
LEGACY = "+legacy"  # suffix of a variant's twin context that accepts TLS 1.0 and 1.1


def tls_contexts(config: AppConfig) -> dict[str, ssl.SSLContext]:
    """One context per certificate variant, and its legacy twin (`<variant>+legacy`)."""
    contexts = {}
    for name, (certfile, keyfile) in config.certs.items():
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        context.load_cert_chain(certfile, keyfile)
        contexts[name] = context
        legacy = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        with warnings.catch_warnings():  # TLSv1 is deprecated: accepting it is the fault
            warnings.simplefilter("ignore", DeprecationWarning)
            legacy.minimum_version = ssl.TLSVersion.TLSv1
        legacy.set_ciphers("@SECLEVEL=0:ALL")
        legacy.load_cert_chain(certfile, keyfile)
        contexts[name + LEGACY] = legacy
    return contexts


def certificate_switch(contexts: dict[str, ssl.SSLContext], faults: FaultState):  # type: ignore[no-untyped-def]
    def on_handshake(connection: Any, server_name: str | None, _context: ssl.SSLContext) -> None:
        active = faults.active()
        variant = next((v for fault, v in FAULT_VARIANTS.items() if fault in active and v in contexts),
                       "valid")
        connection.context = contexts[variant + (LEGACY if "tls_legacy_accepted" in active else "")]
        return None
    return on_handshake


class HttpsRedirect:
    """The plain-HTTP listener: 301 to the same path on HTTPS, unless `no_https_redirect`."""

    def __init__(self, app: Starlette, config: AppConfig) -> None:
        self.app, self.config = app, config

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and "no_https_redirect" not in self.app.state.ils.faults:
            query = scope.get("query_string", b"").decode("latin-1")
            target = f"https://localhost:{self.config.https_port}{scope['path']}"
            response = RedirectResponse(target + (f"?{query}" if query else ""), status_code=301)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)


async def serve(config: AppConfig) -> None:
    app = create_app(config)
    common = dict(host=config.host, server_header=False, proxy_headers=False, access_log=False,
                  timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_S, log_level="info")
    valid_cert, valid_key = config.certs["valid"]
    https_config = uvicorn.Config(app, port=config.https_port, ssl_certfile=valid_cert,
                                  ssl_keyfile=valid_key, **common)  # type: ignore[arg-type]
    https_config.load()
    assert https_config.ssl is not None
    with warnings.catch_warnings():  # the chosen context decides; see the module docstring
        warnings.simplefilter("ignore", DeprecationWarning)
        https_config.ssl.minimum_version = ssl.TLSVersion.TLSv1
    https_config.ssl.sni_callback = certificate_switch(tls_contexts(config), app.state.ils.faults)
    # The redirector shares the app (and its lifespan, run once by the HTTPS server).
    http_config = uvicorn.Config(HttpsRedirect(app, config), port=config.http_port,
                                 lifespan="off", **common)  # type: ignore[arg-type]
    servers = [uvicorn.Server(https_config), uvicorn.Server(http_config)]
    await asyncio.gather(*(server.serve() for server in servers))
