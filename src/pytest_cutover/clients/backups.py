"""Facts about database backups: which archives exist, how old and big they are, whether they read.

Returns facts, never asserts. The location is a directory with a glob pattern, or a command that
prints the backups as JSON (`[{"name": ..., "size": bytes, "created": ISO-8601 or epoch seconds,
"path": optional local path}, ...]`), for object stores and backup tools. Reading an archive is
bounded in time: `pg_restore --list` for custom-format dumps, a full gzip decompression (the
integrity check) plus a look at the SQL header for `.sql.gz`, the header alone for `.sql`.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shlex
import shutil
import subprocess
import time
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

LIST_TIMEOUT_S = 30.0
READ_TIMEOUT_S = 120.0
CHUNK = 1 << 20
SQL_HEADER_MARKERS = ("PostgreSQL database dump", "SET statement_timeout", "CREATE TABLE")


@dataclass(frozen=True)
class Archive:
    name: str
    size: int
    created: dt.datetime
    path: Path | None = None

    @property
    def kind(self) -> str:
        """custom | sql.gz | sql | unknown, from the name (pg_dump -Fc archives end in .dump)."""
        name = self.name.lower()
        for suffix, kind in ((".sql.gz", "sql.gz"), (".sql", "sql"), (".dump", "custom"),
                             (".backup", "custom"), (".pgdump", "custom")):
            if name.endswith(suffix):
                return kind
        return "unknown"

    def age_hours(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.UTC)
        return (now - self.created).total_seconds() / 3600


class ListingError(RuntimeError):
    """The backup location could not be listed."""


def from_directory(directory: str, pattern: str = "*") -> list[Archive]:
    root = Path(directory)
    if not root.is_dir():
        raise ListingError(f"backup directory {directory!r} does not exist or is not a directory")
    found = []
    for path in root.glob(pattern):
        if path.is_file():
            stat = path.stat()
            found.append(Archive(path.name, stat.st_size,
                                 dt.datetime.fromtimestamp(stat.st_mtime, dt.UTC), path))
    return sorted(found, key=lambda a: a.created)


def from_location(table: dict[str, Any], base: Path | None = None) -> list[Archive] | None:
    """The backups a `backups` table points at (its `list_command`, else its `directory`, taken
    relative to `base` when relative); None when it names neither."""
    if table.get("list_command"):
        return from_command(table["list_command"])
    if table.get("directory"):
        directory = Path(base or ".") / table["directory"]
        return from_directory(str(directory), table.get("pattern", "*"))
    return None


def from_command(command: str, timeout_s: float = LIST_TIMEOUT_S) -> list[Archive]:
    try:
        done = subprocess.run(shlex.split(command), capture_output=True, text=True,
                              timeout=timeout_s, stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ListingError(f"backup list command failed: {exc}") from None
    if done.returncode != 0:
        raise ListingError(f"backup list command exited {done.returncode}: "
                           f"{(done.stderr or done.stdout).strip()[:200]}")
    try:
        entries = json.loads(done.stdout)
        found = [Archive(str(e["name"]), int(e["size"]), _when(e["created"]),
                         Path(e["path"]) if e.get("path") else None) for e in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise ListingError(f"backup list command printed no list of {{name, size, created}}: "
                           f"{exc}") from None
    return sorted(found, key=lambda a: a.created)


def _when(value: object) -> dt.datetime:
    if isinstance(value, int | float):
        return dt.datetime.fromtimestamp(value, dt.UTC)
    parsed = dt.datetime.fromisoformat(str(value))  # Python >= 3.11 reads a trailing Z
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def newest_of_each_kind(archives: list[Archive]) -> list[Archive]:
    newest: dict[str, Archive] = {}
    for archive in archives:  # sorted oldest first: the last one wins
        newest[archive.kind] = archive
    return sorted(newest.values(), key=lambda a: a.name)


def find_pg_restore(configured: str | None = None) -> str | None:
    if configured:
        return configured
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_restore"), reverse=True)
    return shutil.which("pg_restore") or (str(candidates[0]) if candidates else None)


def readable(archive: Archive, pg_restore: str | None = None,
             timeout_s: float = READ_TIMEOUT_S) -> str | None:
    """None when the archive reads back completely, else what is wrong with it (one line)."""
    if archive.path is None:
        return "no local path to read it from"
    if archive.kind == "custom":
        return _custom_readable(archive.path, pg_restore, timeout_s)
    if archive.kind == "sql.gz":
        return _gzip_readable(archive.path, timeout_s)
    if archive.kind == "sql":
        with archive.path.open("rb") as fh:
            return _sql_header_problem(fh.read(4096))
    return f"unknown archive format of {archive.name!r} (expected .dump, .sql.gz or .sql)"


def _custom_readable(path: Path, pg_restore: str | None, timeout_s: float) -> str | None:
    if pg_restore is None:
        return "pg_restore is not installed (apt-get install -y postgresql-client)"
    try:
        done = subprocess.run([pg_restore, "--list", str(path)], capture_output=True, text=True,
                              timeout=timeout_s, stdin=subprocess.DEVNULL, check=False)
    except subprocess.TimeoutExpired:
        return f"pg_restore --list did not finish within {timeout_s:.0f} s"
    if done.returncode != 0:
        return f"pg_restore --list exited {done.returncode}: {done.stderr.strip()[:200]}"
    if "TABLE DATA" not in done.stdout and "TABLE " not in done.stdout:
        return "pg_restore --list shows no table in the archive"
    return None


def _gzip_readable(path: Path, timeout_s: float) -> str | None:
    deadline = time.monotonic() + timeout_s
    head = b""
    try:
        with gzip.open(path, "rb") as fh:
            while chunk := fh.read(CHUNK):
                if len(head) < 4096:
                    head += chunk[: 4096 - len(head)]
                if time.monotonic() > deadline:
                    return f"decompression did not finish within {timeout_s:.0f} s"
    except (OSError, EOFError, zlib.error) as exc:
        return f"gzip stream is damaged: {type(exc).__name__}: {exc}"
    return _sql_header_problem(head)


def _sql_header_problem(head: bytes) -> str | None:
    text = head.decode("utf-8", errors="replace")
    if any(marker in text for marker in SQL_HEADER_MARKERS):
        return None
    return f"no SQL dump header; starts with {text[:40]!r}"
