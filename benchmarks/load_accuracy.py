"""How far can the load gate's P95 be trusted, and how much load does a generator core make?

1. P95 of one endpoint (`/api/health`) under a known injected latency (ilsref faults
   `latency_jitter`: +U(0, 1000) ms, and `latency_700ms`: +700 ms), measured three ways in the same
   run: Locust (FastHttpUser, exact final stats), the app's Prometheus histogram
   (`http_request_duration_seconds`, PromQL's interpolation over the window), and `wrk` (Debian).
   Truth = the injected distribution's P95 + the endpoint's own median without faults.
2. Requests per second per generator core, FastHttpUser vs HttpUser (CPU time of the Locust
   process from rusage, so a saturated target does not flatter either).

Each figure is the median of REPEATS runs. Starts its own ilsref (test mode) in a temporary
ILSREF_HOME and stops it. Usage: .venv/bin/python benchmarks/load_accuracy.py [--repeats 3]
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

from pytest_cutover.clients.promql import PromClient
from pytest_cutover.clients.serverview import ServerView

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable
LOCUSTFILE = REPO / "benchmarks" / "single_endpoint_locustfile.py"
PATH = "/api/health"
USERS = 20
SECONDS = 12
CASES = {"latency_jitter": 950.0, "latency_700ms": 700.0}  # injected P95 in ms
WRK_LUA = ('done = function(s, latency, r) '
           'io.write(string.format("P95_US %d\\n", latency:percentile(95))) end\n')


def ilsref(home: Path, *args: str) -> str:
    env = {**os.environ, "ILSREF_HOME": str(home)}
    done = subprocess.run([PYTHON, "-m", "ilsref", *args], cwd=REPO, env=env, text=True,
                          capture_output=True, timeout=120, check=False)
    if done.returncode:
        raise SystemExit(f"ilsref {' '.join(args)} failed: {done.stderr[-800:]}")
    return done.stdout


def locust_p95(response_times: dict[str, int], count: int, percent: float = 0.95) -> float:
    """Locust's own percentile rule over its rounded response-time histogram."""
    wanted, seen = int(count * percent), 0
    for key in sorted(response_times, key=float, reverse=True):
        seen += response_times[key]
        if count - seen <= wanted:
            return float(key)
    return 0.0


def run_locust(base: str, ca: str, user_class: str, work: Path) -> dict[str, float]:
    out = work / f"locust-{user_class}-{time.monotonic_ns()}.json"
    env = {**os.environ, "BENCH_USER_CLASS": user_class, "BENCH_CA_BUNDLE": ca, "BENCH_PATH": PATH}
    command = [PYTHON, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "-H", base,
               "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s", "--only-summary",
               "--json-file", str(out.with_suffix("")), "--loglevel", "ERROR"]
    started = time.monotonic()
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = started + SECONDS + 60
    while time.monotonic() < deadline:  # bounded
        pid, _, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            break
        time.sleep(0.2)
    else:
        proc.kill()
        raise SystemExit("locust did not finish in time")
    entries = [e for e in json.loads(out.read_text()) if e["name"] == PATH]
    entry = entries[0]
    return {"p95_ms": locust_p95(entry["response_times"], entry["num_requests"]),
            "requests": entry["num_requests"], "cpu_s": usage.ru_utime + usage.ru_stime,
            "wall_s": time.monotonic() - started}


def run_wrk(base: str, work: Path) -> float:
    script = work / "p95.lua"
    script.write_text(WRK_LUA)
    done = subprocess.run(["wrk", "-t2", f"-c{USERS}", f"-d{SECONDS}s", "-s", str(script),
                           base + PATH], capture_output=True, text=True, timeout=SECONDS + 30,
                          check=False)
    match = re.search(r"P95_US (\d+)", done.stdout)
    if not match:
        raise SystemExit(f"wrk gave no P95: {done.stdout[-500:]} {done.stderr[-500:]}")
    return int(match[1]) / 1000.0


def server_p95(prom: PromClient, start: float, end: float) -> float:
    prom.wait_for_scrape_after('up{job="ils-app"}', end, 15)
    value = ServerView(prom, "ils-app", start, time.time()).p95_ms(PATH)
    return float(value or 0.0)


def rel(value: float, truth: float) -> float:
    return 100.0 * abs(value - truth) / truth


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    repeats = parser.parse_args().repeats
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp:
        home, work = Path(tmp) / "ilsref", Path(tmp)
        ilsref(home, "up", "--test-mode")
        try:
            local = tomllib.loads((home / "run" / "local.toml").read_text())
            base, ca = local["base_url"], local["ca_bundle"]
            prom = PromClient(local["prometheus"]["url"])
            baseline = statistics.median(run_wrk_p50(base, work) for _ in range(1))
            print(f"baseline median of {PATH} without faults (wrk): {baseline:.1f} ms")
            for fault, injected in CASES.items():
                ilsref(home, "fault", "set", fault)
                truth = injected + baseline
                rows: dict[str, list[float]] = {"locust": [], "server": [], "wrk": []}
                for _ in range(repeats):
                    start = time.time()
                    rows["locust"].append(run_locust(base, ca, "fast", work)["p95_ms"])
                    rows["server"].append(server_p95(prom, start, time.time()))
                    rows["wrk"].append(run_wrk(base, work))
                ilsref(home, "fault", "clear")
                print(f"\n{fault}: truth P95 {truth:.0f} ms ({injected:.0f} injected + {baseline:.1f})")
                for tool, values in rows.items():
                    med = statistics.median(values)
                    print(f"  {tool:7s} median P95 {med:7.1f} ms  rel. error {rel(med, truth):5.1f} %  "
                          f"runs {[round(v) for v in values]}")
                loc, wrk = statistics.median(rows["locust"]), statistics.median(rows["wrk"])
                print(f"  locust vs wrk: {rel(loc, wrk):.1f} %")
            print("\nrequests/s per generator core (healthy, no think time, "
                  f"{USERS} users, {SECONDS} s):")
            per_core: dict[str, float] = {}
            for user_class in ("fast", "http"):
                runs = [run_locust(base, ca, user_class, work) for _ in range(repeats)]
                per_core[user_class] = statistics.median(r["requests"] / r["cpu_s"] for r in runs)
                rps = statistics.median(r["requests"] / SECONDS for r in runs)
                print(f"  {user_class:5s} median {per_core[user_class]:7.0f} req per CPU-second "
                      f"(median {rps:.0f} req/s total)")
            print(f"  FastHttpUser / HttpUser: {per_core['fast'] / per_core['http']:.2f}x")
        finally:
            ilsref(home, "down")


def run_wrk_p50(base: str, work: Path) -> float:
    script = work / "p50.lua"
    script.write_text(WRK_LUA.replace("P95_US", "P50_US").replace("(95)", "(50)"))
    done = subprocess.run(["wrk", "-t2", "-c4", "-d5s", "-s", str(script), base + PATH],
                          capture_output=True, text=True, timeout=40, check=False)
    match = re.search(r"P50_US (\d+)", done.stdout)
    return int(match[1]) / 1000.0 if match else 0.0


if __name__ == "__main__":
    main()
