"""Readiness, Kubernetes: the cluster answers and the application's workload is deployed the way a
production launch needs it: available, redundant, pinned to the release, probed, bounded, scaled,
protected against voluntary disruption, healthy, reachable behind TLS.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pytest_cutover import unverified

pytestmark = pytest.mark.checklist("infra.kubernetes-cluster")

BAD_WAITING_REASONS = ("CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "InvalidImageName",
                       "CreateContainerConfigError", "CreateContainerError", "RunContainerError")


def _containers(manifest):
    return manifest["spec"]["template"]["spec"].get("containers") or []


def _app_container(manifest, kubernetes):
    containers = _containers(manifest)
    found = next((c for c in containers if c.get("name") == kubernetes["container"]), None)
    assert found is not None, (
        f"Deployment {kubernetes['deployment']} has no container {kubernetes['container']!r} "
        f"(containers: {[c.get('name') for c in containers]})")
    return found


def _image_tag(image):
    last = image.rsplit("/", 1)[-1]
    if "@" in last:
        return last.split("@", 1)[1]  # a digest pins the image
    return last.rsplit(":", 1)[1] if ":" in last else ""


def test_kubernetes_api_answers(kube, kube_answers, evidence):
    with kube_answers():
        version = kube.version()
    evidence("Kubernetes API /version", version, "json")
    assert version.get("gitVersion"), f"GET /version answered without gitVersion: {version!r}"


def test_namespace_exists_and_is_active(kube, kubernetes, kube_answers):
    with kube_answers():
        phase = kube.namespace_phase(kubernetes["namespace"])
    assert phase == "Active", (
        f"namespace {kubernetes['namespace']!r} is {phase or 'missing'} (expected Active)")


def test_deployment_is_available_and_current(manifest, kubernetes):
    spec, status, meta = manifest["spec"], manifest.get("status") or {}, manifest["metadata"]
    desired = spec.get("replicas", 1)
    observed = (status.get("observedGeneration", 0), status.get("updatedReplicas", 0),
                status.get("availableReplicas", 0))
    expected = (meta.get("generation", 0), desired, desired)
    assert observed[0] >= expected[0] and observed[1:] == expected[1:], (
        f"Deployment {kubernetes['deployment']}: observed generation {observed[0]} of "
        f"{expected[0]}, updated {observed[1]}, available {observed[2]} (expected "
        f"updated = available = desired = {desired}, observed generation current)")


def test_deployment_runs_at_least_the_minimum_replicas(manifest, kubernetes):
    minimum = int(kubernetes.get("min_replicas", 2))
    replicas = manifest["spec"].get("replicas", 1)
    assert replicas >= minimum, (
        f"Deployment {kubernetes['deployment']} runs {replicas} replica(s) "
        f"(expected at least {minimum}: one pod is a single point of failure)")


def test_image_tag_is_pinned(manifest, kubernetes):
    image = _app_container(manifest, kubernetes).get("image", "")
    tag = _image_tag(image)
    assert tag and tag != "latest", (
        f"container {kubernetes['container']!r} runs image {image!r} "
        f"(expected a pinned tag or digest, not 'latest' or none)")


def test_image_tag_is_the_expected_release(manifest, kubernetes, target):
    if not target.release:
        unverified(f"no release is set for environment {target.name!r}: set "
                   f"[environments.{target.name}] release = \"x.y.z\"")
    image = _app_container(manifest, kubernetes).get("image", "")
    tag = _image_tag(image)
    assert tag.removeprefix("v") == target.release.removeprefix("v"), (
        f"container {kubernetes['container']!r} runs image tag {tag!r} "
        f"(expected the release {target.release!r}); image {image!r}")


def test_liveness_and_readiness_probes_are_present(manifest, kubernetes):
    container = _app_container(manifest, kubernetes)
    missing = [p for p in ("livenessProbe", "readinessProbe") if not container.get(p)]
    assert not missing, (
        f"container {kubernetes['container']!r} has no {' and no '.join(missing)} "
        f"(expected both, so Kubernetes restarts hung pods and routes only to ready ones)")


def test_liveness_and_readiness_probes_are_distinct(manifest, kubernetes):
    container = _app_container(manifest, kubernetes)
    liveness, readiness = container.get("livenessProbe"), container.get("readinessProbe")
    if not (liveness and readiness):
        pytest.fail("probes missing: see test_liveness_and_readiness_probes_are_present",
                    pytrace=False)
    assert liveness != readiness, (
        f"container {kubernetes['container']!r} uses the same probe for liveness and readiness "
        f"({liveness.get('httpGet') or liveness}): a slow dependency would restart every pod")


def test_containers_set_resource_requests_and_limits(manifest, kubernetes):
    gaps = []
    for container in _containers(manifest):
        resources = container.get("resources") or {}
        for kind in ("requests", "limits"):
            for resource in ("cpu", "memory"):
                if not (resources.get(kind) or {}).get(resource):
                    gaps.append(f"{container.get('name')}: {kind}.{resource}")
    assert not gaps, (
        f"Deployment {kubernetes['deployment']} lacks resource settings: {', '.join(gaps)} "
        f"(expected cpu and memory requests and limits on every container)")


def test_autoscaler_is_present_with_sensible_bounds(kube, kubernetes, manifest, kube_answers,
                                                    evidence):
    with kube_answers():
        hpa = kube.hpa(kubernetes["hpa"])
    assert hpa is not None, (
        f"HorizontalPodAutoscaler {kubernetes['hpa']!r} does not exist "
        f"(expected one scaling {kubernetes['deployment']})")
    evidence(f"HorizontalPodAutoscaler {kubernetes['hpa']}", hpa.get("spec"), "json")
    spec = hpa.get("spec") or {}
    low, high = spec.get("minReplicas", 1), spec.get("maxReplicas", 0)
    target_name = (spec.get("scaleTargetRef") or {}).get("name")
    minimum = int(kubernetes.get("min_replicas", 2))
    problems = []
    if target_name != kubernetes["deployment"]:
        problems.append(f"scales {target_name!r} instead of {kubernetes['deployment']!r}")
    if low < minimum:
        problems.append(f"minReplicas {low} < {minimum}")
    if high <= low:
        problems.append(f"maxReplicas {high} leaves no room above minReplicas {low}")
    if not spec.get("metrics"):
        problems.append("no scaling metrics (targets)")
    assert not problems, f"HorizontalPodAutoscaler {kubernetes['hpa']!r}: {'; '.join(problems)}"


def test_disruption_budget_is_present(kube, kubernetes, kube_answers):
    with kube_answers():
        pdb = kube.pdb(kubernetes["pdb"])
    assert pdb is not None, (
        f"PodDisruptionBudget {kubernetes['pdb']!r} does not exist "
        f"(expected one protecting {kubernetes['deployment']} during node drains)")


def test_disruption_budget_allows_a_voluntary_disruption(kube, kubernetes, manifest, kube_answers,
                                                         evidence):
    with kube_answers():
        pdb = kube.pdb(kubernetes["pdb"])
    if pdb is None:
        pytest.fail(f"PodDisruptionBudget {kubernetes['pdb']!r} does not exist", pytrace=False)
    evidence(f"PodDisruptionBudget {kubernetes['pdb']}", pdb, "json")
    replicas = manifest["spec"].get("replicas", 1)
    status = pdb.get("status") or {}
    min_available = (pdb.get("spec") or {}).get("minAvailable")
    allowed = status.get("disruptionsAllowed")
    assert isinstance(allowed, int) and allowed >= 1, (
        f"PodDisruptionBudget {kubernetes['pdb']!r} allows {allowed} disruption(s) with "
        f"minAvailable {min_available} for {replicas} replicas (expected at least 1, or node "
        f"drains and cluster upgrades block)")


def test_no_pod_is_crash_looping_or_failing_to_start(kube, kubernetes, kube_answers):
    with kube_answers():
        pods = kube.pods(kubernetes["label_selector"])
    assert pods, f"no pod matches {kubernetes['label_selector']!r} in {kubernetes['namespace']}"
    stuck = [f"{p.name}: {', '.join(r for r in p.waiting_reasons if r in BAD_WAITING_REASONS)}"
             for p in pods if set(p.waiting_reasons) & set(BAD_WAITING_REASONS)]
    assert not stuck, f"pods cannot run: {'; '.join(stuck)} (expected none waiting on these)"


def test_pod_restart_counts_within_thresholds(kube, kubernetes, kube_answers, measure, evidence):
    with kube_answers():
        pods = kube.pods(kubernetes["label_selector"])
    assert pods, f"no pod matches {kubernetes['label_selector']!r} in {kubernetes['namespace']}"
    evidence("pod restarts", {p.name: p.restarts for p in pods}, "json")
    worst = max(pods, key=lambda p: p.restarts)
    measure("pod_restarts", worst.restarts, subject=f"pod {worst.name} (most restarts)")


def test_ingress_tls_covers_the_public_host(kube, kubernetes, target, kube_answers, evidence):
    with kube_answers():
        ingress = kube.ingress(kubernetes["ingress"])
    assert ingress is not None, f"Ingress {kubernetes['ingress']!r} does not exist"
    evidence(f"Ingress {kubernetes['ingress']}", ingress.get("spec"), "json")
    host = urlsplit(target.base_url).hostname
    covered = [h for entry in (ingress.get("spec") or {}).get("tls") or []
               for h in entry.get("hosts") or []]
    assert host in covered, (
        f"Ingress {kubernetes['ingress']!r} terminates TLS for {covered or 'no host'} "
        f"(expected {host!r}, the host of base_url)")


def test_service_has_ready_endpoints(kube, kubernetes, kube_answers):
    with kube_answers():
        endpoints = kube.endpoints(kubernetes["service"])
    assert endpoints is not None, f"Service {kubernetes['service']!r} has no Endpoints object"
    ready = [a.get("ip") for subset in endpoints.get("subsets") or []
             for a in subset.get("addresses") or []]
    assert ready, (f"Service {kubernetes['service']!r} has no ready endpoint "
                   f"(expected the application's pods behind it)")
