"""Small helpers for object metadata: timestamps, generated names, owner references."""

from __future__ import annotations

import hashlib
import json
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

# The alphabet Kubernetes uses for generated name suffixes (no vowels, no look-alike digits).
NAME_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def now() -> datetime:
    return datetime.now(UTC)


def now_iso() -> str:
    return iso(now())


def ago_iso(**delta: float) -> str:
    return iso(now() - timedelta(**delta))


def parse_iso(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)


def random_suffix(length: int = 5) -> str:
    return "".join(random.choice(NAME_ALPHABET) for _ in range(length))


def stable_hash(value: Any, length: int = 10) -> str:
    """A name-safe hash of a JSON value (what `pod-template-hash` is to a pod template)."""
    digest = hashlib.sha256(json.dumps(value, sort_keys=True).encode()).digest()
    return "".join(NAME_ALPHABET[b % len(NAME_ALPHABET)] for b in digest[:length])


def owner_reference(owner: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": owner["apiVersion"], "kind": owner["kind"],
        "name": owner["metadata"]["name"], "uid": owner["metadata"]["uid"],
        "controller": True, "blockOwnerDeletion": True,
    }


def controller_uid(obj: dict[str, Any]) -> str | None:
    for ref in obj.get("metadata", {}).get("ownerReferences") or []:
        if ref.get("controller"):
            return str(ref["uid"])
    return None


def labels(obj: dict[str, Any]) -> dict[str, str]:
    return obj.get("metadata", {}).get("labels") or {}


def annotations(obj: dict[str, Any]) -> dict[str, str]:
    return obj.get("metadata", {}).get("annotations") or {}


def resolve_count(value: Any, total: int, round_up: bool) -> int:
    """An int-or-percent field (maxSurge, minAvailable …) as a count of `total`."""
    if isinstance(value, str) and value.endswith("%"):
        exact = total * int(value[:-1]) / 100
        return math.ceil(exact) if round_up else math.floor(exact)
    return int(value)


def condition(kind: str, value: tuple[str, str, str], old: dict[str, Any]) -> dict[str, Any]:
    """A status condition; the previous one (with its timestamps) when nothing changed."""
    status, reason, message = value
    previous = old.get(kind)
    if previous and (previous["status"], previous.get("reason"), previous.get("message")) == value:
        return dict(previous)
    stamp = now_iso()
    return {"type": kind, "status": status, "reason": reason, "message": message,
            "lastUpdateTime": stamp, "lastTransitionTime": stamp}
