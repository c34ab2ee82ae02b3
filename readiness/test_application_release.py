"""Application: the release that was tested is the one deployed, and staging runs it too.

- the served version equals the release tag (the production build under test is the release);
- staging runs the same build;
- staging's migration head equals the release's head.
"""

from __future__ import annotations

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients.db import Database, DbUnavailable
from pytest_cutover.clients.k8s import KubeUnavailable
from pytest_cutover.clients.version import VersionUnavailable, served_version
from pytest_cutover.fixtures import kube_for, unless_not_applicable


def _served(http, environment) -> tuple[str, str]:
    source = (environment.data.get("version") or {}).get("source", "image_tag")
    kube = kube_for(environment) if source == "image_tag" else None
    try:
        version, where = served_version(http, environment, kube)
    except (VersionUnavailable, KubeUnavailable) as exc:
        unverified(str(exc))
    return version.removeprefix("v"), where


def _release(target) -> str:
    if not target.release:
        unverified(f"environments.{target.name}.release (the release tag) is not set")
    return str(target.release).removeprefix("v")


@pytest.mark.checklist("app.production-build")
def test_deployed_version_is_the_release_tag(http, target):
    served, where = _served(http, target)
    assert served == _release(target), f"{where} is {served!r} (expected the release {_release(target)!r})"


@pytest.mark.checklist("app.production-build")
def test_staging_runs_the_release_build(http, target, staging):
    served, where = _served(http, staging)
    assert served == _release(target), (
        f"staging: {where} is {served!r} (expected the release {_release(target)!r})")


@pytest.mark.checklist("app.migrations-on-staging")
def test_staging_migration_head_is_the_release_head(target, staging, evidence):
    unless_not_applicable(staging, "database")
    database = staging.data.get("database") or {}
    expected = (target.data.get("database") or {}).get("expected_migration_head") or database.get(
        "expected_migration_head")
    if not database.get("dsn_env") or not expected:
        unverified(f"staging ({staging.name}) needs database.dsn_env, and the release its "
                   f"database.expected_migration_head")
    try:
        with Database(staging.secret(database["dsn_env"]), timeout_s=staging.timeout_s) as db:
            head = db.migration_head(database["migration_query"]) if database.get(
                "migration_query") else db.migration_head()
    except DbUnavailable as exc:
        unverified(f"staging's database ({staging.name}) could not be asked: {exc}")
    evidence("staging migration head", {"environment": staging.name, "head": head, "expected": expected},
             "json")
    assert head == expected, (f"staging ({staging.name}) migration head is {head!r} "
                              f"(expected the release head {expected!r})")
