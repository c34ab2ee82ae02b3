"""Documentation: each configured document (deployment guide, runbooks, rollback procedure,
contact list, user docs) exists, is not empty and was updated recently; the published API
documentation parses as OpenAPI and covers the critical endpoints. That people *reviewed* the
documents is a sign-off (test_signoffs.py)."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_cutover import checklist, openapi_doc, unverified
from pytest_cutover.clients.documents import fetch
from pytest_cutover.stash import settings_key
from pytest_cutover.thresholds import Threshold

DEFAULT_MAX_AGE_DAYS = 90
DEFAULT_MIN_BYTES = 200
DEFAULT_OPENAPI_PATH = "/api/docs/openapi.json"
DEFAULT_CRITICAL_ENDPOINTS = ["GET /api/health", "POST /api/auth/jwt/login", "GET /api/auth/jwt/me",
                              "GET /api/patients", "POST /api/patients", "GET /api/orders",
                              "POST /api/orders"]


def _documentation(config: pytest.Config) -> dict:
    settings = config.stash.get(settings_key, None)
    return (settings.environment.data.get("documentation") or {}) if settings else {}


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "document_name" not in metafunc.fixturenames:
        return
    known = {item.id for item in checklist.load()}
    params = []
    for name in sorted(_documentation(metafunc.config).get("documents") or {}):
        item = "docs." + name.replace("_", "-")
        marks = [pytest.mark.checklist(item)] if item in known else []
        params.append(pytest.param(name, marks=marks, id=name))
    metafunc.parametrize("document_name", params)


def test_document_exists_is_not_empty_and_recent(require, document_name, http, settings, measure, evidence):
    documentation = require("documentation")
    spec = documentation["documents"][document_name]
    document = fetch(spec["location"], http, settings.path.parent)
    assert document.found, f"{document_name} {spec['location']!r} not found: {document.problem}"
    minimum = int(spec.get("min_bytes", DEFAULT_MIN_BYTES))
    assert document.size >= minimum, (
        f"{document_name} {spec['location']!r} has {document.size} bytes (expected at least {minimum})")
    age = document.age_days(dt.datetime.now(dt.UTC))
    if age is None:
        unverified(f"{document_name} {spec['location']!r} tells no modification time (no Last-Modified)")
    evidence(f"{document_name}", {"location": spec["location"], "bytes": document.size,
                                  "modified": str(document.modified)}, "json")
    limit = spec.get("max_age_days", documentation.get("max_age_days", DEFAULT_MAX_AGE_DAYS))
    measure("document_age_days", age, Threshold(crit=limit, unit="days"), subject=document_name)


@pytest.mark.checklist("docs.api-docs")
def test_published_api_docs_parse_and_cover_the_critical_endpoints(target, http, settings, evidence):
    documentation = target.data.get("documentation") or {}
    location = documentation.get("openapi") or target.base_url + DEFAULT_OPENAPI_PATH
    document = fetch(location, http, settings.path.parent)
    assert document.found, f"API documentation {location!r} not found: {document.problem}"
    try:
        api = openapi_doc.parse(document.text)
    except openapi_doc.OpenApiError as exc:
        pytest.fail(f"API documentation {location!r} is not OpenAPI: {exc}", pytrace=False)
    critical = documentation.get("critical_endpoints") or DEFAULT_CRITICAL_ENDPOINTS
    missing = api.missing(critical)
    evidence("API documentation", {"location": location, "openapi": api.version, "title": api.title,
                                   "operations": len(api.operations), "missing": missing}, "json")
    assert not missing, (f"API documentation {location!r} (OpenAPI {api.version}) lacks "
                         f"{len(missing)} critical endpoint(s): {', '.join(missing)}")
