"""Objects by resource, namespace and name, with resourceVersions and a replayable event log.

One re-entrant lock guards everything (the controller runs under it too); watchers wait on a
condition tied to that lock and read events from a bounded log, so a watch can resume from any
resourceVersion still in the log and gets 410 Gone for older ones, as from a real API server.
"""

from __future__ import annotations

import copy
import threading
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any

from ilsref.k8s import meta
from ilsref.k8s.resources import BY_KEY, Resource

Obj = dict[str, Any]


class ApiError(Exception):
    """An error answered as a `Status` object."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code, self.reason, self.message, self.details = code, reason, message, details or {}

    def status(self) -> Obj:
        body: Obj = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                     "message": self.message, "reason": self.reason, "code": self.code}
        if self.details:
            body["details"] = self.details
        return body


def _details(resource: Resource, name: str) -> dict[str, Any]:
    return {"name": name, "group": resource.group, "kind": resource.plural}


def _qualified(resource: Resource) -> str:
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural


def not_found(resource: Resource, name: str) -> ApiError:
    return ApiError(404, "NotFound", f'{_qualified(resource)} "{name}" not found',
                    _details(resource, name))


def already_exists(resource: Resource, name: str) -> ApiError:
    return ApiError(409, "AlreadyExists", f'{_qualified(resource)} "{name}" already exists',
                    _details(resource, name))


def conflict(resource: Resource, name: str) -> ApiError:
    return ApiError(409, "Conflict",
                    f'Operation cannot be fulfilled on {_qualified(resource)} "{name}": the object '
                    "has been modified; please apply your changes to the latest version and try again",
                    _details(resource, name))


def tracks_generation(resource: Resource) -> bool:
    return bool(resource.group)  # apps, autoscaling, policy, networking kinds all have a spec


def _without_version(obj: Obj) -> Obj:
    return {**obj, "metadata": {k: v for k, v in obj["metadata"].items() if k != "resourceVersion"}}


@dataclass(frozen=True)
class Event:
    resource_version: int
    type: str  # ADDED | MODIFIED | DELETED
    resource_key: str
    obj: Obj


class Store:
    def __init__(self, history: int = 5000) -> None:
        self.lock = threading.RLock()
        self.changed = threading.Condition(self.lock)
        self._objects: dict[str, dict[tuple[str, str], Obj]] = {}
        self._rv = 1000
        self._events: deque[Event] = deque(maxlen=history)

    @property
    def resource_version(self) -> int:
        return self._rv

    # --- reads -------------------------------------------------------------------------------
    def find(self, resource: Resource, namespace: str, name: str) -> Obj | None:
        with self.lock:
            found = self._objects.get(resource.key, {}).get((namespace, name))
            return copy.deepcopy(found) if found is not None else None

    def get(self, resource: Resource, namespace: str, name: str) -> Obj:
        found = self.find(resource, namespace, name)
        if found is None:
            raise not_found(resource, name)
        return found

    def list(self, resource: Resource, namespace: str | None = None) -> list[Obj]:
        with self.lock:
            bucket = self._objects.get(resource.key, {})
            return [copy.deepcopy(obj) for (ns, _), obj in sorted(bucket.items())
                    if namespace is None or ns == namespace]

    # --- writes ------------------------------------------------------------------------------
    def _record(self, kind: str, resource: Resource, obj: Obj) -> Obj:
        self._rv += 1
        obj["metadata"]["resourceVersion"] = str(self._rv)
        self._events.append(Event(self._rv, kind, resource.key, copy.deepcopy(obj)))
        self.changed.notify_all()
        return copy.deepcopy(obj)

    def create(self, resource: Resource, obj: Obj, *, created: str | None = None) -> Obj:
        with self.lock:
            obj = copy.deepcopy(obj)
            metadata = obj.setdefault("metadata", {})
            if not metadata.get("name") and metadata.get("generateName"):
                metadata["name"] = metadata["generateName"] + meta.random_suffix()
            name = metadata.get("name")
            if not name:
                raise ApiError(422, "Invalid",
                               f"{resource.kind} is invalid: metadata.name: Required value")
            namespace = metadata.get("namespace", "") if resource.namespaced else ""
            bucket = self._objects.setdefault(resource.key, {})
            if (namespace, name) in bucket:
                raise already_exists(resource, name)
            obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
            metadata.update(uid=str(uuid.uuid4()), creationTimestamp=created or meta.now_iso())
            if tracks_generation(resource):
                metadata["generation"] = 1
            bucket[(namespace, name)] = obj
            return self._record("ADDED", resource, obj)

    def update(self, resource: Resource, obj: Obj, *, check_version: bool = True) -> Obj:
        """Replace an object; a stale `metadata.resourceVersion` is a 409 Conflict."""
        with self.lock:
            obj = copy.deepcopy(obj)
            metadata = obj.setdefault("metadata", {})
            namespace = metadata.get("namespace", "") if resource.namespaced else ""
            name = metadata.get("name", "")
            bucket = self._objects.get(resource.key, {})
            old = bucket.get((namespace, name))
            if old is None:
                raise not_found(resource, name)
            sent_version = metadata.get("resourceVersion")
            if check_version and sent_version and sent_version != old["metadata"]["resourceVersion"]:
                raise conflict(resource, name)
            for immutable in ("uid", "creationTimestamp", "generation"):
                if immutable in old["metadata"]:
                    metadata[immutable] = old["metadata"][immutable]
            obj["apiVersion"], obj["kind"] = resource.api_version, resource.kind
            if tracks_generation(resource) and obj.get("spec") != old.get("spec"):
                metadata["generation"] = int(old["metadata"].get("generation", 1)) + 1
            if _without_version(obj) == _without_version(old):
                return copy.deepcopy(old)  # no change: no new resourceVersion, no event
            bucket[(namespace, name)] = obj
            return self._record("MODIFIED", resource, obj)

    def delete(self, resource: Resource, namespace: str, name: str) -> Obj:
        with self.lock:
            bucket = self._objects.get(resource.key, {})
            obj = bucket.pop((namespace if resource.namespaced else "", name), None)
            if obj is None:
                raise not_found(resource, name)
            return self._record("DELETED", resource, obj)

    def touch_all(self) -> None:
        """New resourceVersion + MODIFIED event for every object (what clients see changes when
        fault switches, applied as a view, are toggled)."""
        with self.lock:
            for key, bucket in self._objects.items():
                for obj in bucket.values():
                    self._record("MODIFIED", BY_KEY[key], obj)

    # --- watch -------------------------------------------------------------------------------
    def events_after(self, resource_version: int) -> list[Event]:
        with self.lock:
            oldest = self._events[0].resource_version if self._events else self._rv + 1
            if resource_version < oldest - 1:
                raise ApiError(410, "Expired",
                               f"too old resource version: {resource_version} ({oldest - 1})")
            return [e for e in self._events if e.resource_version > resource_version]
