"""OpenAPI documents parse and report which critical endpoints they cover."""

import json

import pytest

from pytest_cutover.openapi_doc import OpenApiError, parse

DOC = {"openapi": "3.0.3", "info": {"title": "ILS"}, "paths": {
    "/api/patients": {"get": {}, "post": {}}, "/api/patients/{patient_id}": {"get": {}},
    "/api/health": {"get": {}, "parameters": []}}}


@pytest.mark.parametrize(("endpoint", "covered"), [
    ("GET /api/patients", True), ("/api/patients", True), ("DELETE /api/patients", False),
    ("GET /api/patients/{id}", True), ("GET /api/orders", False), ("get /api/health/", True)])
def test_endpoint_coverage(endpoint, covered):
    assert parse(json.dumps(DOC)).covers(endpoint) is covered


def test_missing_lists_uncovered_endpoints_in_order():
    assert parse(json.dumps(DOC)).missing(["GET /api/orders", "GET /api/health", "POST /api/orders"]) == [
        "GET /api/orders", "POST /api/orders"]


@pytest.mark.parametrize("doc", ["<html>", json.dumps({"paths": {}}), json.dumps({"openapi": "3.0.0"}),
                                 json.dumps({"openapi": "9.0", "paths": {}})])
def test_non_openapi_documents_are_refused(doc):
    with pytest.raises(OpenApiError):
        parse(doc)
