"""Restore drill: the newest backup restores into a scratch database, without error, with the
source's row counts and contents, within the restore-time objective (RTO).

Every archive of the newest backup is restored (a custom-format `.dump` with
`pg_restore --exit-on-error`, a plain `.sql` or `.sql.gz` through `psql -v ON_ERROR_STOP=1`),
each into a fresh scratch database on the source's server, never over the source. With
`rollback.restore_from = "pg_dump"` the drill makes a fresh `pg_dump -Fc` instead, at a snapshot
exported from the transaction that reads the source, so both describe the same instant.
Otherwise the source is read in one snapshot taken as the restore starts (its side is read while
pg_restore runs), bounded to the backup's moment where it can be: only the rows up to the restored
copy's largest integer key, else its latest `created_at`, are compared, so rows written since the
backup are not differences (rows deleted or changed since still are; tables with neither are
compared whole — name the stable ones in `database.tables`). Counts and checksums are computed
inside PostgreSQL (one hash aggregate per table and side); the copy's on two connections at once,
each table as soon as a parallel pg_restore has finished with it (its data and keys, followed in
pg_restore's verbose log), the rest after the restore; the source's rows past the copy's bounds
taken off in the same snapshot. While pg_restore runs, the drill's scans wait for one of its job
slots to be free, so that they do not slow the restore whose time is the RTO (the reading of
both sides: src/pytest_cutover/restore_sides.py).
Needs `database.scratch_allowed = true`; the scratch database is dropped afterwards.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import restore_sides, unverified
from pytest_cutover.clients import backups as backup_listing
from pytest_cutover.clients import pgfacts, pgrestore
from pytest_cutover.clients.db import Database, DbUnavailable
from pytest_cutover.clients.restore_progress import RestoreProgress, parse_list
from pytest_cutover.integrity import TableFacts, restore_findings
from pytest_cutover.settings import Environment, Unavailable

pytestmark = pytest.mark.destructive


@dataclass
class RestoreOutcome:
    archive: str
    restored: pgrestore.Restored
    findings_counts: list[str] = field(default_factory=list)
    findings_contents: list[str] = field(default_factory=list)
    read_at: str = ""  # when the source was read for this comparison (bounded drills)
    read_during: list[str] = field(default_factory=list)  # copy tables read before the restore ended


@dataclass
class RestoreDrill:
    scratch: str
    source: str
    baseline: str  # how the source's facts were taken
    tables: list[str]
    outcomes: list[RestoreOutcome]
    dropped: Future[bool] | None = None  # the scratch's drop, confirmed (run while checks report)

    @property
    def scratch_left(self) -> bool:
        return self.dropped is not None and not self.dropped.result()


def _permission(target: Environment, config: dict[str, Any], source: str) -> str:
    database = target.component("database")
    if database.get("scratch_allowed") is not True:
        unverified(f"refused: the restore drill creates and drops a scratch database on the "
                   f"source's server; allow it with [environments.{target.name}.database] "
                   f"scratch_allowed = true")
    scratch = config.get("scratch_database") or pgrestore.default_scratch(source)
    try:
        pgrestore.check_scratch_name(scratch, source)
    except pgrestore.RestoreRefused as exc:
        unverified(f"refused: {exc}")
    return scratch


def _source_facts(admin_dsn: str, source: str, config: dict[str, Any], tables: list[str] | None,
                  dump_to: Path | None) -> tuple[dict[str, TableFacts], list[str], str]:
    mutable = set(config["mutable_columns"])
    with (Database(pgrestore.with_database(admin_dsn, source), float(config["restore_timeout_s"])) as db,
          pgfacts.consistent(db, export_snapshot=dump_to is not None) as (now, exported)):
        if dump_to is not None:
            pgrestore.dump(pgrestore.with_database(admin_dsn, source), dump_to, exported,
                           float(config["restore_timeout_s"]), config.get("pg_bin"))
        chosen = tables or pgfacts.user_tables(db)
        present = set(pgfacts.user_tables(db))
        facts = {t: pgfacts.table_facts(db, t, mutable) for t in chosen if t in present}
    how = (f"read at {now} in the snapshot pg_dump used" if dump_to is not None
           else f"read at {now}, when the drill ran, bounded to the rows up to the restored "
                f"copy's largest key or creation time")
    return facts, chosen, how


def _archives(target: Environment, config: dict[str, Any], workdir: Path) -> list[Path]:
    if config["restore_from"] == "pg_dump":
        return [workdir / "cutover-restore-drill.dump"]
    if config["restore_from"] != "newest":
        unverified(f"rollback.restore_from is {config['restore_from']!r}; expected 'newest' or 'pg_dump'")
    try:
        location = target.component("backups")
    except Unavailable as exc:
        unverified(f"the restore drill restores the newest backup: {exc}")
    if not location.get("directory"):
        unverified("the restore drill needs a local backups.directory, or rollback.restore_from = 'pg_dump'")
    try:
        listed = backup_listing.from_directory(location["directory"], location.get("pattern", "*"))
    except backup_listing.ListingError as exc:
        pytest.fail(str(exc), pytrace=False)
    newest = [a.path for a in backup_listing.newest_of_each_kind(listed)
              if a.path is not None and a.kind != "unknown"]
    if not newest:
        pytest.fail(f"no backup in {location['directory']!r} matches {location.get('pattern', '*')!r}: "
                    f"nothing to restore", pytrace=False)
    return newest


@pytest.fixture(scope="module")
def restore_drill(target: Environment, rollback_config: dict[str, Any],
                  database_dsns: tuple[str, str]) -> Iterator[RestoreDrill]:
    _, admin_dsn = database_dsns
    source = pgrestore.database_of(database_dsns[0])
    scratch = _permission(target, rollback_config, source)
    tables = target.component("database").get("tables")
    with tempfile.TemporaryDirectory(prefix="cutover-restore-") as tmp:
        archives = _archives(target, rollback_config, Path(tmp))
        fresh = archives[0] if rollback_config["restore_from"] == "pg_dump" else None
        ahead: tuple[bool, RestoreProgress | None] = (False, None)  # the first restore's, made early
        try:
            if fresh is not None:
                facts, chosen, how = _source_facts(admin_dsn, source, rollback_config, tables, fresh)
            else:  # read after each restore, bounded to what the copy holds
                facts, how = {}, ("read in one snapshot taken as the restore started, bounded to the "
                                  "rows up to the restored copy's largest key or creation time")
                chosen, ahead = _tables_and_scratch(admin_dsn, source, scratch, archives[0],
                                                    rollback_config, tables)
        except (DbUnavailable, pgrestore.RestoreRefused) as exc:
            pytest.fail(f"cannot read the source database {source!r}: {exc}", pytrace=False)
        drill = RestoreDrill(scratch, source, how, chosen, [])
        foreign = None  # a database of that name that is not ours: refused, and left alone
        try:
            for archive in archives:
                bounded_by = None if fresh is not None else source
                drill.outcomes.append(_restore_one(archive, admin_dsn, scratch, facts, chosen,
                                                   rollback_config, bounded_by, *ahead))
                ahead = (False, None)
                if bounded_by is not None and drill.outcomes[-1].read_at:
                    drill.baseline = f"{how} (read at {drill.outcomes[-1].read_at})"
        except pgrestore.ForeignScratch as exc:
            foreign = exc
        except BaseException:
            pgrestore.drop_and_confirm(admin_dsn, scratch)
            raise
        if foreign is not None:
            unverified(f"refused: {foreign}")
        # the drop (and its confirmation) runs while the other checks report; the scratch check
        # and this fixture's end wait for it
        with ThreadPoolExecutor(max_workers=1, thread_name_prefix="restore-drop") as dropper:
            drill.dropped = dropper.submit(pgrestore.drop_and_confirm, admin_dsn, scratch)
            yield drill


def _restore_one(archive: Path, admin_dsn: str, scratch: str, source: dict[str, TableFacts],
                 tables: list[str], config: dict[str, Any], bounded_by: str | None = None,
                 scratch_made: bool = False, progress: RestoreProgress | None = None) -> RestoreOutcome:
    mutable = set(config["mutable_columns"])
    timeout = float(config["restore_timeout_s"])
    jobs = int(config["restore_jobs"])
    if progress is None:
        progress = _progress(archive, jobs, timeout, config.get("pg_bin"))
    scratch_dsn = pgrestore.with_database(admin_dsn, scratch)
    with ExitStack() as stack:
        early = None
        if bounded_by is not None:  # the source's side does not need the copy: read it meanwhile
            early = restore_sides.EarlySource(pgrestore.with_database(admin_dsn, bounded_by), tables,
                                              mutable, timeout, progress)
            stack.callback(early.close)
        if not scratch_made:  # drops a leftover of an interrupted drill
            pgrestore.fresh_scratch(admin_dsn, scratch, timeout, config.get("pg_bin"))
        copy = restore_sides.CopyReader(
            scratch_dsn, tables, (lambda db, name: restore_sides.copy_side(db, name, mutable))
            if early is not None else (lambda db, name: pgfacts.table_facts(db, name, mutable)),
            timeout, progress)
        stack.callback(copy.close)
        restored = pgrestore.restore(archive, scratch_dsn, jobs, timeout, config.get("pg_bin"),
                                     on_line=None if progress is None else
                                     lambda line: copy.offer(progress.feed(line)))
        if progress is not None:
            progress.finish()
        outcome = RestoreOutcome(archive.name, restored)
        if not restored.ok:
            return outcome
        found = copy.finish(tables)
        outcome.read_during = copy.read_during
        if early is None:
            copy_facts = found
        else:
            source, copy_facts, outcome.read_at = restore_sides.both_sides_bounded(
                early.result(), found, tables, mutable)
    findings = restore_findings(source, copy_facts, tables)
    outcome.findings_counts = [f for f in findings if "rows restored" in f or "missing" in f
                               or "not in the source" in f]
    outcome.findings_contents = [f for f in findings if f not in outcome.findings_counts]
    return outcome


def _progress(archive: Path, jobs: int, timeout_s: float, pg_bin: str | None) -> RestoreProgress | None:
    """A follower of the restore's progress, for a custom archive restored by parallel jobs;
    None when there is none to follow (then every read waits for the restore's end, or for the
    plain restore's one process, as before)."""
    if jobs < 2 or pgrestore.detect_format(archive) != pgrestore.CUSTOM:
        return None
    try:
        return RestoreProgress(parse_list(pgrestore.list_entries(archive, timeout_s, pg_bin)), jobs)
    except (pgrestore.RestoreRefused, OSError):
        return None  # an archive pg_restore cannot list: the restore itself reports why


def _tables_and_scratch(admin_dsn: str, source: str, scratch: str, first: Path,
                        config: dict[str, Any], tables: list[str] | None
                        ) -> tuple[list[str], tuple[bool, RestoreProgress | None]]:
    """The source's tables, read on a thread (psycopg is imported there) while the scratch
    database is made with createdb and the first archive listed: the restore starts sooner.
    (tables, (whether the scratch was made, the first restore's progress follower)); a
    leftover scratch is not touched here (the restore's `fresh_scratch` deals with it), and one
    made here is dropped again when the source cannot be read."""
    timeout, pg_bin = float(config["restore_timeout_s"]), config.get("pg_bin")
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="restore-source") as pool:
        listed = pool.submit(_source_tables, admin_dsn, source, config, tables)
        made = pgrestore.create_scratch(admin_dsn, scratch, timeout, pg_bin)
        progress = _progress(first, int(config["restore_jobs"]), timeout, pg_bin)
        try:
            return listed.result(), (made, progress)
        except BaseException:
            if made:
                pgrestore.drop_and_confirm(admin_dsn, scratch)
            raise


