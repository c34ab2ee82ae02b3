"""Objects derived from pods: the Endpoints of each Service and the status of each PDB."""

from __future__ import annotations

from typing import Any

from ilsref.k8s import meta
from ilsref.k8s.podstatus import is_ready
from ilsref.k8s.resources import of_kind
from ilsref.k8s.selectors import matches_labels
from ilsref.k8s.store import Obj, Store

PODS, SERVICES, ENDPOINTS = of_kind("Pod"), of_kind("Service"), of_kind("Endpoints")
PDBS = of_kind("PodDisruptionBudget")


def _address(pod: Obj) -> dict[str, Any]:
    return {"ip": pod["status"]["podIP"], "nodeName": pod["spec"].get("nodeName"),
            "targetRef": {"kind": "Pod", "name": pod["metadata"]["name"],
                          "namespace": pod["metadata"]["namespace"], "uid": pod["metadata"]["uid"]}}


def sync_endpoints(store: Store) -> None:
    for service in store.list(SERVICES):
        selector = service["spec"].get("selector")
        if not selector:
            continue
        namespace, name = service["metadata"]["namespace"], service["metadata"]["name"]
        pods = [p for p in store.list(PODS, namespace)
                if matches_labels({"matchLabels": selector}, meta.labels(p))
                and p.get("status", {}).get("podIP")]
        ready = [_address(p) for p in pods if is_ready(p)]
        not_ready = [_address(p) for p in pods if not is_ready(p)]
        ports = [{"name": p.get("name", ""), "protocol": p.get("protocol", "TCP"),
                  "port": p["targetPort"] if isinstance(p.get("targetPort"), int) else p["port"]}
                 for p in service["spec"].get("ports") or []]
        subset: dict[str, Any] = {"ports": ports}
        if ready:
            subset["addresses"] = ready
        if not_ready:
            subset["notReadyAddresses"] = not_ready
        endpoints = store.find(ENDPOINTS, namespace, name) or {
            "metadata": {"name": name, "namespace": namespace,
                         "labels": dict(meta.labels(service))}}
        endpoints["subsets"] = [subset] if pods else []
        if "uid" in endpoints["metadata"]:
            store.update(ENDPOINTS, endpoints, check_version=False)
        else:
            store.create(ENDPOINTS, endpoints, created=service["metadata"]["creationTimestamp"])

def sync_pdb_status(store: Store) -> None:
    for pdb in store.list(PDBS):
        namespace = pdb["metadata"]["namespace"]
        pods = [p for p in store.list(PODS, namespace)
                if matches_labels(pdb["spec"].get("selector"), meta.labels(p))]
        healthy = sum(1 for p in pods if is_ready(p))
        wanted = meta.resolve_count(pdb["spec"].get("minAvailable", 0), len(pods), round_up=True)
        allowed = (("True", "SufficientPods", "") if healthy > wanted
                   else ("False", "InsufficientPods", ""))
        previous = {c["type"]: c for c in (pdb.get("status") or {}).get("conditions") or []}
        pdb["status"] = {
            "observedGeneration": pdb["metadata"].get("generation", 1),
            "currentHealthy": healthy, "desiredHealthy": wanted, "expectedPods": len(pods),
            "disruptionsAllowed": max(0, healthy - wanted),
            "conditions": [meta.condition("DisruptionAllowed", allowed, previous)],
        }
        store.update(PDBS, pdb, check_version=False)
