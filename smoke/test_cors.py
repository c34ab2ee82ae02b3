"""Smoke: a foreign origin is never granted credentialed cross-origin access.

Reflecting any Origin together with `Access-Control-Allow-Credentials: true` lets any site act
as the signed-in user (MDN Observatory: -50).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.checklist("sec.security-headers")

FOREIGN_ORIGIN = "https://evil.example"


def _grants_foreign_origin(result):
    allowed = result.header("Access-Control-Allow-Origin")
    credentials = (result.header("Access-Control-Allow-Credentials") or "").lower() == "true"
    return credentials and allowed in (FOREIGN_ORIGIN, "*")


def _cors_headers(result):
    return {k: v for k, v in result.headers.items() if k.lower().startswith("access-control-")}


def test_foreign_origin_gets_no_credentialed_access(http, protected_probe, smoke_auth):
    path = protected_probe
    result = http.get(path, headers={"Origin": FOREIGN_ORIGIN, **smoke_auth})
    assert result.status is not None, result.describe()
    assert not _grants_foreign_origin(result), (
        f"GET {path} with Origin {FOREIGN_ORIGIN!r} answered {_cors_headers(result)!r} "
        f"(expected the origin not to be allowed with credentials)")


def test_foreign_origin_preflight_is_not_granted(http, protected_probe):
    path = protected_probe
    result = http.request("OPTIONS", path, headers={
        "Origin": FOREIGN_ORIGIN, "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "Content-Type"})
    assert result.status is not None, result.describe()
    assert not _grants_foreign_origin(result), (
        f"OPTIONS {path} preflight from {FOREIGN_ORIGIN!r} answered {_cors_headers(result)!r} "
        f"(expected the origin not to be allowed with credentials)")
