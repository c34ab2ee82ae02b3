"""Audit trail rows (`audit_logs`) for logins and writes, as ILS records them."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from ilsref.app.state import AppState


async def record(request: Request, action: str, *, user: dict[str, Any] | None = None,
                 entity_type: str | None = None, entity_id: str | None = None,
                 details: dict[str, Any] | None = None) -> None:
    state: AppState = request.app.state.ils
    await state.db.fetch(
        "INSERT INTO audit_logs (user_id, company_id, action, entity_type, entity_id, ip_address,"
        " details) VALUES (%s, %s, %s, %s, %s, %s, %s)",
        ((user or {}).get("id"), (user or {}).get("company_id"), action, entity_type, entity_id,
         request.client.host if request.client else None, json.dumps(details or {})),
    )
