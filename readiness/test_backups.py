"""Readiness, backups: a recent backup exists, its size is plausible for the database, its archives
read back completely, and enough daily backups are retained. The restore drill itself (restore
into a scratch database, compare) is the rollback drill's job.
"""

from __future__ import annotations

import pytest

from pytest_cutover import not_applicable, unverified
from pytest_cutover.clients import backups
from pytest_cutover.clients.db import Database, DbUnavailable
from pytest_cutover.fixtures import secret_or_unverified
from pytest_cutover.settings import Unavailable

pytestmark = pytest.mark.checklist("infra.backups", "success.backups")

DEFAULT_MIN_COUNT = 7  # ILS keeps 7-30 daily backups
DEFAULT_MIN_SIZE_RATIO = 0.01  # a compressed dump below 1 % of the table data is suspicious
MAX_ARCHIVES_READ = 4


@pytest.fixture
def backups_table(require):
    return require("backups")


@pytest.fixture
def archives(backups_table, target, settings, evidence):
    """Every backup at the configured location, oldest first."""
    try:
        found = backups.from_location(backups_table, settings.path.parent)
    except backups.ListingError as exc:
        pytest.fail(f"the backups could not be listed: {exc}", pytrace=False)
    if found is None:
        unverified(f"backups has neither directory nor list_command for environment "
                   f"{target.name!r}")
    evidence("backups", [{"name": a.name, "size": a.size, "created": a.created.isoformat()}
                         for a in found[-20:]], "json")
    return found


@pytest.fixture
def newest(archives, backups_table):
    where = backups_table.get("directory") or backups_table.get("list_command")
    assert archives, (f"no backup found at {where!r} matching {backups_table.get('pattern', '*')!r}"
                      f" (expected at least one recent archive)")
    return archives[-1]


@pytest.mark.checklist("prep.database-backup", "post.backups-running")
def test_newest_backup_is_recent(newest, backups_table, target, measure):
    threshold = target.threshold("backup_age_hours")
    if isinstance(backups_table.get("max_age_hours"), dict):
        threshold = threshold.with_overrides(backups_table["max_age_hours"])
    measure("backup_age_hours", round(newest.age_hours(), 1), threshold,
            subject=f"newest backup {newest.name} ({newest.created:%Y-%m-%d %H:%M} UTC)")


def test_newest_backup_size_is_plausible_for_the_database(newest, backups_table, target,
                                                          probe_timeout_s, evidence):
    try:
        table = target.component("database")
        dsn = secret_or_unverified(target, table.get("admin_dsn_env") or table["dsn_env"])
    except (Unavailable, KeyError) as exc:  # no database table, or no DSN variable named
        unverified(f"the database size is needed to judge the backup size: {exc}")
    try:
        with Database(dsn, timeout_s=probe_timeout_s) as db:
            data_bytes = db.user_data_bytes()
    except DbUnavailable as exc:
        pytest.fail(f"the database could not be asked for its size: {exc}", pytrace=False)
    ratio = float(backups_table.get("min_size_ratio", DEFAULT_MIN_SIZE_RATIO))
    evidence("backup size", {"archive": newest.name, "bytes": newest.size,
                             "table_bytes": data_bytes, "min_ratio": ratio}, "json")
    assert newest.size >= ratio * data_bytes, (
        f"newest backup {newest.name} is {newest.size} bytes, {newest.size / max(data_bytes, 1):.4%}"
        f" of the {data_bytes} bytes of table data (expected at least {ratio:.1%}, "
        f"backups.min_size_ratio)")


def test_newest_archives_read_back_completely(archives, newest, backups_table):
    latest = backups.newest_of_each_kind([a for a in archives if a.created == newest.created]
                                         or [newest])[:MAX_ARCHIVES_READ]
    pg_restore = backups.find_pg_restore(backups_table.get("pg_restore"))
    problems = [f"{a.name}: {problem}" for a in latest
                if (problem := backups.readable(a, pg_restore))]
    assert not problems, f"backup archives do not read back: {'; '.join(problems)}"


@pytest.mark.checklist("week1.daily-backups")
def test_retention_keeps_enough_daily_backups(archives, backups_table):
    minimum = int(backups_table.get("min_count", DEFAULT_MIN_COUNT))
    days = sorted({a.created.date() for a in archives})
    assert len(days) >= minimum, (
        f"backups exist for {len(days)} day(s) ({', '.join(map(str, days[-7:])) or 'none'}) "
        f"(expected at least {minimum}, backups.min_count)")


@pytest.mark.manual
@pytest.mark.non_blocking
@pytest.mark.checklist("t24.legacy-backup")
def test_legacy_system_backup_is_signed_off(target, signoff):
    reason = target.not_applicable_reason("legacy_backup")
    if reason:
        not_applicable(f"legacy_backup is declared not applicable for {target.name!r}: {reason}")
    signoff("t24.legacy-backup")
