"""The Kubernetes API emulator, driven by the official client and by real kubectl."""

from __future__ import annotations

import datetime
import json
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

import ilsref
from ilsref.faults import FaultState
from ilsref.runtime import RunDir
from ilsref.services import kubernetes as k8s_service
from ilsref.services.base import Context

NS = "ils-local"
APP = "ils-app"


@dataclass
class Cluster:
    ctx: Context

    @property
    def kubeconfig(self) -> str:
        return str(self.ctx.environment["kubernetes"]["kubeconfig"])

    @property
    def server(self) -> str:
        return str(self.ctx.facts["kube_api"])

    def api(self) -> client.ApiClient:
        return config.new_client_from_config(config_file=self.kubeconfig)

    def kubectl(self, *args: str, timeout: float = 30) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, "-n", NS, *args],
                              capture_output=True, text=True, timeout=timeout)

    def served_version(self) -> str:
        return str(json.loads((self.ctx.run_config / "version.json").read_text())["version"])

    def set_faults(self, *names: str) -> None:
        self.ctx.faults.write(set(names))
        time.sleep(0.6)  # the emulator polls the fault file every 0.3 s


def _start(path: Path) -> Iterator[Cluster]:
    run = RunDir(path)
    run.prepare()
    (path / "run").mkdir(exist_ok=True)
    ctx = Context(run=run, faults=FaultState(path / "run" / "faults.json"), release=ilsref.RELEASE)
    k8s_service.start(ctx)
    try:
        yield Cluster(ctx)
    finally:
        run.stop_all(timeout=5)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """A shared emulator for tests that only read."""
    yield from _start(tmp_path_factory.mktemp("k8s-shared"))


@pytest.fixture
def fresh_cluster(tmp_path: Path) -> Iterator[Cluster]:
    """An emulator of its own, for tests that change objects or faults."""
    yield from _start(tmp_path)


def _app_pods(api: client.ApiClient) -> list[client.V1Pod]:
    return list(client.CoreV1Api(api).list_namespaced_pod(NS, label_selector=f"app={APP}").items)


# --- the service module ---------------------------------------------------------------------------
def test_start_describes_the_cluster_for_the_suite(cluster: Cluster) -> None:
    described = cluster.ctx.environment["kubernetes"]
    assert described["context"] == "ilsref" and described["namespace"] == NS
    assert described["deployment"] == APP and described["container"] == APP
    assert Path(described["kubeconfig"]).is_file()
    assert cluster.served_version() == ilsref.RELEASE


# --- official client ------------------------------------------------------------------------------
def test_version_has_every_field_the_client_validates(cluster: Cluster) -> None:
    info = client.VersionApi(cluster.api()).get_code()
    assert info.git_version == "v1.30.2" and info.go_version and info.build_date


def test_lists_carry_the_seeded_ils_objects(cluster: Cluster) -> None:
    api = cluster.api()
    apps, core = client.AppsV1Api(api), client.CoreV1Api(api)
    assert {d.metadata.name for d in apps.list_namespaced_deployment(NS).items} == {APP, "redis"}
    assert len(_app_pods(api)) == 3
    assert {rs.metadata.annotations["deployment.kubernetes.io/revision"]
            for rs in apps.list_namespaced_replica_set(NS, label_selector=f"app={APP}").items} == {"1", "2"}
    assert "postgres-0" in {p.metadata.name for p in core.list_pod_for_all_namespaces().items}
    assert client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler(
        "ils-app-hpa", NS).spec.max_replicas == 10
    assert client.PolicyV1Api(api).read_namespaced_pod_disruption_budget(
        "ils-app-pdb", NS).spec.min_available == 1
    assert client.NetworkingV1Api(api).read_namespaced_ingress(
        "ils-ingress", NS).spec.tls[0].secret_name == "ils-tls-cert"
    assert set(core.read_namespaced_secret("ils-secrets", NS).data) >= {"DATABASE_URL", "JWT_SECRET"}


def test_deployment_status_shows_a_completed_rollout(cluster: Cluster) -> None:
    deployment = client.AppsV1Api(cluster.api()).read_namespaced_deployment_status(APP, NS)
    status = deployment.status
    assert status.observed_generation == deployment.metadata.generation
    assert status.updated_replicas == status.ready_replicas == status.available_replicas == 3
    reasons = {c.type: c.reason for c in status.conditions}
    assert reasons == {"Available": "MinimumReplicasAvailable", "Progressing": "NewReplicaSetAvailable"}
    container = deployment.spec.template.spec.containers[0]
    assert container.image == f"ghcr.io/ils/ils-app:{ilsref.RELEASE}"