def _source_tables(admin_dsn: str, source: str, config: dict[str, Any], tables: list[str] | None
                   ) -> list[str]:
    """The tables to compare (`database.tables`, else every user table of the source); reading
    them also proves the source answers before anything is restored."""
    with Database(pgrestore.with_database(admin_dsn, source), float(config["restore_timeout_s"])) as db:
        return tables or pgfacts.user_tables(db)


@pytest.fixture
def drill(restore_drill: RestoreDrill, evidence: Any) -> RestoreDrill:
    evidence("restore drill", {"source": restore_drill.source, "scratch": restore_drill.scratch,
                               "source facts": restore_drill.baseline, "tables": restore_drill.tables,
                               "restores": [{"archive": o.archive, "ok": o.restored.ok,
                                             "seconds": round(o.restored.seconds, 3),
                                             "copy tables read as the restore finished them":
                                                 o.read_during,
                                             "command": o.restored.command, "error": o.restored.error,
                                             "findings": o.findings_counts + o.findings_contents}
                                            for o in restore_drill.outcomes]}, "json")
    return restore_drill


@pytest.mark.checklist("t24.restore-works", "rollback.db-restore")
def test_newest_backup_restores_without_error(drill):
    failed = [f"{o.archive}: {o.restored.error}" for o in drill.outcomes if not o.restored.ok]
    assert not failed, f"restore into {drill.scratch!r} stopped at the first error: {'; '.join(failed)}"


