"""Time the plan's sequential curl smoke script against `pytest -m smoke` on the same target.

    .venv/bin/python benchmarks/smoke_vs_curl.py [--runs 5] [--start]

Without --start it uses the reference deployment already running in $ILSREF_HOME (default
./.ilsref); with --start it brings one up in a temporary directory and down again. Prints the
median wall time of each over N runs, how many checks each made, and the ratio.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CURL_SCRIPT = REPO / "benchmarks" / "plan_smoke.sh"


def timed(command: list[str], env: dict[str, str]) -> tuple[float, subprocess.CompletedProcess[str]]:
    started = time.perf_counter()
    done = subprocess.run(command, check=False, cwd=REPO, env=env, capture_output=True, text=True,
                          timeout=300)
    return time.perf_counter() - started, done


def curl_run(local: dict[str, object], env: dict[str, str]) -> tuple[float, int]:
    seconds, done = timed(["bash", str(CURL_SCRIPT), str(local["base_url"]),
                           str(local.get("ca_bundle", ""))], env)
    found = re.search(r"checks: (\d+) passed: (\d+)", done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"the curl script failed (exit {done.returncode}):\n{done.stdout}")
    return seconds, int(found.group(1))


def pytest_run(config: Path, reports: Path, env: dict[str, str], extra: list[str]) -> tuple[float, int]:
    seconds, done = timed([sys.executable, "-m", "pytest", "-m", "smoke", "smoke", "-q",
                           "-p", "no:cacheprovider", f"--cutover-config={config}",
                           "--cutover-env=local", f"--cutover-reports={reports}",
                           f"--html={reports / 'go-no-go.html'}",
                           f"--junitxml={reports / 'junit.xml'}", *extra], env)
    verdict = json.loads((reports / "verdict.json").read_text())
    if done.returncode != 0:
        raise SystemExit(f"pytest -m smoke was {verdict['decision']}: {verdict['reasons'][:5]}")
    return seconds, len(verdict["checks"])


def measure(home: Path, runs: int, workdir: Path) -> dict[str, dict[str, float]]:
    env = {**os.environ, "ILSREF_HOME": str(home)}
    local_toml = home / "run" / "local.toml"
    if not local_toml.exists():
        raise SystemExit(f"{local_toml} does not exist: run `python -m ilsref up --test-mode` "
                         f"first, or pass --start")
    local = tomllib.loads(local_toml.read_text())
    config = workdir / "cutover.toml"
    config.write_text(f'[environments.local]\nkind = "other"\ninclude = "{local_toml}"\n')
    results: dict[str, list[tuple[float, int]]] = {"curl script": [], "pytest -m smoke": [],
                                                    "pytest -m smoke -n auto": []}
    for i in range(runs):
        results["curl script"].append(curl_run(local, env))
        results["pytest -m smoke"].append(pytest_run(config, workdir / f"serial-{i}", env, []))
        results["pytest -m smoke -n auto"].append(
            pytest_run(config, workdir / f"parallel-{i}", env, ["-n", "auto"]))
    return {name: {"median_s": statistics.median(s for s, _ in rows), "checks": rows[0][1]}
            for name, rows in results.items()}


def report(figures: dict[str, dict[str, float]], runs: int) -> str:
    base = figures["curl script"]
    lines = [f"median of {runs} runs",
             f"{'':24}{'wall s':>8}{'checks':>8}{'checks/s':>10}{'time vs curl':>14}"]
    for name, row in figures.items():
        lines.append(f"{name:24}{row['median_s']:8.2f}{row['checks']:8.0f}"
                     f"{row['checks'] / row['median_s']:10.1f}"
                     f"{row['median_s'] / base['median_s']:13.1f}x")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--start", action="store_true",
                        help="bring a reference deployment up in a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="smoke-bench-") as tmp:
        workdir = Path(tmp)
        if not args.start:
            home = Path(os.environ.get("ILSREF_HOME", REPO / ".ilsref")).resolve()
            print(report(measure(home, args.runs, workdir), args.runs))
            return
        home = workdir / "ilsref"
        env = {**os.environ, "ILSREF_HOME": str(home)}
        subprocess.run([sys.executable, "-m", "ilsref", "up", "--test-mode"], cwd=REPO, env=env,
                       check=True, capture_output=True)
        try:
            print(report(measure(home, args.runs, workdir), args.runs))
        finally:
            subprocess.run([sys.executable, "-m", "ilsref", "down"], check=False, cwd=REPO,
                           env=env, capture_output=True)


if __name__ == "__main__":
    main()