def test_label_selectors_support_inequality_and_sets(cluster: Cluster) -> None:
    core = client.CoreV1Api(cluster.api())
    names = {p.metadata.name
             for p in core.list_namespaced_pod(NS, label_selector="app in (redis,postgres)").items}
    assert names == {"postgres-0", next(n for n in names if n.startswith("redis-"))}
    assert all(p.metadata.labels["app"] != "redis"
               for p in core.list_namespaced_pod(
                   NS, label_selector="app.kubernetes.io/part-of=ils,app!=redis").items)
    picked = core.list_namespaced_pod(NS, field_selector="metadata.name=postgres-0").items
    assert [p.metadata.name for p in picked] == ["postgres-0"]


def test_pod_logs_honour_tail_lines_and_container(cluster: Cluster) -> None:
    core = client.CoreV1Api(cluster.api())
    pod = _app_pods(cluster.api())[0].metadata.name
    lines = core.read_namespaced_pod_log(pod, NS, container=APP, tail_lines=2).splitlines()
    assert len(lines) == 2 and all(json.loads(line)["level"] == "info" for line in lines)
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_pod_log(pod, NS, container="nope")
    assert missing.value.status == 400


def test_errors_are_status_objects(cluster: Cluster) -> None:
    apps = client.AppsV1Api(cluster.api())
    with pytest.raises(ApiException) as duplicate:
        apps.create_namespaced_deployment(NS, apps.read_namespaced_deployment(APP, NS))
    assert duplicate.value.status == 409 and json.loads(duplicate.value.body)["reason"] == "AlreadyExists"
    request = urllib.request.Request(f"{cluster.server}/apis/apps/v1/deployments", method="POST",
                                     data=b'{"metadata": {"name": "x"}}')
    with pytest.raises(urllib.error.HTTPError) as no_namespace:
        urllib.request.urlopen(request, timeout=5)
    assert no_namespace.value.code == 404
    assert json.loads(no_namespace.value.read())["kind"] == "Status"


def test_put_with_a_stale_resource_version_conflicts(fresh_cluster: Cluster) -> None:
    core = client.CoreV1Api(fresh_cluster.api())
    config_map = core.read_namespaced_config_map("ils-config", NS)
    config_map.data["LOG_LEVEL"] = "debug"
    core.replace_namespaced_config_map("ils-config", NS, config_map)  # config_map is now stale
    with pytest.raises(ApiException) as stale:
        core.replace_namespaced_config_map("ils-config", NS, config_map)
    assert stale.value.status == 409 and json.loads(stale.value.body)["reason"] == "Conflict"


def test_patches_of_each_kind_apply(fresh_cluster: Cluster) -> None:
    api = fresh_cluster.api()
    apps = client.AppsV1Api(api)
    patched = apps.patch_namespaced_deployment(APP, NS, {"spec": {"template": {"spec": {"containers": [
        {"name": APP, "image": "ghcr.io/ils/ils-app:2.0.1"}]}}}})  # strategic merge by name
    container = patched.spec.template.spec.containers[0]
    assert container.image.endswith(":2.0.1") and container.liveness_probe is not None
    assert patched.metadata.annotations["deployment.kubernetes.io/revision"] == "3"
    assert fresh_cluster.served_version() == "2.0.1"
    core = client.CoreV1Api(api)
    core.api_client.set_default_header("Content-Type", "application/json-patch+json")
    core.patch_namespaced_config_map("ils-config", NS,
                                     [{"op": "replace", "path": "/data/LOG_LEVEL", "value": "warn"}])
    assert core.read_namespaced_config_map("ils-config", NS).data["LOG_LEVEL"] == "warn"


def test_scale_subresource_changes_the_pod_count(fresh_cluster: Cluster) -> None:
    api = fresh_cluster.api()
    apps = client.AppsV1Api(api)
    scale = apps.read_namespaced_deployment_scale(APP, NS)
    assert (scale.spec.replicas, scale.status.selector) == (3, f"app={APP}")
    apps.patch_namespaced_deployment_scale(APP, NS, {"spec": {"replicas": 5}})
    assert len(_app_pods(api)) == 5
    assert apps.read_namespaced_deployment(APP, NS).status.available_replicas == 5


