"""Backups: real `pg_dump` archives of ils_db in <run>/backups, as ILS's backup scripts make them.

At `up`: one custom-format archive (`ils_db_<UTC stamp>.dump`) and one gzipped plain SQL dump
(`ils_db_<stamp>.sql.gz`), plus copies back-dated 1, 2 and 3 days (name and mtime agree) so
retention and freshness can be checked. Facts read: postgres_admin_dsn (or postgres_dsn), pg_bin.
The faults rewrite files, so they apply at `up` (restart=True); `apply_fault` lets self-tests and
drills apply one to an existing directory.
"""

from __future__ import annotations

import gzip
import os
import random
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

from ilsref.faults import Fault
from ilsref.services.base import Context

FAULTS = (
    Fault("backup_stale", "readiness/backups", "the newest backup is 3 days old", restart=True),
    Fault("backup_corrupt", "readiness/backups", "the newest archives are truncated and garbled",
          restart=True),
    Fault("backup_missing", "readiness/backups", "the backup directory is empty", restart=True),
    Fault("backup_tiny", "readiness/backups", "the newest archives are a few bytes long", restart=True),
)

DATABASE = "ils_db"
PATTERN = "ils_db_*"
STAMP_FORMAT = "%Y%m%dT%H%M%SZ"
OLDER_COPIES_DAYS = (1, 2, 3)
DUMP_TIMEOUT = 120.0
STALE_SHIFT = timedelta(days=3)


def backup_dir(run_dir: Path) -> Path:
    return run_dir / "backups"


def _database_dsn(dsn: str) -> str:
    """The same server and credentials, connected to ils_db (the admin DSN may name another db)."""
    if "://" in dsn:
        return urlunsplit(urlsplit(dsn)._replace(path=f"/{DATABASE}"))
    return f"{dsn} dbname={DATABASE}"  # key=value form: the last dbname wins


def _name(stamp: datetime, suffix: str) -> str:
    return f"ils_db_{stamp.strftime(STAMP_FORMAT)}{suffix}"


def _stamp_of(path: Path) -> datetime:
    stem = path.name.removeprefix("ils_db_").split(".", 1)[0]
    return datetime.strptime(stem, STAMP_FORMAT).replace(tzinfo=UTC)


def _suffix(path: Path) -> str:
    return "." + path.name.split(".", 1)[1]  # ".dump" or ".sql.gz"


def _place(path: Path, stamp: datetime) -> None:
    """Give the file the modification time its name claims."""
    os.utime(path, (stamp.timestamp(), stamp.timestamp()))


def dump(dsn: str, pg_bin: Path, directory: Path, now: datetime) -> list[Path]:
    """Write the custom-format and the gzipped plain dump taken at `now`; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    pg_dump = str(pg_bin / "pg_dump")
    custom = directory / _name(now, ".dump")
    subprocess.run([pg_dump, "-Fc", "--no-password", f"--dbname={dsn}", f"--file={custom}"],
                   check=True, timeout=DUMP_TIMEOUT, capture_output=True)
    plain = directory / _name(now, ".sql.gz")
    with subprocess.Popen([pg_dump, "--no-password", f"--dbname={dsn}"], stdout=subprocess.PIPE) as proc:
        assert proc.stdout is not None
        with gzip.open(plain, "wb") as archive:
            shutil.copyfileobj(proc.stdout, archive)
        if proc.wait(DUMP_TIMEOUT) != 0:
            raise RuntimeError(f"pg_dump of {DATABASE} (plain) exited with {proc.returncode}")
    for path in (custom, plain):
        _place(path, now)
    return [custom, plain]


def add_older_copies(fresh: list[Path], now: datetime) -> None:
    for days in OLDER_COPIES_DAYS:
        stamp = now - timedelta(days=days)
        for path in fresh:
            copy = path.with_name(_name(stamp, _suffix(path)))
            shutil.copyfile(path, copy)
            _place(copy, stamp)


def newest(directory: Path) -> list[Path]:
    """The archives of the most recent backup (same stamp, every format)."""
    files = sorted(directory.glob(PATTERN), key=_stamp_of)
    if not files:
        return []
    latest = _stamp_of(files[-1])
    return [f for f in files if _stamp_of(f) == latest]


def apply_fault(run_dir: Path, name: str) -> None:
    """Break the backups in <run_dir>/backups the way fault `name` says."""
    directory = backup_dir(run_dir)
    if name == "backup_missing":
        for path in directory.glob(PATTERN):
            path.unlink()
    elif name == "backup_stale":
        # Oldest first, so a shifted name never lands on a file not yet shifted.
        for path in sorted(directory.glob(PATTERN), key=_stamp_of):
            stamp = _stamp_of(path) - STALE_SHIFT
            moved = path.rename(path.with_name(_name(stamp, _suffix(path))))
            _place(moved, stamp)
    elif name == "backup_corrupt":
        for path in newest(directory):
            _garble(path)
    elif name == "backup_tiny":
        for path in newest(directory):
            stamp = _stamp_of(path)
            path.write_bytes(path.read_bytes()[:16])
            _place(path, stamp)
    else:
        raise ValueError(f"unknown backup fault {name!r}; expected one of {[f.name for f in FAULTS]}")


def _garble(path: Path) -> None:
    """Keep the format's magic bytes and most of the size, so only reading it reveals the damage."""
    stamp = _stamp_of(path)
    data = bytearray(path.read_bytes())
    keep = len(data) * 6 // 10
    noise = random.Random(path.name).randbytes(max(0, keep - 8))  # deterministic per file
    data[8:keep] = noise
    path.write_bytes(bytes(data[:keep]))
    _place(path, stamp)


def start(ctx: Context) -> None:
    dsn = _database_dsn(ctx.facts.get("postgres_admin_dsn") or ctx.facts["postgres_dsn"])
    directory = backup_dir(ctx.run.path)
    shutil.rmtree(directory, ignore_errors=True)  # a fresh `up` starts from a known set
    now = datetime.now(UTC).replace(microsecond=0)
    fresh = dump(dsn, Path(ctx.facts["pg_bin"]), directory, now)
    add_older_copies(fresh, now)
    for fault in FAULTS:
        if fault.name in ctx.faults:
            apply_fault(ctx.run.path, fault.name)
    ctx.environment["backups"] = {
        "directory": str(directory),
        "pattern": PATTERN,
        "max_age_hours": {"warn": 24, "crit": 48},
        "min_count": 3,
    }
