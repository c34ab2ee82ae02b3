"""Fault switches: each breaks one thing a check looks at, so the check can be seen to fail.

Each service module declares its faults in a module-level `FAULTS` tuple; this module gathers them.
The active set lives in `run/faults.json` so every process (app, emulators, stand-ins) sees changes
made at run time by `python -m ilsref fault set/clear`.
"""

from __future__ import annotations

import importlib
import json
import os
from dataclasses import dataclass
from pathlib import Path

# Service modules that declare faults, in the order `ilsref faults` lists them.
FAULT_MODULES = (
    "ilsref.services.app",
    "ilsref.services.postgres",
    "ilsref.services.redis",
    "ilsref.services.kubernetes",
    "ilsref.services.monitoring",
    "ilsref.services.standins",
    "ilsref.services.dns",
    "ilsref.services.backups",
    "ilsref.services.governance",
    "ilsref.services.loadfaults",
    "ilsref.services.rollbackfaults",
    "ilsref.services.uifaults",
)


@dataclass(frozen=True)
class Fault:
    name: str
    family: str  # the check family it breaks, e.g. "smoke/headers"
    description: str  # one line: what the target does wrong
    restart: bool = False  # True when it only takes effect at `up` (e.g. a server flag)


def all_faults() -> dict[str, Fault]:
    found: dict[str, Fault] = {}
    for module_name in FAULT_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name != module_name:
                raise
            continue
        for fault in getattr(module, "FAULTS", ()):
            if fault.name in found:
                raise ValueError(f"fault {fault.name!r} declared twice")
            found[fault.name] = fault
    return found


def unknown(names: list[str]) -> list[str]:
    known = all_faults()
    return [n for n in names if n not in known]


class FaultState:
    """Reads the active fault set from run/faults.json, re-reading only when the file changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stamp: float | None = None
        self._active: frozenset[str] = frozenset()

    def active(self) -> frozenset[str]:
        try:
            stamp = os.stat(self.path).st_mtime_ns
        except FileNotFoundError:
            return frozenset()
        if stamp != self._stamp:
            try:
                self._active = frozenset(json.loads(self.path.read_text()).get("active", []))
                self._stamp = stamp
            except (ValueError, OSError):
                pass  # a write in progress; keep the last good set
        return self._active

    def __contains__(self, name: str) -> bool:
        return name in self.active()

    def write(self, names: set[str]) -> None:
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"active": sorted(names)}))
        os.replace(tmp, self.path)  # atomic: readers never see half a file
