"""The API routes an attacker can list, and what their anonymous answers mean.

Pure module. Routes come from three places an outsider can read too: the published OpenAPI
document (its GET operations), the app profile (routes read from the app's source), and the
served single-page app's JavaScript (`"/api/..."` string literals). Path parameters are filled
with a harmless value; a route is asked with GET only, never a write.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

PARAM = re.compile(r"\{[^}/]*\}|:[A-Za-z_]\w*|\[[^\]/]*\]")
JS_LITERAL = re.compile(r"""["'`](/api/[A-Za-z0-9_\-./:{}]*)""")
SCRIPT_SRC = re.compile(r"""<script[^>]+src=["']([^"']+)["']""", re.I)
HARMLESS = "1"  # a path parameter: an id that is surely nobody's, or the first row at most
REFUSALS = frozenset({401, 403, 404, 405})  # 405: GET is not this route's method; nothing served


@dataclass(frozen=True)
class Route:
    path: str  # with parameters filled
    template: str  # as found
    source: str  # openapi, profile, spa


def fill(template: str) -> str:
    """`/api/orders/{id}` and `/api/orders/:id` -> `/api/orders/1`; the query is dropped."""
    path = template.split("?", 1)[0].split("#", 1)[0]
    path = path.split("${", 1)[0]  # a JS template literal: the dynamic rest is unknown
    return PARAM.sub(HARMLESS, path).rstrip("/") or "/"


def from_openapi(document: Any) -> list[str]:
    """The paths of the document that have a GET operation."""
    paths = document.get("paths") if isinstance(document, dict) else None
    if not isinstance(paths, dict):
        return []
    servers = document.get("servers") or []
    prefix = ""
    if servers and isinstance(servers[0], dict):
        url = str(servers[0].get("url") or "")
        prefix = url if url.startswith("/") else ""  # a relative server URL prefixes every path
    return [prefix.rstrip("/") + p for p, ops in paths.items()
            if isinstance(ops, dict) and "get" in {k.lower() for k in ops}]


def script_sources(html: str) -> list[str]:
    return SCRIPT_SRC.findall(html)


def from_javascript(text: str) -> list[str]:
    return [m for m in JS_LITERAL.findall(text) if len(m) > len("/api/")]


def gather(found: Iterable[tuple[str, Iterable[str]]], limit: int,
           exclude: Iterable[str] = ()) -> list[Route]:
    """Unique routes in the order given (source by source), at most `limit` of them."""
    excluded = list(exclude)
    routes: dict[str, Route] = {}
    for source, templates in found:
        for template in templates:
            path = fill(template)
            if not path.startswith("/") or path in routes or matches(path, excluded):
                continue
            routes[path] = Route(path, template, source)
    return list(routes.values())[:limit]


def matches(path: str, patterns: Iterable[str]) -> bool:
    """Whether `path` is one of `patterns` (exact, or shell-style: `/api/docs*`)."""
    return any(path == p or fnmatch.fnmatchcase(path, p) for p in patterns)


def exposed(status: int | None) -> bool:
    """An answer that served the route: anything but a refusal (or no answer at all)."""
    return status is not None and status not in REFUSALS and status != 429


def is_admin(path: str, prefixes: Iterable[str]) -> bool:
    return any(path == p or path.startswith(p.rstrip("/") + "/") for p in prefixes)
