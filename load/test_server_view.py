"""Server side of the load: Prometheus' view of the same window stays within the plan's
alert table (error rate, P95, CPU, memory, DB connections), with no slow queries, no leak, a warm
cache, an autoscaler that acts on its recommendation, and a P95 that agrees with the client's.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from pytest_cutover import not_applicable, unverified
from pytest_cutover.clients.locust import LoadRun
from pytest_cutover.clients.serverview import ServerView, locust_name
from pytest_cutover.loadplan import setting
from pytest_cutover.loadstats import bucket_around, gap_outside
from pytest_cutover.settings import Environment
from pytest_cutover.thresholds import Threshold

pytestmark = [pytest.mark.destructive]
Measure = Callable[..., Any]


def _load_table(target: Environment) -> dict[str, Any]:
    return dict(target.data.get("load", {}))


@pytest.mark.checklist("alert.error-rate")
def test_server_error_ratio_within_thresholds(server_view: ServerView, measure: Measure,
                                              promql: Callable[[], None]) -> None:
    ratio = server_view.error_ratio_pct()
    promql()
    assert ratio is not None, "Prometheus counted no request of the app during the load window"
    measure("error_rate_pct", ratio, subject="5xx responses counted by the app (server side)",
            samples=int(server_view.request_count()))


@pytest.mark.checklist("alert.p95-latency")
def test_server_p95_within_thresholds(server_view: ServerView, measure: Measure, target: Environment,
                                      promql: Callable[[], None], evidence: Callable[..., None]
                                      ) -> None:
    """Judged at PromQL's interpolated value; but a histogram bucket that straddles the rollback
    trigger cannot say which side the P95 is on, so then the client-side P95 decides ROLLBACK."""
    buckets = server_view.buckets()
    p95 = server_view.p95_ms()
    promql()
    assert p95 is not None, "http_request_duration_seconds has no observation in the load window"
    threshold = target.threshold("p95_ms")
    low, high = (1000 * b for b in bucket_around(p95 / 1000, buckets))
    if threshold.rollback is not None and low < threshold.rollback < high:
        threshold = dataclasses.replace(threshold, rollback=None)
        evidence("histogram resolution", f"the P95 lies in the bucket ({low:g}, {high:g}] ms, which "
                 f"holds the rollback trigger: the client-side P95 decides the rollback")
    measure("p95_ms", p95, threshold, subject="http_request_duration_seconds (server side)")


@pytest.mark.checklist("app.load-test")
def test_client_and_server_p95_agree(load_run: LoadRun, server_view: ServerView, measure: Measure,
                                     load_threshold: Callable[[str], Threshold],
                                     evidence: Callable[..., None]) -> None:
    """The client's P95 lies in (or near) the server histogram's bucket that holds the server P95;
    far above it means the generator or the network adds the time (flagged, not blocking)."""
    assert load_run.stats is not None
    rows = ["| endpoint | client P95 ms | server P95 ms | server bucket ms | client requests |",
            "|---|---:|---:|---|---:|"]
    by_name = {e.name: e for e in load_run.stats.endpoints}
    for path in server_view.paths():
        server_p95 = server_view.p95_ms(path)
        client = by_name.get(locust_name(path))
        low, high = bucket_around((server_p95 or 0) / 1000, server_view.buckets(path))
        rows.append(f"| {path} | {client.p95_ms:.0f} |" if client else f"| {path} | - |")
        rows[-1] += f" {server_p95 or 0:.0f} | ({low * 1000:g}, {high * 1000:g}] | " \
                    f"{client.requests if client else 0} |"
    server_p95 = server_view.p95_ms()
    assert server_p95 is not None, "http_request_duration_seconds has no observation in the window"
    low, high = bucket_around(server_p95 / 1000, server_view.buckets())
    client_p95 = load_run.stats.everything.p95_ms  # sign-in included, like the server's count
    rows.append(f"| **all** | {client_p95:.0f} | {server_p95:.0f} | ({low * 1000:g}, {high * 1000:g}] "
                f"| {load_run.stats.everything.requests} |")
    evidence("client vs server P95", "\n".join(rows))
    measure("p95_gap_ms", gap_outside(client_p95, low * 1000, high * 1000),
            load_threshold("p95_gap_ms"),
            subject=f"client P95 {client_p95:.0f} ms vs the server bucket "
                    f"({low * 1000:g}, {high * 1000:g}] ms holding the server P95 {server_p95:.0f} ms")


@pytest.mark.checklist("mon.request-rate")
def test_server_counted_every_request_the_generator_sent(load_run: LoadRun, server_view: ServerView,
                                                         load_session: Any, measure: Measure,
                                                         promql: Callable[[], None],
                                                         load_threshold: Callable[[str], Threshold]
                                                         ) -> None:
    """Over the whole run, warm-up included (a scrape interval cannot split it exactly); up to
    one request per user may be in flight when Locust stops: served, not recorded."""
    assert load_run.stats is not None
    whole = ServerView(server_view.prom, server_view.job, load_session.start, server_view.end)
    sent = load_run.stats.everything.requests + load_run.stats.warmup_requests
    counted = whole.request_count()
    promql()
    assert counted > 0, f"the generator sent {sent} requests but the app counted none"
    in_flight = load_run.plan.peak_users
    gap = 100.0 * max(0.0, sent - counted, counted - sent - in_flight) / sent
    measure("server_client_count_gap_pct", gap, load_threshold("server_client_count_gap_pct"),
            subject=f"app counted {counted:.0f} requests ({counted / whole.seconds:.1f}/s), "
                    f"generator recorded {sent} (+ up to {in_flight} in flight at the stop)")


@pytest.mark.checklist("alert.cpu", "mon.memory-cpu")
def test_app_cpu_within_thresholds(server_view: ServerView, target: Environment, measure: Measure,
                                   promql: Callable[[], None]) -> None:
    cores = float(setting(_load_table(target), "cpu_limit_cores"))
    cpu = server_view.cpu_pct(cores)
    promql()
    assert cpu is not None, "process_cpu_seconds_total of the app has no samples in the window"
    measure("cpu_pct", cpu, subject=f"app process, of a {cores:g}-core limit")


@pytest.mark.checklist("alert.memory", "mon.memory-cpu")
def test_app_memory_within_thresholds(server_view: ServerView, target: Environment,
                                      measure: Measure, promql: Callable[[], None]) -> None:
    limit = float(setting(_load_table(target), "memory_limit_mb"))
    memory = server_view.memory()
    promql()
    assert memory is not None, "process_resident_memory_bytes of the app has no samples"
    measure("memory_pct", 100.0 * memory.peak_mb / limit,
            subject=f"app peak RSS {memory.peak_mb:.0f} MiB of a {limit:.0f} MiB limit")


@pytest.mark.checklist("mon.memory-leaks")
def test_app_memory_does_not_grow_over_the_load(server_view: ServerView, measure: Measure,
                                                load_threshold: Callable[[str], Threshold],
                                                promql: Callable[[], None]) -> None:
    memory = server_view.memory()
    promql()
    assert memory is not None, "process_resident_memory_bytes of the app has no samples"
    measure("memory_growth_pct", memory.growth_pct, load_threshold("memory_growth_pct"),
            subject=f"app RSS {memory.first_mb:.0f} -> {memory.last_mb:.0f} MiB over the last two "
                    f"thirds of {server_view.seconds:.0f} s (leak suspicion)")


@pytest.mark.checklist("alert.db-connections", "mon.db-connections")
def test_db_connections_within_thresholds(server_view: ServerView, measure: Measure,
                                          promql: Callable[[], None]) -> None:
    used = server_view.db_connections_pct()
    promql()
    if used is None:
        unverified("pg_stat_activity_count / pg_settings_max_connections have no samples in the "
                   "window: is the postgres exporter scraped?")
    measure("db_connections_pct", used, subject="peak connections as % of max_connections")


@pytest.mark.checklist("verify.db-queries", "mon.db-performance")
def test_no_slow_queries_during_the_load(server_view: ServerView, measure: Measure,
                                         load_threshold: Callable[[str], Threshold],
                                         promql: Callable[[], None]) -> None:
    slow = server_view.slow_queries()
    promql()
    measure("slow_queries_per_min", 60.0 * slow / server_view.seconds,
            load_threshold("slow_queries_per_min"),
            subject=f"{slow:.0f} queries slower than 1 s (db_slow_queries_total)")


def test_cache_hit_ratio_within_thresholds(server_view: ServerView, measure: Measure,
                                           promql: Callable[[], None]) -> None:
    hits, misses = server_view.cache_lookups()
    promql()
    if hits + misses == 0:
        unverified("no cache lookup (cache_hits_total, cache_misses_total) in the load window")
    measure("cache_hit_pct", 100.0 * hits / (hits + misses),
            subject=f"{hits:.0f} hits, {misses:.0f} misses", samples=int(hits + misses),
            statistic="ratio")


@pytest.mark.checklist("mon.auto-scaling")
def test_autoscaler_runs_the_replicas_it_recommends(load_session: Any, measure: Measure,
                                                    evidence: Callable[..., None],
                                                    load_threshold: Callable[[str], Threshold]
                                                    ) -> None:
    """Sampled while the load ran: the HPA computes a recommendation (ScalingActive) and the
    workload reaches it; a recommendation left unmet to the end of the load is an app that
    ignores its autoscaler."""
    if load_session.hpa_not_applicable:
        not_applicable(load_session.hpa_not_applicable)
    samples = [s for s in load_session.hpa_samples if s["hpa"] is not None]
    if not load_session.hpa_samples:
        unverified(f"the HPA could not be read during the load: "
                   f"{load_session.hpa_problem or 'no sample was taken'}")
    assert samples, f"HPA {load_session.hpa_samples[0]['name']!r} does not exist"
    status = [s["hpa"].get("status") or {} for s in samples]
    evidence("HPA status during the load", "\n".join(
        f"desired {st.get('desiredReplicas')} current {st.get('currentReplicas')} "
        f"metrics {st.get('currentMetrics')}" for st in status))
    last = status[-1]
    active = {c.get("type"): c.get("status") for c in last.get("conditions") or []}
    assert active.get("ScalingActive") == "True", (
        f"HPA {samples[-1]['name']!r} is not computing a recommendation "
        f"(ScalingActive={active.get('ScalingActive')!r}); expected True")
    if all(s.get("desiredReplicas") == s.get("currentReplicas") for s in status) and \
            len({repr(s.get("currentMetrics")) for s in status}) == 1 and len(status) > 2:
        evidence("note", "the HPA status did not change while the load ran: the recommendation "
                         "was met throughout, but scaling out was not exercised")
    shortfall = (last.get("desiredReplicas") or 0) - (last.get("currentReplicas") or 0)
    measure("hpa_replica_shortfall", shortfall, load_threshold("hpa_replica_shortfall"),
            subject=f"HPA {samples[-1]['name']!r} at the end of the load")
