"""The ILS production objects (see ils-target-profile.md), loaded into a fresh store.

`ils-app` is rolled out twice, first the previous release and then the current one, so that
`kubectl rollout history` shows two revisions and `rollout undo` has somewhere to go.
"""

from __future__ import annotations

import base64
import copy
import secrets
from typing import Any

from ilsref.k8s import meta
from ilsref.k8s.controller import DeploymentController
from ilsref.k8s.podstatus import READY, pod_status
from ilsref.k8s.resources import of_kind
from ilsref.k8s.store import Obj, Store

APP = "ils-app"
SERVICE = "ils-app-service"
HPA = "ils-app-hpa"
PDB = "ils-app-pdb"
INGRESS = "ils-ingress"
CONFIG = "ils-config"
SECRETS = "ils-secrets"
TLS_SECRET = "ils-tls-cert"  # noqa: S105 - the name of a Kubernetes Secret, not a secret
IMAGE = "ghcr.io/ils/ils-app"
SECRET_KEYS = ("DATABASE_URL", "REDIS_URL", "SESSION_SECRET", "JWT_SECRET", "CSRF_SECRET")
SECRET_AGE_DAYS = 20
PART_OF = {"app.kubernetes.io/part-of": "ils"}


def _b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def namespace_object(namespace: str) -> Obj:
    labels = {"kubernetes.io/metadata.name": namespace, **PART_OF}
    return {"metadata": {"name": namespace, "labels": labels},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}


def config_map(namespace: str, host: str) -> Obj:
    return {"metadata": {"name": CONFIG, "namespace": namespace, "labels": {"app": APP, **PART_OF}},
            "data": {"NODE_ENV": "production", "PORT": "5000", "LOG_LEVEL": "info",
                     "CORS_ORIGIN": f"https://{host}", "RATE_LIMIT_WINDOW_MS": "900000",
                     "RATE_LIMIT_MAX": "100", "DB_POOL_MAX": "20", "SESSION_TIMEOUT_MINUTES": "30"}}


def app_secrets(namespace: str) -> Obj:
    values = {
        "DATABASE_URL": f"postgresql://ils_user:{secrets.token_urlsafe(24)}@postgres:5432/ils_db",
        "REDIS_URL": f"redis://:{secrets.token_urlsafe(24)}@redis:6379/0",
        **{key: secrets.token_urlsafe(48) for key in ("SESSION_SECRET", "JWT_SECRET", "CSRF_SECRET")},
    }
    return {"metadata": {"name": SECRETS, "namespace": namespace, "labels": {"app": APP, **PART_OF},
                         "annotations": {"cutover.io/rotated-at": meta.ago_iso(days=SECRET_AGE_DAYS)}},
            "type": "Opaque", "data": {k: _b64(v) for k, v in values.items()}}


def tls_secret(namespace: str, host: str) -> Obj:
    # Placeholder PEM blocks: the emulator serves no TLS, it only has to hold the secret.
    body = base64.b64encode(secrets.token_bytes(96)).decode()
    pem = f"-----BEGIN CERTIFICATE-----\n{body}\n-----END CERTIFICATE-----\n"
    key = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    return {"metadata": {"name": TLS_SECRET, "namespace": namespace, "labels": PART_OF,
                         "annotations": {"cert-manager.io/common-name": host}},
            "type": "kubernetes.io/tls", "data": {"tls.crt": _b64(pem), "tls.key": _b64(key)}}


def _probe(path: str, initial_delay: int, period: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": 5000, "scheme": "HTTP"},
            "initialDelaySeconds": initial_delay, "periodSeconds": period, "timeoutSeconds": 5,
            "failureThreshold": 3, "successThreshold": 1}


def app_container(release: str) -> dict[str, Any]:
    secret_env = [{"name": key, "valueFrom": {"secretKeyRef": {"name": SECRETS, "key": key}}}
                  for key in SECRET_KEYS]
    return {
        "name": APP, "image": f"{IMAGE}:{release}", "imagePullPolicy": "IfNotPresent",
        "ports": [{"name": "http", "containerPort": 5000, "protocol": "TCP"}],
        "envFrom": [{"configMapRef": {"name": CONFIG}}],
        "env": [{"name": "NODE_ENV", "value": "production"}, *secret_env],
        "resources": {"requests": {"cpu": "250m", "memory": "512Mi"},
                      "limits": {"cpu": "1", "memory": "2Gi"}},
        "livenessProbe": _probe("/health/live", 30, 10),
        "readinessProbe": _probe("/health/ready", 5, 5),
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "allowPrivilegeEscalation": False},
    }


