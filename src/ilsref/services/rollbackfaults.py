"""Rollback-drill support: the `rollback` table of the local environment and its data faults.

Runs after `backups` at `up`: allows scratch restores on the local server, names the plan's
tables (users, patients, orders) for the restore comparison, and applies the faults below.
The faults change data, so they apply at `up` (restart=True) or on demand, after a snapshot:
`python -m ilsref.services.rollbackfaults data_deleted_after_snapshot` (or `apply_fault`).

- backup_missing_orders: the newest backup (.dump and .sql.gz) lost the 5 newest orders;
- backup_altered_order: in the newest backup one order's lens material differs from the
  database (same row counts: only the contents comparison can see it);
- data_deleted_after_snapshot: 5 patients are deleted, bypassing foreign keys, so their
  orders become orphans (what a botched migration does).
"""

from __future__ import annotations

import gzip
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ilsref.faults import Fault
from ilsref.services import backups
from ilsref.services.base import Context

FAULTS = (
    Fault("backup_missing_orders", "rollback/restore",
          "the newest backup lost the 5 newest rows of table orders", restart=True),
    Fault("backup_altered_order", "rollback/restore",
          "in the newest backup one order's lens_material differs from the database (counts equal)",
          restart=True),
    Fault("data_deleted_after_snapshot", "rollback/integrity",
          "5 patients are deleted behind the foreign keys (orphaning their orders); apply after "
          "a snapshot with `python -m ilsref.services.rollbackfaults data_deleted_after_snapshot`",
          restart=True),
)
LOST_ORDERS = 5
DELETED_PATIENTS = 5
PLAN_TABLES = ["users", "patients", "orders"]
TIMEOUT = 120.0


