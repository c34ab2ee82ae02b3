"""Self-tests of rollback/ against the reference deployment: the healthy drill passes and the
served version visibly goes to the previous release and back; each fault fails the right check;
data deleted after the snapshot gives ROLLBACK (exit 10); the restore never touches the source.

Shares the session's ilsref (tests/checks/conftest.py) and leaves it as it found it: the
application drill rolls forward itself, faults are cleared, backups and deleted rows restored.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Self

import pytest
import requests

from ilsref.services import backups, rollbackfaults
from pytest_cutover.clients.suite_run import SuiteRun, run_suite

REPO = Path(__file__).resolve().parents[2]
RUN_TIMEOUT_S = 180
DRILL = "rollback/test_application_rollback.py"
RESTORE = "rollback/test_restore_drill.py"
INTEGRITY = "rollback/test_data_integrity.py"

pytestmark = pytest.mark.slow


def drill(ilsref: Any, *args: str, reports: Path | None = None) -> SuiteRun:
    return run_suite(REPO, ["-m", "rollback_drill", *args], ilsref.config, "local", RUN_TIMEOUT_S,
                     reports=reports, env=ilsref.env)


def outcome(run: SuiteRun, reports: Path, test: str) -> tuple[str, str]:
    doc = json.loads((reports / "verdict.json").read_text())
    found = next(c for c in doc["checks"] if c["nodeid"].endswith(test))
    return found["outcome"], found["message"]


class VersionWatch:
    """Reads /api/health every 0.1 s in a thread; keeps the sequence of distinct versions."""

    def __init__(self, base_url: str, ca: str) -> None:
        self.url, self.ca, self.seen = f"{base_url}/api/health", ca, []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def _watch(self) -> None:
        with requests.Session() as http:
            while not self._stop.wait(0.1):
                try:
                    version = http.get(self.url, verify=self.ca, timeout=2).json().get("version")
                except (requests.RequestException, ValueError):
                    continue
                if not self.seen or self.seen[-1] != version:
                    self.seen.append(version)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        time.sleep(0.3)
        self._stop.set()
        self._thread.join(5)


def local(ilsref: Any) -> dict[str, Any]:
    import tomllib

    return tomllib.loads((ilsref.home / "run" / "local.toml").read_text())


def source_checksum(ilsref: Any) -> str:
    """One md5 per user table over its rows (in row order of their md5s), read with psql."""
    dsn = ilsref.secrets()["CUTOVER_LOCAL_DATABASE_ADMIN_URL"]

    def psql(sql: str) -> str:
        return subprocess.run(["psql", "-X", "-At", dsn, "-c", sql], capture_output=True, text=True,
                              timeout=60, check=True).stdout.strip()

    tables = psql("SELECT format('%I.%I', schemaname, relname) FROM pg_stat_user_tables ORDER BY 1")
    # S608: the table names come from pg_stat_user_tables above, already quoted by format('%I')
    return psql(" UNION ALL ".join(
        f"SELECT '{t}', md5(coalesce(string_agg(md5(x::text), '' ORDER BY md5(x::text)), '')) FROM {t} x"  # noqa: S608
        for t in tables.split()))


@contextmanager
def backups_restored(ilsref: Any) -> Iterator[Path]:
    folder = backups.backup_dir(ilsref.home)
    kept = ilsref.workdir / "backups-kept"
    shutil.copytree(folder, kept, dirs_exist_ok=True)
    try:
        yield ilsref.home
    finally:
        shutil.rmtree(folder)
        shutil.copytree(kept, folder)
        shutil.rmtree(kept)


def wait_until_serving(ilsref: Any, version: str, deadline_s: float = 30) -> None:
    env = local(ilsref)
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            got = requests.get(f"{env['base_url']}/api/health", verify=env["ca_bundle"], timeout=2).json()
            if got.get("version") == version:
                return
        except (requests.RequestException, ValueError):
            pass
        time.sleep(0.3)
    raise AssertionError(f"the deployment does not serve {version} again within {deadline_s} s")


def test_healthy_drill_passes_and_the_served_version_goes_back_and_forth(ilsref, tmp_path):
    env = local(ilsref)
    with VersionWatch(env["base_url"], env["ca_bundle"]) as watch:
        run = drill(ilsref, "--cutover-snapshot", reports=tmp_path)
    assert run.exit_code == 0 and run.decision == "GO", run.describe() + run.output_tail
    assert run.counts.get("passed", 0) >= 20, run.counts
    assert watch.seen == ["2.0.0", "1.9.3", "2.0.0"], f"versions served during the drill: {watch.seen}"


@pytest.mark.parametrize("fault", ["k8s_stuck_rollout", "k8s_prev_crashloop"])
def test_a_rollback_that_never_becomes_available_fails_within_the_deadline(ilsref, tmp_path, fault):
    try:
        with ilsref.fault(fault):
            run = run_suite(REPO, [DRILL], ilsref.config, "local", RUN_TIMEOUT_S, reports=tmp_path,
                            env=ilsref.env)
    finally:
        wait_until_serving(ilsref, "2.0.0")
    assert run.decision == "NO-GO", run.describe()
    state, message = outcome(run, tmp_path,
                             "test_rollout_of_the_previous_revision_completes_within_the_deadline")
    assert state == "failed" and "progress deadline" in message, message
    rollout_timeout = local(ilsref)["rollback"]["rollout_timeout_s"]
    assert run.seconds < 2 * rollout_timeout + 15, f"the drill took {run.seconds:.0f} s"


@pytest.mark.parametrize(("module", "fault", "check", "names"), [
    (backups, "backup_corrupt", "test_newest_backup_restores_without_error", "error"),
    (rollbackfaults, "backup_missing_orders", "test_restored_row_counts_match_the_source", "table orders"),
    (rollbackfaults, "backup_altered_order", "test_restored_contents_match_the_source",
     "table orders: same"),
])
def test_a_broken_backup_fails_the_restore_drill(ilsref, tmp_path, module, fault, check, names):
    with backups_restored(ilsref) as home:
        module.apply_fault(home, fault)
        run = run_suite(REPO, [RESTORE], ilsref.config, "local", RUN_TIMEOUT_S, reports=tmp_path,
                        env=ilsref.env)
    state, message = outcome(run, tmp_path, check)
    assert run.decision == "NO-GO" and state == "failed" and names in message, (state, message)


def test_data_deleted_after_the_snapshot_means_rollback(ilsref, tmp_path):
    taken = run_suite(REPO, [INTEGRITY, "--cutover-snapshot"], ilsref.config, "local", RUN_TIMEOUT_S,
                      reports=tmp_path, env=ilsref.env)
    assert taken.decision == "GO", taken.describe()
    try:
        rollbackfaults.apply_fault(ilsref.home, "data_deleted_after_snapshot")
        after = run_suite(REPO, [INTEGRITY], ilsref.config, "local", RUN_TIMEOUT_S,
                          reports=tmp_path, env=ilsref.env)
    finally:
        rollbackfaults.undo_delete(ilsref.home)
    assert after.exit_code == 10 and after.decision == "ROLLBACK", after.describe()
    doc = json.loads((tmp_path / "verdict.json").read_text())
    assert any("table patients: 45 rows now, 50 before" in r for r in doc["rollback_reasons"]), (
        doc["rollback_reasons"])
    fired = {t["name"] for t in doc["triggers"] if t["state"] == "fired"}
    assert fired == {"data_integrity"}, doc["triggers"]
    assert "Database rollback for local" in (tmp_path / "announcement.md").read_text()


def test_the_restore_drill_never_touches_the_source_database(ilsref, tmp_path):
    before = source_checksum(ilsref)
    run = run_suite(REPO, [RESTORE], ilsref.config, "local", RUN_TIMEOUT_S, reports=tmp_path,
                    env=ilsref.env)
    assert run.decision == "GO", run.describe()
    assert source_checksum(ilsref) == before


@pytest.mark.parametrize(("database", "says"), [
    ("scratch_allowed = false", "scratch_allowed = true"),
    ('scratch_allowed = true\n[environments.local.rollback]\nscratch_database = "ils_db"',
     "is the source database"),
])
def test_the_restore_drill_refuses_without_permission_or_over_the_source(ilsref, tmp_path, database, says):
    config = tmp_path / "cutover.toml"
    config.write_text(ilsref.config.read_text() + f"\n[environments.local.database]\n{database}\n")
    run = run_suite(REPO, [RESTORE], config, "local", RUN_TIMEOUT_S, reports=tmp_path / "r",
                    env=ilsref.env)
    state, message = outcome(run, tmp_path / "r", "test_newest_backup_restores_without_error")
    assert state == "unverified" and "refused" in message and says in message, (state, message)


def test_a_leftover_scratch_of_ours_is_replaced_and_anothers_is_refused_and_left_alone(ilsref, tmp_path):
    """The scratch is made with createdb; when the name is taken, the checked path decides: a
    leftover of an interrupted drill (our prefix) is dropped and made again (here it holds a
    table the archive restores, so restoring over it would stop at the first error), a database
    of someone else is refused and left as it was."""
    import psycopg

    from pytest_cutover.clients import pgrestore

    admin = ilsref.secrets()["CUTOVER_LOCAL_DATABASE_ADMIN_URL"]
    ours, theirs = "cutover_scratch_selftest_leftover", "selftest_not_ours"
    with psycopg.connect(admin, autocommit=True) as conn:
        for name in (ours, theirs):
            conn.execute(f'CREATE DATABASE "{name}"'.encode())
    with psycopg.connect(pgrestore.with_database(admin, ours), autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id int)")
    try:
        runs = {}
        for name in (ours, theirs):
            config = tmp_path / f"{name}.toml"
            config.write_text(ilsref.config.read_text() + "\n[environments.local.database]\n"
                              f'scratch_allowed = true\n[environments.local.rollback]\n'
                              f'scratch_database = "{name}"\n')
            run = run_suite(REPO, [RESTORE], config, "local", RUN_TIMEOUT_S,
                            reports=tmp_path / name, env=ilsref.env)
            runs[name] = outcome(run, tmp_path / name, "test_newest_backup_restores_without_error")
        assert runs[ours][0] == "passed", runs[ours]
        assert runs[theirs][0] == "unverified" and "not one of ours" in runs[theirs][1], runs[theirs]
        with psycopg.connect(admin, autocommit=True) as conn:
            left = {r[0] for r in conn.execute(
                "SELECT datname FROM pg_database WHERE datname IN (%s, %s)", (ours, theirs))}
        assert left == {theirs}  # ours dropped after its drill; theirs untouched
    finally:
        for name in (ours, theirs):
            pgrestore.drop_and_confirm(admin, name)


def test_the_restore_drills_one_scan_figures_equal_the_bounded_reads(ilsref):
    """The drill reads each side in one scan (largest bound, count and checksum of the rows that
    have one) and takes the rows past the copy's bound off the source's: the figures must be
    exactly what reading up to the bound gives, on every bounded table of the reference data,
    for the table's own largest bound and for one in its middle."""
    from pytest_cutover.clients import pgfacts
    from pytest_cutover.clients.db import Database

    with Database(ilsref.secrets()["CUTOVER_LOCAL_DATABASE_ADMIN_URL"], 60) as db:
        checked = []
        for table in pgfacts.user_tables(db):
            plan = pgfacts.bound_plan(db, table, {"updated_at", "last_login_at"})
            whole = pgfacts.totals(db, table, plan) if plan.kind is not None else None
            if whole is None or whole.bound is None:
                continue
            assert pgfacts.dump_time_bound(db, table) == (plan.kind, plan.column, whole.bound)
            column, name = pgfacts.quote(str(plan.column)), pgfacts.quote(table)
            middle = str(db.value(
                f"SELECT {column}::text FROM {name} WHERE {column} IS NOT NULL ORDER BY {column} "  # noqa: S608 - identifiers via quote()
                f"OFFSET {whole.rows // 2} LIMIT 1"))
            for bound in (whole.bound, middle):
                want = pgfacts.rows_up_to(db, table, list(plan.cols), str(plan.kind), str(plan.column),
                                          bound, plan.record_hash)
                past = pgfacts.rows_after(db, table, plan, bound)
                got = pgfacts.bounded_facts(plan, bound, whole.rows - past[0], whole.total - past[1])
                assert got.historical == want, (table, bound)
            checked.append(table)
    assert len(checked) >= 2, checked


