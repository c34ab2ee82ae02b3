"""Collection time of the whole suite, and what the heavy client libraries cost when really used.

    .venv/bin/python benchmarks/collection_time.py [--repeats 5] [--ilsref-home DIR]

1. `pytest --collect-only -q` of the whole suite (readiness smoke e2e load rollback), wall time,
   median of N runs, each a fresh process (collection needs a valid `local` environment: an
   ilsref run directory given with --ilsref-home, else one started here and stopped after).
2. Which heavy libraries a collection imports (kubernetes, playwright, locust, psycopg, redis,
   dnspython, yaml): the clients import them lazily, inside the functions that use them.
3. The import time of each one when a check actually uses it, each in a fresh interpreter
   (median of N), i.e. the price paid once by the first check that needs it.
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
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
HEAVY = {  # library -> the import a client performs when it is first used
    "kubernetes": "import kubernetes.client, kubernetes.config",
    "playwright": "import playwright.sync_api",
    "locust": "import locust",
    "psycopg": "import psycopg",
    "redis": "import redis",
    "dns": "import dns.resolver",
    "yaml": "import yaml",
}
PROBE = """
import json, sys, pytest
code = pytest.main(["--collect-only", "-q", "-p", "no:cacheprovider"])
print("@@" + json.dumps({"code": int(code), "loaded": [m for m in %r if m in sys.modules]}))
"""


def _env(home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CUTOVER_", "PYTEST_ADDOPTS"))}
    env["ILSREF_HOME"] = str(home)
    return env


def collect_times(env: dict[str, str], repeats: int) -> tuple[list[float], str]:
    times, summary = [], ""
    for _ in range(repeats):
        started = time.perf_counter()
        done = subprocess.run([PYTHON, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider"],
                              cwd=REPO, env=env, capture_output=True, text=True, timeout=300,
                              check=False)
        times.append(time.perf_counter() - started)
        if done.returncode != 0:
            raise SystemExit(f"collection failed (exit {done.returncode}): {done.stdout[-1500:]}")
        summary = done.stdout.strip().splitlines()[-1]
    return times, summary


def loaded_by_collection(env: dict[str, str]) -> list[str]:
    done = subprocess.run([PYTHON, "-c", PROBE % (tuple(HEAVY),)], cwd=REPO, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    line = next(x for x in done.stdout.splitlines() if x.startswith("@@"))
    return list(json.loads(line[2:])["loaded"])


def import_times(repeats: int) -> dict[str, float]:
    found = {}
    env = {**os.environ, "LOCUST_SKIP_MONKEY_PATCH": "1"}  # measure the import, not gevent's patching
    for name, statement in HEAVY.items():
        samples = []
        for _ in range(repeats):
            code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
            done = subprocess.run([PYTHON, "-c", code], capture_output=True, text=True, timeout=120,
                                  env=env, check=False)
            if done.returncode == 0:
                samples.append(float(done.stdout.strip().splitlines()[-1]))
        found[name] = statistics.median(samples) if samples else float("nan")
    return found


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--ilsref-home", type=Path, default=None)
    args = parser.parse_args()
    home = args.ilsref_home or Path(tempfile.mkdtemp(prefix="bench-ilsref-"))
    env = _env(home)
    started_here = args.ilsref_home is None
    if started_here:
        subprocess.run([PYTHON, "-m", "ilsref", "up", "--test-mode"], cwd=REPO, env=env, check=True,
                       capture_output=True, timeout=180)
    try:
        times, summary = collect_times(env, args.repeats)
        loaded = loaded_by_collection(env)
    finally:
        if started_here:
            subprocess.run([PYTHON, "-m", "ilsref", "down"], cwd=REPO, env=env, check=False,
                           capture_output=True, timeout=120)
    imports = import_times(args.repeats)
    with open("/proc/loadavg") as fh:
        load = fh.read().split()[0]
    print(f"collection ({summary}): median {statistics.median(times):.2f} s of {args.repeats} "
          f"(min {min(times):.2f}, max {max(times):.2f}); load average {load}")
    print(f"heavy libraries imported by collection: {', '.join(loaded) or 'none'}")
    print("| library | import when first used (median) | imported by collection |")
    print("|---|---:|---|")
    for name, seconds in imports.items():
        print(f"| {name} | {seconds * 1000:.0f} ms | {'yes' if name in loaded else 'no'} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