@pytest.mark.checklist("rollback.db-verify-counts")
def test_restored_row_counts_match_the_source(drill):
    problems = [f"{o.archive}: {f}" for o in drill.outcomes for f in o.findings_counts]
    not_restored = [o.archive for o in drill.outcomes if not o.restored.ok]
    assert not not_restored, f"no counts to compare: {', '.join(not_restored)} did not restore"
    assert not problems, "; ".join(problems) + f" (source {drill.baseline})"


@pytest.mark.checklist("rollback.db-verify-counts", "t24.restore-works")
def test_restored_contents_match_the_source(drill):
    problems = [f"{o.archive}: {f}" for o in drill.outcomes for f in o.findings_contents]
    not_restored = [o.archive for o in drill.outcomes if not o.restored.ok]
    assert not not_restored, f"no contents to compare: {', '.join(not_restored)} did not restore"
    assert not problems, "; ".join(problems) + f" (source {drill.baseline})"


@pytest.mark.checklist("t24.restore-works")
def test_restore_time_within_the_objective(drill, measure):
    restored = [o for o in drill.outcomes if o.restored.ok]
    assert restored, "no archive restored, so there is no restore time to judge"
    slowest = max(restored, key=lambda o: o.restored.seconds)
    measure("restore_seconds", slowest.restored.seconds, subject=f"restore of {slowest.archive}")


@pytest.mark.checklist("rollback.db-restore")
def test_scratch_database_is_dropped_after_the_drill(drill):
    assert not drill.scratch_left, f"scratch database {drill.scratch!r} still exists after the drill"
