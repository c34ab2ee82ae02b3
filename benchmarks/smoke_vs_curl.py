"""Time the plan's sequential curl smoke script against `pytest -m smoke` on the same target.

    .venv/bin/python benchmarks/smoke_vs_curl.py [--runs 5] [--start]

Without --start it uses the reference deployment already running in $ILSREF_HOME (default
./.ilsref; start it with `--auth-rate-limit 1000/60`, or the failed-login limit ends the runs);
with --start it brings one up in a temporary directory and down again. Prints the
median wall time of each over N runs, how many checks each made, and the ratio.

It also times `pytest -m smoke` with the bytecode caches on (PYTHONDONTWRITEBYTECODE unset), as
on an ordinary install. In the same runs it measures the floor: pytest on a folder holding one
empty test, bare (no plugin autoload), with every installed plugin, and with the suite's addopts
(the light start), plus each installed plugin's share (the floor with every plugin minus the
floor without it); and pytest on as many empty tests as the smoke run has checks, bare and with
the light start: what pytest and its plugins cost per check before any check does its work.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CURL_SCRIPT = REPO / "benchmarks" / "plan_smoke.sh"
PYTEST = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"]
WITHOUT = "floor without "
CACHED = "pytest -m smoke, bytecode cached"


@dataclass
class Figure:
    """Medians of one command over the runs: wall time, and the CPU time of the process tree
    (steadier than wall time while other jobs share the machine)."""

    walls: list[float] = field(default_factory=list)
    cpus: list[float] = field(default_factory=list)
    checks: int = 0

    @property
    def wall(self) -> float:
        return statistics.median(self.walls)

    @property
    def cpu(self) -> float:
        return statistics.median(self.cpus)


def timed(command: list[str], env: dict[str, str], figure: Figure, cwd: Path = REPO
          ) -> subprocess.CompletedProcess[str]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(command, check=False, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    figure.walls.append(time.perf_counter() - started)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    figure.cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return done


def curl_run(local: dict[str, object], env: dict[str, str], figure: Figure) -> None:
    done = timed(["bash", str(CURL_SCRIPT), str(local["base_url"]), str(local.get("ca_bundle", ""))],
                 env, figure)
    found = re.search(r"checks: (\d+) passed: (\d+)", done.stdout)
    if done.returncode != 0 or not found:
        raise SystemExit(f"the curl script failed (exit {done.returncode}):\n{done.stdout}")
    figure.checks = int(found.group(1))


def pytest_run(config: Path, reports: Path, env: dict[str, str], extra: list[str],
               figure: Figure) -> None:
    done = timed([*PYTEST, "-m", "smoke", "smoke", f"--cutover-config={config}",
                  "--cutover-env=local", f"--cutover-reports={reports}",
                  f"--html={reports / 'go-no-go.html'}", f"--junitxml={reports / 'junit.xml'}",
                  *extra], env, figure)
    verdict = json.loads((reports / "verdict.json").read_text())
    if done.returncode != 0:
        raise SystemExit(f"pytest -m smoke was {verdict['decision']}: {verdict['reasons'][:5]}")
    figure.checks = len(verdict["checks"])


def installed_plugins() -> list[str]:
    from importlib.metadata import entry_points

    return sorted({ep.name for ep in entry_points(group="pytest11")})


def suite_plugin_options() -> list[str]:
    """The `-p` options of the suite's addopts (pyproject.toml): its light start."""
    addopts = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"][
        "addopts"]
    return [f"-p{addopts[i + 1]}" for i, a in enumerate(addopts) if a == "-p"]


