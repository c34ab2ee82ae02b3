"""PostgreSQL 15 for the reference deployment: a fresh cluster per `up`, migrated and seeded.

initdb/pg_ctl refuse to run as root, so as root they run as user `postgres` (runuser) on a data
directory that user owns. The postmaster is recorded in processes.json; `stop` asks it for a fast
shutdown (SIGINT) before the generic process-group kill.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

from ilsref import migrations
from ilsref.app.passwords import random_password
from ilsref.faults import Fault
from ilsref.migrations.seed import seed
from ilsref.runtime import RunDir, alive, free_port, require_binary
from ilsref.services.base import Context
from ilsref.services.pychild import module_argv, module_env

MAX_CONNECTIONS = 100
UNDERSIZED_MAX_CONNECTIONS = 20
HIGH_CONNECTIONS_PCT = 91  # above the 90 % critical level, with room left for the app and checks
LONG_TRANSACTION_S = 10  # the local environment's limit, short so a self-test can see it pass

FAULTS = (
    Fault("db_slow", "readiness/database",
          "the app's database check takes > 1 s (detailed health: database slow, degraded)"),
    Fault("migration_behind", "readiness/database",
          "the last migration is not applied, so the head lags the release's", restart=True),
    Fault("db_bad_credentials", "readiness/database",
          "secrets.env carries a wrong password for the ils_user DSN", restart=True),
    Fault("db_undersized", "readiness/database",
          f"max_connections is {UNDERSIZED_MAX_CONNECTIONS} (the environment expects "
          f"{MAX_CONNECTIONS})", restart=True),
    Fault("db_app_superuser", "readiness/database", "the application's role ils_user is a superuser",
          restart=True),
    Fault("db_long_transaction", "readiness/database",
          "a client keeps a transaction open (idle in transaction) for as long as the deployment runs",
          restart=True),
    Fault("db_connections_high", "readiness/database",
          f"idle clients hold {HIGH_CONNECTIONS_PCT} % of max_connections", restart=True),
)

SERVICE = "postgres"
PG_USER = "postgres"
# Unix sockets live in the data dir; their path must stay under the kernel's ~107-byte limit.
MAX_SOCKET_DIR = 80


def pg_bin_dir() -> Path:
    """The newest installed PostgreSQL's bin directory (Debian layout)."""
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"),
                        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    found = require_binary("initdb", "postgresql", *(str(c) for c in reversed(candidates)))
    return Path(found).resolve().parent


def start(ctx: Context) -> None:
    pg_bin = pg_bin_dir()
    root = _cluster_root(ctx.run)
    datadir = root / "data"
    port = free_port()
    _run_as_postgres([str(pg_bin / "initdb"), "-D", str(datadir), "-U", PG_USER, "-A", "trust",
                      "--no-sync", "-E", "UTF8", "--locale=C"])
    # Superuser by trust on loopback (admin DSN), everyone else by password.
    (datadir / "pg_hba.conf").write_text(
        "local all all trust\n"
        f"host all {PG_USER} 127.0.0.1/32 trust\n"
        "host all all 127.0.0.1/32 scram-sha-256\n"
    )
    log = root / "postgres.log"
    max_connections = (UNDERSIZED_MAX_CONNECTIONS if "db_undersized" in ctx.faults
                       else MAX_CONNECTIONS)
    options = (f"-p {port} -k {datadir} -c listen_addresses=127.0.0.1 -c fsync=off "
               f"-c max_connections={max_connections} -c log_min_duration_statement=1000")
    _run_as_postgres([str(pg_bin / "pg_ctl"), "-D", str(datadir), "-l", str(log), "-w",
                      "-t", "30", "-o", options, "start"])
    postmaster = int((datadir / "postmaster.pid").read_text().split()[0])
    ctx.run.record(SERVICE, postmaster)
    _link_log(ctx.run, log)

    password = random_password()
    admin_dsn = f"postgresql://{PG_USER}@127.0.0.1:{port}/ils_db"
    dsn = f"postgresql://ils_user:{password}@127.0.0.1:{port}/ils_db"
    with psycopg.connect(f"host=127.0.0.1 port={port} user={PG_USER} dbname=postgres",
                         autocommit=True, connect_timeout=10) as conn:
        conn.execute(f"CREATE ROLE ils_user LOGIN PASSWORD '{password}'".encode())
        conn.execute(b"CREATE DATABASE ils_db OWNER ils_user")
        if "db_app_superuser" in ctx.faults:
            conn.execute(b"ALTER ROLE ils_user SUPERUSER")
    with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
        migrations.apply(conn, skip_last="migration_behind" in ctx.faults)
        accounts = seed(conn)
    _start_holder(ctx, dsn)

    ctx.facts.update(
        postgres_port=port, postgres_dsn=dsn, postgres_admin_dsn=admin_dsn,
        pg_bin=str(pg_bin), pg_datadir=str(datadir), accounts=accounts,
    )
    ctx.environment["database"] = {
        "dsn_env": "CUTOVER_LOCAL_DATABASE_URL",
        "admin_dsn_env": "CUTOVER_LOCAL_DATABASE_ADMIN_URL",
        "expected_migration_head": migrations.expected_head(),
        "min_version": 15,
        "settings": {"max_connections": MAX_CONNECTIONS, "shared_buffers": "128MB"},
        "long_transaction_s": LONG_TRANSACTION_S,
    }
    published = dsn.replace(password, random_password()) if "db_bad_credentials" in ctx.faults else dsn
    ctx.secrets["CUTOVER_LOCAL_DATABASE_URL"] = published
    ctx.secrets["CUTOVER_LOCAL_DATABASE_ADMIN_URL"] = admin_dsn


