"""JSON responses in the ILS style: camelCase keys, dates as ISO-8601, decimals as numbers."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from starlette.responses import JSONResponse


def _default(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, (dt.datetime, dt.date)):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON serialisable")


class ApiJSONResponse(JSONResponse):
    def render(self, content: Any) -> bytes:
        return json.dumps(content, default=_default, separators=(",", ":")).encode()


def camel(row: dict[str, Any]) -> dict[str, Any]:
    """Database row (snake_case) -> API object (camelCase), as Drizzle's TypeScript names them."""
    return {_camel_key(k): v for k, v in row.items()}


def _camel_key(key: str) -> str:
    head, *rest = key.split("_")
    return head + "".join(part.title() for part in rest)
