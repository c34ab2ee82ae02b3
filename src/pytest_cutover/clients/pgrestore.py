"""Scratch databases, dumps and restores with PostgreSQL's own tools (pg_dump, pg_restore, psql).

Restores stop at the first error (`pg_restore --exit-on-error`, `psql -v ON_ERROR_STOP=1`) and
report it in one line. Passwords travel in PGPASSWORD, never on a command line. Every tool run
has a timeout. The scratch database is created and dropped over the admin DSN; the caller makes
sure it is never the source (see `check_scratch_name`).
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pytest_cutover.clients import conninfo as connstrings

CUSTOM, PLAIN, GZIP = "custom", "plain", "plain-gzip"
SCRATCH_PREFIX = "cutover_scratch_"


class RestoreRefused(Exception):
    """The restore drill must not run as configured; the message says why and how to fix it."""


class ForeignScratch(RestoreRefused):
    """The scratch database's name is taken by a database that is not one of ours."""


@dataclass(frozen=True)
class Restored:
    ok: bool
    seconds: float
    error: str  # first error line, empty when ok
    command: str  # what ran, without credentials


def conninfo(dsn: str) -> dict[str, Any]:
    return dict(connstrings.parse(dsn))


def with_database(dsn: str, name: str) -> str:
    return connstrings.make(dsn, dbname=name)


def database_of(dsn: str) -> str:
    info = conninfo(dsn)
    return str(info.get("dbname") or info.get("user") or "")


def check_scratch_name(scratch: str, source: str) -> None:
    if not scratch:
        raise RestoreRefused("no scratch database name: set [rollback] scratch_database")
    if scratch == source:
        raise RestoreRefused(f"the scratch database {scratch!r} is the source database: a restore "
                             f"drill never restores over the source; set [rollback] "
                             f"scratch_database to another name")


def default_scratch(source: str) -> str:
    return f"{SCRATCH_PREFIX}{source}"[:63]


def detect_format(path: Path) -> str:
    with path.open("rb") as fh:
        head = fh.read(5)
    if head.startswith(b"PGDMP"):
        return CUSTOM
    if head.startswith(b"\x1f\x8b"):
        return GZIP
    return PLAIN


def tool(name: str, pg_bin: str | None = None) -> str:
    """The PostgreSQL tool: from `pg_bin`, else PATH, else the newest /usr/lib/postgresql."""
    if pg_bin:
        return str(Path(pg_bin) / name)
    found = shutil.which(name)
    if found:
        return found
    versions = sorted(Path("/usr/lib/postgresql").glob(f"*/bin/{name}"),
                      key=lambda p: int(p.parts[-3]) if p.parts[-3].isdigit() else 0)
    if versions:
        return str(versions[-1])
    raise RestoreRefused(f"{name} is not installed: install postgresql-client, or set "
                         f"[rollback] pg_bin to the folder holding it")


def _env_and_dsn(dsn: str) -> tuple[dict[str, str], str]:
    """The DSN without its password, and an environment carrying the password."""
    password = conninfo(dsn).get("password")
    env = dict(os.environ)
    if password:
        env["PGPASSWORD"] = str(password)
    return env, connstrings.make(dsn, password=None)


