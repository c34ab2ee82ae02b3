"""The post-launch checks (load/test_post_launch.py, `pytest -m post_launch`) against the reference
deployment: a healthy deployment with live traffic and the demo sign-offs gives GO; the log store
holding recent ERROR lines with stack traces (`logs_error_lines`) gives NO-GO naming the
error-log-pattern check, and only it; a window of failing, slow traffic (`error_rate_10pct`,
`slow_db_queries`) on an app over its declared CPU and memory limits fails the error-rate, P95,
slow-query, CPU and memory checks.

The window is one minute (CUTOVER_POST_LAUNCH_WINDOW), filled with healthy traffic made here
(sign-in, cached analytics, health) just before each run, so earlier fault runs of the session lie
outside it.
"""

from __future__ import annotations

import json
import ssl
import time
import tomllib
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

from conftest import Reference, SmokeRun

REPO = Path(__file__).resolve().parents[2]
DEMO_SIGNOFFS = REPO / "examples" / "signoffs.local.toml"
WINDOW = "1m"
SCRAPE_WAIT_S = 5.0  # Prometheus scrapes the app every 2 s
ERROR_LOGS = "test_error_logs_show_no_error_pattern"


def _live_traffic(ilsref: Reference, reads: int = 30) -> None:
    """What users would do in the window: sign in, read the (cached) analytics, probe health.
    A 500 answered to a read is part of the window (a fault run), not an error here."""
    local = tomllib.loads((ilsref.home / "run" / "local.toml").read_text())
    context = ssl.create_default_context(cafile=local["ca_bundle"])
    secrets = ilsref.secrets()

    def call(path: str, body: dict[str, Any] | None = None, token: str = "") -> Any:
        request = urllib.request.Request(
            local["base_url"] + path, data=json.dumps(body).encode() if body else None,
            headers={"Content-Type": "application/json",
                     **({"Authorization": f"Bearer {token}"} if token else {})})
        try:
            with urllib.request.urlopen(request, context=context, timeout=10) as answer:
                return json.loads(answer.read())
        except urllib.error.HTTPError as error:
            if path.startswith("/api/auth") or error.code < 500:
                raise
            return None

    token = call("/api/auth/jwt/login", {"email": secrets["CUTOVER_LOCAL_SMOKE_EMAIL"],
                                         "password": secrets["CUTOVER_LOCAL_SMOKE_PASSWORD"]})["accessToken"]
    with ThreadPoolExecutor(max_workers=4) as pool:  # a slow-query fault makes reads wait 1.2 s
        list(pool.map(lambda _: call("/api/analytics/overview", token=token), range(reads)))
    for _ in range(10):
        call("/api/health")
    time.sleep(SCRAPE_WAIT_S)


def _post_launch(ilsref: Reference, extra: str = "", reads: int = 30,
                 window: str = WINDOW) -> SmokeRun:
    config = ilsref.workdir / "cutover-post-launch.toml"
    config.write_text(ilsref.config.read_text() + f'signoffs = "{DEMO_SIGNOFFS}"\n' + extra)
    _live_traffic(ilsref, reads)
    saved = dict(ilsref.env)
    ilsref.env["CUTOVER_POST_LAUNCH_WINDOW"] = window
    try:
        return ilsref.suite("post_launch", f"--cutover-config={config}", "load/test_post_launch.py")
    finally:
        ilsref.env.clear()
        ilsref.env.update(saved)


@pytest.fixture(scope="module")
def healthy(ilsref: Reference) -> SmokeRun:
    return _post_launch(ilsref)


@pytest.fixture(scope="module")
def error_lines(ilsref: Reference, healthy: SmokeRun) -> SmokeRun:
    with ilsref.fault("logs_error_lines"):
        return _post_launch(ilsref)


@pytest.fixture(scope="module")
def degraded(ilsref: Reference, error_lines: SmokeRun) -> SmokeRun:
    """Every 10th read answers 500 and every 4th runs a 1.2 s query (120 reads: 30 slow queries),
    on an app whose declared limits (1 MiB, a thousandth of a core) it exceeds. The window is the
    last 20 s, which holds this traffic and little else: in a minute, another file's load run on
    the same deployment (a shared worker) diluted the error rate below 5 %."""
    limits = "[environments.local.load]\nmemory_limit_mb = 1\ncpu_limit_cores = 0.001\n"
    with ExitStack() as faults:
        for name in ("error_rate_10pct", "slow_db_queries"):
            faults.enter_context(ilsref.fault(name))
        return _post_launch(ilsref, limits, reads=120, window="20s")


def test_healthy_deployment_with_the_demo_signoffs_gives_go(healthy: SmokeRun) -> None:
    assert (healthy.returncode, healthy.verdict["decision"]) == (0, "GO"), healthy.explain()


def test_every_post_launch_check_ran_and_passed(healthy: SmokeRun) -> None:
    outcomes = healthy.outcomes
    assert len(outcomes) >= 16 and all(n.startswith("load/test_post_launch.py") for n in outcomes), outcomes
    assert set(outcomes.values()) == {"passed"}, healthy.explain()


def test_error_lines_in_the_log_store_give_no_go_naming_the_error_log_check(error_lines: SmokeRun
                                                                             ) -> None:
    run = error_lines
    assert (run.returncode, run.verdict["decision"]) == (1, "NO-GO"), run.explain()
    assert [n.split("::")[-1] for n in run.failing] == [ERROR_LOGS], run.explain()
    assert any(ERROR_LOGS in reason for reason in run.verdict["reasons"]), run.explain()
    message = next(c["message"] for c in run.verdict["checks"] if ERROR_LOGS in c["nodeid"])
    assert "match 'ERROR'" in message and "Unhandled rejection" in message, message


def test_failing_slow_traffic_over_its_limits_fails_the_window_checks(degraded: SmokeRun) -> None:
    run = degraded
    assert run.verdict["decision"] in ("NO-GO", "ROLLBACK") and run.returncode != 0, run.explain()
    failing = {n.split("::")[-1] for n in run.failing}
    assert {"test_error_rate_over_the_last_window_within_thresholds",
            "test_p95_over_the_last_window_within_thresholds",
            "test_slow_query_rate_over_the_last_window_within_thresholds",
            "test_cpu_over_the_last_window_within_thresholds",
            "test_memory_over_the_last_window_within_thresholds"} <= failing, run.explain()
