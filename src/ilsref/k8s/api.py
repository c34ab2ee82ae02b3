"""The API operations (independent of HTTP): reads through the fault view, writes followed by a
controller pass, and watch streams with resourceVersion replay."""

from __future__ import annotations

import copy
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

from ilsref.k8s import batch, meta
from ilsref.k8s.controller import DeploymentController
from ilsref.k8s.faultview import FaultView
from ilsref.k8s.patching import PatchError, apply_patch
from ilsref.k8s.resources import BY_KEY, RESOURCES, Resource, of_kind
from ilsref.k8s.routes import Route
from ilsref.k8s.selectors import Predicate, field_selector, label_selector, selector_text
from ilsref.k8s.store import ApiError, Obj, Store, not_found

NAMESPACES = of_kind("Namespace")
MAX_WATCH_SECONDS = 60


def _meta_predicate(params: dict[str, str]) -> Predicate:
    by_label = label_selector(params.get("labelSelector"))
    by_field = field_selector(params.get("fieldSelector"))
    return lambda obj: by_label(obj) and by_field(obj)


class Api:
    def __init__(self, store: Store, controller: DeploymentController, view: FaultView,
                 faults: Callable[[], frozenset[str]]) -> None:
        self.store = store
        self.controller = controller
        self.view = view
        self._read_faults = faults
        self._seen_faults: frozenset[str] = frozenset()

    # --- faults --------------------------------------------------------------------------------
    def faults(self) -> frozenset[str]:
        """The active faults; on a change, re-derive pods and status and announce every object
        anew so that watchers see the fault's effect (or its end)."""
        active = self._read_faults()
        if active != self._seen_faults:
            with self.store.lock:
                if active != self._seen_faults:
                    self._seen_faults = active
                    self.controller.reconcile_all()
                    self.store.touch_all()
        return active

    def watch_faults(self, stop: threading.Event, every: float = 0.3) -> None:
        while not stop.wait(every):
            self.faults()

    def show(self, resource: Resource, obj: Obj) -> Obj | None:
        return self.view.show(resource.kind, obj, self.faults())

    # --- reads ---------------------------------------------------------------------------------
    def get(self, route: Route) -> Obj:
        assert route.name is not None
        obj = self.store.get(route.resource, route.namespace or "", route.name)
        shown = self.show(route.resource, obj)
        if shown is None:  # hidden by a fault
            raise not_found(route.resource, route.name)
        if route.subresource == "scale":
            return self._scale(shown)
        return shown

    def list(self, route: Route, params: dict[str, str]) -> Obj:
        matches = _meta_predicate(params)
        with self.store.lock:
            version = self.store.resource_version
            objects = self.store.list(route.resource, route.namespace)
        visible = (self.show(route.resource, o) for o in objects)
        shown = [s for s in visible if s is not None and matches(s)]
        return {"kind": f"{route.resource.kind}List", "apiVersion": route.resource.api_version,
                "metadata": {"resourceVersion": str(version)}, "items": shown}

    @staticmethod
    def _scale(obj: Obj) -> Obj:
        metadata = {k: obj["metadata"][k] for k in ("name", "namespace", "uid", "resourceVersion",
                                                     "creationTimestamp")}
        status = obj.get("status") or {}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": metadata,
                "spec": {"replicas": obj["spec"].get("replicas", 1)},
                "status": {"replicas": status.get("replicas", 0),
                           "selector": selector_text(obj["spec"].get("selector"))}}

    # --- writes --------------------------------------------------------------------------------
    def _settle(self, resource: Resource, obj: Obj) -> Obj:
        """Run the controller, then return the object as it is now, as the client sees it."""
        self.controller.reconcile_all()
        namespace, name = obj["metadata"].get("namespace", ""), obj["metadata"]["name"]
        current = self.store.find(resource, namespace, name)
        return self.show(resource, current or obj) or current or obj

    def create(self, route: Route, body: Any) -> Obj:
        resource = route.resource
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body must be a JSON object")
        if resource.namespaced:
            if route.namespace is None:
                raise ApiError(404, "NotFound", "the server could not find the requested resource")
            self.store.get(NAMESPACES, "", route.namespace)
            body_namespace = body.get("metadata", {}).get("namespace")
            if body_namespace not in (None, "", route.namespace):
                raise ApiError(400, "BadRequest", "the namespace of the provided object does not match "
                               "the namespace sent on the request")
            body.setdefault("metadata", {})["namespace"] = route.namespace
        if resource.kind in ("Deployment", "ReplicaSet"):
            body.pop("status", None)  # their controller writes status
        body = batch.admit(resource.kind, body)
        with self.store.lock:
            created = self.store.create(resource, body)
            if batch.bind_uid(created):
                created = self.store.update(resource, created, check_version=False)
            return self._settle(resource, created)

    def replace(self, route: Route, body: Any) -> Obj:
        if not isinstance(body, dict):
            raise ApiError(400, "BadRequest", "the request body must be a JSON object")
        with self.store.lock:
            current = self.store.get(route.resource, route.namespace or "", route.name or "")
            if route.subresource == "scale":
                replicas = (body.get("spec") or {}).get("replicas")
                version = body.get("metadata", {}).get("resourceVersion")
                return self._rescale(route, current, replicas, version)
            name = (body.get("metadata") or {}).get("name")
            if name not in (None, route.name):
                raise ApiError(400, "BadRequest", f"the name of the object ({name}) does not match "
                               f"the name on the URL ({route.name})")
            merged = self._merge_by_subresource(route, current, body)
            if route.subresource is None:
                merged = batch.admit(route.resource.kind, merged)
            updated = self.store.update(route.resource, merged)
            return self._settle(route.resource, updated)

    def patch(self, route: Route, content_type: str, body: Any) -> Obj:
        with self.store.lock:
            current = self.store.get(route.resource, route.namespace or "", route.name or "")
            try:
                if route.subresource == "scale":
                    patched = apply_patch(self._scale(current), content_type, body)
                    return self._rescale(route, current, (patched.get("spec") or {}).get("replicas"),
                                         patched["metadata"].get("resourceVersion"))
                patched = apply_patch(current, content_type, body)
            except PatchError as exc:
                if "unknown format" in str(exc):
                    raise ApiError(415, "UnsupportedMediaType", str(exc)) from exc
                raise ApiError(422, "Invalid", str(exc)) from exc
            if not isinstance(patched, dict):
                raise ApiError(422, "Invalid", "the patch does not produce an object")
            patched["metadata"]["name"] = current["metadata"]["name"]
            merged = self._merge_by_subresource(route, current, patched)
            if route.subresource is None:
                merged = batch.admit(route.resource.kind, merged)
            updated = self.store.update(route.resource, merged)
            return self._settle(route.resource, updated)

    @staticmethod
    def _merge_by_subresource(route: Route, current: Obj, body: Obj) -> Obj:
        """Writes to the main resource leave status alone; writes to /status change only status."""
        body = copy.deepcopy(body)
        if route.subresource == "status":
            return {**current, "status": body.get("status", current.get("status")),
                    "metadata": {**current["metadata"],
                                 "resourceVersion": body.get("metadata", {}).get("resourceVersion")
                                 or current["metadata"]["resourceVersion"]}}
        if route.resource.has_status and route.resource.kind not in ("Namespace", "Service"):
            if "status" in current:
                body["status"] = current["status"]
            else:
                body.pop("status", None)
        return body

    def _rescale(self, route: Route, current: Obj, replicas: Any, version: str | None) -> Obj:
        if not isinstance(replicas, int) or replicas < 0:
            raise ApiError(422, "Invalid", f"Scale.autoscaling \"{route.name}\" is invalid: "
                           "spec.replicas: Invalid value: must be greater than or equal to 0")
        current["spec"]["replicas"] = replicas
        if version:
            current["metadata"]["resourceVersion"] = version
        updated = self.store.update(route.resource, current)
        self.controller.reconcile_all()
        shown = self.show(route.resource, self.store.get(route.resource, route.namespace or "",
                                                         route.name or ""))
        return self._scale(shown or updated)

    def delete(self, route: Route) -> Obj:
        with self.store.lock:
            deleted = self.store.delete(route.resource, route.namespace or "", route.name or "")
            if route.resource is NAMESPACES:
                for resource in RESOURCES:
                    if resource.namespaced:
                        for obj in self.store.list(resource, route.name):
                            self.store.delete(resource, route.name or "", obj["metadata"]["name"])
            self.controller.reconcile_all()
            deleted["metadata"]["deletionTimestamp"] = meta.now_iso()
            return deleted

    # --- watch ---------------------------------------------------------------------------------
    def watch(self, route: Route, params: dict[str, str]) -> Iterator[Obj]:
        """Watch events as dicts ({"type", "object"}), ending after timeoutSeconds (≤ 60 s).
        Bad parameters raise here, before the caller starts the stream."""
        matches = _meta_predicate(params)
        start = params.get("resourceVersion") or "0"
        try:
            timeout = min(float(params.get("timeoutSeconds") or MAX_WATCH_SECONDS), MAX_WATCH_SECONDS)
            int(start)
        except ValueError:
            raise ApiError(400, "BadRequest", "invalid resourceVersion or timeoutSeconds") from None
        return self._events(route, params, matches, start, time.monotonic() + timeout)

    def _events(self, route: Route, params: dict[str, str], matches: Predicate, start: str,
                deadline: float) -> Iterator[Obj]:
        initial = params.get("sendInitialEvents") == "true" or start == "0"
        with self.store.lock:
            cursor = self.store.resource_version
            snapshot = self.store.list(route.resource, route.namespace) if initial else []
        if initial:
            for obj in snapshot:
                shown = self.show(route.resource, obj)
                if shown is not None and matches(shown):
                    yield {"type": "ADDED", "object": shown}
            if params.get("sendInitialEvents") == "true":
                yield {"type": "BOOKMARK", "object": {
                    "kind": route.resource.kind, "apiVersion": route.resource.api_version,
                    "metadata": {"resourceVersion": str(cursor),
                                 "annotations": {"k8s.io/initial-events-end": "true"}}}}
        else:
            cursor = int(start)
        while (remaining := deadline - time.monotonic()) > 0:
            self.faults()
            with self.store.lock:
                try:
                    events = self.store.events_after(cursor)
                except ApiError as exc:
                    yield {"type": "ERROR", "object": exc.status()}
                    return
                if not events:
                    self.store.changed.wait(min(remaining, 1.0))
                    continue
            for event in events:
                cursor = event.resource_version
                obj = event.obj
                if event.resource_key != route.resource.key:
                    continue
                if route.namespace is not None and obj["metadata"].get("namespace") != route.namespace:
                    continue
                shown = self.show(BY_KEY[event.resource_key], obj)
                kind = event.type if shown is not None else "DELETED"
                if matches(shown if shown is not None else obj):
                    yield {"type": kind, "object": shown if shown is not None else obj}
