"""Pod status documents for the few states the emulator models."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

NODE_NAME = "ils-node-1"
HOST_IP = "10.0.0.11"


@dataclass(frozen=True)
class Health:
    state: str  # "ready" | "unready" (readiness probe failing) | "crashloop" | "imagepull"
    restarts: int = 0

    @property
    def ready(self) -> bool:
        return self.state == "ready"


READY = Health("ready")


def _condition(kind: str, ok: bool, since: str, reason: str | None = None) -> dict[str, Any]:
    condition = {"type": kind, "status": "True" if ok else "False", "lastProbeTime": None,
                 "lastTransitionTime": since}
    if not ok and reason:
        condition["reason"] = reason
    return condition


def _container_status(container: dict[str, Any], health: Health, pod_uid: str, since: str,
                      pod_name: str) -> dict[str, Any]:
    image = container.get("image", "")
    digest = hashlib.sha256(image.encode()).hexdigest()
    container_id = hashlib.sha256((pod_uid + container["name"]).encode()).hexdigest()
    status: dict[str, Any] = {
        "name": container["name"], "image": image, "imageID": f"{image.split(':')[0]}@sha256:{digest}",
        "containerID": f"containerd://{container_id}",
        "ready": health.ready, "started": health.state in ("ready", "unready"),
        "restartCount": health.restarts, "lastState": {},
        "state": {"running": {"startedAt": since}},
    }
    if health.state == "crashloop":
        status["state"] = {"waiting": {
            "reason": "CrashLoopBackOff",
            "message": f"back-off 5m0s restarting failed container={container['name']} pod={pod_name}"}}
        status["lastState"] = {"terminated": {
            "exitCode": 1, "reason": "Error", "startedAt": since, "finishedAt": since,
            "containerID": status["containerID"]}}
    elif health.state == "imagepull":
        status["state"] = {"waiting": {"reason": "ImagePullBackOff",
                                       "message": f'Back-off pulling image "{image}"'}}
        status.pop("containerID")
        status["imageID"] = ""
    elif health.restarts:
        status["lastState"] = {"terminated": {
            "exitCode": 137, "reason": "OOMKilled", "startedAt": since, "finishedAt": since,
            "containerID": status["containerID"]}}
    return status


def pod_status(pod: dict[str, Any], health: Health, pod_ip: str) -> dict[str, Any]:
    """The status of a pod in the given health; only its first container carries the fault."""
    since = pod["metadata"]["creationTimestamp"]
    containers = pod["spec"].get("containers") or []
    statuses = [
        _container_status(c, health if i == 0 else READY, pod["metadata"]["uid"], since,
                          pod["metadata"]["name"])
        for i, c in enumerate(containers)
    ]
    not_ready = "ContainersNotReady"
    return {
        "phase": "Pending" if health.state == "imagepull" else "Running",
        "conditions": [
            _condition("Initialized", True, since),
            _condition("Ready", health.ready, since, not_ready),
            _condition("ContainersReady", health.ready, since, not_ready),
            _condition("PodScheduled", True, since),
        ],
        "hostIP": HOST_IP, "hostIPs": [{"ip": HOST_IP}],
        "podIP": pod_ip, "podIPs": [{"ip": pod_ip}],
        "startTime": since, "qosClass": _qos_class(containers),
        "containerStatuses": statuses,
    }


def _qos_class(containers: list[dict[str, Any]]) -> str:
    resources = [c.get("resources") or {} for c in containers]
    if not any(r.get("requests") or r.get("limits") for r in resources):
        return "BestEffort"
    if all(r.get("limits") and r.get("requests", r.get("limits")) == r.get("limits") for r in resources):
        return "Guaranteed"
    return "Burstable"


def is_ready(pod: dict[str, Any]) -> bool:
    conditions = (pod.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)
