"""Security middleware in the order ILS applies it: headers, CORS, rate limits, CSRF.

Each is plain ASGI (no response buffering) and reads the fault switches per request.
"""

from __future__ import annotations

import contextlib
import secrets
import time
from typing import Any, ClassVar
from urllib.parse import urlsplit

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Message, Receive, Scope, Send

from ilsref.app.config import RateLimit
from ilsref.app.errors import error_response
from ilsref.app.middleware import HttpMiddleware, on_response_start
from ilsref.app.responses import ApiJSONResponse
from ilsref.app.state import AppState

CSRF_COOKIE = "csrf-token"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Login and health work without a CSRF token (the login page has none yet; probes send none).
CSRF_EXEMPT = ("/api/auth/login", "/api/auth/jwt/login", "/api/health", "/health")

HSTS = "max-age=31536000; includeSubDomains; preload"
# where ILS mounts its failed-login limiter (server/index.ts: authRateLimiter)
FAILED_LOGIN_PATHS = ("/api/auth/jwt/login", "/api/auth/forgot-password", "/api/auth/reset-password",
                      "/api/patient-portal/auth/forgot-password",
                      "/api/patient-portal/auth/reset-password", "/api/onboarding")
# helmet's defaults keep base-uri and object-src closed; ILS adds 'unsafe-inline' (contract mw.csp)
CSP = "default-src 'self'; base-uri 'self'; object-src 'none'"
CSP_UNSAFE_EVAL = "default-src 'self'; script-src 'self' 'unsafe-eval'; base-uri 'self'; object-src 'none'"
STUCK_S = 120  # `rate_limit_stuck`: how long a throttled client stays blocked


def is_health(path: str) -> bool:
    return path in ("/health", "/health/live", "/health/ready") or path.startswith("/api/health")


def _state(scope: Scope) -> AppState:
    return scope["app"].state.ils  # type: ignore[no-any-return]


