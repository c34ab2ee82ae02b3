"""Server-side printing: the `Table` kubectl asks for (`Accept: …;as=Table;g=meta.k8s.io`), so
that `kubectl get` shows the usual columns (READY, UP-TO-DATE, STATUS, RESTARTS …)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ilsref.k8s import meta
from ilsref.k8s.store import Obj

Column = tuple[str, str, Callable[[Obj], Any]]  # name, type, cell


def wants_table(accept: str) -> bool:
    return "as=Table" in accept


def age(obj: Obj) -> str:
    created = obj["metadata"].get("creationTimestamp")
    if not created:
        return "<unknown>"
    seconds = max(0, int((meta.now() - meta.parse_iso(created)).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= 2 * size or (unit == "m" and seconds >= 120):
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def _status(obj: Obj) -> dict[str, Any]:
    return obj.get("status") or {}


def _pod_ready(pod: Obj) -> str:
    statuses = _status(pod).get("containerStatuses") or []
    return f"{sum(1 for s in statuses if s.get('ready'))}/{len(pod['spec'].get('containers') or [])}"


def _pod_status(pod: Obj) -> str:
    for status in _status(pod).get("containerStatuses") or []:
        waiting = (status.get("state") or {}).get("waiting")
        if waiting:
            return str(waiting.get("reason", "Waiting"))
    return str(_status(pod).get("phase", "Pending"))


def _ports(service: Obj) -> str:
    ports = service["spec"].get("ports") or []
    return ",".join(f"{p['port']}/{p.get('protocol', 'TCP')}" for p in ports) or "<none>"


def _ready_of_desired(obj: Obj) -> str:
    return f"{_status(obj).get('readyReplicas', 0)}/{obj['spec'].get('replicas', 1)}"


def _restarts(pod: Obj) -> str:
    return str(sum(s.get("restartCount", 0) for s in _status(pod).get("containerStatuses") or []))


def _endpoints(endpoints: Obj) -> str:
    found = [f"{a['ip']}:{s['ports'][0]['port']}" for s in endpoints.get("subsets") or []
             for a in s.get("addresses") or [] if s.get("ports")]
    return ",".join(found) or "<none>"


def _ingress_address(ingress: Obj) -> str:
    entries = (_status(ingress).get("loadBalancer") or {}).get("ingress") or []
    return ",".join(e.get("ip", "") for e in entries)


def _hpa_targets(hpa: Obj) -> str:
    current = {m["resource"]["name"]: m["resource"]["current"].get("averageUtilization")
               for m in _status(hpa).get("currentMetrics") or [] if m.get("type") == "Resource"}
    targets = [f"{m['resource']['name']}: {current.get(m['resource']['name'], '<unknown>')}%/"
               f"{m['resource']['target'].get('averageUtilization')}%"
               for m in hpa["spec"].get("metrics") or [] if m.get("type") == "Resource"]
    return ", ".join(targets) or "<none>"


NAME: Column = ("Name", "string", lambda o: o["metadata"]["name"])
AGE: Column = ("Age", "string", age)
COLUMNS: dict[str, list[Column]] = {
    "Deployment": [
        ("Ready", "string", lambda o: _ready_of_desired(o)),
        ("Up-to-date", "integer", lambda o: _status(o).get("updatedReplicas", 0)),
        ("Available", "integer", lambda o: _status(o).get("availableReplicas", 0)),
    ],
    "ReplicaSet": [
        ("Desired", "integer", lambda o: o["spec"].get("replicas", 1)),
        ("Current", "integer", lambda o: _status(o).get("replicas", 0)),
        ("Ready", "integer", lambda o: _status(o).get("readyReplicas", 0)),
    ],
    "StatefulSet": [
        ("Ready", "string", lambda o: _ready_of_desired(o)),
    ],
    "Pod": [
        ("Ready", "string", _pod_ready),
        ("Status", "string", _pod_status),
        ("Restarts", "string", _restarts),
    ],
    "Service": [
        ("Type", "string", lambda o: o["spec"].get("type", "ClusterIP")),
        ("Cluster-IP", "string", lambda o: o["spec"].get("clusterIP", "<none>")),
        ("External-IP", "string", lambda o: "<none>"),
        ("Port(s)", "string", _ports),
    ],
    "Endpoints": [
        ("Endpoints", "string", _endpoints),
    ],
    "HorizontalPodAutoscaler": [
        ("Reference", "string", lambda o: "{kind}/{name}".format(**o["spec"]["scaleTargetRef"])),
        ("Targets", "string", _hpa_targets),
        ("MinPods", "integer", lambda o: o["spec"].get("minReplicas", 1)),
        ("MaxPods", "integer", lambda o: o["spec"]["maxReplicas"]),
        ("Replicas", "integer", lambda o: _status(o).get("currentReplicas", 0)),
    ],
    "PodDisruptionBudget": [
        ("Min Available", "string", lambda o: str(o["spec"].get("minAvailable", "N/A"))),
        ("Max Unavailable", "string", lambda o: str(o["spec"].get("maxUnavailable", "N/A"))),
        ("Allowed Disruptions", "integer", lambda o: _status(o).get("disruptionsAllowed", 0)),
    ],
    "Ingress": [
        ("Class", "string", lambda o: o["spec"].get("ingressClassName", "<none>")),
        ("Hosts", "string", lambda o: ",".join(r.get("host", "*") for r in o["spec"].get("rules") or [])),
        ("Address", "string", _ingress_address),
        ("Ports", "string", lambda o: "80, 443" if o["spec"].get("tls") else "80"),
    ],
    "ConfigMap": [("Data", "integer", lambda o: len(o.get("data") or {}))],
    "Secret": [("Type", "string", lambda o: o.get("type", "Opaque")),
               ("Data", "integer", lambda o: len(o.get("data") or {}))],
    "Namespace": [("Status", "string", lambda o: _status(o).get("phase", "Active"))],
}


def _partial(obj: Obj) -> Obj:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}


def table(kind: str, objects: list[Obj], resource_version: str | None = None) -> Obj:
    columns = [NAME, *COLUMNS.get(kind, []), AGE]
    body: Obj = {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": {},
        "columnDefinitions": [{"name": name, "type": kind_, "format": "name" if name == "Name" else "",
                               "description": "", "priority": 0} for name, kind_, _ in columns],
        "rows": [{"cells": [cell(o) for _, _, cell in columns], "object": _partial(o)} for o in objects],
    }
    if resource_version is not None:
        body["metadata"]["resourceVersion"] = resource_version
    return body
