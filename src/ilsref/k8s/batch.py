"""Admission of batch/v1 Jobs and CronJobs and of PersistentVolumeClaims: the API server's
defaults and the validation rules a manifest most often breaks, with its error wording.

The emulator stores and serves these objects (get, list, watch, apply, delete) but runs no pods
for them: no Job controller, no CronJob scheduler. What it proves is that a manifest is accepted
by a Kubernetes API and is shaped as the server would keep it.
"""

from __future__ import annotations

import copy
import re
from typing import Any

from ilsref.k8s.store import ApiError

Obj = dict[str, Any]

_JOB_RESTART = ("OnFailure", "Never")
_POLICIES = ("Allow", "Forbid", "Replace")
_MACROS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
# minute, hour, day of month, month, day of week
_RANGES = [(0, 59), (0, 23), (1, 31), (1, 12), (0, 7)]
_NAMES = {3: ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"],
          4: ["sun", "mon", "tue", "wed", "thu", "fri", "sat"]}
_DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$")


def _cron_field(text: str, index: int) -> bool:
    low, high = _RANGES[index]
    for part in text.split(","):
        base, _, step = part.partition("/")
        if step and not (step.isdigit() and int(step) > 0):
            return False
        if base in ("*", "?"):
            continue
        bounds = base.split("-")
        if len(bounds) > 2:
            return False
        values = []
        for b in bounds:
            names = _NAMES.get(index, [])
            if b.lower() in names:
                values.append(names.index(b.lower()) + (1 if index == 3 else 0))
            elif b.isdigit():
                values.append(int(b))
            else:
                return False
        if any(v < low or v > high for v in values) or (len(values) == 2 and values[0] > values[1]):
            return False
    return True


def valid_schedule(schedule: str) -> bool:
    """Standard five-field cron or a macro, as the CronJob controller's parser accepts."""
    text = schedule.strip()
    if text.startswith(("TZ=", "CRON_TZ=")):
        return False  # the API server rejects time zones in the schedule (use spec.timeZone)
    if text in _MACROS:
        return True
    if text.startswith("@every "):
        return bool(re.fullmatch(r"@every (\d+(ns|us|µs|ms|s|m|h))+", text))
    fields = text.split()
    return len(fields) == 5 and all(_cron_field(f, i) for i, f in enumerate(fields))


def _pod_template(template: Any, path: str, problems: list[str]) -> None:
    if not isinstance(template, dict) or not isinstance(template.get("spec"), dict):
        problems.append(f"{path}.spec: Required value")
        return
    spec = template["spec"]
    spec.setdefault("restartPolicy", "Always")  # the pod defaulting happens before validation
    if spec["restartPolicy"] not in _JOB_RESTART:
        problems.append(f'{path}.spec.restartPolicy: Unsupported value: "{spec["restartPolicy"]}": '
                        'supported values: "OnFailure", "Never"')
    containers = spec.get("containers")
    if not isinstance(containers, list) or not containers:
        problems.append(f"{path}.spec.containers: Required value")
        return
    for n, c in enumerate(containers):
        where = f"{path}.spec.containers[{n}]"
        if not isinstance(c, dict):
            problems.append(f"{where}: Invalid value: must be an object")
            continue
        if not c.get("name"):
            problems.append(f"{where}.name: Required value")
        elif not _DNS_LABEL.match(str(c["name"])):
            problems.append(f'{where}.name: Invalid value: "{c["name"]}": must be a DNS label')
        if not c.get("image"):
            problems.append(f"{where}.image: Required value")
        c.setdefault("imagePullPolicy", "Always" if str(c.get("image", "")).endswith(":latest")
                     or ":" not in str(c.get("image", "")).rsplit("/", 1)[-1] else "IfNotPresent")
        c.setdefault("terminationMessagePath", "/dev/termination-log")
        c.setdefault("terminationMessagePolicy", "File")
    names = {str(v.get("name")) for v in spec.get("volumes", []) if isinstance(v, dict)}
    for n, c in enumerate(c for c in containers if isinstance(c, dict)):
        for m, mount in enumerate(c.get("volumeMounts", [])):
            if mount.get("name") not in names:
                problems.append(f"{path}.spec.containers[{n}].volumeMounts[{m}].name: Not found: "
                                f'"{mount.get("name")}"')
    spec.setdefault("dnsPolicy", "ClusterFirst")
    spec.setdefault("schedulerName", "default-scheduler")
    spec.setdefault("securityContext", {})
    spec.setdefault("terminationGracePeriodSeconds", 30)


