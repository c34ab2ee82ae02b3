"""Self-tests of the check folders against the reference deployment.

One `ilsref up --test-mode` per session, in a temporary ILSREF_HOME (never the shared ./.ilsref);
each smoke run is a real `pytest -m smoke` subprocess from the repository root, pointed at that
deployment by a temporary cutover.toml whose `local` environment includes its run/local.toml.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
# Many runs share a test deployment within minutes, each with a ledger of its own, so neither the
# failed-login limiter nor the per-account lockout (ILS: 30 min) may carry one run's probes into
# the next: a generous limit, and windows and lock 50 times shorter.
GENEROUS_LIMITS = ("--auth-rate-limit", "1000/60", "--window-scale", "0.02")
SMOKE_RUN_TIMEOUT_S = 120  # far above any healthy or faulty run; a hang of the suite is a failure


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "slow: takes more than ~10 s (still runs in CI)")


@dataclass(frozen=True)
class SmokeRun:
    """What one `pytest -m smoke` subprocess left behind."""

    returncode: int
    seconds: float
    reports: Path
    output: str

    @property
    def verdict(self) -> dict[str, Any]:
        return json.loads((self.reports / "verdict.json").read_text())  # type: ignore[no-any-return]

    @property
    def outcomes(self) -> dict[str, str]:
        return {check["nodeid"]: check["outcome"] for check in self.verdict["checks"]}

    @property
    def failing(self) -> list[str]:
        """Checks that failed or errored and block GO (non-blocking ones are warnings)."""
        return sorted(check["nodeid"] for check in self.verdict["checks"]
                      if check["outcome"] in ("failed", "error") and check.get("blocking", True))

    @property
    def html(self) -> str:
        return (self.reports / "go-no-go.html").read_text()

    def explain(self) -> str:
        verdict = self.verdict if (self.reports / "verdict.json").exists() else {}
        return (f"exit {self.returncode} after {self.seconds:.1f} s; decision "
                f"{verdict.get('decision')!r}; reasons {verdict.get('reasons', [])[:8]!r}; "
                f"output tail: {self.output[-1500:]}")


class Reference:
    """A running ilsref in test mode, its faults, and smoke runs against it."""

    def __init__(self, home: Path, workdir: Path) -> None:
        self.home = home
        self.workdir = workdir
        self.config = workdir / "cutover.toml"
        self.config.write_text(
            '[cutover]\ndefault_environment = "local"\n\n[environments.local]\nkind = "other"\n'
            f'include = "{home / "run" / "local.toml"}"\n')
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("CUTOVER_", "PYTEST_ADDOPTS", "PYTEST_XDIST"))}
        self.env["ILSREF_HOME"] = str(home)
        self._runs = 0

    def ilsref(self, *args: str) -> str:
        done = subprocess.run([PYTHON, "-m", "ilsref", *args], check=False, cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=120)
        if done.returncode != 0:
            raise RuntimeError(f"python -m ilsref {' '.join(args)} exited {done.returncode}: "
                               f"{done.stderr[-2000:] or done.stdout[-2000:]}")
        return done.stdout

    @contextmanager
    def fault(self, name: str) -> Iterator[None]:
        self.ilsref("fault", "set", name)
        try:
            yield
        finally:
            self.ilsref("fault", "clear", name)

    def secrets(self) -> dict[str, str]:
        lines = (self.home / "run" / "secrets.env").read_text().splitlines()
        return dict(line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))

    def smoke(self, *args: str) -> SmokeRun:
        return self.suite("smoke", *args)

    def config_with(self, extra: str) -> Path:
        """Another cutover.toml whose `local` environment overrides the deployment's keys with
        `extra` (TOML lines of the environment's table, e.g. a base_url on a closed port)."""
        self._runs += 1
        path = self.workdir / f"cutover-{self._runs}.toml"
        path.write_text(self.config.read_text() + extra.strip() + "\n")
        return path

    def suite(self, marker: str, *args: str, timeout_s: float = SMOKE_RUN_TIMEOUT_S,
              config: Path | None = None) -> SmokeRun:
        """`pytest -m MARKER` (options in `--opt=value` form: a bare path-like value would be
        taken for a test path when pytest picks its rootdir)."""
        self._runs += 1
        reports = self.workdir / f"run-{self._runs}"
        command = [PYTHON, "-m", "pytest", "-m", marker, f"--cutover-config={config or self.config}",
                   "--cutover-env=local", "-p", "no:cacheprovider",
                   f"--cutover-reports={reports}", f"--html={reports / 'go-no-go.html'}",
                   f"--junitxml={reports / 'junit.xml'}", "-q", *args]
        started = time.monotonic()
        done = subprocess.run(command, check=False, cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=timeout_s)
        return SmokeRun(done.returncode, time.monotonic() - started, reports,
                        done.stdout + done.stderr)


@pytest.fixture(scope="session")
def ilsref(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    reference = Reference(tmp_path_factory.mktemp("ilsref-home"),
                          tmp_path_factory.mktemp("smoke-runs"))
    try:
        # a generous failed-login limit: many runs share this deployment within minutes (the
        # tests of ILS's own limit start their own: test_traffic_budget_at_target.py)
        reference.ilsref("up", "--test-mode", *GENEROUS_LIMITS)
        yield reference
    finally:
        # a RuntimeError here means nothing was started: `up` already failed and said why
        with contextlib.suppress(RuntimeError):
            reference.ilsref("down")


@pytest.fixture(scope="session")
def healthy_run(ilsref: Reference) -> SmokeRun:
    return ilsref.smoke("smoke")