def test_watch_replays_events_after_a_resource_version(fresh_cluster: Cluster) -> None:
    api = fresh_cluster.api()
    apps = client.AppsV1Api(api)
    listed = apps.list_namespaced_deployment(NS)
    apps.patch_namespaced_deployment_scale(APP, NS, {"spec": {"replicas": 4}})
    seen = []
    for event in watch.Watch().stream(apps.list_namespaced_deployment, NS,
                                      field_selector=f"metadata.name={APP}",
                                      resource_version=listed.metadata.resource_version, timeout_seconds=2):
        seen.append((event["type"], event["object"].spec.replicas))
    assert ("MODIFIED", 4) in seen


# --- kubectl ----------------------------------------------------------------------------------
def test_kubectl_gets_deployments_and_shows_history(cluster: Cluster) -> None:
    got = cluster.kubectl("get", "deploy")
    assert got.returncode == 0 and APP in got.stdout, got.stderr
    history = cluster.kubectl("rollout", "history", f"deployment/{APP}")
    assert history.returncode == 0, history.stderr
    assert [line.split()[0] for line in history.stdout.splitlines()[2:] if line.strip()] == ["1", "2"]
    status = cluster.kubectl("rollout", "status", f"deployment/{APP}", "--timeout=10s")
    assert status.returncode == 0 and "successfully rolled out" in status.stdout


def test_kubectl_rollout_undo_switches_the_served_version_and_back(fresh_cluster: Cluster) -> None:
    undo = fresh_cluster.kubectl("rollout", "undo", f"deployment/{APP}")
    assert undo.returncode == 0, undo.stderr
    assert fresh_cluster.kubectl("rollout", "status", f"deployment/{APP}", "--timeout=10s").returncode == 0
    assert fresh_cluster.served_version() == ilsref.PREVIOUS_RELEASE
    assert fresh_cluster.kubectl("rollout", "undo", f"deployment/{APP}").returncode == 0
    assert fresh_cluster.served_version() == ilsref.RELEASE


def test_kubectl_scale(fresh_cluster: Cluster) -> None:
    assert fresh_cluster.kubectl("scale", f"deployment/{APP}", "--replicas=2").returncode == 0
    assert len(_app_pods(fresh_cluster.api())) == 2


# --- faults -----------------------------------------------------------------------------------
def test_stuck_rollout_fails_rollout_status_at_the_progress_deadline(fresh_cluster: Cluster) -> None:
    fresh_cluster.set_faults("k8s_stuck_rollout")
    assert fresh_cluster.kubectl("rollout", "undo", f"deployment/{APP}").returncode == 0
    started = time.monotonic()
    status = fresh_cluster.kubectl("rollout", "status", f"deployment/{APP}", "--timeout=20s")
    assert status.returncode != 0 and "exceeded its progress deadline" in status.stderr
    assert time.monotonic() - started < 15
    assert fresh_cluster.served_version() == ilsref.RELEASE  # the old pods still serve


def test_crashloop_shows_in_pod_status_and_availability(fresh_cluster: Cluster) -> None:
    fresh_cluster.set_faults("k8s_crashloop")
    api = fresh_cluster.api()
    waiting = [(s.state.waiting.reason, s.restart_count) for p in _app_pods(api)
               for s in p.status.container_statuses if s.state.waiting]
    assert waiting == [("CrashLoopBackOff", 12)]
    assert client.AppsV1Api(api).read_namespaced_deployment(APP, NS).status.available_replicas == 2
    fresh_cluster.set_faults()
    assert all(s.ready for p in _app_pods(api) for s in p.status.container_statuses)


def test_view_faults_change_what_clients_see(fresh_cluster: Cluster) -> None:
    fresh_cluster.set_faults("k8s_latest_tag", "k8s_no_probes", "k8s_no_hpa", "k8s_single_replica")
    api = fresh_cluster.api()
    deployment = client.AppsV1Api(api).read_namespaced_deployment(APP, NS)
    container = deployment.spec.template.spec.containers[0]
    assert container.image.endswith(":latest") and container.liveness_probe is None
    assert deployment.spec.replicas == 1 and len(_app_pods(api)) == 1
    assert client.AutoscalingV2Api(api).list_namespaced_horizontal_pod_autoscaler(NS).items == []


def test_previous_release_crashloop_makes_a_rollback_fail(fresh_cluster: Cluster) -> None:
    fresh_cluster.set_faults("k8s_prev_crashloop")
    assert fresh_cluster.kubectl("rollout", "undo", f"deployment/{APP}").returncode == 0
    status = fresh_cluster.kubectl("rollout", "status", f"deployment/{APP}", "--timeout=20s")
    assert status.returncode != 0 and "exceeded its progress deadline" in status.stderr
    crashing = [p for p in _app_pods(fresh_cluster.api())
                if p.spec.containers[0].image.endswith(f":{ilsref.PREVIOUS_RELEASE}")]
    assert [p.status.container_statuses[0].state.waiting.reason for p in crashing] == ["CrashLoopBackOff"]
    assert fresh_cluster.served_version() == ilsref.RELEASE


