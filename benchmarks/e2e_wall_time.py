"""Benchmark: wall time of the full e2e set (`pytest -m e2e`) on the reference deployment,
serial vs `-n 2`; medians of --repeats runs of each, and the per-flow call times of the serial runs.

    .venv/bin/python benchmarks/e2e_wall_time.py [--repeats 3]

Starts its own ilsref (test mode) in a temporary ILSREF_HOME and stops it. Every run must end GO
(a run that does not is reported and the benchmark fails: a broken flow is not a time).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


def _run(command: list[str], env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=timeout,
                          check=False)


def e2e_run(env: dict[str, str], config: Path, reports: Path, *args: str) -> tuple[float, dict[str, float]]:
    command = [PYTHON, "-m", "pytest", "-m", "e2e", f"--cutover-config={config}",
               "--cutover-env=local", "-p", "no:cacheprovider", f"--cutover-reports={reports}",
               f"--html={reports / 'go-no-go.html'}", f"--junitxml={reports / 'junit.xml'}", "-q", *args]
    started = time.perf_counter()
    done = _run(command, env)
    seconds = time.perf_counter() - started
    verdict = json.loads((reports / "verdict.json").read_text())
    if verdict["decision"] != "GO":
        raise SystemExit(f"e2e run {' '.join(args) or 'serial'} ended {verdict['decision']}: "
                         f"{verdict['reasons'][:3]}\n{done.stdout[-2000:]}")
    return seconds, {c["nodeid"]: c["duration_s"] for c in verdict["checks"]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    options = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-e2e-") as tmp:
        home, work = Path(tmp) / "ilsref", Path(tmp)
        env = {k: v for k, v in os.environ.items() if not k.startswith(("CUTOVER_", "PYTEST_"))}
        env["ILSREF_HOME"] = str(home)
        config = work / "cutover.toml"
        config.write_text(f'[cutover]\ndefault_environment = "local"\n\n[environments.local]\n'
                          f'kind = "other"\ninclude = "{home / "run" / "local.toml"}"\n')
        up = _run([PYTHON, "-m", "ilsref", "up", "--test-mode"], env, timeout=180)
        if up.returncode != 0:
            raise SystemExit(f"ilsref up failed: {up.stderr[-2000:]}")
        try:
            times: dict[str, list[float]] = defaultdict(list)
            per_flow: dict[str, list[float]] = defaultdict(list)
            for n in range(options.repeats):
                for label, args in (("serial", ()), ("-n 2", ("-n", "2"))):
                    seconds, durations = e2e_run(env, config, work / f"run-{n}-{label[-1]}", *args)
                    times[label].append(seconds)
                    if label == "serial":
                        for nodeid, duration in durations.items():
                            per_flow[nodeid].append(duration)
                    print(f"run {n + 1} {label}: {seconds:.1f} s", flush=True)
        finally:
            _run([PYTHON, "-m", "ilsref", "down"], env, timeout=120)
    print(f"\ne2e set, {len(per_flow)} checks, medians of {options.repeats}:")
    print("| run | wall time |\n|---|---:|")
    for label, values in times.items():
        print(f"| {label} | {statistics.median(values):.1f} s |")
    print("\n| check (serial) | set-up + call + teardown |\n|---|---:|")
    for nodeid, values in sorted(per_flow.items(), key=lambda kv: -statistics.median(kv[1])):
        print(f"| `{nodeid.removeprefix('e2e/')}` | {statistics.median(values):.2f} s |")


if __name__ == "__main__":
    main()