class SecurityHeadersMiddleware(HttpMiddleware):
    """The helmet() set ILS sends, minus whatever the active faults remove."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        active = _state(scope).faults.active()

        def edit(headers: MutableHeaders, message: Message) -> None:
            wanted = {
                "Content-Security-Policy": (None if "no_csp" in active else CSP_UNSAFE_EVAL
                                            if "csp_unsafe_eval" in active else CSP),
                "Strict-Transport-Security": (None if "no_hsts" in active else
                                              "max-age=300" if "weak_hsts" in active else HSTS),
                "X-Frame-Options": None if "no_xfo" in active else "SAMEORIGIN",
                "X-Content-Type-Options": None if "no_xcto" in active else "nosniff",
                "Referrer-Policy": None if "no_referrer_policy" in active else "no-referrer",
                "Cross-Origin-Opener-Policy": "same-origin",
                "Cross-Origin-Resource-Policy": "same-origin",
            }
            for name, value in wanted.items():
                if value is not None:
                    headers[name] = value
            for name in ("server", "x-powered-by"):
                if name in headers:
                    del headers[name]
            if "server_header_leak" in active:
                headers["X-Powered-By"] = "Express"
                headers["Server"] = "nginx/1.18.0"

        await self.app(scope, receive, on_response_start(send, edit))


class CorsMiddleware(HttpMiddleware):
    """Allow only the configured origin; `cors_reflect` reflects any origin with credentials,
    `cors_origin_substring` any origin that contains the allowed host (ILS's `includes` test,
    contract mw.cors), `cors_null_origin` the origin `null`."""

    ALLOW_METHODS = "GET,HEAD,PUT,PATCH,POST,DELETE"
    ALLOW_HEADERS = "Content-Type,Authorization,X-CSRF-Token,X-Requested-With"

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = _state(scope)
        request = Request(scope)
        origin = request.headers.get("origin")
        allowed = origin is not None and (origin == state.config.allowed_origin
                                          or state.fault("cors_reflect")
                                          or self._lax(state, origin))
        preflight = (scope["method"] == "OPTIONS"
                     and "access-control-request-method" in request.headers)
        if preflight:
            response = Response(status_code=204, headers={"Vary": "Origin"})
            if allowed:
                response.headers.update(self._allow(origin or ""))
                response.headers["Access-Control-Allow-Methods"] = self.ALLOW_METHODS
                response.headers["Access-Control-Allow-Headers"] = self.ALLOW_HEADERS
                response.headers["Access-Control-Max-Age"] = "600"
            await response(scope, receive, send)
            return

        def edit(headers: MutableHeaders, message: Message) -> None:
            headers.add_vary_header("Origin")
            if allowed:
                headers.update(self._allow(origin or ""))

        await self.app(scope, receive, on_response_start(send, edit))

    @staticmethod
    def _lax(state: AppState, origin: str) -> bool:
        if origin == "null":
            return state.fault("cors_null_origin")
        host = urlsplit(state.config.allowed_origin).hostname or ""
        return bool(host) and host in origin and state.fault("cors_origin_substring")

    @staticmethod
    def _allow(origin: str) -> dict[str, str]:
        return {"Access-Control-Allow-Origin": origin, "Access-Control-Allow-Credentials": "true"}


class RateLimitMiddleware(HttpMiddleware):
    """ILS's two IP limiters, fixed windows in Redis, with express-rate-limit's draft-6 headers
    (docs/ils-contract.md limit.api, limit.failed-login).

    The API limiter counts every `/api` request but the health paths. The failed-login limiter
    sits behind it on the sign-in and password-reset paths and counts only answers of status 400
    or above (a success is taken back, as express-rate-limit's `skipSuccessfulRequests` does), so
    validation 400s and lockout 429s count too. On those paths its headers are the ones sent.
    If Redis fails the request goes through: a limiter must not take the API down with it.
    """

    MESSAGES: ClassVar[dict[str, str]] = {"api": "Too many requests from this IP, please try again later.",
                "auth": "Too many authentication attempts, please try again later."}

    def applies(self, scope: Scope) -> bool:
        path: str = scope["path"]
        return path.startswith("/api/") and not is_health(path)

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = _state(scope)
        if state.fault("rate_limit_off"):
            await self.app(scope, receive, send)
            return
        ip = (scope.get("client") or ("unknown", 0))[0]
        limiters = [("api", state.config.rate_limit)]
        if scope["path"].startswith(FAILED_LOGIN_PATHS):
            limiters.append(("auth", state.config.auth_rate_limit))
        headers: dict[str, str] = {}
        failed_key: str | None = None
        for bucket, rule in limiters:
            counted = await self._count(state, bucket, ip, rule)
            if counted is None:
                continue
            used, reset_in, key = counted
            failed_key = key if bucket == "auth" else None
            headers = {"RateLimit-Policy": f"{rule.limit};w={rule.window_s}",
                       "RateLimit-Limit": str(rule.limit),
                       "RateLimit-Remaining": str(max(rule.limit - used, 0)),
                       "RateLimit-Reset": str(reset_in)}
            throttled = used > rule.limit
            if state.fault("rate_limit_stuck"):
                throttled = await self._stuck(state, bucket, ip, throttled)
            if throttled:
                body = {"error": self.MESSAGES[bucket], "retryAfter": _spoken(rule.window_s)}
                response = ApiJSONResponse(body, status_code=429,
                                           headers={**headers, "Retry-After": str(reset_in)})
                await response(scope, receive, send)
                return
        status: list[int] = []

        def edit(h: MutableHeaders, message: Message) -> None:
            status.append(int(message["status"]))
            h.update(headers)

        await self.app(scope, receive, on_response_start(send, edit))
        if failed_key is not None and status and status[0] < 400:
            with contextlib.suppress(Exception):
                await state.redis.decr(failed_key)

    @staticmethod
    async def _stuck(state: AppState, bucket: str, ip: str, throttled: bool) -> bool:
        """`rate_limit_stuck`: a client once throttled stays blocked for STUCK_S, whatever its
        Retry-After said (a block key that outlives the window)."""
        key = f"ils:rl:stuck:{bucket}:{ip}"
        try:
            if throttled:
                await state.redis.set(key, 1, ex=STUCK_S)
                return True
            return bool(await state.redis.exists(key))
        except Exception:
            return throttled

    @staticmethod
    async def _count(state: AppState, bucket: str, ip: str, rule: RateLimit
                     ) -> tuple[int, int, str] | None:
        now = time.time()
        window = int(now // rule.window_s)
        key = f"ils:rl:{bucket}:{ip}:{window}"
        try:
            async with state.redis.pipeline(transaction=True) as pipe:
                pipe.incr(key)
                pipe.expire(key, rule.window_s + 1)
                used, _ = await pipe.execute()
        except Exception:
            return None
        reset_in = max(1, int((window + 1) * rule.window_s - now + 0.999))
        return int(used), reset_in, key


def _spoken(seconds: int) -> str:
    """ILS's `retryAfter` is words ("15 minutes")."""
    return f"{seconds // 60} minutes" if seconds >= 120 and seconds % 60 == 0 else f"{seconds} seconds"


class CsrfMiddleware(HttpMiddleware):
    """Double-submit cookie: GETs receive `csrf-token`; other API calls echo it in X-CSRF-Token."""

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope)
        cookie = request.cookies.get(CSRF_COOKIE)
        path = scope["path"]
        if (scope["method"] not in SAFE_METHODS and path.startswith("/api/")
                and not path.startswith(CSRF_EXEMPT)):
            header = request.headers.get(CSRF_HEADER)
            if not cookie or not header or not secrets.compare_digest(cookie, header):
                response = error_response(403, "CSRF_TOKEN_INVALID",
                                          "Invalid or missing CSRF token")
                await response(scope, receive, send)
                return
        if scope["method"] == "GET" and not cookie:
            token = secrets.token_urlsafe(32)
            scope.setdefault("state", {})["csrf_token"] = token
            cookie_header = f"{CSRF_COOKIE}={token}; Path=/; Secure; SameSite=Strict"
            await self.app(scope, receive, on_response_start(
                send, lambda h, m: h.append("Set-Cookie", cookie_header)))
            return
        await self.app(scope, receive, send)


def csrf_token_for(request: Request) -> dict[str, Any]:
    """The token this request carries or was just given (for `GET /api/csrf-token`)."""
    return {"csrfToken": request.cookies.get(CSRF_COOKIE) or request.state.csrf_token}
