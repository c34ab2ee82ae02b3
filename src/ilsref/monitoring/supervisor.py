"""The monitoring supervisor: runs Prometheus and Alertmanager and applies monitoring faults live.

Prometheus cannot read run/faults.json, so this process does it for them: it polls the fault state,
rewrites the generated files when a monitoring fault changes and asks both servers to reload
(`POST /-/reload`); `prom_down` stops Prometheus, clearing it starts Prometheus again. Both servers
stay in the supervisor's process group, so `ilsref down` stopping the supervisor stops them too.

Run as: python -m ilsref.monitoring.supervisor PLAN_JSON
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from types import FrameType

from ilsref.faults import FaultState
from ilsref.monitoring.config import CONFIG_FAULTS, write_all
from ilsref.monitoring.plan import MonitoringPlan

POLL_SECONDS = 0.25
MAX_UNEXPECTED_RESTARTS = 5  # a server that keeps crashing is left down, visibly


def prometheus_argv(plan: MonitoringPlan) -> list[str]:
    return [
        plan.prometheus_binary,
        f"--config.file={plan.path('prometheus.yml')}",
        f"--storage.tsdb.path={plan.path('prometheus-data')}",
        f"--web.listen-address=127.0.0.1:{plan.prometheus_port}",
        "--web.enable-lifecycle",  # allows POST /-/reload
        "--storage.tsdb.retention.time=1d",
    ]


def alertmanager_argv(plan: MonitoringPlan) -> list[str]:
    return [
        plan.alertmanager_binary,
        f"--config.file={plan.path('alertmanager.yml')}",
        f"--storage.path={plan.path('alertmanager-data')}",
        f"--web.listen-address=127.0.0.1:{plan.alertmanager_port}",
        "--cluster.listen-address=",  # a single local instance: no gossip port
    ]


class Server:
    """One child server: started in our process group, logging to logs/<name>.log."""

    def __init__(self, name: str, argv: list[str], url: str, logs_dir: Path) -> None:
        self.name, self.argv, self.url, self.logs_dir = name, argv, url, logs_dir
        self.proc: subprocess.Popen[bytes] | None = None
        self.unexpected_exits = 0

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def start(self) -> None:
        with (self.logs_dir / f"{self.name}.log").open("ab") as log:
            self.proc = subprocess.Popen(self.argv, stdout=log, stderr=subprocess.STDOUT,
                                         stdin=subprocess.DEVNULL)
        log_line(f"started {self.name} (pid {self.proc.pid})")

    def stop(self, timeout: float = 5.0) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout)
        log_line(f"stopped {self.name}")
        self.proc = None

    def died(self) -> bool:
        """True once when the server exited without being asked to."""
        if self.proc is not None and self.proc.poll() is not None:
            log_line(f"{self.name} exited with {self.proc.returncode}")
            self.proc = None
            self.unexpected_exits += 1
            return True
        return False

    def reload(self) -> None:
        if not self.running():
            return
        request = urllib.request.Request(f"{self.url}/-/reload", method="POST")
        try:
            with urllib.request.urlopen(request, timeout=5) as response:
                log_line(f"reloaded {self.name}: {response.status}")
        except OSError as exc:  # includes HTTPError: a rejected config is logged, not fatal
            log_line(f"reload of {self.name} failed: {exc}")


def log_line(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} monitoring-supervisor: {message}", flush=True)


def supervise(plan: MonitoringPlan) -> None:
    faults = FaultState(Path(plan.faults_file))
    applied = frozenset(faults.active() & CONFIG_FAULTS)
    write_all(plan, applied)
    logs = Path(plan.logs_dir)
    prometheus = Server("prometheus", prometheus_argv(plan), plan.prometheus_url, logs)
    alertmanager = Server("alertmanager", alertmanager_argv(plan), plan.alertmanager_url, logs)

    stopping = False

    def request_stop(signum: int, frame: FrameType | None) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)

    alertmanager.start()
    try:
        while not stopping:
            active = faults.active()
            wanted = frozenset(active & CONFIG_FAULTS)
            if wanted != applied:
                log_line(f"monitoring faults now {sorted(wanted) or 'none'}")
                write_all(plan, wanted)
                prometheus.reload()
                alertmanager.reload()
                applied = wanted
            for server in (prometheus, alertmanager):
                server.died()
            if "prom_down" in active:
                if prometheus.running():
                    prometheus.stop()
            elif not prometheus.running() and prometheus.unexpected_exits <= MAX_UNEXPECTED_RESTARTS:
                prometheus.start()
            if not alertmanager.running() and alertmanager.unexpected_exits <= MAX_UNEXPECTED_RESTARTS:
                alertmanager.start()
            time.sleep(POLL_SECONDS)
    finally:
        prometheus.stop()
        alertmanager.stop()


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m ilsref.monitoring.supervisor PLAN_JSON", file=sys.stderr)
        return 2
    supervise(MonitoringPlan.load(Path(argv[0])))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
