"""Small request-body helpers shared by the API modules (400s in the ILS shape)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from starlette.requests import Request

from ilsref.app.errors import ApiError


async def json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise ApiError(400, "VALIDATION_ERROR", "Request body must be JSON") from exc
    if not isinstance(body, dict):
        raise ApiError(400, "VALIDATION_ERROR", "Request body must be a JSON object")
    return body


def require_fields(body: dict[str, Any], *names: str) -> None:
    missing = [n for n in names if not isinstance(body.get(n), str) or not body[n].strip()]
    if missing:
        raise ApiError(400, "VALIDATION_ERROR", "Validation failed",
                       details=[{"field": n, "message": f"{n} is required"} for n in missing])


def optional_date(body: dict[str, Any], name: str) -> dt.date | None:
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError as exc:
        raise _invalid(name, "must be a date (YYYY-MM-DD)") from exc


def optional_number(body: dict[str, Any], name: str, low: float, high: float) -> float | None:
    value = body.get(name)
    if value in (None, ""):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError) as exc:
        raise _invalid(name, "must be a number") from exc
    if not low <= number <= high:
        raise _invalid(name, f"must be between {low} and {high}")
    return number


def paging(request: Request, default: int = 50, maximum: int = 100) -> tuple[int, int]:
    try:
        limit = int(request.query_params.get("limit", default))
        offset = int(request.query_params.get("offset", 0))
    except ValueError as exc:
        raise ApiError(400, "VALIDATION_ERROR", "limit and offset must be integers") from exc
    return max(1, min(limit, maximum)), max(0, offset)


def _invalid(name: str, message: str) -> ApiError:
    return ApiError(400, "VALIDATION_ERROR", "Validation failed",
                    details=[{"field": name, "message": f"{name} {message}"}])
