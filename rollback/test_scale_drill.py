"""Scale drill (the plan's database rollback, steps 1 and 4): scaling the Deployment to zero
leaves no ready pod, and scaling it back makes every replica available and the app answer.

Scales back to `rollback.scale_back_replicas` (the plan says 3), else to the replica count found
before the drill; the original count is restored afterwards in any case.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from pytest_cutover.clients.k8s import KubeUnavailable
from pytest_cutover.clients.k8s_rollout import Rollouts, Waited

pytestmark = pytest.mark.destructive


@dataclass
class ScaleDrill:
    original: int
    back_to: int
    stopped: Waited | None = None
    started: Waited | None = None
    ready_after: int | None = None
    health_after: str = ""
    health_status: int | None = None
    error: str = ""


@pytest.fixture(scope="module")
def scale_drill(rollouts: Rollouts, rollback_config: dict[str, Any], probe: Any,
                target: Any) -> ScaleDrill:
    deadline = float(rollback_config["rollout_timeout_s"])
    try:
        original = int(rollouts.deployment()["spec"].get("replicas", 1))
    except KubeUnavailable as exc:
        pytest.fail(f"cannot read the deployment before the drill: {exc}", pytrace=False)
    drill = ScaleDrill(original, int(rollback_config.get("scale_back_replicas") or original))
    try:
        rollouts.scale(0)
        drill.stopped = rollouts.wait_for_ready_pods(0, deadline, at_most=True)
        rollouts.scale(drill.back_to)
        drill.started = rollouts.wait_for_rollout(deadline)
        drill.ready_after = rollouts.ready_pods()
        health = probe.get((target.profile.get("health_paths") or ["/api/health"])[0])
        drill.health_status, drill.health_after = health.status, health.describe()
    except KubeUnavailable as exc:
        drill.error = str(exc)
    finally:
        if drill.back_to != original or drill.error:
            rollouts.scale(original)
            rollouts.wait_for_rollout(deadline)
    return drill


@pytest.mark.checklist("rollback.db-scale-to-zero")
def test_scaling_to_zero_leaves_no_ready_pods(scale_drill):
    assert scale_drill.stopped is not None, f"the scale to zero failed: {scale_drill.error}"
    assert scale_drill.stopped.ok, (
        f"after scaling to 0: {scale_drill.stopped.message} (expected no ready pod)")


@pytest.mark.checklist("rollback.db-scale-back")
def test_scaling_back_makes_every_replica_available(scale_drill):
    assert scale_drill.started is not None, f"the scale back failed: {scale_drill.error}"
    assert scale_drill.started.ok, (
        f"scaling back to {scale_drill.back_to}: {scale_drill.started.message}")
    assert scale_drill.ready_after == scale_drill.back_to, (
        f"{scale_drill.ready_after} ready pods after scaling back (expected {scale_drill.back_to})")


@pytest.mark.checklist("rollback.db-verify")
def test_app_answers_after_scaling_back(scale_drill):
    assert scale_drill.health_status == 200, (
        f"after scaling back: {scale_drill.health_after or scale_drill.error} (expected 200)")
