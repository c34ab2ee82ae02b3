"""Does a published API document parse as OpenAPI, and which critical endpoints does it cover?

Pure module. An endpoint is written `"GET /api/patients"` or just `"/api/patients"` (any
method). Path templates match by shape: `/api/patients/{id}` covers `/api/patients/{patient_id}`.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

METHODS = ("get", "put", "post", "delete", "patch", "options", "head", "trace")


class OpenApiError(ValueError):
    """The document is not an OpenAPI (or Swagger 2) JSON document."""


@dataclass(frozen=True)
class OpenApiDocument:
    version: str  # "3.0.3", "3.1.0", "2.0"
    title: str
    operations: frozenset[tuple[str, str]]  # (METHOD, normalised path)

    def covers(self, endpoint: str) -> bool:
        method, path = split_endpoint(endpoint)
        wanted = normalise(path)
        return any(p == wanted and (method is None or m == method) for m, p in self.operations)

    def missing(self, endpoints: list[str]) -> list[str]:
        return [e for e in endpoints if not self.covers(e)]


def normalise(path: str) -> str:
    return re.sub(r"\{[^}/]+\}", "{}", path.rstrip("/") or "/")


def split_endpoint(endpoint: str) -> tuple[str | None, str]:
    method, _, path = endpoint.strip().partition(" ")
    if not path:
        return None, method
    return method.upper(), path.strip()


def parse(text: str) -> OpenApiDocument:
    try:
        doc: Any = json.loads(text)
    except ValueError as exc:
        raise OpenApiError(f"not JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise OpenApiError("the document is not a JSON object")
    version = str(doc.get("openapi") or doc.get("swagger") or "")
    if not version:
        raise OpenApiError("neither an 'openapi' nor a 'swagger' version field")
    if not version.startswith(("3.", "2.")):
        raise OpenApiError(f"unsupported OpenAPI version {version!r}")
    paths = doc.get("paths")
    if not isinstance(paths, dict):
        raise OpenApiError("no 'paths' object")
    operations = frozenset(
        (method.upper(), normalise(path))
        for path, item in paths.items() if isinstance(item, dict)
        for method in item if method.lower() in METHODS)
    title = str((doc.get("info") or {}).get("title", ""))
    return OpenApiDocument(version, title, operations)
