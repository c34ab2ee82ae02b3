"""Run-directory bookkeeping for the reference deployment.

Every process `ilsref up` starts is recorded in the run directory (`$ILSREF_HOME`, default
`./.ilsref`) so that `ilsref down` can stop all of them, even from another shell.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import threading
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path


class MissingBinary(RuntimeError):
    """A program from a Debian package is not installed; the message names the install command."""


def home() -> Path:
    return Path(os.environ.get("ILSREF_HOME", ".ilsref")).resolve()


def free_port() -> int:
    """A free TCP port on 127.0.0.1 (the kernel picks it; a small race is accepted)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_udp_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def require_binary(name: str, package: str, *candidates: str) -> str:
    """Path of an executable, or MissingBinary naming the apt-get command that installs it."""
    for candidate in (*candidates, name):
        found = shutil.which(candidate) if "/" not in candidate else candidate
        if found and os.access(found, os.X_OK):
            return found
    raise MissingBinary(f"{name!r} is not installed; install it with: apt-get install -y {package}")


def wait_for_port(port: int, timeout: float = 60.0, host: str = "127.0.0.1",
                  process: subprocess.Popen[bytes] | None = None) -> None:
    """Wait until something accepts on the port. The bound is generous: a Python server starting
    on a saturated 2-core machine took more than 15 s to import; a `process` that has already
    exited fails at once instead of after the whole wait."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if process is not None and process.poll() is not None:
                raise RuntimeError(f"process {process.pid} exited with {process.returncode} "
                                   f"before listening on {host}:{port} (see its log)") from None
            time.sleep(0.05)
    raise TimeoutError(f"nothing listens on {host}:{port} after {timeout:.0f} s")


_SPAWNED: list[subprocess.Popen[bytes]] = []


@atexit.register
def _servers_outlive_us() -> None:
    # The spawned servers are meant to keep running after `ilsref up` exits (`down` stops them),
    # so Popen's "still running" warning at interpreter exit is expected, not a leak. Servers
    # stopped by pid (a test's platform, `down` in this process) are reaped first: a Popen that
    # never learnt its child ended warns, under any filter a test run left in place.
    for proc in _SPAWNED:
        with contextlib.suppress(OSError):
            proc.poll()
    warnings.filterwarnings("ignore", message=r"subprocess \d+ is still running",
                            category=ResourceWarning)


@dataclass
class RunDir:
    """The run directory: `processes.json` (name -> pid), logs/, data dirs, generated config."""

    path: Path

    @classmethod
    def current(cls) -> RunDir:
        return cls(home())

    @property
    def logs(self) -> Path:
        return self.path / "logs"

    @property
    def state_file(self) -> Path:
        return self.path / "processes.json"

    def prepare(self) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        self.logs.mkdir(exist_ok=True)

    def processes(self) -> dict[str, int]:
        if not self.state_file.exists():
            return {}
        return {k: int(v) for k, v in json.loads(self.state_file.read_text()).items()}

    def _save(self, procs: dict[str, int]) -> None:
        self.state_file.write_text(json.dumps(procs, indent=2))

    def spawn(
        self,
        name: str,
        argv: Sequence[str],
        *,
        env: dict[str, str] | None = None,
        cwd: Path | None = None,
        user: str | None = None,
    ) -> subprocess.Popen[bytes]:
        """Start a long-running process in its own session, logging to logs/<name>.log."""
        full_env = {**os.environ, **(env or {})}
        cmd = list(argv)
        if user is not None and os.geteuid() == 0:
            cmd = ["runuser", "-u", user, "--", *cmd]
        with (self.logs / f"{name}.log").open("ab") as log:  # the child keeps its own copy
            proc = subprocess.Popen(
                cmd, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                env=full_env, cwd=cwd, start_new_session=True,
            )
        procs = self.processes()
        procs[name] = proc.pid
        self._save(procs)
        # Keep the Popen alive: these servers outlive the call by design, and a collected Popen of a
        # running child raises a ResourceWarning (an error under filterwarnings=error).
        _SPAWNED.append(proc)
        return proc

    def record(self, name: str, pid: int) -> None:
        """Track a process started by other means (e.g. a daemon that forks)."""
        procs = self.processes()
        procs[name] = pid
        self._save(procs)

    def stop(self, name: str, timeout: float = 10.0) -> None:
        procs = self.processes()
        pid = procs.pop(name, None)
        if pid is not None:
            stop_process_group(pid, timeout)
            _reap(pid)
        self._save(procs)

    def stop_all(self, timeout: float = 10.0) -> list[str]:
        """Stop every recorded process, newest first; returns the names stopped."""
        names = list(self.processes())[::-1]
        for name in names:
            self.stop(name, timeout)
        return names


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie child still answers kill(0); treat it as gone.
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().split(") ")[-1][:1] != "Z"
    except OSError:
        return False


def stop_on_signals() -> threading.Event:
    """An event that SIGTERM (`ilsref down`) or SIGINT (Ctrl-C) sets: what a server's main thread
    waits on before it shuts its listeners down."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


def _reap(pid: int) -> None:
    """Collect the exit status of a child we spawned and have stopped: a Popen that never learns
    its child ended warns "still running" when it is collected, even though the child is gone."""
    for proc in [p for p in _SPAWNED if p.pid == pid]:
        if proc.poll() is not None:
            _SPAWNED.remove(proc)


def stop_process_group(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group led by pid, then SIGKILL what is left after timeout."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not alive(pid):
                return
            time.sleep(0.05)