def admin_dsn_of(run_dir: Path) -> str:
    """The superuser DSN the running deployment wrote into run/secrets.env."""
    path = run_dir / "run" / "secrets.env"
    values = dict(line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return values["CUTOVER_LOCAL_DATABASE_ADMIN_URL"]


def _on(dsn: str, database: str) -> str:
    return urlunsplit(urlsplit(dsn)._replace(path=f"/{database}"))


def _psql(dsn: str, pg_bin: Path, sql: str, database: str = "ils_db") -> None:
    subprocess.run([str(pg_bin / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    f"--dbname={_on(dsn, database)}", "-c", sql],
                   check=True, capture_output=True, timeout=TIMEOUT)


def _pg_bin() -> Path:
    from ilsref.services.postgres import pg_bin_dir

    return pg_bin_dir()


def _kept(run_dir: Path) -> Path:
    return run_dir / "run" / "deleted_patients.copy"


def delete_patients(dsn: str, pg_bin: Path, run_dir: Path) -> None:
    """Delete the patients, keeping a COPY of them so `undo_delete` can put them back."""
    chosen = (f"SELECT id FROM patients ORDER BY customer_number DESC LIMIT {DELETED_PATIENTS}")
    kept = subprocess.run([str(pg_bin / "psql"), "-X", "-q", f"--dbname={_on(dsn, 'ils_db')}", "-c",
                           f"COPY (SELECT * FROM patients WHERE id IN ({chosen})) TO STDOUT"],
                          check=True, capture_output=True, timeout=TIMEOUT).stdout
    _kept(run_dir).write_bytes(kept)
    _psql(dsn, pg_bin, f"SET session_replication_role = replica; DELETE FROM patients WHERE id IN ({chosen})")


def undo_delete(run_dir: Path, pg_bin: Path | None = None, admin_dsn: str | None = None) -> None:
    """Put the patients deleted by data_deleted_after_snapshot back (self-tests share a deployment)."""
    kept = _kept(run_dir)
    if not kept.exists():
        return
    subprocess.run([str((pg_bin or _pg_bin()) / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1",
                    f"--dbname={_on(admin_dsn or admin_dsn_of(run_dir), 'ils_db')}", "-c",
                    "COPY patients FROM STDIN"], input=kept.read_bytes(), check=True,
                   capture_output=True, timeout=TIMEOUT)
    kept.unlink()


def _drop_orders_from_plain(path: Path) -> None:
    """Remove the last LOST_ORDERS data lines of the `orders` COPY block of a gzipped dump."""
    lines = gzip.decompress(path.read_bytes()).decode().split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("COPY public.orders "))
    end = next(i for i in range(start, len(lines)) if lines[i] == "\\.")
    del lines[max(start + 1, end - LOST_ORDERS):end]
    path.write_bytes(gzip.compress("\n".join(lines).encode()))


ALTERED = " (altered in the backup)"
DROP_NEWEST_ORDERS = ("SET session_replication_role = replica; DELETE FROM orders WHERE id IN "
                      f"(SELECT id FROM orders ORDER BY order_number DESC LIMIT {LOST_ORDERS})")
ALTER_FIRST_ORDER = (f"UPDATE orders SET lens_material = lens_material || '{ALTERED}' WHERE id = "
                     "(SELECT id FROM orders ORDER BY order_number LIMIT 1)")


def _alter_order_in_plain(path: Path) -> None:
    """Change the lens_material of the first row of the `orders` COPY block of a gzipped dump."""
    lines = gzip.decompress(path.read_bytes()).decode().split("\n")
    start = next(i for i, ln in enumerate(lines) if ln.startswith("COPY public.orders "))
    names = [n.strip().strip('"') for n in lines[start].split("(", 1)[1].split(")", 1)[0].split(",")]
    fields = lines[start + 1].split("\t")
    fields[names.index("lens_material")] += ALTERED
    lines[start + 1] = "\t".join(fields)
    path.write_bytes(gzip.compress("\n".join(lines).encode()))


def _drop_orders_from_custom(path: Path, admin_dsn: str, pg_bin: Path,
                             sql: str = DROP_NEWEST_ORDERS) -> None:
    """Round-trip the archive through a temporary database changed by `sql` (by default: without
    the newest orders)."""
    temp = "ilsref_fault_orders"
    _psql(admin_dsn, pg_bin, f"DROP DATABASE IF EXISTS {temp}")
    _psql(admin_dsn, pg_bin, f"CREATE DATABASE {temp}")
    try:
        dsn = _on(admin_dsn, temp)
        subprocess.run([str(pg_bin / "pg_restore"), "--no-owner", f"--dbname={dsn}", str(path)],
                       check=True, capture_output=True, timeout=TIMEOUT)
        _psql(admin_dsn, pg_bin, sql, temp)
        subprocess.run([str(pg_bin / "pg_dump"), "-Fc", f"--dbname={dsn}", f"--file={path}"],
                       check=True, capture_output=True, timeout=TIMEOUT)
    finally:
        _psql(admin_dsn, pg_bin, f"DROP DATABASE IF EXISTS {temp}")


def apply_fault(run_dir: Path, name: str, pg_bin: Path | None = None,
                admin_dsn: str | None = None) -> None:
    """Break the data or the backups of the deployment in `run_dir` the way fault `name` says."""
    pg_bin = pg_bin or _pg_bin()
    admin_dsn = admin_dsn or admin_dsn_of(run_dir)
    if name == "data_deleted_after_snapshot":
        delete_patients(admin_dsn, pg_bin, run_dir)
    elif name == "backup_missing_orders":
        for path in backups.newest(backups.backup_dir(run_dir)):
            stamp = backups._stamp_of(path)
            if path.name.endswith(".sql.gz"):
                _drop_orders_from_plain(path)
            else:
                _drop_orders_from_custom(path, admin_dsn, pg_bin)
            backups._place(path, stamp)
    elif name == "backup_altered_order":
        for path in backups.newest(backups.backup_dir(run_dir)):
            stamp = backups._stamp_of(path)
            if path.name.endswith(".sql.gz"):
                _alter_order_in_plain(path)
            else:
                _drop_orders_from_custom(path, admin_dsn, pg_bin, ALTER_FIRST_ORDER)
            backups._place(path, stamp)
    else:
        raise ValueError(f"unknown rollback fault {name!r}; expected one of {[f.name for f in FAULTS]}")


def start(ctx: Context) -> None:
    database = ctx.environment.setdefault("database", {})
    database["scratch_allowed"] = True
    database.setdefault("tables", PLAN_TABLES)
    ctx.environment["rollback"] = {"rollout_timeout_s": 30, "smoke_timeout_s": 180,
                                   "pg_bin": str(ctx.facts["pg_bin"])}
    for fault in FAULTS:
        if fault.name in ctx.faults:
            apply_fault(ctx.run.path, fault.name, Path(ctx.facts["pg_bin"]),
                        ctx.facts["postgres_admin_dsn"])


if __name__ == "__main__":  # python -m ilsref.services.rollbackfaults NAME
    from ilsref.runtime import RunDir

    for fault_name in sys.argv[1:] or ["--help"]:
        if fault_name not in {f.name for f in FAULTS}:
            print(f"usage: python -m ilsref.services.rollbackfaults "
                  f"{{{','.join(f.name for f in FAULTS)}}}", file=sys.stderr)
            sys.exit(2)
        apply_fault(RunDir.current().path, fault_name)
        print(f"applied {fault_name}")
