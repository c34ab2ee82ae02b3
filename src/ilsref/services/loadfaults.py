"""Fault switches for the load and live-SLO checks (load/): latency, errors, slow queries, a leak.

The app reads them per request in `ilsref.app.load_faults`; they toggle at run time. Each one moves
a number the load gate judges past a level of the plan's table (see load/README.md).
"""

from __future__ import annotations

from ilsref.faults import Fault

FAMILY = "load/slo"

FAULTS = (
    Fault("latency_700ms", FAMILY,
          "every request takes 700 ms more (P95 between the warning and critical levels)"),
    Fault("latency_1500ms", FAMILY, "every request takes 1500 ms more (P95 above critical)"),
    Fault("latency_2500ms", FAMILY,
          "every request takes 2500 ms more (P95 above the 2000 ms rollback trigger)"),
    Fault("latency_jitter", FAMILY,
          "every request takes 0-1000 ms more, uniformly distributed (P95 about 950 ms)"),
    Fault("error_rate_10pct", FAMILY,
          "every 10th request answers 500 (error rate above the 5 % rollback trigger)"),
    Fault("error_rate_3pct", FAMILY,
          "3 in 100 requests answer 500 (error rate between warning and critical)"),
    Fault("slow_db_queries", FAMILY,
          "every 4th API request runs a 1.2 s query first (slow queries, pool pressure)"),
    Fault("memory_leak", FAMILY,
          "every request keeps 1 MiB of memory until the fault is cleared (at most 768 MiB)"),
)
