"""Turn a request path into what it addresses: a discovery document or a resource route."""

from __future__ import annotations

from dataclasses import dataclass

from ilsref.k8s.resources import Resource, lookup
from ilsref.k8s.store import ApiError


@dataclass(frozen=True)
class Route:
    resource: Resource
    namespace: str | None  # None: all namespaces (lists) or a cluster-scoped resource
    name: str | None = None
    subresource: str | None = None


def not_found_path() -> ApiError:
    return ApiError(404, "NotFound", "the server could not find the requested resource")


def parse(path: str) -> Route:
    """`/api/v1/namespaces/ns/pods/name/log` → Route(pods, "ns", "name", "log")."""
    parts = [p for p in path.split("/") if p]
    if len(parts) >= 3 and parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif len(parts) >= 4 and parts[0] == "apis":
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        raise not_found_path()
    namespace = None
    if len(rest) >= 3 and rest[0] == "namespaces" and lookup(group, version, rest[2]):
        namespace, rest = rest[1], rest[2:]
    resource = lookup(group, version, rest[0])
    if resource is None or len(rest) > 3:
        raise not_found_path()
    if namespace is not None and not resource.namespaced:
        raise not_found_path()
    name = rest[1] if len(rest) > 1 else None
    subresource = rest[2] if len(rest) > 2 else None
    if subresource is not None and subresource not in resource.subresources:
        raise not_found_path()
    return Route(resource, namespace, name, subresource)
