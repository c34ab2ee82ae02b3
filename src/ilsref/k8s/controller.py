"""The deployment controller, run synchronously after every write (and on fault changes).

It keeps ReplicaSets, pods and Deployment status consistent with the specs, the way the real
controllers would once they have settled (Endpoints and PDB status: see `derived`). Pod health
follows the fault switches; a rollout whose new pods cannot become ready stays at one surge pod
and, after the progress deadline, reports ProgressDeadlineExceeded.
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ilsref.k8s import derived, meta
from ilsref.k8s.podstatus import READY, Health, is_ready, pod_status
from ilsref.k8s.resources import of_kind
from ilsref.k8s.store import Obj, Store

DEPLOYMENTS, REPLICASETS, PODS = of_kind("Deployment"), of_kind("ReplicaSet"), of_kind("Pod")
STATEFULSETS = of_kind("StatefulSet")
REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"


def _prune(value: Any) -> Any:
    """Drop nulls and empty maps/lists, recursively (how templates are compared)."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def template_identity(template: dict[str, Any]) -> Any:
    pruned = _prune(template)
    labels = pruned.get("metadata", {}).get("labels", {})
    labels.pop(HASH_LABEL, None)
    return _prune(pruned)


def revision(obj: Obj) -> int:
    try:
        return int(meta.annotations(obj).get(REVISION, "0"))
    except ValueError:
        return 0


def image_tag(image: str) -> str:
    name = image.split("@")[0]
    return name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else "latest"