# Each switch that is visible at rest, and how a client sees it.
def _app_container(api: client.ApiClient) -> client.V1Container:
    return client.AppsV1Api(api).read_namespaced_deployment(APP, NS).spec.template.spec.containers[0]


def _waiting_reasons(api: client.ApiClient) -> list[str]:
    return [s.state.waiting.reason
            for p in _app_pods(api) for s in p.status.container_statuses if s.state.waiting]


def _app_log(api: client.ApiClient) -> str:
    return str(client.CoreV1Api(api).read_namespaced_pod_log(_app_pods(api)[-1].metadata.name, NS))


def _hpa_shortfall(api: client.ApiClient) -> int:
    status = client.AutoscalingV2Api(api).read_namespaced_horizontal_pod_autoscaler("ils-app-hpa", NS).status
    return int(status.desired_replicas) - int(status.current_replicas)


def _secret_age_days(api: client.ApiClient) -> float:
    created = client.CoreV1Api(api).read_namespaced_secret("ils-secrets", NS).metadata.creation_timestamp
    return (datetime.datetime.now(datetime.UTC) - created).total_seconds() / 86400


VISIBLE: dict[str, Callable[[client.ApiClient], bool]] = {
    "k8s_crashloop": lambda api: "CrashLoopBackOff" in _waiting_reasons(api),
    "k8s_image_pull": lambda api: "ImagePullBackOff" in _waiting_reasons(api),
    "k8s_restarts": lambda api: {s.restart_count
                                 for p in _app_pods(api) for s in p.status.container_statuses} == {5},
    "k8s_single_replica": lambda api: client.AppsV1Api(api).read_namespaced_deployment(
        APP, NS).spec.replicas == 1,
    "k8s_latest_tag": lambda api: _app_container(api).image.endswith(":latest"),
    "k8s_no_probes": lambda api: _app_container(api).liveness_probe is None,
    "k8s_same_probes": lambda api: _app_container(api).liveness_probe == _app_container(api).readiness_probe,
    "k8s_no_limits": lambda api: not (_app_container(api).resources.limits or {}),
    "k8s_no_hpa": lambda api: not client.AutoscalingV2Api(api).list_namespaced_horizontal_pod_autoscaler(
        NS).items,
    "k8s_no_pdb": lambda api: not client.PolicyV1Api(api).list_namespaced_pod_disruption_budget(NS).items,
    "k8s_pdb_blocks": lambda api: client.PolicyV1Api(api).read_namespaced_pod_disruption_budget(
        "ils-app-pdb", NS).status.disruptions_allowed == 0,
    "k8s_ingress_no_tls": lambda api: not client.NetworkingV1Api(api).read_namespaced_ingress(
        "ils-ingress", NS).spec.tls,
    "k8s_no_endpoints": lambda api: not client.CoreV1Api(api).read_namespaced_endpoints(
        "ils-app-service", NS).subsets,
    "k8s_error_logs": lambda api: "ERROR" in _app_log(api),
    "k8s_secret_in_configmap": lambda api: "DATABASE_URL" in client.CoreV1Api(api).read_namespaced_config_map(
        "ils-config", NS).data,
    "k8s_old_secret": lambda api: _secret_age_days(api) > 90,
    "hpa_ignored": lambda api: _hpa_shortfall(api) > 0,
}


def test_every_fault_switch_is_covered_here_or_by_a_rollout_test() -> None:
    declared = {fault.name for fault in k8s_service.FAULTS}
    assert declared == set(VISIBLE) | {"k8s_stuck_rollout", "k8s_prev_crashloop"}


@pytest.mark.parametrize("fault", sorted(VISIBLE))
def test_fault_is_visible_while_set_and_gone_when_cleared(cluster: Cluster, fault: str) -> None:
    api, visible = cluster.api(), VISIBLE[fault]
    assert not visible(api), f"{fault} shows on the healthy cluster"
    cluster.ctx.faults.write({fault})
    try:
        assert _eventually(lambda: visible(api)), f"{fault} did not show within 3 s"
    finally:
        cluster.ctx.faults.write(set())
    assert _eventually(lambda: not visible(api)), f"{fault} still shows 3 s after clearing it"


def _eventually(condition: Callable[[], bool], within: float = 3.0) -> bool:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.1)
    return condition()
