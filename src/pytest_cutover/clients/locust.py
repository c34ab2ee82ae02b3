"""Runs Locust in subprocesses (one process, or a master and N local workers) and returns facts.

Locust is never imported here: `import locust` monkey-patches the process with gevent and hangs
pytest (environment cookbook). Secrets reach the locustfile through environment variables, never
the command line. Every run has a hard timeout; on expiry the process groups are killed.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from pytest_cutover.clients.machine import LoopLag
from pytest_cutover.loadplan import LoadPlan
from pytest_cutover.loadstats import LoadStats

POLL_S = 0.2
SAMPLE_EVERY_S = 2.0  # how often `on_poll` (e.g. an HPA sampler) is called during the run
WORKER_START_GRACE_S = 30.0  # the master waits this long for --expect-workers to connect


@dataclass
class GeneratorProcess:
    role: str  # "locust", "master" or "worker-N"
    exit_code: int | None
    cpu_s: float
    wall_s: float
    log: Path

    @property
    def cpu_pct(self) -> float:
        """Share of one core this process used over its life (100 = one core saturated)."""
        return 100.0 * self.cpu_s / self.wall_s if self.wall_s > 0 else 0.0

    def log_tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@dataclass
class LoadRun:
    plan: LoadPlan
    command: list[str]
    stats: LoadStats | None
    html_report: Path
    processes: list[GeneratorProcess] = field(default_factory=list)
    timed_out: bool = False
    lag: LoopLag | None = None  # how late the generator's event loop ran (client-side queueing)

    @property
    def busiest_generator(self) -> GeneratorProcess | None:
        return max(self.processes, key=lambda p: p.cpu_pct, default=None)

    def describe_failure(self) -> str:
        """Why no statistics came back, for an error message."""
        if self.timed_out:
            why = f"Locust did not finish within the hard timeout of {self.plan.hard_timeout_s:.0f} s"
        else:
            codes = ", ".join(f"{p.role} exited {p.exit_code}" for p in self.processes)
            why = f"Locust wrote no final statistics ({codes})"
        tails = "\n".join(f"--- {p.role} ---\n{p.log_tail()}" for p in self.processes)
        return f"{why}; log tails:\n{tails}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocustRunner:
    def __init__(self, locustfile: Path, workdir: Path, python: str = sys.executable) -> None:
        self.locustfile, self.workdir, self.python = locustfile, workdir, python

    def run(self, plan: LoadPlan, base_url: str, env: dict[str, str],
            on_poll: Callable[[], None] | None = None) -> LoadRun:
        self.workdir.mkdir(parents=True, exist_ok=True)
        stats_file = self.workdir / "final-stats.json"
        stats_file.unlink(missing_ok=True)
        html = self.workdir / "locust.html"
        lag_prefix = self.workdir / "loop-lag"
        for old in self.workdir.glob(f"{lag_prefix.name}.*"):
            old.unlink(missing_ok=True)
        child_env = {**os.environ, **env, "CUTOVER_LOAD_STATS": str(stats_file),
                     "CUTOVER_LOAD_LAG": str(lag_prefix),
                     "CUTOVER_LOAD_STAGES": plan.stages_json(), "CUTOVER_LOAD_MODEL": plan.model_json(),
                     "CUTOVER_LOAD_WARMUP_S": str(plan.warmup_s)}
        base = [self.python, "-m", "locust", "-f", str(self.locustfile), "--headless",
                "-H", base_url, "--only-summary", "--loglevel", "WARNING"]
        main = [*base, "--html", str(html)]
        roles: list[tuple[str, list[str]]] = []
        if plan.workers:
            port = _free_port()
            main += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                     "--expect-workers", str(plan.workers),
                     "--expect-workers-max-wait", str(int(WORKER_START_GRACE_S))]
            roles.append(("master", main))
            worker = [self.python, "-m", "locust", "-f", str(self.locustfile), "--worker",
                      "--master-host", "127.0.0.1", "--master-port", str(port), "--loglevel", "WARNING"]
            roles += [(f"worker-{n}", worker) for n in range(1, plan.workers + 1)]
        else:
            roles.append(("locust", main))
        timeout = plan.hard_timeout_s + (WORKER_START_GRACE_S if plan.workers else 0)
        processes, timed_out = self._run_all(roles, child_env, timeout, on_poll)
        stats = None
        if stats_file.is_file():
            stats = LoadStats.from_json(json.loads(stats_file.read_text()))
        return LoadRun(plan=plan, command=main, stats=stats, html_report=html,
                       processes=processes, timed_out=timed_out, lag=LoopLag.read(lag_prefix))

    def _run_all(self, roles: list[tuple[str, list[str]]], env: dict[str, str], timeout: float,
                 on_poll: Callable[[], None] | None) -> tuple[list[GeneratorProcess], bool]:
        started = time.monotonic()
        running = []
        for role, command in roles:
            log = self.workdir / f"{role}.log"
            with log.open("wb") as out:
                proc = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env,
                                        cwd=self.workdir, start_new_session=True)
            running.append((role, proc, log))
        finished: dict[int, GeneratorProcess] = {}
        deadline = started + timeout
        timed_out = False
        next_sample = started
        while len(finished) < len(running):  # bounded by the deadline below
            for role, proc, log in running:
                if proc.pid in finished:
                    continue
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    proc.returncode = os.waitstatus_to_exitcode(status)
                    finished[proc.pid] = GeneratorProcess(
                        role, proc.returncode, usage.ru_utime + usage.ru_stime,
                        time.monotonic() - started, log)
            if len(finished) < len(running) and time.monotonic() > deadline:
                timed_out = True
                for _, proc, _ in running:
                    if proc.pid not in finished:
                        _kill_group(proc)
                deadline = time.monotonic() + 10  # reaping after SIGKILL is quick
                if time.monotonic() > started + timeout + 10:
                    break
            if on_poll is not None and time.monotonic() >= next_sample:
                next_sample = time.monotonic() + SAMPLE_EVERY_S
                on_poll()
            time.sleep(POLL_S)
        return [finished[p.pid] for _, p, _ in running if p.pid in finished], timed_out


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