def _start_holder(ctx: Context, dsn: str) -> None:
    """A client holding a transaction or connections open (faults db_long_transaction,
    db_connections_high); the DSN goes through the environment, never the command line."""
    args = (["--open-transaction"] if "db_long_transaction" in ctx.faults else []) + (
        ["--fill-pct", str(HIGH_CONNECTIONS_PCT)] if "db_connections_high" in ctx.faults else [])
    if args:
        ctx.run.spawn("pg-holder", module_argv("ilsref.pgholder", *args),
                      env=module_env(ILSREF_HOLDER_DSN=dsn))


def stop(run: RunDir, timeout: float = 10.0) -> None:
    """Fast shutdown (SIGINT to the postmaster: clients are cut, no waiting for them)."""
    pid = run.processes().get(SERVICE)
    if pid is not None:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGINT)
        deadline = time.monotonic() + timeout
        while alive(pid) and time.monotonic() < deadline:
            time.sleep(0.05)
    run.stop(SERVICE)  # SIGTERM/SIGKILL to the group if anything is left
    link = run.path / "postgres"
    if link.is_symlink():  # a fallback cluster in /tmp: nothing may outlive the deployment
        shutil.rmtree(link.resolve(), ignore_errors=True)
        link.unlink()


def _cluster_root(run: RunDir) -> Path:
    """A fresh directory the postgres user can reach: under the run dir when possible.

    A private tmp dir (pytest's are 0700) or a long path would stop postgres, so fall back to a
    directory in /tmp, linked from the run dir so that it can be found and cleaned.
    """
    link = run.path / "postgres"
    if link.is_symlink():
        shutil.rmtree(link.resolve(), ignore_errors=True)
        link.unlink()
    elif link.exists():
        shutil.rmtree(link)
    root = link
    if len(str(root / "data")) > MAX_SOCKET_DIR or not _reachable_by_postgres(run.path):
        root = Path(tempfile.mkdtemp(prefix="ilsref-pg-"))
        link.symlink_to(root)
    root.mkdir(parents=True, exist_ok=True)
    if os.geteuid() == 0:
        user = pwd.getpwnam(PG_USER)
        os.chown(root, user.pw_uid, user.pw_gid)
    return root


def _reachable_by_postgres(path: Path) -> bool:
    if os.geteuid() != 0:
        return True
    return subprocess.run(["runuser", "-u", PG_USER, "--", "test", "-x", str(path)],
                          capture_output=True, timeout=10).returncode == 0


def _run_as_postgres(argv: list[str]) -> None:
    if os.geteuid() == 0:
        argv = ["runuser", "-u", PG_USER, "--", *argv]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise RuntimeError(f"{Path(argv[4] if argv[0] == 'runuser' else argv[0]).name} failed: "
                           + " | ".join(tail))


def _link_log(run: RunDir, log: Path) -> None:
    target = run.logs / "postgres.log"
    if target.is_symlink() or target.exists():
        target.unlink()
    target.symlink_to(log)