@contextmanager
def _admin_connection(dsn: str, timeout_s: float) -> Iterator[Any]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True, connect_timeout=max(1, int(timeout_s)),
                         application_name="pytest-cutover restore drill") as conn:
        conn.execute(f"SET statement_timeout = {int(timeout_s * 1000)}")
        yield conn


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _exists(conn: Any, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _wait_unused(conn: Any, name: str, limit_s: float = 2.0) -> None:
    """Wait (bounded) until no client backend is connected to `name`: DROP DATABASE finds a
    backend still exiting (its client just closed the connection) and sleeps 100 ms at a time
    until it is gone; a few 5 ms waits here are cheaper. Others are ended by the drop's FORCE."""
    end = time.monotonic() + limit_s
    while time.monotonic() < end and conn.execute(
            "SELECT 1 FROM pg_stat_activity WHERE datname = %s AND backend_type = 'client backend' "
            "AND pid <> pg_backend_pid() LIMIT 1", (name,)).fetchone() is not None:
        time.sleep(0.005)


def fresh_scratch(admin_dsn: str, name: str, timeout_s: float = 60, pg_bin: str | None = None) -> None:
    """Create the scratch database `name` empty; a leftover of an interrupted drill is dropped
    first, but never a database that is not one of ours. The usual case, no database of that
    name, is one `createdb` run, which needs no psycopg (the drill imports it meanwhile); when
    createdb fails (a leftover, a refusal) the checked path below runs over one admin connection."""
    if create_scratch(admin_dsn, name, timeout_s, pg_bin):
        return
    with _admin_connection(admin_dsn, timeout_s) as conn:
        if _exists(conn, name):
            if not name.startswith(SCRATCH_PREFIX):
                raise ForeignScratch(f"scratch database {name!r} already exists and is not one of "
                                     f"ours ({SCRATCH_PREFIX}*): drop it or choose another")
            _wait_unused(conn, name)
            conn.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)".encode())
        conn.execute(f"CREATE DATABASE {_ident(name)}".encode())


