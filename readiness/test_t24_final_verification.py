"""T-24 hours, final verification: code frozen, staging healthy and stable, a fresh final backup,
rollback and restore rehearsed on staging.

"Rehearsed" and "healthy" are read from the cutover ledger: the newest `smoke` and
`rollback_drill` runs of the staging environment, GO and recent enough (warning and critical
ages in the thresholds table; override them under [environments.X.thresholds]).
"""

from __future__ import annotations

import datetime as dt
import subprocess
from pathlib import Path

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients import backups
from pytest_cutover.clients.k8s import KubeUnavailable
from pytest_cutover.thresholds import Threshold

SMOKE_AGE = Threshold(warn=12, crit=24, unit="h")
DRILL_AGE = Threshold(warn=5, crit=7, unit="days")
FINAL_BACKUP_AGE = Threshold(warn=12, crit=24, unit="h")
ROLLBACK_ITEMS = ("t24.rollback-on-staging", "rollback.rollout-undo", "rollback.undo-verified")
RESTORE_ITEMS = ("t24.restore-works", "rollback.db-restore", "rollback.db-verify-counts")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _freeze(target) -> dt.datetime:
    raw = (target.data.get("application") or {}).get("code_freeze")
    if not raw:
        unverified("application.code_freeze (ISO time of the code freeze) is not configured")
    try:
        when = dt.datetime.fromisoformat(str(raw))
    except ValueError:
        pytest.fail(f"application.code_freeze {raw!r} is not an ISO 8601 time", pytrace=False)
    return when if when.tzinfo else when.replace(tzinfo=dt.UTC)


def _last_commit(repository: Path, branch: str) -> dt.datetime | None:
    done = subprocess.run(["git", "-C", str(repository), "log", "-1", "--format=%cI", branch],
                          capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        unverified(f"git log of {branch!r} in {str(repository)!r} failed: {done.stderr.strip()[:200]}")
    return dt.datetime.fromisoformat(done.stdout.strip()) if done.stdout.strip() else None


@pytest.mark.checklist("t24.code-freeze")
def test_nothing_was_deployed_or_committed_since_the_code_freeze(kube, target, settings, evidence):
    freeze = _freeze(target)
    table = target.data.get("kubernetes") or {}
    name = table.get("deployment", "ils-app")
    try:
        deployment = kube.deployment(name)
        sets = kube.replicasets(table.get("label_selector", f"app={name}"))
    except KubeUnavailable as exc:
        unverified(str(exc))
    assert deployment is not None, f"Deployment {name!r} not found in {kube.namespace!r}"
    current = [rs for rs in sets if rs.revision == deployment.revision and rs.created]
    if not current:
        unverified(f"no ReplicaSet of {name!r} revision {deployment.revision} tells when it rolled out")
    rolled_out = max(rs.created for rs in current)
    evidence("rollout and freeze", {"freeze": freeze.isoformat(), "revision": deployment.revision,
                                    "rolled_out": rolled_out.isoformat()}, "json")
    assert rolled_out <= freeze, (f"Deployment {name} rolled out revision {deployment.revision} at "
                                  f"{rolled_out:%Y-%m-%d %H:%M} UTC, after the code freeze at "
                                  f"{freeze:%Y-%m-%d %H:%M} UTC (expected no rollout since)")
    application = target.data.get("application") or {}
    if application.get("repository") and application.get("release_branch"):
        commit = _last_commit(settings.path.parent / application["repository"], application["release_branch"])
        assert commit is None or commit <= freeze, (
            f"branch {application['release_branch']} has a commit at {commit:%Y-%m-%d %H:%M} UTC, "
            f"after the code freeze at {freeze:%Y-%m-%d %H:%M} UTC")


def _recent_go(ledger, environment: str, marker: str, target, measure, threshold_name: str,
               default: Threshold, evidence, scale_s: float):
    record = ledger.latest(environment, marker)
    if record is None:
        unverified(f"the ledger {str(ledger.path)!r} holds no {marker} run of {environment!r}: run "
                   f"`pytest -m {marker} --cutover-env {environment}` first")
    evidence(f"latest {marker} run of {environment}", record.to_dict(), "json")
    assert record.verdict == "GO", f"the latest {marker} run is {record.describe()} (expected GO)"
    measure(f"{marker}_run_age", record.age(_now()).total_seconds() / scale_s,
            target.threshold(threshold_name, default), subject=record.describe())
    return record


@pytest.mark.checklist("t24.staging-healthy")
def test_staging_smoke_run_is_recent_and_go(ledger, staging, target, measure, evidence):
    _recent_go(ledger, staging.name, "smoke", target, measure, "staging_smoke_age_hours",
               SMOKE_AGE, evidence, 3600)


def _drill_part_passed(ledger, staging, target, measure, evidence, items: tuple[str, ...],
                      part: str) -> None:
    """The latest staging rollback drill is a recent GO, ran checks of `items`, and they passed."""
    record = _recent_go(ledger, staging.name, "rollback_drill", target, measure,
                        "rollback_drill_age_days", DRILL_AGE, evidence, 86400)
    checks = [c for c in record.checks if set(c.checklist) & set(items)]
    assert checks, f"the latest rollback drill ({record.describe()}) ran no {part} check"
    failed = [c.nodeid for c in checks if c.outcome != "passed"]
    assert not failed, f"{part} checks did not pass in {record.describe()}: {', '.join(failed)}"


@pytest.mark.checklist("t24.rollback-on-staging")
def test_rollback_was_rehearsed_on_staging(ledger, staging, target, measure, evidence):
    _drill_part_passed(ledger, staging, target, measure, evidence, ROLLBACK_ITEMS, "rollout-undo")


@pytest.mark.checklist("t24.restore-works")
def test_backup_restore_was_confirmed_on_staging(ledger, staging, target, measure, evidence):
    _drill_part_passed(ledger, staging, target, measure, evidence, RESTORE_ITEMS, "restore")


@pytest.mark.checklist("t24.legacy-backup")
def test_final_backup_is_fresh(require, target, settings, measure, evidence):
    table = require("backups")
    try:
        found = backups.from_location(table, settings.path.parent)
    except backups.ListingError as exc:
        pytest.fail(f"the backups could not be listed: {exc}", pytrace=False)
    if found is None:
        unverified("backups has neither directory nor list_command (the final backup is looked for there)")
    where = table.get("list_command") or table.get("directory")
    assert found, f"no backup matching {table.get('pattern', '*')!r} at {where!r}"
    newest = found[-1]  # oldest first
    evidence("final backup", {"file": newest.name, "taken": newest.created.isoformat(),
                              "bytes": newest.size}, "json")
    measure("final_backup_age_hours", newest.age_hours(_now()),
            target.threshold("final_backup_age_hours", FINAL_BACKUP_AGE), subject=newest.name)