def _processes_running(path: Path) -> list[int]:
    """Processes whose command line names `path` (pg_restore and the workers it forked)."""
    found = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if str(path).encode() in (proc / "cmdline").read_bytes().split(b"\0"):
                    found.append(int(proc.name))
            except OSError:
                continue
    return found


def test_a_table_read_as_the_restore_finished_it_has_the_figures_read_after_the_restore(ilsref):
    """The drill reads a copy table as soon as pg_restore's log shows its data and keys finished.
    Here the first such table is read while pg_restore and its workers are stopped (SIGSTOP), so
    the read surely happens before the restore ends: its key, bound, count and checksum must equal
    what reading it after the whole restore gives. A table declared final too early would be read
    empty, or wait behind its loading transaction until the statement timeout."""
    import os
    import signal

    from pytest_cutover.clients import pgfacts, pgrestore
    from pytest_cutover.clients.db import Database
    from pytest_cutover.clients.restore_progress import RestoreProgress, parse_list

    admin = ilsref.secrets()["CUTOVER_LOCAL_DATABASE_ADMIN_URL"]
    scratch = "cutover_scratch_selftest_progress"
    scratch_dsn = pgrestore.with_database(admin, scratch)
    archive = next(p for p in backups.newest(backups.backup_dir(ilsref.home)) if p.suffix == ".dump")
    progress = RestoreProgress(parse_list(pgrestore.list_entries(archive)), jobs=2)

    def figures(db: Any, table: str) -> tuple[Any, ...]:
        plan = pgfacts.bound_plan(db, table, set())  # its key chooses the bound: it must be there
        if plan.kind is None:
            return plan, pgfacts.table_facts(db, table)
        return plan, pgfacts.totals(db, table, plan)

    during: dict[str, tuple[Any, ...]] = {}
    stopped: list[int] = []
    failures: list[BaseException] = []

    def first_final(line: str) -> None:
        final = progress.feed(line)
        if not final or during or failures:
            return
        paused = _processes_running(archive)
        try:
            for pid in paused:
                os.kill(pid, signal.SIGSTOP)
            stopped.extend(paused)
            with Database(scratch_dsn, 20) as db:
                during[final[0]] = figures(db, final[0])
        except Exception as exc:  # noqa: BLE001 - reported by the test, not lost in the log reader
            failures.append(exc)
        finally:
            for pid in paused:
                os.kill(pid, signal.SIGCONT)

    pgrestore.fresh_scratch(admin, scratch)
    try:
        restored = pgrestore.restore(archive, scratch_dsn, 2, 120, on_line=first_final)
        progress.finish()
        assert not failures, failures
        assert restored.ok, restored.error
        assert "--verbose" in restored.command
        assert during, "no table became final during the restore"
        assert stopped, "pg_restore had already ended when its first table became final"
        with Database(scratch_dsn, 30) as db:
            after = {table: figures(db, table) for table in during}
        assert during == after
    finally:
        assert pgrestore.drop_and_confirm(admin, scratch)
