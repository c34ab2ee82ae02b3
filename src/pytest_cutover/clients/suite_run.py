"""Run part of the suite in a subprocess and read its verdict (e.g. smoke against a rolled-back app).

A subprocess keeps the inner run's fixtures, stash and report files apart from the outer run's:
its reports go to a folder of their own, and the inner verdict comes back as facts.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path


@dataclass(frozen=True)
class SuiteRun:
    exit_code: int | None  # None when it timed out
    decision: str | None
    seconds: float
    reasons: list[str] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    output_tail: str = ""
    command: str = ""

    @property
    def passed(self) -> bool:
        return self.decision == "GO"

    def describe(self) -> str:
        if self.exit_code is None:
            return (f"did not finish within the deadline ({self.seconds:.0f} s); "
                    f"last output: {self.output_tail[-300:]!r}")
        counts = ", ".join(f"{n} {o}" for o, n in sorted(self.counts.items())) or "no checks"
        first = f"; first reason: {self.reasons[0]}" if self.reasons else ""
        return f"verdict {self.decision} (exit {self.exit_code}; {counts}) in {self.seconds:.1f} s{first}"


def run_suite(rootdir: Path, paths: list[str], config: Path, environment: str,
              timeout_s: float, extra: Sequence[str] = (), reports: Path | None = None,
              env: Mapping[str, str] | None = None) -> SuiteRun:
    """`pytest <paths> --cutover-env ENV --cutover-config CONFIG <extra>` in `rootdir`; its
    reports go to `reports` (default: a temporary folder, removed afterwards)."""
    with tempfile.TemporaryDirectory(prefix="cutover-inner-") as tmp:
        reports = reports or Path(tmp)
        # --opt=value: a bare existing path after an option could be taken for a test path
        command = [sys.executable, "-m", "pytest", *paths, f"--cutover-env={environment}",
                   f"--cutover-config={config}", f"--cutover-reports={reports}",
                   f"--html={reports / 'go-no-go.html'}", f"--junitxml={reports / 'junit.xml'}",
                   "-p", "no:cacheprovider", "-q", "--no-header", *extra]
        started = time.monotonic()
        try:
            done = subprocess.run(command, cwd=rootdir, capture_output=True, text=True,
                                  timeout=timeout_s, env=None if env is None else dict(env),
                                  check=False)
        except subprocess.TimeoutExpired as exc:
            tail = (exc.stdout or b"")[-2000:]
            return SuiteRun(None, None, time.monotonic() - started,
                            output_tail=tail.decode(errors="replace") if isinstance(tail, bytes) else tail,
                            command=" ".join(command[3:]))
        seconds = time.monotonic() - started
        verdict_file = reports / "verdict.json"
        doc = json.loads(verdict_file.read_text()) if verdict_file.exists() else {}
        return SuiteRun(done.returncode, doc.get("decision"), seconds,
                        reasons=list(doc.get("reasons", [])) + list(doc.get("rollback_reasons", [])),
                        counts=dict(doc.get("counts", {})),
                        output_tail=(done.stdout + done.stderr)[-2000:], command=" ".join(command[3:]))
