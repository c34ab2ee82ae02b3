"""Data-integrity snapshots and their comparisons: before/after the cutover, source/restore.

Pure module. A snapshot holds, per table: the row count, the largest id, a checksum of every row
and a checksum of the *historical* rows (the rows that existed when it was taken), plus orphan
counts of key relations such as `orders.patient_id -> patients.id`. The client that reads a
database (`clients/pgfacts.py`) fills it; this module saves, loads and compares.

Historical rows are the ones a later query can find again: `id <= max id` for an integer key,
`created_at <= taken_at` for a table with a creation column, none otherwise (counts only). Their
checksum covers the columns that existed at snapshot time minus mutable ones (`updated_at` …),
so a migration that adds a column does not look like changed data.

File format (`<ledger folder>/snapshots/<environment>.json`, version 1):
{"version": 1, "environment": "staging", "taken_at": "2026-11-26T10:00:00+00:00",
 "source": "ils_db", "served_release": "1.9.3",
 "tables": {"orders": {"rows": 100, "max_id": "100", "checksum": "…", "columns": ["id", …],
            "historical": {"kind": "id", "bound": "100", "rows": 100, "checksum": "…"}}},
 "orphans": {"orders.patient_id -> patients.id": 0}}
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

VERSION = 1
HISTORICAL_KINDS = ("id", "created", "none")
_RELATION = re.compile(r"^\s*(\w+)\.(\w+)\s*->\s*(\w+)\.(\w+)\s*$")


@dataclass(frozen=True)
class Relation:
    """`child.column -> parent.key`: every non-null child.column names an existing parent."""

    child: str
    column: str
    parent: str
    key: str

    @classmethod
    def parse(cls, text: str) -> Relation:
        match = _RELATION.match(text)
        if not match:
            raise ValueError(f"relation {text!r} is not of the form 'orders.patient_id -> patients.id'")
        return cls(*match.groups())

    def __str__(self) -> str:
        return f"{self.child}.{self.column} -> {self.parent}.{self.key}"


@dataclass(frozen=True)
class Historical:
    kind: str  # id | created | none
    bound: str | None  # the largest id, or the snapshot time, that still counts as historical
    rows: int = 0
    checksum: str = ""


@dataclass(frozen=True)
class TableFacts:
    rows: int
    checksum: str
    columns: tuple[str, ...]
    max_id: str | None = None
    historical: Historical = field(default_factory=lambda: Historical("none", None))


@dataclass(frozen=True)
class Snapshot:
    environment: str
    taken_at: str
    source: str
    tables: dict[str, TableFacts]
    orphans: dict[str, int] = field(default_factory=dict)
    served_release: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"version": VERSION, **asdict(self)}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Snapshot:
        if data.get("version") != VERSION:
            raise ValueError(f"snapshot format version {data.get('version')!r} (expected {VERSION})")
        tables = {name: TableFacts(
            rows=int(t["rows"]), checksum=str(t["checksum"]), columns=tuple(t["columns"]),
            max_id=t.get("max_id"), historical=Historical(**t.get("historical", {"kind": "none",
                                                                                 "bound": None})))
            for name, t in data["tables"].items()}
        return cls(environment=data["environment"], taken_at=data["taken_at"],
                   source=data.get("source", ""), tables=tables,
                   orphans={k: int(v) for k, v in data.get("orphans", {}).items()},
                   served_release=data.get("served_release"))


def snapshot_path(ledger_folder: Path, environment: str) -> Path:
    return ledger_folder / "snapshots" / f"{environment}.json"


def save(snapshot: Snapshot, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".tmp")
    partial.write_text(json.dumps(snapshot.to_dict(), indent=1) + "\n", encoding="utf-8")
    os.replace(partial, path)  # a reader never sees half a snapshot


def load(path: Path) -> Snapshot | None:
    if not path.exists():
        return None
    return Snapshot.from_dict(json.loads(path.read_text(encoding="utf-8")))


def _as_int(value: str | None) -> int | None:
    return int(value) if value is not None and value.lstrip("-").isdigit() else None


def lost_rows(before: Snapshot, after: Snapshot) -> list[str]:
    """Tables that are gone, have fewer rows, or a smaller integer max id than before."""
    found: list[str] = []
    for name, old in sorted(before.tables.items()):
        new = after.tables.get(name)
        if new is None:
            found.append(f"table {name}: missing now (had {old.rows} rows before the cutover)")
            continue
        if new.rows < old.rows:
            found.append(f"table {name}: {new.rows} rows now, {old.rows} before the cutover "
                         f"({old.rows - new.rows} fewer)")
        old_id, new_id = _as_int(old.max_id), _as_int(new.max_id)
        if old_id is not None and new_id is not None and new_id < old_id:
            found.append(f"table {name}: largest id is {new_id} now, {old_id} before the cutover")
    return found


def changed_history(before: Snapshot, after: Snapshot) -> list[str]:
    """Tables whose pre-cutover rows are not all there, unchanged."""
    found: list[str] = []
    for name, old in sorted(before.tables.items()):
        new = after.tables.get(name)
        if new is not None:
            found.extend(_historical_findings(name, old.historical, new.historical))
    return found


def new_orphans(before: Snapshot, after: Snapshot) -> list[str]:
    """Relations with more orphans than before (a relation gone with its table is `lost_rows`)."""
    found: list[str] = []
    for relation, old_count in sorted(before.orphans.items()):
        new_count = after.orphans.get(relation)
        if new_count is not None and new_count > old_count:
            found.append(f"relation {relation}: {new_count} orphans now, {old_count} before the "
                         f"cutover ({new_count - old_count} new)")
    return found


def cutover_findings(before: Snapshot, after: Snapshot) -> list[str]:
    """Every way `after` lost or altered data `before` had; empty when none."""
    return lost_rows(before, after) + changed_history(before, after) + new_orphans(before, after)


def _historical_findings(name: str, old: Historical, new: Historical) -> list[str]:
    if old.kind == "none":
        return []
    if new.rows < old.rows:
        return [(f"table {name}: {old.rows - new.rows} of the {old.rows} rows that existed before "
                "the cutover are gone")]
    if new.rows > old.rows:
        return [(f"table {name}: {new.rows} rows match the pre-cutover bound {old.bound!r}, "
                 f"{old.rows} did before (rows were added behind the bound)")]
    if new.checksum != old.checksum:
        return [(f"table {name}: rows that existed before the cutover changed (checksum "
                 f"{new.checksum[:12]} now, {old.checksum[:12]} before)")]
    return []


def restore_findings(source: dict[str, TableFacts], restored: dict[str, TableFacts],
                     tables: list[str]) -> list[str]:
    """Differences between the source (as it was at dump time) and the restored copy."""
    found: list[str] = []
    for name in tables:
        want, got = source.get(name), restored.get(name)
        if want is None:
            found.append(f"table {name}: not in the source database")
        elif got is None:
            found.append(f"table {name}: missing from the restore (source had {want.rows} rows)")
        elif got.rows != want.rows:
            gap = (f"{want.rows - got.rows} missing" if got.rows < want.rows
                   else f"{got.rows - want.rows} extra")
            found.append(f"table {name}: {got.rows} rows restored, {want.rows} in the source "
                         f"at dump time ({gap})")
        elif got.checksum != want.checksum:
            found.append(f"table {name}: same {got.rows} rows but different contents (checksum "
                         f"{got.checksum[:12]} restored, {want.checksum[:12]} in the source)")
    return found
