"""The Kubernetes API emulator as a subprocess (`python -m ilsref.k8s`), with a kubeconfig."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from ilsref.faults import Fault
from ilsref.runtime import free_port, wait_for_port
from ilsref.services.base import Context

SERVICE = "kubernetes"
NAMESPACE = "ils-local"
CONTEXT = "ilsref"
DEPLOYMENT = "ils-app"
FAMILY = "readiness/kubernetes"

FAULTS = (
    Fault("k8s_stuck_rollout", "rollback/kubernetes",
          "new rollouts never become available; Progressing turns False (ProgressDeadlineExceeded)"),
    Fault("k8s_prev_crashloop", "rollback/kubernetes",
          "pods of the previous release crash-loop, so a rollback never becomes available"),
    Fault("k8s_crashloop", FAMILY, "one ils-app pod is in CrashLoopBackOff with 12 restarts"),
    Fault("k8s_restarts", FAMILY, "ils-app pods have restarted 5 times"),
    Fault("k8s_image_pull", FAMILY, "one ils-app pod is stuck in ImagePullBackOff"),
    Fault("k8s_single_replica", FAMILY, "ils-app runs a single replica"),
    Fault("k8s_latest_tag", FAMILY, "ils-app runs the image tag 'latest'"),
    Fault("k8s_no_probes", FAMILY, "ils-app has no liveness or readiness probe"),
    Fault("k8s_same_probes", FAMILY, "ils-app's liveness probe is the same as its readiness probe"),
    Fault("k8s_no_limits", FAMILY, "ils-app has no resource limits"),
    Fault("k8s_no_hpa", FAMILY, "the HorizontalPodAutoscaler ils-app-hpa is missing"),
    Fault("k8s_no_pdb", FAMILY, "the PodDisruptionBudget ils-app-pdb is missing"),
    Fault("k8s_pdb_blocks", FAMILY,
          "ils-app-pdb's minAvailable equals the replica count (no disruption allowed)"),
    Fault("k8s_ingress_no_tls", FAMILY, "the Ingress ils-ingress has no TLS section"),
    Fault("k8s_no_endpoints", FAMILY, "the Service ils-app-service has no endpoints"),
    Fault("k8s_error_logs", FAMILY, "ils-app pod logs contain ERROR lines and stack traces"),
    Fault("k8s_secret_in_configmap", FAMILY,
          "the ConfigMap ils-config holds DATABASE_URL with a password"),
    Fault("k8s_old_secret", FAMILY, "the Secret ils-secrets was created (and rotated) 120 days ago"),
    Fault("hpa_ignored", "load/autoscaling",
          "ils-app-hpa wants twice the running replicas and the workload never scales to them"),
)


def kubeconfig_text(server: str, namespace: str = NAMESPACE) -> str:
    """A kubeconfig as JSON (which is valid YAML: no YAML library needed)."""
    config = {
        "apiVersion": "v1", "kind": "Config", "preferences": {},
        "clusters": [{"name": CONTEXT, "cluster": {"server": server}}],
        "users": [{"name": CONTEXT, "user": {"token": "ilsref-dummy-token"}}],
        "contexts": [{"name": CONTEXT, "context": {"cluster": CONTEXT, "user": CONTEXT,
                                                   "namespace": namespace}}],
        "current-context": CONTEXT,
    }
    return json.dumps(config, indent=2) + "\n"


def start(ctx: Context) -> None:
    port = free_port()
    config_dir = Path(ctx.run_config)
    config_dir.mkdir(parents=True, exist_ok=True)
    src_dir = Path(__file__).resolve().parents[2]  # the directory holding the ilsref package
    python_path = os.pathsep.join(p for p in (str(src_dir), os.environ.get("PYTHONPATH")) if p)
    process = ctx.run.spawn(SERVICE, [
        sys.executable, "-m", "ilsref.k8s", "--port", str(port), "--run-dir", str(ctx.run.path),
        "--namespace", NAMESPACE, "--release", ctx.release, "--host", "localhost",
    ], env={"PYTHONPATH": python_path, "PYTHONUNBUFFERED": "1"})
    wait_for_port(port, process=process)

    server = f"http://127.0.0.1:{port}"
    kubeconfig = config_dir / "kubeconfig"
    kubeconfig.write_text(kubeconfig_text(server))
    kubeconfig.chmod(0o600)
    ctx.environment["kubernetes"] = {
        "kubeconfig": str(kubeconfig.resolve()), "context": CONTEXT, "namespace": NAMESPACE,
        "deployment": DEPLOYMENT, "container": DEPLOYMENT,
    }
    ctx.facts["kube_api"] = server
    ctx.facts["kube_port"] = port
