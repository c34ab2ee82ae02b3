"""Readiness, PostgreSQL: the production database answers, runs a supported version sized as
planned, has connection headroom, is reached over TLS when required, is used by an unprivileged
role, carries the release's migration head, has no stuck transactions and healthy replicas.

Every query runs in a read-only transaction with a statement timeout (clients/db.py).
"""

from __future__ import annotations

import pytest

from pytest_cutover import not_applicable, unverified
from pytest_cutover.clients.db import (
    DEFAULT_MIGRATION_QUERY,
    Database,
    DbUnavailable,
    parse_size,
    to_bytes,
)
from pytest_cutover.fixtures import secret_or_unverified
from pytest_cutover.thresholds import Threshold

pytestmark = pytest.mark.checklist("infra.postgresql")

DEFAULT_MIN_VERSION = 15  # ILS 2.0 needs PostgreSQL 15+
DEFAULT_LONG_TRANSACTION_S = 300.0
REPLICATION_LAG = Threshold(warn=10, crit=60, unit="s")


@pytest.fixture
def database_table(require):
    return require("database")


@pytest.fixture
def db(database_table, target, probe_timeout_s):
    """An open read-only connection with the application's DSN; unreachable fails the check."""
    dsn = secret_or_unverified(target, database_table["dsn_env"]) if "dsn_env" in database_table \
        else unverified(f"database.dsn_env is not set for environment {target.name!r}")
    try:
        with Database(dsn, timeout_s=probe_timeout_s) as connection:
            yield connection
    except DbUnavailable as exc:
        pytest.fail(f"the database could not be asked: {exc}", pytrace=False)


def test_database_accepts_connections(db, evidence):
    name, _ = db.database_size()
    evidence("database", {"database": name, "server_version": db.server_version()}, "json")
    assert db.value("SELECT 1") == 1, f"SELECT 1 on {name!r} did not return 1"


def test_server_version_is_at_least_the_minimum(db, database_table):
    minimum = int(database_table.get("min_version", DEFAULT_MIN_VERSION))
    number = db.server_version_num()
    assert number // 10000 >= minimum, (
        f"PostgreSQL {db.server_version()} (version number {number}) is older than the "
        f"minimum {minimum} (database.min_version)")


def _judge(name, expected, setting, unit):
    """None when the observed setting meets the expectation, else a one-phrase finding.
    Sizes and numbers are minimums (sized at least as planned); other values must be equal."""
    expected_bytes = parse_size(expected) if isinstance(expected, str) else None
    observed_bytes = to_bytes(setting, unit)
    if expected_bytes is not None and observed_bytes is not None:
        ok, shown, word = observed_bytes >= expected_bytes, f"{observed_bytes // 1024**2} MB", "at least "
    elif isinstance(expected, int | float) and not isinstance(expected, bool):
        ok, shown, word = float(setting) >= expected, setting, "at least "
    else:
        ok, shown, word = str(setting).lower() == str(expected).lower(), setting, ""
    return None if ok else f"{name} = {shown} (expected {word}{expected})"


def test_sizing_settings_are_as_planned(db, database_table, target, evidence):
    expected = database_table.get("settings")
    if not expected:
        unverified(f"database.settings is not set for environment {target.name!r}: name the sizing "
                   f"you planned, e.g. settings = {{max_connections = 200, shared_buffers = \"2GB\"}}")
    observed = db.settings(list(expected))
    evidence("pg_settings", {k: {"setting": v[0], "unit": v[1]} for k, v in observed.items()},
             "json")
    findings = [f"{name} is not a server setting" for name in expected if name not in observed]
    findings += [f for name, want in expected.items() if name in observed
                 if (f := _judge(name, want, *observed[name]))]
    assert not findings, f"PostgreSQL sizing differs from the plan: {'; '.join(findings)}"


def test_connection_usage_within_thresholds(db, measure):
    connections = db.connections()
    measure("db_connections_pct", round(connections.pct, 1),
            subject=f"{connections.used} of max_connections {connections.max}")


def test_connection_uses_tls_when_required(db, database_table):
    if not database_table.get("require_tls"):
        not_applicable("database.require_tls is not set: TLS to the database is not required "
                       "for this environment")
    in_use, _ = db.ssl_in_use()
    assert in_use, ("the application's database connection is not encrypted (expected TLS, "
                    "database.require_tls = true); add sslmode=require to the DSN and enable ssl")


def test_application_role_is_not_a_superuser(db):
    role, superuser = db.current_role()
    assert not superuser, (
        f"the application connects as {role!r}, a superuser (expected an unprivileged role: a "
        f"compromised app must not be able to drop the cluster)")


def test_migration_head_is_the_release_head(db, database_table, target, evidence):
    expected = database_table.get("expected_migration_head")
    if not expected:
        unverified(f"database.expected_migration_head is not set for environment {target.name!r}: "
                   f"set it to the last entry of the release's migration journal")
    query = database_table.get("migration_query", DEFAULT_MIGRATION_QUERY)
    try:
        head = db.migration_head(query)
    except DbUnavailable as exc:
        pytest.fail(f"the migration query failed: {exc}; query: {query!r}", pytrace=False)
    evidence("migration head", {"query": query, "head": head, "expected": expected}, "json")
    assert head == expected, (
        f"the database's last applied migration is {head!r} (expected the release's head "
        f"{expected!r})")


def test_no_long_running_transactions(db, database_table):
    limit = float(database_table.get("long_transaction_s", DEFAULT_LONG_TRANSACTION_S))
    found = db.long_transactions(limit)
    shown = "; ".join(f"pid {t.pid} ({t.user}, {t.state}) open {t.age_s:.0f} s: {t.query[:60]!r}"
                      for t in found[:3])
    assert not found, (
        f"{len(found)} transaction(s) open longer than {limit:g} s (database.long_transaction_s): "
        f"{shown}")


def test_replication_lag_within_thresholds(db, database_table, target, measure, evidence):
    expected = database_table.get("replicas")
    if not expected:
        not_applicable("database.replicas is not set: no replica is expected")
    replicas = {r.name: r for r in db.replicas()}
    evidence("pg_stat_replication", {n: vars(r) for n, r in replicas.items()}, "json")
    missing = [name for name in expected if name not in replicas]
    assert not missing, (f"replica(s) {', '.join(missing)} are not streaming from the primary "
                         f"(streaming: {', '.join(replicas) or 'none'})")
    worst = max((replicas[n] for n in expected), key=lambda r: r.lag_s or 0.0)
    measure("replication_lag_s", worst.lag_s or 0.0,
            target.threshold("replication_lag_s", REPLICATION_LAG), subject=f"replica {worst.name}")


def test_database_size_is_reported(db, evidence):
    name, size = db.database_size()
    data = db.user_data_bytes()
    evidence("database size", {"database": name, "bytes": size, "table_bytes": data}, "json")
    assert size > 0, f"pg_database_size({name!r}) reported {size} bytes"
