"""After a deploy (readiness and smoke): the rollout completed, the new revision's pods are ready
and have not restarted, and their recent logs show no error patterns (a warning, not a blocker).
"""

from __future__ import annotations

import re
import time

import pytest

pytestmark = [pytest.mark.smoke, pytest.mark.checklist("deploy.rollout-complete")]

POLL_S = 2.0
DEFAULT_ROLLOUT_TIMEOUT_S = 120.0
DEFAULT_TAIL_LINES = 200
MAX_PODS_SCANNED = 10
MAX_LINES_SHOWN = 3
# Error shapes of a Node/Express app's JSON logs and of stack traces in general.
DEFAULT_ERROR_PATTERNS = (
    r'"level"\s*:\s*"(error|fatal)"', r"\bERROR\b", r"\bFATAL\b", r"Traceback \(most recent",
    r"Unhandled(Promise)?Rejection", r"^\s+at \S+ \(.+:\d+:\d+\)",
)


def _rollout_state(manifest):
    """(complete, deadline exceeded, one-line description) the way `kubectl rollout status` does."""
    spec, status, meta = manifest["spec"], manifest.get("status") or {}, manifest["metadata"]
    desired = spec.get("replicas", 1)
    updated, replicas = status.get("updatedReplicas", 0), status.get("replicas", 0)
    available = status.get("availableReplicas", 0)
    current = status.get("observedGeneration", 0) >= meta.get("generation", 0)
    exceeded = any(c.get("type") == "Progressing" and c.get("reason") == "ProgressDeadlineExceeded"
                   for c in status.get("conditions") or [])
    complete = current and updated == desired == replicas == available
    text = (f"{updated} of {desired} updated, {available} available, {replicas} total, generation "
            f"{'current' if current else 'not yet observed'}"
            f"{', ProgressDeadlineExceeded' if exceeded else ''}")
    return complete, exceeded, text


def test_rollout_is_complete(kube, kubernetes, kube_answers, evidence):
    timeout_s = float(kubernetes.get("rollout_timeout_s", DEFAULT_ROLLOUT_TIMEOUT_S))
    deadline = time.monotonic() + timeout_s
    while True:
        with kube_answers():
            found = kube.deployment_manifest(kubernetes["deployment"])
        assert found is not None, f"Deployment {kubernetes['deployment']!r} does not exist"
        complete, exceeded, text = _rollout_state(found)
        if complete or exceeded or time.monotonic() >= deadline:
            break
        time.sleep(POLL_S)
    evidence("rollout status", {"status": found.get("status")}, "json")
    assert complete, (f"rollout of {kubernetes['deployment']} is not complete after waiting up to "
                      f"{timeout_s:.0f} s: {text} (expected every replica updated and available)")


@pytest.fixture
def current_pods(kube, kubernetes, kube_answers):
    """The pods of the newest ReplicaSet (the revision just rolled out)."""
    with kube_answers():
        replicasets = kube.replicasets(kubernetes["label_selector"])
        pods = kube.pods(kubernetes["label_selector"])
    assert replicasets, f"no ReplicaSet matches {kubernetes['label_selector']!r}"
    newest = max(replicasets, key=lambda r: int(r.revision or 0))
    suffix = newest.name.removeprefix(f"{kubernetes['deployment']}-")
    return newest, [p for p in pods if p.labels.get("pod-template-hash") == suffix]


def test_pods_of_the_new_revision_are_ready(current_pods, manifest):
    replicaset, pods = current_pods
    desired = manifest["spec"].get("replicas", 1)
    ready = [p.name for p in pods if p.ready]
    unready = [f"{p.name} ({p.phase}{', ' + ', '.join(p.waiting_reasons) if p.waiting_reasons else ''})"
               for p in pods if not p.ready]
    assert len(ready) >= desired and not unready, (
        f"revision {replicaset.revision} ({replicaset.name}) has {len(ready)} ready pod(s) of "
        f"{desired} desired; not ready: {', '.join(unready) or 'none'}")


@pytest.mark.checklist("deploy.pod-logs-clean")
def test_pods_of_the_new_revision_have_not_restarted(current_pods):
    replicaset, pods = current_pods
    restarted = {p.name: p.restarts for p in pods if p.restarts}
    assert not restarted, (
        f"pods of revision {replicaset.revision} restarted since the rollout: {restarted} "
        f"(expected 0 restarts)")


@pytest.mark.non_blocking
@pytest.mark.checklist("deploy.pod-logs-clean")
def test_recent_pod_logs_show_no_error_patterns(current_pods, kube, kubernetes, kube_answers,
                                                evidence):
    _, pods = current_pods
    patterns = [re.compile(p, re.MULTILINE) for p in kubernetes.get("log_error_patterns")
                or DEFAULT_ERROR_PATTERNS]
    tail = int(kubernetes.get("log_tail_lines", DEFAULT_TAIL_LINES))
    since = kubernetes.get("log_since_s")
    hits = []
    for pod in pods[:MAX_PODS_SCANNED]:
        with kube_answers():
            text = kube.pod_logs(pod.name, kubernetes["container"], since_s=since, tail_lines=tail)
        hits += [f"{pod.name}: {line.strip()[:160]}" for line in text.splitlines()
                 if any(p.search(line) for p in patterns)]
    evidence("pod log lines matching error patterns", "\n".join(hits) or "none")
    assert not hits, (
        f"{len(hits)} recent log line(s) of {len(pods[:MAX_PODS_SCANNED])} pod(s) match error "
        f"patterns, e.g. {' | '.join(hits[:MAX_LINES_SHOWN])}")
