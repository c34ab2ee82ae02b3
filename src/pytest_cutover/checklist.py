"""The checklist catalogue: every item of the cutover plan, and its status in a run.

Pure module. The catalogue is a data file (data/checklist.toml); checks link to items with
`@pytest.mark.checklist("id", ...)`. An item's status in a run comes from the checks linked to it.
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from typing import Any

PHASES = {
    "t-7d": "T-7 days", "t-24h": "T-24 hours", "t-4h": "T-4 hours", "go-no-go": "Go/no-go",
    "deploy": "Deployment", "verification": "Verification", "monitoring": "Monitoring",
    "rollback-trigger": "Rollback triggers", "rollback": "Rollback procedures",
    "t+24h": "T+24 hours", "success": "Success criteria", "week-1": "First week",
    "alert-thresholds": "Alert thresholds", "pre-flight": "Pre-flight summary",
}

# Status words, worst first (the matrix shows the worst status of an item's linked checks).
FAILED, PENDING, NOT_VERIFIED, WAIVED, NOT_APPLICABLE, VERIFIED = (
    "failed", "pending sign-off", "not verified", "waived", "not applicable", "verified")
_RANK = [FAILED, PENDING, NOT_VERIFIED, WAIVED, NOT_APPLICABLE, VERIFIED]
_FROM_OUTCOME = {"failed": FAILED, "error": FAILED, "pending": PENDING, "unverified": NOT_VERIFIED,
                 "blocked": NOT_VERIFIED, "waived": WAIVED, "not_applicable": NOT_APPLICABLE,
                 "passed": VERIFIED}


@dataclass(frozen=True)
class Item:
    id: str
    phase: str
    section: str
    text: str
    kind: str = "automated"
    blocking: bool = True
    planned: str = ""
    same_as: str = ""
    thresholds: dict[str, Any] | None = None


def load() -> list[Item]:
    """The catalogue (a new list each call; the file is parsed once per process)."""
    return list(_catalogue())


@functools.cache
def _catalogue() -> tuple[Item, ...]:
    data = tomllib.loads(resources.files("pytest_cutover").joinpath("data/checklist.toml").read_text())
    fields = set(Item.__dataclass_fields__)
    return tuple(Item(**{k: v for k, v in entry.items() if k in fields}) for entry in data["item"])


def by_id(items: Iterable[Item]) -> dict[str, Item]:
    return {item.id: item for item in items}


def unknown_ids(ids: Iterable[str], items: Iterable[Item]) -> list[str]:
    known = by_id(items)
    return sorted({i for i in ids if i not in known})


def uncovered(items: Iterable[Item], covered_ids: set[str]) -> list[Item]:
    """Items neither linked to a check nor planned for later work (a defect of the catalogue)."""
    return [i for i in items if not i.same_as and i.id not in covered_ids and not i.planned]


@dataclass
class Row:
    item: Item
    status: str
    checks: list[tuple[str, str]]  # (nodeid, outcome)


def matrix(items: list[Item], results: Iterable[Any]) -> list[Row]:
    """One row per item with the worst status of its linked checks in this run."""
    linked: dict[str, list[tuple[str, str]]] = {}
    for result in results:
        for item_id in result.checklist:
            linked.setdefault(item_id, []).append((result.nodeid, result.outcome))
    rows = []
    index = by_id(items)
    for item in items:
        source = index.get(item.same_as, item) if item.same_as else item
        checks = linked.get(source.id, [])
        statuses = [_FROM_OUTCOME.get(o, NOT_VERIFIED) for _, o in checks]
        # a check declared not applicable is neutral: the item is not applicable only when all are
        judged = [st for st in statuses if st != NOT_APPLICABLE]
        if not statuses:
            status = NOT_VERIFIED
        elif judged:
            status = min(judged, key=_RANK.index)
        else:
            status = NOT_APPLICABLE
        rows.append(Row(item, status, checks))
    return rows