def create_scratch(admin_dsn: str, name: str, timeout_s: float = 60, pg_bin: str | None = None) -> bool:
    """Whether `createdb` made `name` (it refuses a name that exists: then nothing changed)."""
    try:
        env, admin = _env_and_dsn(admin_dsn)
        done = subprocess.run([tool("createdb", pg_bin), f"--maintenance-db={admin}", "--", name],
                              env=env, capture_output=True, timeout=timeout_s, check=False)
    except (RestoreRefused, OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def drop_and_confirm(admin_dsn: str, name: str, timeout_s: float = 60) -> bool:
    """Drop `name` (if it exists) and say whether it is gone, asked afterwards on the same connection."""
    with _admin_connection(admin_dsn, timeout_s) as conn:
        _wait_unused(conn, name)
        conn.execute(f"DROP DATABASE IF EXISTS {_ident(name)} WITH (FORCE)".encode())
        return not _exists(conn, name)


_ERROR = re.compile(r"(error|fatal|invalid|unexpected|not a valid|could not|crc|corrupt)", re.IGNORECASE)


def first_error(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    for line in lines:
        if _ERROR.search(line):
            return line[:300]
    return lines[-1][:300] if lines else "no error output"


def restore(path: Path, dsn: str, jobs: int = 1, timeout_s: float = 1800,
            pg_bin: str | None = None, on_line: Callable[[str], object] | None = None) -> Restored:
    """Restore `path` (custom, plain or gzipped plain) into the database of `dsn`. With `on_line`,
    a custom archive is restored with `--verbose` and each line of its log is passed on as it
    comes (from a thread of its own), to follow the restore's progress."""
    env, target = _env_and_dsn(dsn)
    kind = detect_format(path)
    started = time.monotonic()
    if kind == CUSTOM:
        verbose = ["--verbose"] if on_line is not None else []
        if on_line is not None:  # the log is read for its English words ("finished item ...")
            env = _english(env)
        command = [tool("pg_restore", pg_bin), "--exit-on-error", "--no-owner", "--no-privileges",
                   *verbose, f"--jobs={max(1, jobs)}", f"--dbname={target}", str(path)]
        shown = " ".join(["pg_restore", *command[1:-2], path.name])  # without the DSN
        code, log = _run_logged(command, env, timeout_s, on_line or (lambda _line: None))
        seconds = time.monotonic() - started
        if code is None:
            return Restored(False, seconds, f"timed out after {timeout_s:g} s", shown)
        return Restored(code == 0, seconds, "" if code == 0 else first_error(problems(log)), shown)
    psql = [tool("psql", pg_bin), "-X", "-q", "-v", "ON_ERROR_STOP=1", f"--dbname={target}"]
    shown = f"{'gunzip -c' if kind == GZIP else 'cat'} {path.name} | psql -X -v ON_ERROR_STOP=1"
    return _piped(path, kind, psql, env, timeout_s, started, shown)


def _english(env: dict[str, str]) -> dict[str, str]:
    """`env` with PostgreSQL's messages in English (gettext: LC_ALL, then LANGUAGE, win)."""
    return {**{k: v for k, v in env.items() if k not in ("LC_ALL", "LANGUAGE")}, "LC_MESSAGES": "C"}


def _run_logged(command: list[str], env: dict[str, str], timeout_s: float,
                on_line: Callable[[str], object]) -> tuple[int | None, str]:
    """Run `command`, passing each line of its standard error to `on_line` as it is written;
    (exit code, or None when it timed out and was killed; the whole log)."""
    lines: list[str] = []
    with subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          text=True, errors="replace") as proc:
        def pump() -> None:
            assert proc.stderr is not None  # noqa: S101 - narrows for mypy; stderr=PIPE
            for line in proc.stderr:
                lines.append(line)
                # a follower's failure must not stop the pipe being read (pg_restore would block)
                with suppress(Exception):
                    on_line(line)
        reader = threading.Thread(target=pump, name="restore-log", daemon=True)
        reader.start()
        try:
            code: int | None = proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            code = None
        # pg_restore's workers hold the pipe until they notice their leader is gone
        reader.join(timeout=5)
    return code, "".join(lines)


# pg_restore's progress lines (--verbose), as opposed to its errors, warnings and the server's
# messages that follow them ("Command was: ...")
_PROGRESS = re.compile(r"^pg_restore: (?!(?:error|warning|detail|hint|fatal):)")


def problems(log: str) -> str:
    """The log without pg_restore's progress lines: a table named error_log is not an error."""
    return "\n".join(line for line in log.splitlines() if not _PROGRESS.match(line))


def list_entries(path: Path, timeout_s: float = 60, pg_bin: str | None = None) -> str:
    """`pg_restore --list` of a custom archive: its table of contents, one entry per line."""
    done = subprocess.run([tool("pg_restore", pg_bin), "--list", str(path)], capture_output=True,
                          text=True, errors="replace", timeout=timeout_s, check=False)
    if done.returncode != 0:
        raise RestoreRefused(f"pg_restore --list {path.name} failed: {first_error(done.stderr)}")
    return done.stdout


def _piped(path: Path, kind: str, psql: list[str], env: dict[str, str], timeout_s: float,
           started: float, shown: str) -> Restored:
    reader = ["gzip", "-dc", str(path)] if kind == GZIP else ["cat", str(path)]
    with (subprocess.Popen(reader, stdout=subprocess.PIPE, stderr=subprocess.PIPE) as source,
          subprocess.Popen(psql, stdin=source.stdout, stdout=subprocess.DEVNULL,
                           stderr=subprocess.PIPE, env=env, text=True) as sink):
        assert source.stdout is not None  # noqa: S101 - narrows for mypy; stdout=PIPE
        source.stdout.close()  # psql holds the read end; gzip gets SIGPIPE if psql stops
        try:
            _, psql_err = sink.communicate(timeout=timeout_s)
            source.wait(timeout=max(1.0, timeout_s - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            sink.kill()
            source.kill()
            return Restored(False, time.monotonic() - started,
                            f"timed out after {timeout_s:g} s", shown)
        reader_err = source.stderr.read().decode(errors="replace") if source.stderr else ""
    seconds = time.monotonic() - started
    if sink.returncode != 0:
        return Restored(False, seconds, first_error(psql_err), shown)
    if source.returncode != 0:
        return Restored(False, seconds, first_error(reader_err), shown)
    return Restored(True, seconds, "", shown)


def dump(dsn: str, path: Path, snapshot_id: str | None = None, timeout_s: float = 1800,
         pg_bin: str | None = None) -> Path:
    """`pg_dump -Fc` of the database of `dsn` into `path`, at an exported snapshot if given."""
    env, source = _env_and_dsn(dsn)
    command = [tool("pg_dump", pg_bin), "-Fc", f"--dbname={source}", f"--file={path}"]
    if snapshot_id:
        command.append(f"--snapshot={snapshot_id}")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout_s,
                          check=False)
    if done.returncode != 0:
        raise RestoreRefused(f"pg_dump -Fc failed (exit {done.returncode}): {first_error(done.stderr)}")
    return path
