"""Data integrity across the cutover: no table lost rows, rows from before the cutover are
unchanged, and no relation gained orphans, compared with the pre-cutover snapshot.

Before the deploy (T-4h, after the final backup): `pytest rollback/test_data_integrity.py
--cutover-snapshot --cutover-env production` saves the snapshot (row counts, max ids, checksums
of the existing rows, orphan counts of every foreign key or of `rollback.relations`) into the
ledger folder, `<reports>/history/snapshots/<env>.json`. It only reads, so it may run on
production. After the deploy the same file, without `--cutover-snapshot`, compares. A failure is
the plan's data-integrity rollback trigger: the verdict becomes ROLLBACK.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import integrity, not_applicable, unverified
from pytest_cutover.clients import pgfacts
from pytest_cutover.clients.db import Database, DbUnavailable
from pytest_cutover.settings import Environment

from_snapshot = pytest.mark.rollback_trigger("data_integrity")


@pytest.fixture(scope="module")
def snapshot_file(ledger: Any, target: Environment) -> Path:
    return integrity.snapshot_path(Path(ledger.folder), target.name)


@pytest.fixture(scope="module")
def source(database_dsns: tuple[str, str], rollback_config: dict[str, Any]) -> Any:
    dsn, _ = database_dsns
    try:
        with Database(dsn, float(rollback_config["restore_timeout_s"])) as db:
            yield db
    except DbUnavailable as exc:
        pytest.fail(f"cannot read the database: {exc}", pytrace=False)


def _relations(db: Database, config: dict[str, Any]) -> list[integrity.Relation]:
    configured = config.get("relations")
    if configured is None:
        return pgfacts.foreign_keys(db)
    try:
        return [integrity.Relation.parse(text) for text in configured]
    except ValueError as exc:
        unverified(f"rollback.relations: {exc}")


def _take(db: Database, target: Environment, config: dict[str, Any], release: str | None
          ) -> integrity.Snapshot:
    tables = target.data.get("database", {}).get("tables")
    with pgfacts.consistent(db) as (now, _):
        present = pgfacts.user_tables(db)
        missing = sorted(set(tables or []) - set(present))
        if missing:
            pytest.fail(f"database.tables names {missing} but the database has no such table",
                        pytrace=False)
        return pgfacts.snapshot(db, target.name, tables or present, _relations(db, config),
                                set(config["mutable_columns"]), tuple(config["created_columns"]),
                                now, release)


@pytest.fixture(scope="module")
def before(snapshot_wanted: bool, snapshot_file: Path, source: Database, target: Environment,
           rollback_config: dict[str, Any], served_version: Any) -> integrity.Snapshot:
    """The pre-cutover snapshot: taken and saved now with --cutover-snapshot, else the saved one."""
    if snapshot_wanted:
        taken = _take(source, target, rollback_config, served_version()[0])
        integrity.save(taken, snapshot_file)
        return taken
    try:
        saved = integrity.load(snapshot_file)
    except (ValueError, KeyError) as exc:
        unverified(f"the pre-cutover snapshot {str(snapshot_file)!r} cannot be read ({exc}); "
                   f"take a new one with --cutover-snapshot before the deploy")
    if saved is None:
        unverified(f"no pre-cutover snapshot of {target.name!r} at {str(snapshot_file)!r}: take one "
                   f"before the deploy with `pytest rollback/test_data_integrity.py "
                   f"--cutover-snapshot --cutover-env {target.name}`")
    return saved


@pytest.fixture(scope="module")
def after(before: integrity.Snapshot, source: Database, target: Environment,
          served_version: Any) -> integrity.Snapshot:
    return pgfacts.snapshot_again(source, before, target.name, served_version()[0])


@pytest.fixture
def compared(before: integrity.Snapshot, after: integrity.Snapshot, evidence: Any
             ) -> tuple[integrity.Snapshot, integrity.Snapshot]:
    evidence("pre-cutover snapshot", before.to_dict(), "json")
    evidence("facts now", after.to_dict(), "json")
    return before, after


def _since(before: integrity.Snapshot) -> str:
    return f"since the snapshot of {before.taken_at} (serving {before.served_release or '?'})"


def test_pre_cutover_snapshot_is_saved(snapshot_wanted, before, snapshot_file):
    if not snapshot_wanted:
        not_applicable(f"no --cutover-snapshot: comparing with the snapshot of {before.taken_at} "
                       f"in {snapshot_file}")
    assert before.tables, f"the snapshot of {before.source!r} holds no table"
    reloaded = integrity.load(snapshot_file)
    assert reloaded == before, f"{snapshot_file} does not read back as the snapshot just taken"


@from_snapshot
@pytest.mark.checklist("success.no-data-loss", "trigger.data-integrity")
def test_no_table_lost_rows_since_the_snapshot(compared):
    before, after = compared
    lost = integrity.lost_rows(before, after)
    assert not lost, f"{'; '.join(lost)} ({_since(before)})"


@from_snapshot
@pytest.mark.checklist("success.no-data-loss", "trigger.data-integrity")
def test_rows_from_before_the_cutover_are_unchanged(compared):
    before, after = compared
    changed = integrity.changed_history(before, after)
    assert not changed, f"{'; '.join(changed)} ({_since(before)})"


@from_snapshot
@pytest.mark.checklist("trigger.data-integrity")
def test_no_relation_gained_orphans_since_the_snapshot(compared):
    before, after = compared
    orphans = integrity.new_orphans(before, after)
    assert not orphans, f"{'; '.join(orphans)} ({_since(before)})"
