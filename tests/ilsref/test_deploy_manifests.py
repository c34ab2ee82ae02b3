"""deploy/: the in-cluster Job (smoke after a deploy), the first-hour CronJob, the reports volume
and the credentials Secret apply with real kubectl to the Kubernetes emulator, which admits
batch/v1 objects as the API server does (defaults, and a 422 for what the server rejects)."""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

import ilsref
from ilsref.faults import FaultState
from ilsref.k8s import batch
from ilsref.runtime import RunDir
from ilsref.services import kubernetes as k8s_service
from ilsref.services.base import Context

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = ROOT / "deploy" / "k8s"
NS = "ils-production"


class Kubectl:
    def __init__(self, kubeconfig: str) -> None:
        self.kubeconfig = kubeconfig

    def __call__(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(["kubectl", "--kubeconfig", self.kubeconfig, *args], input=stdin,
                              capture_output=True, text=True, timeout=30, check=False)


@pytest.fixture(scope="module")
def kubectl(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Kubectl]:
    path = tmp_path_factory.mktemp("k8s-deploy")
    run = RunDir(path)
    run.prepare()
    (path / "run").mkdir(exist_ok=True)
    ctx = Context(run=run, faults=FaultState(path / "run" / "faults.json"), release=ilsref.RELEASE)
    k8s_service.start(ctx)
    try:
        tool = Kubectl(str(ctx.environment["kubernetes"]["kubeconfig"]))
        created = tool("create", "namespace", NS)
        assert created.returncode == 0, created.stderr
        yield tool
    finally:
        run.stop_all(timeout=5)


def _apply(kubectl: Kubectl, name: str) -> subprocess.CompletedProcess[str]:
    return kubectl("apply", "--validate=false", "-f", str(MANIFESTS / name))


def test_every_manifest_applies_and_the_server_keeps_it_with_its_defaults(kubectl: Kubectl) -> None:
    for name in ("reports-pvc.yaml", "credentials-secret.example.yaml", "smoke-job.yaml",
                 "post-launch-cronjob.yaml"):
        result = _apply(kubectl, name)
        assert result.returncode == 0, f"{name}: {result.stderr}"
    job = json.loads(kubectl("-n", NS, "get", "job", "ils-cutover-smoke", "-o", "json").stdout)
    uid = job["metadata"]["uid"]
    assert job["spec"]["selector"]["matchLabels"] == {"batch.kubernetes.io/controller-uid": uid}
    assert job["spec"]["template"]["metadata"]["labels"]["job-name"] == "ils-cutover-smoke"
    assert (job["spec"]["completions"], job["spec"]["parallelism"], job["spec"]["backoffLimit"]) == (1, 1, 0)
    container = job["spec"]["template"]["spec"]["containers"][0]
    assert container["args"][:2] == ["-m", "smoke"]
    assert container["envFrom"] == [{"secretRef": {"name": "ils-cutover-credentials"}}]
    assert job["metadata"]["annotations"]["argocd.argoproj.io/hook"] == "PostSync"
    cron = json.loads(kubectl("-n", NS, "get", "cronjob", "ils-cutover-first-hour", "-o", "json").stdout)
    assert cron["spec"]["schedule"] == "*/15 * * * *"
    assert cron["spec"]["suspend"] is False and cron["spec"]["concurrencyPolicy"] == "Forbid"
    pod = cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    assert pod["volumes"][0]["persistentVolumeClaim"]["claimName"] == "ils-cutover-reports"
    assert "post_launch" in pod["containers"][0]["args"][1]
    listed = kubectl("-n", NS, "get", "jobs,cronjobs,pvc")
    assert "ils-cutover-smoke" in listed.stdout and "ils-cutover-first-hour" in listed.stdout, listed.stderr
    again = _apply(kubectl, "post-launch-cronjob.yaml")  # idempotent: a second apply is a patch
    assert again.returncode == 0 and "unchanged" in again.stdout, again.stdout + again.stderr


@pytest.mark.parametrize(("change", "message"), [
    (lambda d: d["spec"]["jobTemplate"]["spec"]["template"]["spec"].update(restartPolicy="Always"),
     'spec.jobTemplate.spec.template.spec.restartPolicy: Unsupported value: "Always"'),
    (lambda d: d["spec"].update(schedule="*/15 * * *"), "spec.schedule: Invalid value"),
    (lambda d: d["spec"].update(concurrencyPolicy="Sometimes"), "spec.concurrencyPolicy: Unsupported"),
])
def test_the_emulator_rejects_what_the_api_server_rejects(kubectl: Kubectl, change, message: str) -> None:
    doc = yaml.safe_load((MANIFESTS / "post-launch-cronjob.yaml").read_text())
    doc["metadata"]["name"] = "broken-" + re.sub(r"[^a-z]", "", message.lower())[:30]
    change(doc)
    result = kubectl("apply", "--validate=false", "-f", "-", stdin=json.dumps(doc))
    assert result.returncode != 0 and message in result.stderr, result.stdout + result.stderr


@pytest.mark.parametrize(("schedule", "ok"), [
    ("*/15 * * * *", True), ("0 9-17 * * mon-fri", True), ("@hourly", True), ("@every 15m", True),
    ("*/15 * * *", False), ("61 * * * *", False), ("0 0 32 * *", False), ("TZ=UTC 0 * * * *", False)])
def test_cron_schedules_as_the_controller_parses_them(schedule: str, ok: bool) -> None:
    assert batch.valid_schedule(schedule) is ok


def test_the_container_file_copies_only_what_exists_and_runs_pytest() -> None:
    text = (ROOT / "deploy" / "Containerfile").read_text()
    for line in text.splitlines():
        if line.startswith("COPY "):
            for source in line.split()[1:-1]:
                assert (ROOT / source.rstrip("/")).exists(), source
    assert 'ENTRYPOINT ["pytest"' in text and "USER 10001" in text and "VOLUME [\"/reports\"]" in text
    assert not re.search(r"(PASSWORD|TOKEN|DATABASE_URL)=", text)
