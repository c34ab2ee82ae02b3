"""Kubernetes reads as plain facts, over the official `kubernetes` client (imported lazily).

Read-only. Every call has a timeout; a missing object is `None`; an unreachable or refusing API
server raises `KubeUnavailable` with a one-line reason, so a check can end as not verified.
Secrets are never returned with their values: only key names, value lengths, type, creation
time and annotations (which hold the rotation time).
"""

from __future__ import annotations

import base64
import datetime as dt
from dataclasses import dataclass, field
from typing import Any


class KubeUnavailable(RuntimeError):
    """The API server could not be asked (connection, authentication, configuration)."""


@dataclass(frozen=True)
class EnvVar:
    name: str
    value: str | None = None  # a literal value from the manifest
    secret: tuple[str, str] | None = None  # (secret name, key) for secretKeyRef
    configmap: tuple[str, str] | None = None  # (config map name, key) for configMapKeyRef


@dataclass(frozen=True)
class Container:
    name: str
    image: str
    env: tuple[EnvVar, ...] = ()
    env_from_configmaps: tuple[str, ...] = ()
    env_from_secrets: tuple[str, ...] = ()
    has_liveness: bool = False
    has_readiness: bool = False
    resources: dict[str, Any] = field(default_factory=dict)

    @property
    def tag(self) -> str:
        last = self.image.rsplit("/", 1)[-1]
        return last.split("@", 1)[0].rsplit(":", 1)[1] if ":" in last else "latest"


@dataclass(frozen=True)
class Deployment:
    name: str
    namespace: str
    replicas: int
    ready: int
    updated: int
    available: int
    generation: int
    observed_generation: int
    revision: str | None
    containers: tuple[Container, ...]
    conditions: tuple[dict[str, Any], ...]
    created: dt.datetime | None
    labels: dict[str, str] = field(default_factory=dict)
    annotations: dict[str, str] = field(default_factory=dict)

    def container(self, name: str | None = None) -> Container | None:
        for c in self.containers:
            if name is None or c.name == name:
                return c
        return None


@dataclass(frozen=True)
class ReplicaSet:
    name: str
    revision: str | None
    replicas: int
    ready: int
    created: dt.datetime | None
    images: tuple[str, ...]


@dataclass(frozen=True)
class Pod:
    name: str
    phase: str
    ready: bool
    restarts: int
    waiting_reasons: tuple[str, ...]
    images: tuple[str, ...]
    created: dt.datetime | None
    labels: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ConfigMap:
    name: str
    data: dict[str, str]
    created: dt.datetime | None


@dataclass(frozen=True)
class SecretFacts:
    """A Secret without its values."""

    name: str
    type: str
    key_lengths: dict[str, int]  # key -> length of the decoded value in bytes
    created: dt.datetime | None
    annotations: dict[str, str] = field(default_factory=dict)

    @property
    def keys(self) -> list[str]:
        return sorted(self.key_lengths)


