"""kubectl's client-side undo and rollout-status rules over plain dicts."""

from __future__ import annotations

from typing import Any

import pytest

from pytest_cutover import rollout

UID = "dep-uid"


def template(tag: str, pod_hash: str | None = None) -> dict[str, Any]:
    labels = {"app": "ils-app", **({rollout.HASH_LABEL: pod_hash} if pod_hash else {})}
    return {"metadata": {"labels": labels},
            "spec": {"containers": [{"name": "ils-app", "image": f"ghcr.io/ils/ils-app:{tag}"}]}}


def replica_set(revision: str, tag: str, owner: str = UID, **annotations: str) -> dict[str, Any]:
    return {"metadata": {"name": f"ils-app-{tag}", "annotations": {rollout.REVISION: revision, **annotations},
                         "ownerReferences": [{"uid": owner, "controller": True}]},
            "spec": {"template": template(tag, pod_hash=f"h{revision}")}}


def deployment(tag: str = "2.0.0", revision: str = "3", **spec: Any) -> dict[str, Any]:
    return {"metadata": {"name": "ils-app", "uid": UID, "generation": 4,
                         "annotations": {rollout.REVISION: revision, "team": "ils"}},
            "spec": {"replicas": 3, "template": template(tag), **spec},
            "status": {"observedGeneration": 4, "replicas": 3, "updatedReplicas": 3,
                       "availableReplicas": 3}}


HISTORY = [replica_set("1", "1.9.2"), replica_set("3", "2.0.0"), replica_set("2", "1.9.3"),
           replica_set("9", "9.9.9", owner="someone-else"), replica_set("x", "broken")]


def test_undo_picks_the_second_newest_revision_the_deployment_controls():
    picked = rollout.pick_revision(deployment(), HISTORY)
    assert rollout.image_of(picked["spec"]["template"]).endswith(":1.9.3")


def test_undo_to_an_explicit_revision():
    assert rollout.revision_of(rollout.pick_revision(deployment(), HISTORY, to_revision=1)) == 1


def test_undo_to_an_unknown_revision_is_refused_naming_the_known_ones():
    with pytest.raises(rollout.UndoError, match=r"revision 7 .*\[1, 2, 3\]"):
        rollout.pick_revision(deployment(), HISTORY, to_revision=7)


def test_undo_without_history_is_refused():
    with pytest.raises(rollout.UndoError, match="no rollout history"):
        rollout.plan_undo(deployment(), [replica_set("3", "2.0.0")])


def test_undo_of_a_paused_deployment_is_refused():
    with pytest.raises(rollout.UndoError, match="paused"):
        rollout.plan_undo(deployment(paused=True), HISTORY)


def test_undo_patch_replaces_the_template_without_the_pod_template_hash():
    plan = rollout.plan_undo(deployment(), HISTORY)
    replaced = plan.patch[0]
    assert replaced["op"] == "replace" and replaced["path"] == "/spec/template"
    assert rollout.HASH_LABEL not in replaced["value"]["metadata"]["labels"]
    assert replaced["value"]["spec"]["containers"][0]["image"].endswith(":1.9.3")
    assert (plan.from_revision, plan.to_revision) == (3, 2)


def test_undo_patch_keeps_the_deployments_own_annotations_and_copies_the_others():
    history = [replica_set("3", "2.0.0"), replica_set("2", "1.9.3", note="old", **{
        "deployment.kubernetes.io/desired-replicas": "5"})]
    annotations = rollout.plan_undo(deployment(), history).patch[1]["value"]
    assert annotations == {rollout.REVISION: "3", "note": "old"}


def test_undo_is_skipped_when_the_template_already_matches():
    plan = rollout.plan_undo(deployment(tag="1.9.3"), HISTORY)
    assert plan.patch is None and "already matches revision 2" in plan.skipped


@pytest.mark.parametrize(("change", "done", "failed", "says"), [
    ({}, True, False, "successfully rolled out"),
    ({"metadata": {"generation": 5}}, False, False, "spec update to be observed"),
    ({"status": {"updatedReplicas": 1}}, False, False, "1 out of 3 new replicas"),
    ({"status": {"replicas": 4}}, False, False, "1 old replicas are pending termination"),
    ({"status": {"availableReplicas": 2}}, False, False, "2 of 3 updated replicas are available"),
    ({"status": {"conditions": [{"type": "Progressing", "reason": "ProgressDeadlineExceeded"}]}},
     False, True, "exceeded its progress deadline"),
])
def test_rollout_status_follows_kubectl(change, done, failed, says):
    d = deployment()
    for key, values in change.items():
        d[key] = {**d[key], **values}
    status = rollout.rollout_status(d)
    assert (status.done, status.failed) == (done, failed) and says in status.message


@pytest.mark.parametrize(("image", "tag"), [
    ("ghcr.io/ils/ils-app:2.0.0", "2.0.0"), ("localhost:5000/ils-app", "latest"),
    ("ils-app:1.9.3@sha256:abc", "1.9.3"), (None, None)])
def test_tag_of_image(image, tag):
    assert rollout.tag_of(image) == tag
