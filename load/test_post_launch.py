"""Post-launch (T+1h, T+24h, each day of week 1): the last window of live metrics stays within the
plan's levels, error logs show no error pattern, backups keep coming, alerts are delivered, and
the review items are signed off.

Run after go-live with `pytest -m post_launch --cutover-env production`; the window is
`load.post_launch_window` ("1h", "24h", "7d") or `CUTOVER_POST_LAUNCH_WINDOW`. Read-only, except
one synthetic alert posted to Alertmanager (it expires within a minute).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients import prom
from pytest_cutover.clients.http import HttpClient
from pytest_cutover.clients.promql import PromClient
from pytest_cutover.clients.serverview import ServerView
from pytest_cutover.loadplan import FALLBACK_THRESHOLDS, setting
from pytest_cutover.settings import Environment

pytestmark = [pytest.mark.post_launch]
Measure = Callable[..., Any]
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
REVIEWS = [  # (checklist id, who signs it)
    ("post.user-feedback", "product manager"),
    ("post.optimizations-planned", "backend lead"),
    ("week1.daily-user-feedback", "product manager"),
    ("week1.alert-thresholds-reviewed", "devops lead"),
    ("success.no-data-complaints", "product manager"),
    ("success.support-tickets", "product manager"),
    ("success.user-feedback", "product manager"),
]


def window_seconds(target: Environment) -> tuple[str, float]:
    text = os.environ.get("CUTOVER_POST_LAUNCH_WINDOW") or str(
        setting(target.data.get("load", {}), "post_launch_window"))
    match = re.fullmatch(r"(\d+)([smhd])", text.strip())
    if not match:
        raise pytest.UsageError(f"post-launch window {text!r}: expected a number and s, m, h or d "
                                f"(e.g. 1h, 24h, 7d)")
    return text, int(match[1]) * UNITS[match[2]]


@pytest.fixture
def last_window(target: Environment, require: Callable[[str], dict[str, Any]]) -> ServerView:
    prometheus = require("prometheus")
    _, seconds = window_seconds(target)
    now = time.time()
    client = PromClient(prometheus["url"], timeout_s=target.timeout_s, ca_bundle=target.ca_bundle)
    return ServerView(client, prometheus.get("job", "ils-app"), now - seconds, now)


@pytest.fixture
def queries(last_window: ServerView, evidence: Callable[..., None]) -> Callable[[], None]:
    mark = len(last_window.prom.history)
    return lambda: evidence("PromQL and result", "\n".join(last_window.prom.history[mark:]))


@pytest.mark.checklist("post.metrics-reviewed", "week1.daily-metrics")
def test_error_rate_over_the_last_window_within_thresholds(last_window: ServerView,
                                                           measure: Measure, queries: Any) -> None:
    ratio = last_window.error_ratio_pct()
    queries()
    if ratio is None:
        unverified(f"the app served no request in the last {last_window.seconds / 3600:g} h")
    measure("error_rate_pct", ratio, subject=f"5xx share over the last {last_window.seconds / 3600:g} h")


@pytest.mark.checklist("post.metrics-reviewed", "week1.daily-performance-trends", "post.bottlenecks")
def test_p95_over_the_last_window_within_thresholds(last_window: ServerView, measure: Measure,
                                                    queries: Any) -> None:
    p95 = last_window.p95_ms()
    queries()
    if p95 is None:
        unverified(f"no request duration was observed in the last {last_window.seconds / 3600:g} h")
    measure("p95_ms", p95, subject=f"server P95 over the last {last_window.seconds / 3600:g} h")


@pytest.mark.checklist("post.resource-utilization")
def test_cpu_over_the_last_window_within_thresholds(last_window: ServerView, target: Environment,
                                                    measure: Measure, queries: Any) -> None:
    cores = float(setting(target.data.get("load", {}), "cpu_limit_cores"))
    cpu = last_window.cpu_pct(cores)
    queries()
    if cpu is None:
        unverified("process_cpu_seconds_total of the app has no sample in the window "
                   "(not exported, or not scraped yet)")
    measure("cpu_pct", cpu, subject=f"average over the window, of a {cores:g}-core limit")


@pytest.mark.checklist("post.resource-utilization")
def test_memory_over_the_last_window_within_thresholds(last_window: ServerView, target: Environment,
                                                       measure: Measure, queries: Any) -> None:
    limit = float(setting(target.data.get("load", {}), "memory_limit_mb"))
    memory = last_window.memory(step_s=max(2.0, last_window.seconds / 500))
    queries()
    if memory is None:
        unverified("process_resident_memory_bytes of the app has no sample in the window "
                   "(not exported, or not scraped yet)")
    measure("memory_pct", 100.0 * memory.peak_mb / limit,
            subject=f"peak RSS {memory.peak_mb:.0f} MiB of a {limit:.0f} MiB limit")


@pytest.mark.checklist("post.cache-hit-rate", "week1.cache-strategy")
def test_cache_hit_rate_over_the_last_window_within_thresholds(last_window: ServerView,
                                                               measure: Measure, queries: Any) -> None:
    hits, misses = last_window.cache_lookups()
    queries()
    if hits + misses == 0:
        unverified("no cache lookup (cache_hits_total, cache_misses_total) in the window")
    measure("cache_hit_pct", 100.0 * hits / (hits + misses), subject=f"{hits:.0f} hits, {misses:.0f} misses")


@pytest.mark.checklist("post.slow-queries", "week1.slow-queries")
def test_slow_query_rate_over_the_last_window_within_thresholds(last_window: ServerView,
                                                                target: Environment,
                                                                measure: Measure, queries: Any) -> None:
    slow = last_window.slow_queries()
    queries()
    measure("slow_queries_per_min", 60.0 * slow / last_window.seconds,
            target.threshold("slow_queries_per_min", FALLBACK_THRESHOLDS["slow_queries_per_min"]),
            subject=f"{slow:.0f} queries slower than 1 s (db_slow_queries_total)")


@pytest.mark.checklist("post.error-log-patterns", "week1.daily-error-logs")
def test_error_logs_show_no_error_pattern(target: Environment,
                                          require: Callable[[str], dict[str, Any]],
                                          evidence: Callable[..., None]) -> None:
    logs = require("logs")
    text, seconds = window_seconds(target)
    table = target.data.get("load", {})
    patterns, allowed = setting(table, "error_log_patterns"), int(setting(table, "max_error_log_lines"))
    selector = logs.get("query", '{app="ils-app"}')
    client = HttpClient(logs["url"], ca_bundle=target.ca_bundle, timeout_s=target.timeout_s)
    now_ns = time.time_ns()
    found: dict[str, list[str]] = {}
    for pattern in patterns:
        query = f'{selector} |= "{pattern}"'
        answer = client.get("/loki/api/v1/query_range?" + urlencode(
            {"query": query, "start": now_ns - int(seconds * 1e9), "end": now_ns, "limit": 50}))
        body = answer.json() if answer.status == 200 else None
        if not isinstance(body, dict) or "result" not in body.get("data", {}):
            unverified(f"the log store did not answer the LogQL query {query!r}: {answer.describe()}")
        found[pattern] = [line for s in body["data"]["result"] for _, line in s["values"]]
    evidence("log queries", "\n".join(f'{selector} |= "{p}" over {text}: {len(lines)} lines'
                                      + "".join(f"\n    {line[:200]}" for line in lines[:5])
                                      for p, lines in found.items()))
    worst = max(found.items(), key=lambda kv: len(kv[1]), default=("", []))
    assert len(worst[1]) <= allowed, (
        f"{len(worst[1])} log lines match {worst[0]!r} in the last {text} (expected at most "
        f"{allowed}); first: {worst[1][0][:200]!r}")


@pytest.mark.checklist("post.backups-running", "week1.daily-backups")
def test_newest_backup_is_recent(target: Environment, measure: Measure,
                                 require: Callable[[str], dict[str, Any]]) -> None:
    backups = require("backups")
    if "directory" not in backups:
        unverified("backups.directory is not configured: where do the backups land?")
    files = sorted(Path(backups["directory"]).glob(backups.get("pattern", "*")),
                   key=lambda p: p.stat().st_mtime)
    assert files, f"no backup matching {backups.get('pattern', '*')!r} in {backups['directory']}"
    age_h = (time.time() - files[-1].stat().st_mtime) / 3600
    threshold = target.threshold("backup_age_hours")
    if isinstance(backups.get("max_age_hours"), dict):
        threshold = threshold.with_overrides(backups["max_age_hours"])
    measure("backup_age_hours", age_h, threshold, subject=f"newest backup {files[-1].name}")


@pytest.mark.destructive  # the test alert is routed to the on-call receiver: it notifies people
@pytest.mark.checklist("post.alerts-working", "success.monitoring-alerting")
def test_alertmanager_accepts_and_lists_a_test_alert(target: Environment,
                                                     require: Callable[[str], dict[str, Any]],
                                                     evidence: Callable[..., None]) -> None:
    am = require("alertmanager")
    client = HttpClient(am["url"], ca_bundle=target.ca_bundle, timeout_s=target.timeout_s)
    marker = f"cutover-post-launch-{uuid.uuid4().hex[:8]}"
    now = dt.datetime.now(dt.UTC)
    posted = prom.post_alert(client, {"alertname": "CutoverPostLaunchProbe", "probe": marker,
                                      "severity": "info"},
                             {"summary": "pytest-cutover post-launch probe; ignore"},
                             now.isoformat(), (now + dt.timedelta(minutes=1)).isoformat())
    assert posted.status == 200, posted.describe()
    deadline, listed = time.monotonic() + 10, []
    while not listed and time.monotonic() < deadline:  # bounded: 10 s
        listed = prom.alerts_matching(client, "probe", marker)
        time.sleep(0 if listed else 0.5)
    evidence("alert", listed or "not listed")
    assert listed, f"Alertmanager accepted the probe alert {marker!r} but did not list it within 10 s"
    receivers = [r.get("name") for r in listed[0].get("receivers", [])]
    assert receivers, f"the probe alert {marker!r} is routed to no receiver"


@pytest.mark.manual
@pytest.mark.parametrize(("item", "role"), [
    pytest.param(item, role, marks=pytest.mark.checklist(item), id=item) for item, role in REVIEWS])
def test_review_item_is_signed_off(item: str, role: str, signoff: Callable[..., Any]) -> None:
    assert signoff(item, role=role) is not None