def app_deployment(namespace: str, release: str) -> Obj:
    labels = {"app": APP, **PART_OF}
    return {
        "metadata": {"name": APP, "namespace": namespace, "labels": labels},
        "spec": {
            "replicas": 3, "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600,
            "selector": {"matchLabels": {"app": APP}},
            "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0}},
            "template": {
                "metadata": {"labels": labels, "annotations": {
                    "prometheus.io/scrape": "true", "prometheus.io/port": "5000",
                    "prometheus.io/path": "/metrics"}},
                "spec": {"containers": [app_container(release)], "terminationGracePeriodSeconds": 30},
            },
        },
    }


def _service(namespace: str, name: str, app: str, port: int, target: int, cluster_ip: str) -> Obj:
    return {"metadata": {"name": name, "namespace": namespace, "labels": {"app": app, **PART_OF}},
            "spec": {"type": "ClusterIP", "clusterIP": cluster_ip, "clusterIPs": [cluster_ip],
                     "selector": {"app": app}, "sessionAffinity": "None",
                     "ports": [{"name": "http" if app == APP else app, "port": port,
                                "targetPort": target, "protocol": "TCP"}]},
            "status": {"loadBalancer": {}}}


def redis_deployment(namespace: str) -> Obj:
    labels = {"app": "redis", **PART_OF}
    container = {"name": "redis", "image": "redis:7.2-alpine",
                 "ports": [{"name": "redis", "containerPort": 6379, "protocol": "TCP"}],
                 "resources": {"requests": {"cpu": "100m", "memory": "128Mi"},
                               "limits": {"cpu": "500m", "memory": "512Mi"}}}
    return {"metadata": {"name": "redis", "namespace": namespace, "labels": labels},
            "spec": {"replicas": 1, "selector": {"matchLabels": {"app": "redis"}},
                     "strategy": {"type": "RollingUpdate",
                                  "rollingUpdate": {"maxSurge": "25%", "maxUnavailable": "25%"}},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}}}}


def postgres_statefulset(namespace: str) -> Obj:
    labels = {"app": "postgres", **PART_OF}
    container = {"name": "postgres", "image": "postgres:15-alpine",
                 "ports": [{"name": "postgres", "containerPort": 5432, "protocol": "TCP"}],
                 "env": [{"name": "POSTGRES_DB", "value": "ils_db"},
                         {"name": "POSTGRES_USER", "value": "ils_user"}],
                 "resources": {"requests": {"cpu": "250m", "memory": "512Mi"},
                               "limits": {"cpu": "1", "memory": "2Gi"}},
                 "volumeMounts": [{"name": "data", "mountPath": "/var/lib/postgresql/data"}]}
    revision = f"postgres-{meta.stable_hash('postgres', 10)}"
    return {"metadata": {"name": "postgres", "namespace": namespace, "labels": labels},
            "spec": {"replicas": 1, "serviceName": "postgres", "podManagementPolicy": "OrderedReady",
                     "selector": {"matchLabels": {"app": "postgres"}},
                     "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                     "template": {"metadata": {"labels": labels}, "spec": {"containers": [container]}},
                     "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {
                         "accessModes": ["ReadWriteOnce"],
                         "resources": {"requests": {"storage": "20Gi"}}}}]},
            "status": {"replicas": 1, "readyReplicas": 1, "currentReplicas": 1, "updatedReplicas": 1,
                       "availableReplicas": 1, "observedGeneration": 1, "collisionCount": 0,
                       "currentRevision": revision, "updateRevision": revision}}


def hpa(namespace: str) -> Obj:
    def metric(name: str, target: int) -> dict[str, Any]:
        return {"type": "Resource", "resource": {
            "name": name, "target": {"type": "Utilization", "averageUtilization": target}}}

    def current(name: str, utilization: int, value: str) -> dict[str, Any]:
        return {"type": "Resource", "resource": {
            "name": name, "current": {"averageUtilization": utilization, "averageValue": value}}}

    since = meta.ago_iso(days=2)
    conditions = [("AbleToScale", "True", "ReadyForNewScale", "recommended size matches current size"),
                  ("ScalingActive", "True", "ValidMetricFound",
                   "the HPA was able to successfully calculate a replica count from cpu resource "
                   "utilization (percentage of request)"),
                  ("ScalingLimited", "False", "DesiredWithinRange",
                   "the desired count is within the acceptable range")]
    return {"metadata": {"name": HPA, "namespace": namespace, "labels": {"app": APP, **PART_OF}},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": APP},
                     "minReplicas": 3, "maxReplicas": 10,
                     "metrics": [metric("cpu", 70), metric("memory", 80)]},
            "status": {"currentReplicas": 3, "desiredReplicas": 3, "observedGeneration": 1,
                       "currentMetrics": [current("cpu", 23, "58m"), current("memory", 41, "214Mi")],
                       "conditions": [{"type": t, "status": s, "reason": r, "message": m,
                                       "lastTransitionTime": since} for t, s, r, m in conditions]}}