def _job_spec(spec: Any, path: str, problems: list[str]) -> None:
    if not isinstance(spec, dict):
        problems.append(f"{path}: Required value")
        return
    for key, default in (("parallelism", 1), ("completions", 1), ("backoffLimit", 6)):
        spec.setdefault(key, default)
        if not isinstance(spec[key], int) or spec[key] < 0:
            problems.append(f"{path}.{key}: Invalid value: {spec[key]!r}: must be greater than or "
                            "equal to 0")
    spec.setdefault("completionMode", "NonIndexed")
    spec.setdefault("suspend", False)
    ttl = spec.get("ttlSecondsAfterFinished")
    if ttl is not None and (not isinstance(ttl, int) or ttl < 0):
        problems.append(f"{path}.ttlSecondsAfterFinished: Invalid value: {ttl!r}: must be greater "
                        "than or equal to 0")
    _pod_template(spec.get("template"), f"{path}.template", problems)


def _job(obj: Obj, problems: list[str]) -> None:
    spec = obj.get("spec")
    _job_spec(spec, "spec", problems)
    if problems or not isinstance(spec, dict):
        return
    obj.setdefault("status", {})


def bind_uid(obj: Obj) -> bool:
    """Once a Job has its uid: the generated selector and pod labels that name it (the server
    does this at create time). True when the object changed."""
    spec = obj.get("spec") or {}
    if obj.get("kind") != "Job" or spec.get("manualSelector") or spec.get("selector"):
        return False
    uid, name = obj["metadata"]["uid"], obj["metadata"]["name"]
    spec["selector"] = {"matchLabels": {"batch.kubernetes.io/controller-uid": uid}}
    labels = spec["template"].setdefault("metadata", {}).setdefault("labels", {})
    labels.update({"batch.kubernetes.io/controller-uid": uid, "controller-uid": uid,
                   "batch.kubernetes.io/job-name": name, "job-name": name})
    return True


def _cronjob(obj: Obj, problems: list[str]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        problems.append("spec: Required value")
        return
    name = obj["metadata"].get("name", "")
    if len(name) > 52:
        problems.append(f'metadata.name: Invalid value: "{name}": must be no more than 52 characters')
    schedule = spec.get("schedule")
    if not schedule:
        problems.append("spec.schedule: Required value")
    elif not valid_schedule(str(schedule)):
        problems.append(f'spec.schedule: Invalid value: "{schedule}": not a valid cron schedule')
    spec.setdefault("concurrencyPolicy", "Allow")
    if spec["concurrencyPolicy"] not in _POLICIES:
        problems.append(f'spec.concurrencyPolicy: Unsupported value: "{spec["concurrencyPolicy"]}": '
                        'supported values: "Allow", "Forbid", "Replace"')
    spec.setdefault("suspend", False)
    spec.setdefault("successfulJobsHistoryLimit", 3)
    spec.setdefault("failedJobsHistoryLimit", 1)
    template = spec.get("jobTemplate")
    if not isinstance(template, dict):
        problems.append("spec.jobTemplate: Required value")
    else:
        _job_spec(template.get("spec"), "spec.jobTemplate.spec", problems)
    obj.setdefault("status", {})


def _pvc(obj: Obj, problems: list[str]) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        problems.append("spec: Required value")
        return
    if not spec.get("accessModes"):
        problems.append("spec.accessModes: Required value: at least 1 access mode is required")
    storage = ((spec.get("resources") or {}).get("requests") or {}).get("storage")
    if not storage:
        problems.append("spec.resources[storage]: Required value")
    spec.setdefault("volumeMode", "Filesystem")
    obj["status"] = {"phase": "Pending"}  # no provisioner in the emulator


ADMIT = {"Job": _job, "CronJob": _cronjob, "PersistentVolumeClaim": _pvc}


def admit(kind: str, obj: Obj) -> Obj:
    """The object with the server's defaults, or ApiError 422 listing every problem."""
    check = ADMIT.get(kind)
    if check is None:
        return obj
    obj = copy.deepcopy(obj)
    obj.setdefault("metadata", {})
    problems: list[str] = []
    check(obj, problems)
    if problems:
        name = obj["metadata"].get("name", "")
        group = "batch" if kind in ("Job", "CronJob") else ""
        qualified = f"{kind}.{group}" if group else kind
        raise ApiError(422, "Invalid", f'{qualified} "{name}" is invalid: [{", ".join(problems)}]'
                       if len(problems) > 1 else f'{qualified} "{name}" is invalid: {problems[0]}')
    return obj
