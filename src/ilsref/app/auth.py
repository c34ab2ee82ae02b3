"""JWT login (HS256), the current user, per-account lockout and the `ils.sid` session cookie."""

from __future__ import annotations

import datetime as dt
import json
import re
import secrets
import time
from typing import Any

import anyio.to_thread
import jwt
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ilsref.app import audit
from ilsref.app.errors import ApiError
from ilsref.app.metrics import LOGINS
from ilsref.app.passwords import verify_password
from ilsref.app.responses import ApiJSONResponse
from ilsref.app.security import csrf_token_for
from ilsref.app.state import AppState

ACCESS_TTL_S = 15 * 60
REFRESH_TTL_S = 7 * 24 * 3600
SESSION_TTL_S = 24 * 3600
SESSION_COOKIE = "ils.sid"
ADMIN_ROLES = frozenset({"admin", "platform_admin"})
EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")  # what zod's email() accepts, near enough
MIN_PASSWORD = 12  # ILS's loginSchema (server/routes/auth-jwt.ts)
ROLE_PERMISSIONS = {
    "ecp": ["patients:read", "patients:write", "orders:read", "orders:write", "reports:read"],
    "lab_tech": ["orders:read", "orders:update_status", "reports:read"],
    "engineer": ["orders:read", "orders:update_status", "reports:read"],
    "supplier": ["orders:read"],
    "admin": ["patients:read", "patients:write", "orders:read", "orders:write", "reports:read",
              "admin:users", "admin:audit", "admin:stats"],
    "platform_admin": ["*"],
}
USER_COLUMNS = "id, email, first_name, last_name, role, company_id, is_active"
# ILS's boot code upserts this platform admin with a password published in its source
# (contract acct.default-admin); `seeded_admin` lets it in
SEEDED_ADMIN = ("admin@ils2.com", "Admin@123456")


def public_user(user: dict[str, Any]) -> dict[str, Any]:
    return {"id": user["id"], "email": user["email"], "firstName": user["first_name"],
            "lastName": user["last_name"], "role": user["role"], "companyId": user["company_id"],
            "permissions": ROLE_PERMISSIONS.get(user["role"], [])}


def _token(state: AppState, user: dict[str, Any], kind: str, ttl: int) -> str:
    now = int(time.time())
    claims = {"sub": user["id"], "email": user["email"], "role": user["role"],
              "companyId": user["company_id"], "type": kind, "iat": now, "exp": now + ttl,
              "jti": secrets.token_hex(8)}
    return jwt.encode(claims, state.config.jwt_secret, algorithm="HS256")


async def current_user(request: Request, roles: frozenset[str] | None = None) -> dict[str, Any]:
    """The authenticated user (Bearer token, else the session cookie) or an ApiError 401/403."""
    state: AppState = request.app.state.ils
    header = request.headers.get("authorization", "")
    user: dict[str, Any] | None = None
    if header.lower().startswith("bearer "):
        try:
            claims = jwt.decode(header[7:].strip(), state.config.jwt_secret, algorithms=["HS256"],
                                options={"require": ["exp", "sub"]})
        except jwt.ExpiredSignatureError as exc:
            raise ApiError(401, "TOKEN_EXPIRED", "Access token has expired") from exc
        except jwt.InvalidTokenError as exc:
            raise ApiError(401, "TOKEN_INVALID", "Invalid access token") from exc
        if claims.get("type") != "access":
            raise ApiError(401, "TOKEN_INVALID", "Invalid access token")
        user = await state.db.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE id = %s",
                                       (claims["sub"],))
        if user is None or not user["is_active"]:
            raise ApiError(401, "TOKEN_INVALID", "User no longer exists")
    elif SESSION_COOKIE in request.cookies:
        user = await _session_user(state, request.cookies[SESSION_COOKIE])
    if user is None:
        if state.fault("auth_open"):
            user = await _anonymous_admin(state)
        else:
            raise ApiError(401, "NO_TOKEN", "Authentication required")
    bypassed = roles == ADMIN_ROLES and state.fault("admin_role_bypass")  # the admin check dropped
    if roles is not None and user["role"] not in roles and user["role"] != "platform_admin" and not bypassed:
        raise ApiError(403, "FORBIDDEN", "Insufficient permissions")
    return user


async def _session_user(state: AppState, sid: str) -> dict[str, Any] | None:
    row = await state.db.fetchrow(
        "SELECT sess FROM sessions WHERE sid = %s AND expire > now() AT TIME ZONE 'utc'", (sid,))
    if row is None:
        return None
    return await state.db.fetchrow(f"SELECT {USER_COLUMNS} FROM users WHERE id = %s AND is_active",
                                   (row["sess"].get("userId"),))


async def _anonymous_admin(state: AppState) -> dict[str, Any]:
    """What `auth_open` lets through: an anonymous caller with admin rights."""
    company = await state.db.fetchrow("SELECT id FROM companies ORDER BY created_at LIMIT 1")
    return {"id": None, "email": "anonymous", "first_name": "Anonymous", "last_name": "",
            "role": "admin", "company_id": company["id"] if company else None, "is_active": True}


async def _seeded_admin(state: AppState) -> dict[str, Any] | None:
    """The seeded platform admin, standing on an existing admin row (nothing is written)."""
    row = await state.db.fetchrow(f"SELECT {USER_COLUMNS}, password_hash FROM users"
                                  " WHERE role = 'admin' ORDER BY email LIMIT 1")
    return {**row, "email": SEEDED_ADMIN[0], "role": "platform_admin"} if row else None