def floor_commands(empty: Path, plugins: list[str], checks: int
                   ) -> dict[str, tuple[list[str], dict[str, str]]]:
    """pytest on one empty test: (command, extra environment) per variant; and on as many empty
    tests as the smoke run has checks (pytest's and the plugins' per-test cost, no check's work)."""
    test = str(empty / "test_empty.py")
    many = empty / "many" / "test_many.py"
    many.parent.mkdir(exist_ok=True)
    many.write_text(f"import pytest\n\n\n@pytest.mark.parametrize('n', range({checks}))\n"
                    f"def test_empty(n):\n    pass\n")
    commands = {
        "python -c 'import pytest'": ([sys.executable, "-c", "import pytest"], {}),
        "floor, no plugin autoload": ([*PYTEST, test], {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}),
        "floor, every installed plugin": ([*PYTEST, test], {}),
        "floor, suite addopts (light)": ([*PYTEST, *suite_plugin_options(), test], {}),
        f"{checks} empty tests, no plugin": ([*PYTEST, str(many)],
                                             {"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}),
        f"{checks} empty tests, light start": ([*PYTEST, *suite_plugin_options(), str(many)], {}),
    }
    for name in plugins:
        commands[f"{WITHOUT}{name}"] = ([*PYTEST, f"-pno:{name}", test], {})
    return commands


def measure(home: Path, runs: int, workdir: Path) -> dict[str, Figure]:
    env = {**os.environ, "ILSREF_HOME": str(home)}
    local_toml = home / "run" / "local.toml"
    if not local_toml.exists():
        raise SystemExit(f"{local_toml} does not exist: run `python -m ilsref up --test-mode` "
                         f"first, or pass --start")
    local = tomllib.loads(local_toml.read_text())
    config = workdir / "cutover.toml"
    config.write_text(f'[environments.local]\nkind = "other"\ninclude = "{local_toml}"\n')
    empty = workdir / "floor"
    empty.mkdir()
    (empty / "test_empty.py").write_text("def test_empty():\n    pass\n")
    # PYTHONDONTWRITEBYTECODE=1 (set on these machines) makes every run compile the suite's own
    # modules and assertion-rewrite its checks again, unless a cache is there already (Python
    # and pytest read caches even then); an ordinary install keeps both cached. One unmeasured
    # run fills the caches (for the CACHED row, and so for the other rows too) and counts the
    # checks.
    cached_env = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    fill = Figure()
    pytest_run(config, workdir / "cache-fill", cached_env, [], fill)
    floors = floor_commands(empty, installed_plugins(), fill.checks)
    figures = {name: Figure() for name in ("curl script", "pytest -m smoke", CACHED,
                                           "pytest -m smoke -n auto", *floors)}
    for i in range(runs):  # interleaved, so a change of load touches every figure alike
        curl_run(local, env, figures["curl script"])
        pytest_run(config, workdir / f"serial-{i}", env, [], figures["pytest -m smoke"])
        pytest_run(config, workdir / f"cached-{i}", cached_env, [], figures[CACHED])
        pytest_run(config, workdir / f"parallel-{i}", env, ["-n", "auto"],
                   figures["pytest -m smoke -n auto"])
        for name, (command, extra) in floors.items():
            done = timed(command, {**env, **extra}, figures[name], cwd=empty)
            if done.returncode != 0:
                raise SystemExit(f"{name} exited {done.returncode}: {done.stdout[-800:]}")
    return figures


def report(figures: dict[str, Figure], runs: int, load: tuple[float, ...]) -> str:
    base = figures["curl script"]
    lines = [f"median of {runs} runs; load average before {load[0]:.1f}, after "
             f"{os.getloadavg()[0]:.1f}; PYTHONDONTWRITEBYTECODE="
             f"{os.environ.get('PYTHONDONTWRITEBYTECODE', '(unset)')}",
             f"{'':32}{'wall s':>8}{'CPU s':>8}{'checks':>8}{'checks/s':>10}{'wall vs curl':>14}"]
    for name, row in figures.items():
        if name.startswith(WITHOUT):
            continue
        rate = f"{row.checks / row.wall:10.1f}" if row.checks else f"{'':10}"
        lines.append(f"{name:32}{row.wall:8.2f}{row.cpu:8.2f}{row.checks or '':>8}{rate}"
                     f"{row.wall / base.wall:13.1f}x")
    every = figures["floor, every installed plugin"]
    lines += ["", "each installed plugin's share of the floor: floor with every plugin minus the "
              "floor without it", f"{'plugin':32}{'wall s':>8}{'CPU s':>8}{'CPU share':>10}"]
    shares = {name.removeprefix(WITHOUT): (every.wall - row.wall, every.cpu - row.cpu)
              for name, row in figures.items() if name.startswith(WITHOUT)}
    for name, (wall, cpu) in sorted(shares.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"{name:32}{wall:8.2f}{cpu:8.2f}{cpu / every.cpu:10.0%}")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--start", action="store_true",
                        help="bring a reference deployment up in a temporary directory")
    args = parser.parse_args()
    load = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="smoke-bench-") as tmp:
        workdir = Path(tmp)
        if not args.start:
            home = Path(os.environ.get("ILSREF_HOME", REPO / ".ilsref")).resolve()
            print(report(measure(home, args.runs, workdir), args.runs, load))
            return
        home = workdir / "ilsref"
        env = {**os.environ, "ILSREF_HOME": str(home)}
        # many smoke runs (each with its deliberate failed logins) within minutes: a generous
        # failed-login limit, as the self-tests use (ILS's own is 5 per 15 minutes)
        subprocess.run([sys.executable, "-m", "ilsref", "up", "--test-mode", "--auth-rate-limit",
                        "1000/60"], cwd=REPO, env=env, check=True, capture_output=True)
        try:
            print(report(measure(home, args.runs, workdir), args.runs, load))
        finally:
            subprocess.run([sys.executable, "-m", "ilsref", "down"], check=False, cwd=REPO,
                           env=env, capture_output=True)


if __name__ == "__main__":
    main()