def pdb(namespace: str) -> Obj:
    return {"metadata": {"name": PDB, "namespace": namespace, "labels": {"app": APP, **PART_OF}},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": APP}}}}


def ingress(namespace: str, host: str) -> Obj:
    backend = {"service": {"name": SERVICE, "port": {"number": 80}}}
    return {"metadata": {"name": INGRESS, "namespace": namespace, "labels": {"app": APP, **PART_OF},
                         "annotations": {"nginx.ingress.kubernetes.io/force-ssl-redirect": "true",
                                         "nginx.ingress.kubernetes.io/ssl-redirect": "true",
                                         "cert-manager.io/cluster-issuer": "letsencrypt-prod"}},
            "spec": {"ingressClassName": "nginx", "tls": [{"hosts": [host], "secretName": TLS_SECRET}],
                     "rules": [{"host": host, "http": {"paths": [
                         {"path": "/", "pathType": "Prefix", "backend": backend}]}}]},
            "status": {"loadBalancer": {"ingress": [{"ip": "127.0.0.1"}]}}}


def _postgres_pod(store: Store, statefulset: Obj) -> None:
    template = statefulset["spec"]["template"]
    labels = {**template["metadata"]["labels"], "statefulset.kubernetes.io/pod-name": "postgres-0",
              "controller-revision-hash": statefulset["status"]["currentRevision"],
              "apps.kubernetes.io/pod-index": "0"}
    pod = {"metadata": {"name": "postgres-0", "namespace": statefulset["metadata"]["namespace"],
                        "labels": labels, "ownerReferences": [meta.owner_reference(statefulset)]},
           "spec": {**copy.deepcopy(template["spec"]), "hostname": "postgres-0", "subdomain": "postgres",
                    "nodeName": "ils-node-1", "restartPolicy": "Always"}}
    pods = of_kind("Pod")
    created = store.create(pods, pod, created=statefulset["metadata"]["creationTimestamp"])
    created["status"] = pod_status(created, READY, "10.244.1.5")
    store.update(pods, created)


def load(store: Store, controller: DeploymentController, *, namespace: str, release: str,
         previous_release: str, host: str) -> None:
    """Create every object; faults are ignored while seeding so the history is a healthy one."""
    def create(kind: str, obj: Obj, **age: float) -> Obj:
        return store.create(of_kind(kind), obj, created=meta.ago_iso(**age))

    controller.ignore_faults = True
    try:
        controller.created_at = lambda: meta.ago_iso(days=30)
        create("Namespace", namespace_object(namespace), days=30)
        create("ConfigMap", config_map(namespace, host), days=30)
        create("Secret", app_secrets(namespace), days=SECRET_AGE_DAYS)
        create("Secret", tls_secret(namespace, host), days=30)
        create("Service", _service(namespace, SERVICE, APP, 80, 5000, "10.96.120.15"), days=30)
        create("Service", _service(namespace, "redis", "redis", 6379, 6379, "10.96.33.7"), days=30)
        postgres_service = _service(namespace, "postgres", "postgres", 5432, 5432, "None")
        create("Service", postgres_service, days=30)
        _postgres_pod(store, create("StatefulSet", postgres_statefulset(namespace), days=30))
        create("Deployment", redis_deployment(namespace), days=30)
        create("Deployment", app_deployment(namespace, previous_release), days=30)
        controller.reconcile_all()

        controller.created_at = lambda: meta.ago_iso(days=2)
        deployment = store.get(of_kind("Deployment"), namespace, APP)
        deployment["spec"]["template"]["spec"]["containers"] = [app_container(release)]
        store.update(of_kind("Deployment"), deployment)
        controller.reconcile_all()

        create("HorizontalPodAutoscaler", hpa(namespace), days=30)
        create("PodDisruptionBudget", pdb(namespace), days=30)
        create("Ingress", ingress(namespace, host), days=30)
        controller.reconcile_all()
    finally:
        controller.created_at = meta.now_iso
        controller.ignore_faults = False
    controller.reconcile_all()
