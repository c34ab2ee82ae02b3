"""Fault switches that change what clients see of stored objects (applied when serving).

The store keeps the healthy objects; `FaultView.show` returns what a client gets under the active
faults, or None when a fault hides the object. Faults about pod health and rollouts live in the
controller instead, which re-derives pods and status when the fault set changes.
"""

from __future__ import annotations

import base64
import copy
from typing import Any

from ilsref.k8s import meta, seed
from ilsref.k8s.resources import of_kind
from ilsref.k8s.store import Obj, Store

# Faults applied here, and the faults the controller handles (together: every k8s fault).
VIEW_FAULTS = frozenset({
    "k8s_latest_tag", "k8s_no_probes", "k8s_same_probes", "k8s_no_limits", "k8s_single_replica",
    "k8s_no_hpa", "k8s_no_pdb", "k8s_pdb_blocks", "k8s_ingress_no_tls", "k8s_no_endpoints",
    "k8s_secret_in_configmap", "k8s_old_secret", "k8s_error_logs", "hpa_ignored",
})
CONTROLLER_FAULTS = frozenset({
    "k8s_stuck_rollout", "k8s_crashloop", "k8s_restarts", "k8s_image_pull", "k8s_prev_crashloop",
    "k8s_single_replica",
})
OLD_SECRET_DAYS = 120


def _app_container_faults(container: dict[str, Any], faults: frozenset[str]) -> None:
    if "k8s_latest_tag" in faults and "image" in container:
        container["image"] = container["image"].rsplit(":", 1)[0] + ":latest"
    if "k8s_no_probes" in faults:
        container.pop("livenessProbe", None)
        container.pop("readinessProbe", None)
    elif "k8s_same_probes" in faults and "readinessProbe" in container:
        container["livenessProbe"] = copy.deepcopy(container["readinessProbe"])
    if "k8s_no_limits" in faults:
        container.get("resources", {}).pop("limits", None)


class FaultView:
    def __init__(self, store: Store, app: str = seed.APP) -> None:
        self.store = store
        self.app = app

    def _is_app(self, obj: Obj) -> bool:
        return meta.labels(obj).get("app") == self.app

    def _pod_spec_faults(self, spec: dict[str, Any], faults: frozenset[str]) -> None:
        for container in spec.get("containers") or []:
            if container.get("name") == self.app:
                _app_container_faults(container, faults)

    def show(self, kind: str, obj: Obj, faults: frozenset[str]) -> Obj | None:
        if not faults & VIEW_FAULTS:
            return obj
        name = obj["metadata"]["name"]
        obj = copy.deepcopy(obj)
        if kind in ("Deployment", "ReplicaSet") and self._is_app(obj):
            self._pod_spec_faults(obj["spec"]["template"]["spec"], faults)
            if kind == "Deployment" and name == self.app and "k8s_single_replica" in faults:
                obj["spec"]["replicas"] = 1
        elif kind == "Pod" and self._is_app(obj):
            self._pod_spec_faults(obj["spec"], faults)
            if "k8s_latest_tag" in faults:
                for status in (obj.get("status") or {}).get("containerStatuses") or []:
                    if status["name"] == self.app:
                        status["image"] = status["image"].rsplit(":", 1)[0] + ":latest"
        elif kind == "HorizontalPodAutoscaler" and name == seed.HPA:
            if "k8s_no_hpa" in faults:
                return None
            if "hpa_ignored" in faults:
                self._ignored_hpa(obj)
        elif kind == "PodDisruptionBudget" and name == seed.PDB:
            if "k8s_no_pdb" in faults:
                return None
            if "k8s_pdb_blocks" in faults:
                self._blocking_pdb(obj)
        elif kind == "Ingress" and name == seed.INGRESS and "k8s_ingress_no_tls" in faults:
            obj["spec"].pop("tls", None)
            annotations = obj["metadata"].get("annotations") or {}
            for key in [k for k in annotations if "ssl-redirect" in k]:
                annotations[key] = "false"
        elif kind == "Endpoints" and name == seed.SERVICE and "k8s_no_endpoints" in faults:
            obj["subsets"] = []
        elif kind == "ConfigMap" and name == seed.CONFIG and "k8s_secret_in_configmap" in faults:
            obj.setdefault("data", {})["DATABASE_URL"] = self._database_url(obj["metadata"]["namespace"])
        elif kind == "Secret" and name == seed.SECRETS and "k8s_old_secret" in faults:
            obj["metadata"]["creationTimestamp"] = meta.ago_iso(days=OLD_SECRET_DAYS)
            rotated = meta.ago_iso(days=OLD_SECRET_DAYS)
            obj["metadata"].setdefault("annotations", {})["cutover.io/rotated-at"] = rotated
        return obj

    @staticmethod
    def _ignored_hpa(obj: Obj) -> None:
        """The HPA asks for more replicas (CPU far above target) than the workload ever runs."""
        status = obj.setdefault("status", {})
        current = int(status.get("currentReplicas", 3))
        desired = min(int(obj["spec"].get("maxReplicas", current * 2)), current * 2)
        status.update(desiredReplicas=desired, currentReplicas=current,
                      lastScaleTime=meta.ago_iso(minutes=20))
        for metric in status.get("currentMetrics") or []:
            if metric["resource"]["name"] == "cpu":
                metric["resource"]["current"] = {"averageUtilization": 96, "averageValue": "241m"}
        for condition in status.get("conditions") or []:
            if condition["type"] == "AbleToScale":
                condition.update(status="True", reason="SucceededRescale", message=(
                    f"the HPA controller was able to update the target scale to {desired}"))

    @staticmethod
    def _blocking_pdb(obj: Obj) -> None:
        status = obj.setdefault("status", {})
        expected = int(status.get("expectedPods", 3))
        obj["spec"]["minAvailable"] = expected
        status.update(desiredHealthy=expected, disruptionsAllowed=0)
        for condition in status.get("conditions") or []:
            if condition["type"] == "DisruptionAllowed":
                condition.update(status="False", reason="InsufficientPods")

    def _database_url(self, namespace: str) -> str:
        secret = self.store.find(of_kind("Secret"), namespace, seed.SECRETS) or {}
        encoded = (secret.get("data") or {}).get("DATABASE_URL")
        if encoded:
            return base64.b64decode(encoded).decode()
        return "postgresql://ils_user:Sup3rS3cret!@postgres:5432/ils_db"
