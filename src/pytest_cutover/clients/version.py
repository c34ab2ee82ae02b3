"""The version an environment serves, from its `version` table: an endpoint's JSON field
(`source = "endpoint"`, `path`, dotted `field`) or the Deployment's image tag (`image_tag`).

Returns facts (the version and where it was read); raises VersionUnavailable with a one-line
reason when it cannot be read.
"""

from __future__ import annotations

from typing import Any


class VersionUnavailable(RuntimeError):
    pass


def _dig(body: Any, dotted: str) -> Any:
    for key in dotted.split("."):
        if not isinstance(body, dict):
            return None
        body = body.get(key)
    return body


def served_version(http: Any, environment: Any, kube: Any = None) -> tuple[str, str]:
    """(version, where) for `environment`; `kube` is a K8s client for the image-tag source."""
    version = environment.data.get("version") or {"source": "image_tag"}
    source = version.get("source", "endpoint")
    if source == "endpoint":
        path, field = version.get("path", "/api/health"), version.get("field", "version")
        result = http.get(environment.base_url + path)
        served = _dig(result.json(), field) if result.status == 200 else None
        if served is None:
            raise VersionUnavailable(f"no field {field!r} in GET {path} of {environment.name!r}: "
                                     f"{result.describe()}")
        return str(served), f"GET {environment.base_url}{path} field {field!r}"
    if source == "image_tag":
        if kube is None:
            raise VersionUnavailable("version.source is 'image_tag' but Kubernetes is not configured")
        table = environment.data.get("kubernetes") or {}
        deployment = kube.deployment(table.get("deployment", "ils-app"))
        container = deployment.container(table.get("container")) if deployment else None
        if container is None:
            raise VersionUnavailable(f"Deployment {table.get('deployment', 'ils-app')!r} of "
                                     f"{environment.name!r} not found")
        return container.tag, f"image {container.image!r} of {environment.name!r}"
    raise VersionUnavailable(f"unknown version.source {source!r} (use 'endpoint' or 'image_tag')")