def _when(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    return _when(dt.datetime.fromisoformat(str(value)))


def _container(c: Any) -> Container:
    env = []
    for e in c.env or []:
        source = e.value_from
        secret = configmap = None
        if source is not None and source.secret_key_ref is not None:
            secret = (source.secret_key_ref.name, source.secret_key_ref.key)
        if source is not None and source.config_map_key_ref is not None:
            configmap = (source.config_map_key_ref.name, source.config_map_key_ref.key)
        env.append(EnvVar(e.name, e.value, secret, configmap))
    env_from = c.env_from or []
    resources = c.resources.to_dict() if c.resources is not None else {}
    return Container(
        name=c.name, image=c.image or "", env=tuple(env),
        env_from_configmaps=tuple(s.config_map_ref.name for s in env_from if s.config_map_ref),
        env_from_secrets=tuple(s.secret_ref.name for s in env_from if s.secret_ref),
        has_liveness=c.liveness_probe is not None, has_readiness=c.readiness_probe is not None,
        resources={k: v for k, v in resources.items() if v})


def _revision(meta: Any) -> str | None:
    return (meta.annotations or {}).get("deployment.kubernetes.io/revision")


class K8s:
    """`K8s(kubeconfig, context, namespace)`; each method reads one kind of object."""

    def __init__(self, kubeconfig: str | None = None, context: str | None = None,
                 namespace: str = "default", timeout_s: float = 10.0) -> None:
        try:
            from kubernetes import client, config
        except ImportError as exc:  # pragma: no cover - a declared dependency
            raise KubeUnavailable("the `kubernetes` package is not installed") from exc
        self.namespace = namespace
        self.timeout_s = timeout_s
        try:
            if kubeconfig or context:
                api = config.new_client_from_config(  # type: ignore[no-untyped-call]  # untyped library
                    config_file=kubeconfig, context=context)
            else:
                config.load_incluster_config()  # type: ignore[no-untyped-call]  # untyped library
                api = client.ApiClient()
        except Exception as exc:  # noqa: BLE001 - the loader raises many types; all mean "cannot ask"
            raise KubeUnavailable(f"cannot load the Kubernetes configuration "
                                  f"(kubeconfig {kubeconfig!r}, context {context!r}): {exc}") from None
        self._client = client
        self.core = client.CoreV1Api(api)
        self.apps = client.AppsV1Api(api)
        self.api = api

    def _call(self, method: Any, *args: Any, **kwargs: Any) -> Any:
        from kubernetes.client.exceptions import ApiException

        try:
            return method(*args, _request_timeout=self.timeout_s, **kwargs)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise KubeUnavailable(f"the Kubernetes API answered {exc.status} {exc.reason}") from None
        except Exception as exc:  # noqa: BLE001 - urllib3 connection and timeout errors
            raise KubeUnavailable(f"the Kubernetes API could not be reached: {type(exc).__name__}: "
                                  f"{str(exc).splitlines()[0][:200]}") from None

    def _plain(self, obj: Any) -> dict[str, Any] | None:
        return None if obj is None else self.api.sanitize_for_serialization(obj)

    # --- workloads -------------------------------------------------------------------------

    def deployment(self, name: str) -> Deployment | None:
        d = self._call(self.apps.read_namespaced_deployment, name, self.namespace)
        if d is None:
            return None
        status = d.status
        return Deployment(
            name=d.metadata.name, namespace=d.metadata.namespace, replicas=d.spec.replicas or 0,
            ready=status.ready_replicas or 0, updated=status.updated_replicas or 0,
            available=status.available_replicas or 0, generation=d.metadata.generation or 0,
            observed_generation=status.observed_generation or 0, revision=_revision(d.metadata),
            containers=tuple(_container(c) for c in d.spec.template.spec.containers),
            conditions=tuple(self._plain(c) or {} for c in status.conditions or []),
            created=_when(d.metadata.creation_timestamp), labels=dict(d.metadata.labels or {}),
            annotations=dict(d.metadata.annotations or {}))

    def replicasets(self, selector: str) -> list[ReplicaSet]:
        listed = self._call(self.apps.list_namespaced_replica_set, self.namespace,
                            label_selector=selector)
        return [ReplicaSet(
            name=r.metadata.name, revision=_revision(r.metadata), replicas=r.status.replicas or 0,
            ready=r.status.ready_replicas or 0, created=_when(r.metadata.creation_timestamp),
            images=tuple(c.image for c in r.spec.template.spec.containers))
            for r in (listed.items if listed else [])]

    def pods(self, selector: str) -> list[Pod]:
        listed = self._call(self.core.list_namespaced_pod, self.namespace, label_selector=selector)
        pods = []
        for p in listed.items if listed else []:
            statuses = p.status.container_statuses or []
            pods.append(Pod(
                name=p.metadata.name, phase=p.status.phase or "Unknown",
                ready=bool(statuses) and all(s.ready for s in statuses),
                restarts=sum(s.restart_count or 0 for s in statuses),
                waiting_reasons=tuple(s.state.waiting.reason for s in statuses
                                      if s.state and s.state.waiting and s.state.waiting.reason),
                images=tuple(c.image for c in p.spec.containers),
                created=_when(p.metadata.creation_timestamp), labels=dict(p.metadata.labels or {})))
        return pods

    def pod_logs(self, pod: str, container: str | None = None, since_s: int | None = None,
                 tail_lines: int | None = 500) -> str:
        kwargs: dict[str, Any] = {"tail_lines": tail_lines}
        if container:
            kwargs["container"] = container
        if since_s:
            kwargs["since_seconds"] = since_s
        return self._call(self.core.read_namespaced_pod_log, pod, self.namespace, **kwargs) or ""

    # --- configuration ---------------------------------------------------------------------

    def configmap(self, name: str) -> ConfigMap | None:
        cm = self._call(self.core.read_namespaced_config_map, name, self.namespace)
        if cm is None:
            return None
        return ConfigMap(cm.metadata.name, dict(cm.data or {}), _when(cm.metadata.creation_timestamp))

    def configmaps(self) -> list[ConfigMap]:
        listed = self._call(self.core.list_namespaced_config_map, self.namespace)
        return [ConfigMap(c.metadata.name, dict(c.data or {}), _when(c.metadata.creation_timestamp))
                for c in (listed.items if listed else [])]

    def secret(self, name: str) -> SecretFacts | None:
        return self._secret_facts(self._call(self.core.read_namespaced_secret, name, self.namespace))

    def secrets(self) -> list[SecretFacts]:
        listed = self._call(self.core.list_namespaced_secret, self.namespace)
        return [f for s in (listed.items if listed else []) if (f := self._secret_facts(s))]

    @staticmethod
    def _secret_facts(s: Any) -> SecretFacts | None:
        if s is None:
            return None
        lengths = {k: len(base64.b64decode(v or "")) for k, v in (s.data or {}).items()}
        lengths.update({k: len((v or "").encode()) for k, v in (s.string_data or {}).items()})
        return SecretFacts(s.metadata.name, s.type or "Opaque", lengths,
                           _when(s.metadata.creation_timestamp), dict(s.metadata.annotations or {}))

    # --- other objects, as plain dictionaries -----------------------------------------------

    def hpa(self, name: str) -> dict[str, Any] | None:
        api = self._client.AutoscalingV2Api(self.api)
        return self._plain(self._call(api.read_namespaced_horizontal_pod_autoscaler, name, self.namespace))

    def pdb(self, name: str) -> dict[str, Any] | None:
        api = self._client.PolicyV1Api(self.api)
        return self._plain(self._call(api.read_namespaced_pod_disruption_budget, name, self.namespace))

    def ingress(self, name: str) -> dict[str, Any] | None:
        api = self._client.NetworkingV1Api(self.api)
        return self._plain(self._call(api.read_namespaced_ingress, name, self.namespace))

    def service(self, name: str) -> dict[str, Any] | None:
        return self._plain(self._call(self.core.read_namespaced_service, name, self.namespace))

    def endpoints(self, name: str) -> dict[str, Any] | None:
        return self._plain(self._call(self.core.read_namespaced_endpoints, name, self.namespace))

    # --- the cluster itself, and whole manifests (readiness) --------------------------------

    def version(self) -> dict[str, Any]:
        """GET /version: raises KubeUnavailable when the API server does not answer."""
        found = self._call(self._client.VersionApi(self.api).get_code)
        return self._plain(found) or {}

    def namespace_phase(self, name: str) -> str | None:
        """The namespace's phase ('Active', 'Terminating'), or None when it does not exist."""
        found = self._call(self.core.read_namespace, name)
        return None if found is None else (found.status.phase if found.status else "Unknown")

    def deployment_manifest(self, name: str) -> dict[str, Any] | None:
        """The whole Deployment as the API serves it (probes, resources, strategy, status)."""
        return self._plain(self._call(self.apps.read_namespaced_deployment, name, self.namespace))
