"""Container logs: a few realistic lines per pod, generated from the pod's state on each read."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from ilsref.k8s import meta
from ilsref.k8s.store import ApiError, Obj

REQUEST_EVERY = timedelta(seconds=30)
RECENT_REQUESTS = 20  # request lines in the last ten minutes
STACK = [
    "Error: connect ECONNREFUSED 10.96.33.7:6379",
    "    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)",
    "    at RedisClient.sendCommand (/app/node_modules/@redis/client/dist/lib/client/index.js:515:23)",
    "    at SessionStore.get (/app/dist/server/session.js:88:31)",
]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _app_lines(pod: Obj, version: str, crashing: bool, errors: bool) -> list[tuple[datetime, str]]:
    started = meta.parse_iso(pod["metadata"]["creationTimestamp"])
    base = {"pid": 1, "hostname": pod["metadata"]["name"], "service": "ils-app", "version": version}

    def line(moment: datetime, level: str, msg: str, **extra: Any) -> tuple[datetime, str]:
        return moment, json.dumps({"level": level, "time": _stamp(moment), **base, "msg": msg, **extra},
                                  separators=(",", ":"))

    lines = [
        line(started + timedelta(seconds=2), "info", "Starting ILS server", nodeEnv="production"),
        line(started + timedelta(seconds=3), "info", "Database connection established",
             database="ils_db"),
        line(started + timedelta(seconds=3, milliseconds=400), "info", "Redis connection established"),
        line(started + timedelta(seconds=4), "info", "Migrations up to date", applied=42),
        line(started + timedelta(seconds=4, milliseconds=200), "info", "Server listening on port 5000"),
    ]
    if crashing:
        moment = started + timedelta(seconds=5)
        lines.append(line(moment, "fatal", "Uncaught exception, shutting down",
                          err={"type": "Error", "message": STACK[0], "stack": "\n".join(STACK)}))
        return lines
    now = meta.now()
    for index in range(RECENT_REQUESTS, 0, -1):
        moment = now - index * REQUEST_EVERY
        if moment <= started + timedelta(seconds=5):
            continue
        lines.append(line(moment, "info", "request completed", method="GET", url="/api/health",
                          statusCode=200, responseTime=2 + index % 5))
        if errors and index % 4 == 0:
            lines.append(line(moment, "error", "Unhandled error in request handler", url="/api/orders",
                              statusCode=500, err={"type": "Error", "message": STACK[0]}))
            lines.append((moment, f"ERROR {STACK[0]}"))
            lines.extend((moment, frame) for frame in STACK[1:])
    return lines


def _plain_lines(pod: Obj, container: str) -> list[tuple[datetime, str]]:
    started = meta.parse_iso(pod["metadata"]["creationTimestamp"]) + timedelta(seconds=1)
    if container == "postgres":
        texts = ["LOG:  starting PostgreSQL 15.6 on x86_64-pc-linux-musl",
                 'LOG:  listening on IPv4 address "0.0.0.0", port 5432',
                 "LOG:  database system is ready to accept connections"]
        return [(started, f"{started:%Y-%m-%d %H:%M:%S.000} UTC [1] {t}") for t in texts]
    texts = ["* Redis version=7.2.4, bits=64, commit=00000000, modified=0, pid=1, just started",
             "* Server initialized", "* Ready to accept connections tcp"]
    return [(started, f"1:M {started:%d %b %Y %H:%M:%S.000} {t}") for t in texts]


def _container_name(pod: Obj, requested: str | None) -> str:
    names = [c["name"] for c in pod["spec"].get("containers") or []]
    if requested is None:
        if len(names) != 1:
            raise ApiError(400, "BadRequest", f"a container name must be specified for pod "
                           f"{pod['metadata']['name']}, choose one of: {names}")
        return names[0]
    if requested not in names:
        raise ApiError(400, "BadRequest",
                       f"container {requested} is not valid for pod {pod['metadata']['name']}")
    return requested


def _waiting_reason(pod: Obj, container: str) -> str | None:
    for status in (pod.get("status") or {}).get("containerStatuses") or []:
        if status["name"] == container:
            return (status.get("state") or {}).get("waiting", {}).get("reason")
    return None


def render(pod: Obj, params: dict[str, str], *, app: str, error_logs: bool) -> str:
    """The log text for `GET pods/<name>/log` with its query parameters."""
    container = _container_name(pod, params.get("container"))
    waiting = _waiting_reason(pod, container)
    previous = params.get("previous") in ("true", "1")
    if waiting == "ImagePullBackOff":
        raise ApiError(400, "BadRequest", f'container "{container}" in pod "{pod["metadata"]["name"]}" '
                       "is waiting to start: trying and failing to pull image")
    if previous and waiting != "CrashLoopBackOff":
        raise ApiError(400, "BadRequest", f'previous terminated container "{container}" in pod '
                       f'"{pod["metadata"]["name"]}" not found')
    if container == app:
        image = next(c["image"] for c in pod["spec"]["containers"] if c["name"] == container)
        version = image.rsplit(":", 1)[-1]
        lines = _app_lines(pod, version, crashing=waiting == "CrashLoopBackOff", errors=error_logs)
    else:
        lines = _plain_lines(pod, container)
    if params.get("sinceSeconds"):
        cutoff = meta.now() - timedelta(seconds=int(params["sinceSeconds"]))
        lines = [(t, text) for t, text in lines if t >= cutoff]
    if params.get("tailLines"):
        lines = lines[-int(params["tailLines"]):] if int(params["tailLines"]) > 0 else []
    if params.get("timestamps") in ("true", "1"):
        return "".join(f"{t:%Y-%m-%dT%H:%M:%S.%f}000Z {text}\n" for t, text in lines)
    return "".join(f"{text}\n" for _, text in lines)