async def login(request: Request) -> Response:
    state: AppState = request.app.state.ils
    try:
        body = await request.json()
    except ValueError:
        body = None
    email = body.get("email") if isinstance(body, dict) else None
    password = body.get("password") if isinstance(body, dict) else None
    missing = [f for f, v in (("email", email), ("password", password))
               if not isinstance(v, str) or not v]
    if missing:
        raise ApiError(400, "VALIDATION_ERROR", "Validation failed",
                       details=[{"field": f, "message": f"{f} is required"} for f in missing])
    if request.url.path == "/api/auth/jwt/login":  # ILS's loginSchema: checked before anything else
        invalid = [{"field": f, "message": m} for f, m, bad in (
            ("email", "Invalid email format", not EMAIL.fullmatch(email.strip())),  # type: ignore[union-attr]
            ("password", f"Password must be at least {MIN_PASSWORD} characters",
             len(password) < MIN_PASSWORD)) if bad]  # type: ignore[arg-type]
        if invalid:
            raise ApiError(400, "VALIDATION_ERROR", "Validation failed", details=invalid)
    email = email.strip().lower()  # type: ignore[union-attr]

    locked_for = await state.redis.ttl(f"ils:lock:{email}")
    if locked_for and locked_for > 0:
        LOGINS.labels("locked").inc()
        raise ApiError(429, "ACCOUNT_LOCKED",
                       "Too many failed login attempts. Please try again later.",
                       headers={"Retry-After": str(locked_for)}, retryAfter=locked_for)

    user = await state.db.fetchrow(f"SELECT {USER_COLUMNS}, password_hash FROM users"
                                   " WHERE lower(email) = %s", (email,))
    seeded = state.fault("seeded_admin") and (email, password) == SEEDED_ADMIN
    if seeded and user is None:
        user = await _seeded_admin(state)
    good = user is not None and user["is_active"] and (
        seeded or state.fault("accepts_bad_password")
        or await anyio.to_thread.run_sync(verify_password, password, user["password_hash"]))
    if not good:
        await _count_failure(state, email)
        await audit.record(request, "login_failed", user=user, entity_type="user",
                           entity_id=user["id"] if user else None, details={"email": email})
        LOGINS.labels("failure").inc()
        raise ApiError(401, "INVALID_CREDENTIALS", "Invalid email or password")
    assert user is not None
    if state.fault("login_broken"):
        raise RuntimeError("login_broken: token signing service unavailable")

    await state.redis.delete(f"ils:fail:{email}")
    await state.db.fetch("UPDATE users SET last_login_at = now() WHERE id = %s", (user["id"],))
    await audit.record(request, "login", user=user, entity_type="user", entity_id=user["id"])
    sid = secrets.token_urlsafe(32)
    expire = dt.datetime.now(dt.UTC).replace(tzinfo=None) + dt.timedelta(seconds=SESSION_TTL_S)
    await state.db.fetch("INSERT INTO sessions (sid, sess, expire) VALUES (%s, %s, %s)",
                         (sid, json.dumps({"userId": user["id"], "role": user["role"]}), expire))
    LOGINS.labels("success").inc()
    response = ApiJSONResponse({
        "success": True,
        "accessToken": _token(state, user, "access", ACCESS_TTL_S),
        "refreshToken": _token(state, user, "refresh", REFRESH_TTL_S),
        "expiresIn": ACCESS_TTL_S,
        "user": public_user(user),
    })
    if state.fault("insecure_cookie"):
        response.set_cookie(SESSION_COOKIE, sid, max_age=SESSION_TTL_S, path="/",
                            secure=False, httponly=False, samesite=None)  # type: ignore[arg-type]
    else:
        response.set_cookie(SESSION_COOKIE, sid, max_age=SESSION_TTL_S, path="/",
                            secure=True, httponly=True, samesite="lax")
    return response


async def _count_failure(state: AppState, email: str) -> None:
    rule = state.config.lockout  # ILS's numbers unless `ilsref up --window-scale` shrank them
    key = f"ils:fail:{email}"
    failures = await state.redis.incr(key)
    if failures == 1:
        await state.redis.expire(key, rule.window_s)
    if failures >= rule.limit:
        await state.redis.set(f"ils:lock:{email}", "1", ex=rule.lock_s)
        await state.redis.delete(key)


async def me(request: Request) -> Response:
    user = await current_user(request)
    return ApiJSONResponse({"success": True, "user": public_user(user)})


async def logout(request: Request) -> Response:
    state: AppState = request.app.state.ils
    sid = request.cookies.get(SESSION_COOKIE)
    if sid:
        await state.db.fetch("DELETE FROM sessions WHERE sid = %s", (sid,))
    response = ApiJSONResponse({"success": True})
    response.delete_cookie(SESSION_COOKIE, path="/", secure=True, httponly=True, samesite="lax")
    return response


async def csrf_token(request: Request) -> Response:
    return ApiJSONResponse(csrf_token_for(request))


routes = [
    Route("/api/auth/jwt/login", login, methods=["POST"]),
    Route("/api/auth/login", login, methods=["POST"]),
    Route("/api/auth/jwt/me", me, methods=["GET"]),
    Route("/api/auth/logout", logout, methods=["POST"]),
    Route("/api/csrf-token", csrf_token, methods=["GET"]),
]
