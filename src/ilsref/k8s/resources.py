"""The resource kinds the emulator serves, and the discovery documents that describe them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

VERBS = ["create", "delete", "get", "list", "patch", "update", "watch"]

SERVER_VERSION = {
    "major": "1",
    "minor": "30",
    "gitVersion": "v1.30.2",
    "gitCommit": "3968350cdbd98c1e0e1e8b0b0a3d2a7f5fa4fb5e",
    "gitTreeState": "clean",
    "buildDate": "2024-06-11T20:20:18Z",
    "goVersion": "go1.22.4",
    "compiler": "gc",
    "platform": "linux/amd64",
}


@dataclass(frozen=True)
class Resource:
    group: str  # "" for the core group
    version: str
    plural: str
    kind: str
    namespaced: bool = True
    short_names: tuple[str, ...] = ()
    # Subresources stored as part of the object ("status") or derived from it ("scale").
    subresources: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def singular(self) -> str:
        return self.kind.lower()

    @property
    def key(self) -> str:
        """Unique id, e.g. "deployments.apps" or "pods"."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    @property
    def has_status(self) -> bool:
        return "status" in self.subresources


ALL = ("all",)
RESOURCES: tuple[Resource, ...] = (
    Resource("", "v1", "namespaces", "Namespace", namespaced=False, short_names=("ns",),
             subresources=("status",)),
    Resource("", "v1", "pods", "Pod", short_names=("po",), subresources=("status", "log"),
             categories=ALL),
    Resource("", "v1", "secrets", "Secret"),
    Resource("", "v1", "configmaps", "ConfigMap", short_names=("cm",)),
    Resource("", "v1", "services", "Service", short_names=("svc",), subresources=("status",),
             categories=ALL),
    Resource("", "v1", "endpoints", "Endpoints", short_names=("ep",)),
    Resource("", "v1", "events", "Event", short_names=("ev",)),
    Resource("apps", "v1", "deployments", "Deployment", short_names=("deploy",),
             subresources=("status", "scale"), categories=ALL),
    Resource("apps", "v1", "replicasets", "ReplicaSet", short_names=("rs",),
             subresources=("status", "scale"), categories=ALL),
    Resource("apps", "v1", "statefulsets", "StatefulSet", short_names=("sts",),
             subresources=("status", "scale"), categories=ALL),
    Resource("autoscaling", "v2", "horizontalpodautoscalers", "HorizontalPodAutoscaler",
             short_names=("hpa",), subresources=("status",), categories=ALL),
    Resource("policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", short_names=("pdb",),
             subresources=("status",)),
    Resource("networking.k8s.io", "v1", "ingresses", "Ingress", short_names=("ing",),
             subresources=("status",)),
    # admitted and stored (batch.py), not run: the emulator has no Job controller or scheduler
    Resource("batch", "v1", "jobs", "Job", subresources=("status",), categories=ALL),
    Resource("batch", "v1", "cronjobs", "CronJob", short_names=("cj",), subresources=("status",),
             categories=ALL),
    Resource("", "v1", "persistentvolumeclaims", "PersistentVolumeClaim", short_names=("pvc",),
             subresources=("status",)),
)

BY_PATH: dict[tuple[str, str, str], Resource] = {
    (r.group, r.version, r.plural): r for r in RESOURCES
}
BY_KEY: dict[str, Resource] = {r.key: r for r in RESOURCES}


def lookup(group: str, version: str, plural: str) -> Resource | None:
    return BY_PATH.get((group, version, plural))


def of_kind(kind: str) -> Resource:
    return next(r for r in RESOURCES if r.kind == kind)


def groups() -> dict[str, list[str]]:
    """Named groups and their versions, in first-seen order (core group excluded)."""
    found: dict[str, list[str]] = {}
    for r in RESOURCES:
        if r.group and r.version not in found.setdefault(r.group, []):
            found[r.group].append(r.version)
    return found


def _api_resource(r: Resource) -> list[dict[str, Any]]:
    main: dict[str, Any] = {
        "name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
        "kind": r.kind, "verbs": VERBS,
    }
    if r.short_names:
        main["shortNames"] = list(r.short_names)
    if r.categories:
        main["categories"] = list(r.categories)
    entries = [main]
    for sub in r.subresources:
        entry: dict[str, Any] = {
            "name": f"{r.plural}/{sub}", "singularName": "", "namespaced": r.namespaced,
            "kind": r.kind, "verbs": ["get", "patch", "update"],
        }
        if sub == "scale":
            entry.update(group="autoscaling", version="v1", kind="Scale")
        elif sub == "log":
            entry.update(kind="Pod", verbs=["get"])
        entries.append(entry)
    return entries


def resource_list(group: str, version: str) -> dict[str, Any] | None:
    members = [r for r in RESOURCES if (r.group, r.version) == (group, version)]
    if not members:
        return None
    return {
        "kind": "APIResourceList", "apiVersion": "v1",
        "groupVersion": f"{group}/{version}" if group else version,
        "resources": [entry for r in members for entry in _api_resource(r)],
    }


def api_versions() -> dict[str, Any]:
    return {
        "kind": "APIVersions", "versions": ["v1"],
        "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": "127.0.0.1"}],
    }


def api_group(name: str) -> dict[str, Any] | None:
    versions = groups().get(name)
    if versions is None:
        return None
    listed = [{"groupVersion": f"{name}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": name, "versions": listed,
            "preferredVersion": listed[0]}


def api_group_list() -> dict[str, Any]:
    entries = [api_group(name) for name in groups()]
    for entry in entries:
        assert entry is not None
        entry.pop("kind"), entry.pop("apiVersion")
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": entries}