class DeploymentController:
    def __init__(self, store: Store, faults: Callable[[], frozenset[str]], *,
                 version_file: Path | None = None, app_name: str = "ils-app",
                 previous_release: str = "", progress_deadline: float = 5.0) -> None:
        self.store = store
        self.faults = faults
        self.version_file = version_file
        self.app_name = app_name
        self.previous_release = previous_release
        self.progress_deadline = progress_deadline
        self.created_at: Callable[[], str] = meta.now_iso  # the seed back-dates objects
        self.ignore_faults = False  # while seeding: the seeded history is a healthy one
        self._completed: set[str] = set()  # RS uids whose current rollout finished
        self._started: dict[str, tuple[str, float]] = {}  # deployment uid -> (RS uid, t0)
        self._next_ip = 10
        self._served: str | None = None

    # --- entry point -------------------------------------------------------------------------
    def reconcile_all(self) -> None:
        with self.store.lock:
            faults = frozenset() if self.ignore_faults else self.faults()
            self._collect_garbage()
            for deployment in self.store.list(DEPLOYMENTS):
                self._reconcile(deployment, faults)
            derived.sync_endpoints(self.store)
            derived.sync_pdb_status(self.store)
            self._link_version()

    # --- deployments -------------------------------------------------------------------------
    def _owned(self, resource: Any, owner: Obj) -> list[Obj]:
        uid = owner["metadata"]["uid"]
        return [o for o in self.store.list(resource, owner["metadata"]["namespace"])
                if meta.controller_uid(o) == uid]

    def desired_replicas(self, deployment: Obj, faults: frozenset[str]) -> int:
        if deployment["metadata"]["name"] == self.app_name and "k8s_single_replica" in faults:
            return 1
        return int(deployment["spec"].get("replicas", 1))

    def _reconcile(self, deployment: Obj, faults: frozenset[str]) -> None:
        replica_sets = self._owned(REPLICASETS, deployment)
        identity = template_identity(deployment["spec"]["template"])
        new_rs = next((rs for rs in replica_sets
                       if template_identity(rs["spec"]["template"]) == identity), None)
        top = max((revision(rs) for rs in replica_sets), default=0)
        if new_rs is None:
            new_rs = self._create_replica_set(deployment, top + 1)
            replica_sets.append(new_rs)
            self._start_rollout(deployment, new_rs)
        elif revision(new_rs) < top:  # a rollback: the old ReplicaSet becomes the newest revision
            new_rs["metadata"]["annotations"][REVISION] = str(top + 1)
            new_rs = self.store.update(REPLICASETS, new_rs, check_version=False)
            self._start_rollout(deployment, new_rs)
        elif (deployment["metadata"]["uid"] not in self._started
              and new_rs["metadata"]["uid"] not in self._completed):  # first pass after a restart
            self._start_rollout(deployment, new_rs)

        desired = self.desired_replicas(deployment, faults)
        new_uid = new_rs["metadata"]["uid"]
        blocked = self._new_pods_fail(deployment, new_rs, faults) is not None
        old = sorted((rs for rs in replica_sets if rs["metadata"]["uid"] != new_uid), key=revision)
        serving_old = next((rs for rs in reversed(old) if rs["spec"].get("replicas", 0) > 0), None)
        targets: dict[str, int] = {rs["metadata"]["uid"]: 0 for rs in old}
        if blocked and serving_old is not None:
            targets[new_uid] = min(desired, max(1, self._surge(deployment, desired)))
            targets[serving_old["metadata"]["uid"]] = desired
        else:
            targets[new_uid] = desired

        pods_by_rs: dict[str, list[Obj]] = {}
        for rs in replica_sets:
            rs["spec"]["replicas"] = targets[rs["metadata"]["uid"]]
            pods = self._sync_pods(deployment, rs, new_uid, faults)
            pods_by_rs[rs["metadata"]["uid"]] = pods
            ready = sum(1 for p in pods if is_ready(p))
            rs["status"] = {"replicas": len(pods), "fullyLabeledReplicas": len(pods),
                            "readyReplicas": ready, "availableReplicas": ready,
                            "observedGeneration": rs["metadata"].get("generation", 1)}
            rs["metadata"]["annotations"]["deployment.kubernetes.io/desired-replicas"] = str(desired)
            self.store.update(REPLICASETS, rs, check_version=False)
        self._update_deployment_status(deployment, new_rs, pods_by_rs, desired)

    def _surge(self, deployment: Obj, desired: int) -> int:
        rolling = (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        return meta.resolve_count(rolling.get("maxSurge", "25%"), desired, round_up=True)

    def _max_unavailable(self, deployment: Obj, desired: int) -> int:
        rolling = (deployment["spec"].get("strategy") or {}).get("rollingUpdate") or {}
        return meta.resolve_count(rolling.get("maxUnavailable", "25%"), desired, round_up=False)

    def _deadline(self, deployment: Obj) -> float:
        return min(float(deployment["spec"].get("progressDeadlineSeconds", 600)), self.progress_deadline)

    def _start_rollout(self, deployment: Obj, new_rs: Obj) -> None:
        self._completed.discard(new_rs["metadata"]["uid"])
        self._started[deployment["metadata"]["uid"]] = (new_rs["metadata"]["uid"], time.monotonic())
        # Re-run once the deadline has passed so a stuck rollout reports it without any request.
        timer = threading.Timer(self._deadline(deployment) + 0.2, self.reconcile_all)
        timer.daemon = True
        timer.start()

    def _create_replica_set(self, deployment: Obj, number: int) -> Obj:
        template = json.loads(json.dumps(deployment["spec"]["template"]))
        pod_hash = meta.stable_hash(template_identity(template))
        template.setdefault("metadata", {}).setdefault("labels", {})[HASH_LABEL] = pod_hash
        selector = json.loads(json.dumps(deployment["spec"]["selector"]))
        selector.setdefault("matchLabels", {})[HASH_LABEL] = pod_hash
        name = f"{deployment['metadata']['name']}-{pod_hash}"
        replica_set = {
            "metadata": {
                "name": name, "namespace": deployment["metadata"]["namespace"],
                "labels": dict(template["metadata"]["labels"]),
                "annotations": {REVISION: str(number),
                                "deployment.kubernetes.io/desired-replicas": "0",
                                "deployment.kubernetes.io/max-replicas": "0"},
                "ownerReferences": [meta.owner_reference(deployment)],
            },
            "spec": {"replicas": 0, "selector": selector, "template": template},
        }
        return self.store.create(REPLICASETS, replica_set, created=self.created_at())

    def _new_pods_fail(self, deployment: Obj, rs: Obj, faults: frozenset[str]) -> Health | None:
        """How pods of the rollout's new ReplicaSet fail under the fault switches, if they do."""
        if "k8s_stuck_rollout" in faults and rs["metadata"]["uid"] not in self._completed:
            return Health("unready")
        containers = rs["spec"]["template"]["spec"].get("containers") or [{}]
        if ("k8s_prev_crashloop" in faults and deployment["metadata"]["name"] == self.app_name
                and image_tag(containers[0].get("image", "")) == self.previous_release):
            return Health("crashloop", 4)
        return None

    def _health(self, deployment: Obj, rs: Obj, is_new: bool, index: int,
                faults: frozenset[str]) -> Health:
        if is_new and (failing := self._new_pods_fail(deployment, rs, faults)) is not None:
            return failing
        if deployment["metadata"]["name"] != self.app_name or not is_new:
            return READY
        if index == 0 and "k8s_crashloop" in faults:
            return Health("crashloop", 12)
        if index == 1 and "k8s_image_pull" in faults:
            return Health("imagepull")
        return Health("ready", 5) if "k8s_restarts" in faults else READY

    def _sync_pods(self, deployment: Obj, rs: Obj, new_uid: str, faults: frozenset[str]) -> list[Obj]:
        pods = sorted(self._owned(PODS, rs), key=lambda p: p["metadata"]["creationTimestamp"])
        wanted = int(rs["spec"]["replicas"])
        for pod in pods[wanted:]:  # scale down: the newest pods go first
            self.store.delete(PODS, pod["metadata"]["namespace"], pod["metadata"]["name"])
        pods = pods[:wanted] + [self._create_pod(rs) for _ in range(wanted - len(pods))]
        is_new = rs["metadata"]["uid"] == new_uid
        synced = []
        for index, pod in enumerate(sorted(pods, key=lambda p: p["metadata"]["name"])):
            health = self._health(deployment, rs, is_new, index, faults)
            pod["status"] = pod_status(pod, health, pod.get("status", {}).get("podIP") or self._ip())
            synced.append(self.store.update(PODS, pod, check_version=False))
        return synced

    def _ip(self) -> str:
        self._next_ip += 1
        return f"10.244.1.{self._next_ip % 250 + 2}"

    def _create_pod(self, rs: Obj) -> Obj:
        template = rs["spec"]["template"]
        spec = json.loads(json.dumps(template["spec"]))
        spec.setdefault("restartPolicy", "Always")
        spec.setdefault("dnsPolicy", "ClusterFirst")
        spec.setdefault("serviceAccountName", "default")
        spec.setdefault("terminationGracePeriodSeconds", 30)
        spec["nodeName"] = "ils-node-1"
        pod = {
            "metadata": {
                "name": f"{rs['metadata']['name']}-{meta.random_suffix()}",
                "generateName": f"{rs['metadata']['name']}-",
                "namespace": rs["metadata"]["namespace"],
                "labels": dict(template["metadata"].get("labels") or {}),
                "ownerReferences": [meta.owner_reference(rs)],
            },
            "spec": spec,
        }
        if template["metadata"].get("annotations"):
            pod["metadata"]["annotations"] = dict(template["metadata"]["annotations"])
        return self.store.create(PODS, pod, created=self.created_at())

    def _update_deployment_status(self, deployment: Obj, new_rs: Obj,
                                  pods_by_rs: dict[str, list[Obj]], desired: int) -> None:
        all_pods = [p for pods in pods_by_rs.values() for p in pods]
        new_pods = pods_by_rs[new_rs["metadata"]["uid"]]
        available = sum(1 for p in all_pods if is_ready(p))
        new_available = sum(1 for p in new_pods if is_ready(p))
        uid, new_uid = deployment["metadata"]["uid"], new_rs["metadata"]["uid"]
        if new_available == desired and len(all_pods) == desired:
            self._completed.add(new_uid)
            self._started.pop(uid, None)
        started = self._started.get(uid)
        rs_name = new_rs["metadata"]["name"]
        if new_uid in self._completed:
            progressing = ("True", "NewReplicaSetAvailable",
                           f'ReplicaSet "{rs_name}" has successfully progressed.')
        elif started and time.monotonic() - started[1] > self._deadline(deployment):
            progressing = ("False", "ProgressDeadlineExceeded",
                           f'ReplicaSet "{rs_name}" has timed out progressing.')
        else:
            progressing = ("True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.')
        minimum = desired - self._max_unavailable(deployment, desired)
        availability = (("True", "MinimumReplicasAvailable", "Deployment has minimum availability.")
                        if available >= minimum else
                        ("False", "MinimumReplicasUnavailable",
                         "Deployment does not have minimum availability."))
        old_conditions = {c["type"]: c for c in (deployment.get("status") or {}).get("conditions") or []}
        status = {
            "observedGeneration": deployment["metadata"].get("generation", 1),
            "replicas": len(all_pods), "updatedReplicas": len(new_pods),
            "readyReplicas": available, "availableReplicas": available,
            "conditions": [meta.condition("Available", availability, old_conditions),
                           meta.condition("Progressing", progressing, old_conditions)],
        }
        if len(all_pods) - available > 0:
            status["unavailableReplicas"] = len(all_pods) - available
        deployment["status"] = status
        deployment["metadata"].setdefault("annotations", {})[REVISION] = str(revision(new_rs))
        self.store.update(DEPLOYMENTS, deployment, check_version=False)

    # --- garbage collection --------------------------------------------------------------------
    def _collect_garbage(self) -> None:
        for resource in (REPLICASETS, PODS):  # owners first, so orphaned pods go in the same pass
            uids = {o["metadata"]["uid"] for r in (DEPLOYMENTS, REPLICASETS, STATEFULSETS)
                    for o in self.store.list(r)}
            for obj in self.store.list(resource):
                owner = meta.controller_uid(obj)
                if owner is not None and owner not in uids:
                    self.store.delete(resource, obj["metadata"]["namespace"], obj["metadata"]["name"])

    # --- the version the reference app serves --------------------------------------------------
    def serving_image(self) -> str | None:
        """Image of container `<app>` in the newest ReplicaSet of `<app>` that has a ready pod."""
        for deployment in self.store.list(DEPLOYMENTS):
            if deployment["metadata"]["name"] != self.app_name:
                continue
            for rs in sorted(self._owned(REPLICASETS, deployment), key=revision, reverse=True):
                if (rs.get("status") or {}).get("availableReplicas", 0) > 0:
                    containers = rs["spec"]["template"]["spec"].get("containers") or []
                    chosen = next((c for c in containers if c["name"] == self.app_name), None)
                    return (chosen or containers[0])["image"] if containers else None
        return None

    def _link_version(self) -> None:
        image = self.serving_image()
        if image is None or image == self._served or self.version_file is None:
            return
        self.version_file.parent.mkdir(parents=True, exist_ok=True)
        partial = self.version_file.with_suffix(".tmp")
        partial.write_text(json.dumps({"version": image_tag(image), "image": image}))
        os.replace(partial, self.version_file)  # atomic: the app never reads half a file
        self._served = image
