"""kubectl's client-side `rollout undo` and `rollout status`, over plain dictionaries.

Pure module: the objects are Deployments and ReplicaSets as the API serves them (JSON dicts).
It follows kubectl (staging/src/k8s.io/kubectl/pkg/polymorphichelpers/rollback.go and
rolloutstatus.go):

- undo picks the ReplicaSet of the requested revision, or with revision 0 the second-newest
  revision among the ReplicaSets the Deployment controls; it refuses a paused Deployment and
  skips when the current template already equals that revision's (ignoring pod-template-hash);
- the patch replaces `/spec/template` with that ReplicaSet's template minus the
  pod-template-hash label, and `/metadata/annotations` with the ReplicaSet's annotations minus
  the controller's own (revision, desired/max replicas …), keeping the Deployment's values for
  those;
- status is complete when the generation is observed, every replica is updated, no old replica
  is left and every updated replica is available; it fails on ProgressDeadlineExceeded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REVISION = "deployment.kubernetes.io/revision"
HASH_LABEL = "pod-template-hash"
# kubectl's annotationsToSkip: kept from the Deployment, never copied from the ReplicaSet.
SKIPPED_ANNOTATIONS = frozenset({
    "kubectl.kubernetes.io/last-applied-configuration",
    REVISION,
    "deployment.kubernetes.io/revision-history",
    "deployment.kubernetes.io/desired-replicas",
    "deployment.kubernetes.io/max-replicas",
    "deprecated.deployment.rollback.to",
})
TIMED_OUT = "ProgressDeadlineExceeded"


class UndoError(Exception):
    """The undo cannot be made (paused, no history, unknown revision); the message says why."""


def _meta(obj: dict[str, Any]) -> dict[str, Any]:
    return obj.get("metadata") or {}


def revision_of(obj: dict[str, Any]) -> int | None:
    value = (_meta(obj).get("annotations") or {}).get(REVISION)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None  # kubectl skips a ReplicaSet whose revision does not parse


def controlled_by(replica_set: dict[str, Any], deployment: dict[str, Any]) -> bool:
    uid = _meta(deployment).get("uid")
    return any(ref.get("controller") and ref.get("uid") == uid
               for ref in _meta(replica_set).get("ownerReferences") or [])


def _prune(value: Any) -> Any:
    """Nulls and empty maps/lists removed, recursively: how API defaults compare as equal."""
    if isinstance(value, dict):
        pruned = {k: _prune(v) for k, v in value.items()}
        return {k: v for k, v in pruned.items() if v not in (None, {}, [])}
    if isinstance(value, list):
        return [_prune(v) for v in value]
    return value


def without_hash(template: dict[str, Any]) -> dict[str, Any]:
    """A copy of a pod template without the pod-template-hash label."""
    metadata = dict(template.get("metadata") or {})
    labels = {k: v for k, v in (metadata.get("labels") or {}).items() if k != HASH_LABEL}
    metadata["labels"] = labels
    return {**template, "metadata": metadata}


def equal_ignoring_hash(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return bool(_prune(without_hash(a)) == _prune(without_hash(b)))


def pick_revision(deployment: dict[str, Any], replica_sets: list[dict[str, Any]],
                  to_revision: int = 0) -> dict[str, Any]:
    """The ReplicaSet to roll back to: `to_revision`, or the previous one when it is 0."""
    owned = [rs for rs in replica_sets if controlled_by(rs, deployment)]
    numbered = [(n, rs) for rs in owned if (n := revision_of(rs)) is not None]
    if to_revision:
        for number, rs in numbered:
            if number == to_revision:
                return rs
        raise UndoError(f"unable to find the specified revision {to_revision} in the history of "
                        f"deployment {_meta(deployment).get('name')!r} (revisions: "
                        f"{sorted(n for n, _ in numbered)})")
    ranked = sorted(numbered, key=lambda pair: pair[0], reverse=True)
    if len(ranked) < 2:
        raise UndoError(f"no rollout history found for deployment {_meta(deployment).get('name')!r}"
                        f" (revisions: {[n for n, _ in ranked]})")
    return ranked[1][1]


@dataclass(frozen=True)
class Undo:
    """What `rollout undo` will do: patch (None when skipped), from and to revisions."""

    patch: list[dict[str, Any]] | None
    from_revision: int | None
    to_revision: int | None
    template: dict[str, Any]
    skipped: str = ""


def plan_undo(deployment: dict[str, Any], replica_sets: list[dict[str, Any]],
              to_revision: int = 0) -> Undo:
    name = _meta(deployment).get("name")
    if (deployment.get("spec") or {}).get("paused"):
        raise UndoError(f"you cannot rollback a paused deployment; resume it first with "
                        f"'kubectl rollout resume deployment/{name}' and try again")
    target = pick_revision(deployment, replica_sets, to_revision)
    template = without_hash(target["spec"]["template"])
    current = revision_of(deployment)
    wanted = revision_of(target)
    if equal_ignoring_hash(template, deployment["spec"]["template"]):
        return Undo(None, current, wanted, template,
                    skipped=f"skipped rollback (current template already matches revision {wanted})")
    kept = {k: v for k, v in (_meta(deployment).get("annotations") or {}).items()
            if k in SKIPPED_ANNOTATIONS}
    copied = {k: v for k, v in (_meta(target).get("annotations") or {}).items()
              if k not in SKIPPED_ANNOTATIONS}
    patch = [{"op": "replace", "path": "/spec/template", "value": template},
             {"op": "replace", "path": "/metadata/annotations", "value": {**kept, **copied}}]
    return Undo(patch, current, wanted, template)


@dataclass(frozen=True)
class RolloutStatus:
    done: bool
    failed: bool
    message: str


def rollout_status(deployment: dict[str, Any]) -> RolloutStatus:
    """kubectl's DeploymentStatusViewer, one evaluation."""
    name = _meta(deployment).get("name")
    status = deployment.get("status") or {}
    if _meta(deployment).get("generation", 0) > status.get("observedGeneration", 0):
        return RolloutStatus(False, False, "Waiting for deployment spec update to be observed...")
    progressing = next((c for c in status.get("conditions") or []
                        if c.get("type") == "Progressing"), None)
    if progressing is not None and progressing.get("reason") == TIMED_OUT:
        return RolloutStatus(False, True, f"deployment {name!r} exceeded its progress deadline")
    wanted = (deployment.get("spec") or {}).get("replicas")
    updated = status.get("updatedReplicas", 0)
    replicas, available = status.get("replicas", 0), status.get("availableReplicas", 0)
    if wanted is not None and updated < wanted:
        return RolloutStatus(False, False, f"Waiting for deployment {name!r} rollout to finish: "
                             f"{updated} out of {wanted} new replicas have been updated...")
    if replicas > updated:
        return RolloutStatus(False, False, f"Waiting for deployment {name!r} rollout to finish: "
                             f"{replicas - updated} old replicas are pending termination...")
    if available < updated:
        return RolloutStatus(False, False, f"Waiting for deployment {name!r} rollout to finish: "
                             f"{available} of {updated} updated replicas are available...")
    return RolloutStatus(True, False, f"deployment {name!r} successfully rolled out")


def image_of(template: dict[str, Any], container: str | None = None) -> str | None:
    containers = (template.get("spec") or {}).get("containers") or []
    chosen = next((c for c in containers if container is None or c.get("name") == container),
                  containers[0] if containers else None)
    return chosen.get("image") if chosen else None


def tag_of(image: str | None) -> str | None:
    if not image:
        return None
    last = image.rsplit("/", 1)[-1].split("@", 1)[0]
    return last.rsplit(":", 1)[1] if ":" in last else "latest"
