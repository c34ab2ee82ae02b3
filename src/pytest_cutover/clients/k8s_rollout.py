"""Rollout actions on a Deployment: undo (kubectl's algorithm, or kubectl itself), scale, wait.

Extends `clients/k8s.K8s` (its configuration, timeouts and error handling) with the writes a
rollback drill needs. Objects travel as plain dicts so `pytest_cutover.rollout` (pure) can judge
them. Every wait has a deadline; nothing here asserts.
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pytest_cutover import rollout
from pytest_cutover.clients.k8s import K8s, KubeUnavailable

JSON_PATCH = "application/json-patch+json"
MERGE_PATCH = "application/merge-patch+json"


@dataclass(frozen=True)
class Waited:
    ok: bool
    seconds: float
    message: str  # the last status seen, or why the wait ended


class Rollouts:
    """`Rollouts(K8s(...), "ils-app")`: one Deployment's history, undo, scale and rollout status."""

    def __init__(self, k8s: K8s, deployment: str, kubectl: list[str] | None = None) -> None:
        self.k8s = k8s
        self.name = deployment
        self.kubectl = kubectl  # e.g. ["kubectl", "--kubeconfig", path, "--context", ctx]

    # --- reads ------------------------------------------------------------------------------
    def deployment(self) -> dict[str, Any]:
        found = self.k8s._call(self.k8s.apps.read_namespaced_deployment, self.name, self.k8s.namespace)
        if found is None:
            raise KubeUnavailable(f"deployment {self.k8s.namespace}/{self.name} does not exist")
        return dict(self.k8s._plain(found) or {})

    def replica_sets(self, deployment: dict[str, Any]) -> list[dict[str, Any]]:
        """ReplicaSets selected by the Deployment's selector (ownership is checked by `rollout`)."""
        labels = (deployment["spec"].get("selector") or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        listed = self.k8s._call(self.k8s.apps.list_namespaced_replica_set, self.k8s.namespace,
                                label_selector=selector)
        return [dict(self.k8s._plain(rs) or {}) for rs in (listed.items if listed else [])]

    def ready_pods(self) -> int:
        deployment = self.deployment()
        labels = (deployment["spec"].get("selector") or {}).get("matchLabels") or {}
        selector = ",".join(f"{k}={v}" for k, v in sorted(labels.items()))
        return sum(1 for pod in self.k8s.pods(selector) if pod.ready)

    # --- writes -----------------------------------------------------------------------------
    def undo(self, to_revision: int = 0) -> rollout.Undo:
        """`kubectl rollout undo [--to-revision=N]`: through the API, or kubectl when configured."""
        deployment = self.deployment()
        plan = rollout.plan_undo(deployment, self.replica_sets(deployment), to_revision)
        if plan.patch is None:
            return plan
        if self.kubectl is not None:
            self._run_kubectl(["rollout", "undo", f"deployment/{self.name}",
                               f"--to-revision={plan.to_revision}"])
        else:
            self.k8s._call(self.k8s.apps.patch_namespaced_deployment, self.name, self.k8s.namespace,
                           plan.patch, _content_type=JSON_PATCH)
        return plan

    def scale(self, replicas: int) -> None:
        if self.kubectl is not None:
            self._run_kubectl(["scale", f"deployment/{self.name}", f"--replicas={replicas}"])
            return
        self.k8s._call(self.k8s.apps.patch_namespaced_deployment_scale, self.name,
                       self.k8s.namespace, {"spec": {"replicas": replicas}}, _content_type=MERGE_PATCH)

    def _run_kubectl(self, args: list[str]) -> None:
        assert self.kubectl is not None  # noqa: S101 - narrows for mypy; callers check it
        command = [*self.kubectl, "--namespace", self.k8s.namespace, *args]
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=self.k8s.timeout_s * 3,
                                  check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise KubeUnavailable(f"{' '.join(args[:2])} through kubectl failed: {exc}") from None
        if done.returncode != 0:
            raise KubeUnavailable(f"kubectl {' '.join(args[:2])} exited {done.returncode}: "
                                  f"{(done.stderr.strip().splitlines() or ['no output'])[-1]}")

    # --- waits ------------------------------------------------------------------------------
    def wait_for_rollout(self, deadline_s: float, poll_s: float = 0.5) -> Waited:
        """Until `rollout status` says done or failed, or the deadline passes."""

        def check() -> tuple[bool | None, str]:
            status = rollout.rollout_status(self.deployment())
            return (True if status.done else False if status.failed else None), status.message

        return wait(check, deadline_s, poll_s)

    def wait_for_ready_pods(self, count: int, deadline_s: float, poll_s: float = 0.5,
                            at_most: bool = False) -> Waited:
        """Until exactly `count` pods are ready (or at most `count` with at_most)."""

        def check() -> tuple[bool | None, str]:
            ready = self.ready_pods()
            met = ready <= count if at_most else ready == count
            return (True if met else None), f"{ready} ready pods"

        return wait(check, deadline_s, poll_s)


def wait(check: Callable[[], tuple[bool | None, str]], deadline_s: float, poll_s: float) -> Waited:
    """Poll `check` (True done, False failed, None not yet) within `deadline_s` seconds."""
    started = time.monotonic()
    message = "not checked"
    while True:
        verdict, message = check()
        elapsed = time.monotonic() - started
        if verdict is not None:
            return Waited(verdict, elapsed, message)
        if elapsed >= deadline_s:
            return Waited(False, elapsed, f"deadline of {deadline_s:g} s passed; last: {message}")
        time.sleep(min(poll_s, max(0.0, deadline_s - elapsed)))
