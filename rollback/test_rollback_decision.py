"""The rollback decision (plan, T+0:30): the error rate is at most 5 %, P95 at most 2000 ms and
every critical endpoint works, measured now by sampling the critical endpoints.

Read-only, so it runs on production: `pytest rollback/test_rollback_decision.py
rollback/test_data_integrity.py --cutover-env production` after the deploy. The verdict weighs
these with the load, e2e and data-integrity results of the same run (ROLLBACK when one fires) and
lists the four triggers, fired or clear, with their values.
"""

from __future__ import annotations

from typing import Any

import pytest

from pytest_cutover import blocked, causes


@pytest.fixture(scope="module")
def samples(sample: Any, rollback_config: dict[str, Any]) -> Any:
    return sample(int(rollback_config["sample_requests"]))


@pytest.fixture
def recorded(samples: Any, evidence: Any) -> Any:
    """The samples; when not one request got a connection (refused, TLS verification failed),
    the triggers have no input: the checks are blocked by that cause, not fired on it."""
    evidence("rollback decision samples", "\n".join(r.describe() for r in samples.results))
    found = {causes.no_response_cause(r.url, r.error) for r in samples.results
             if r.status is None}
    if samples.results and all(r.status is None for r in samples.results) and None not in found:
        blocked("; ".join(sorted(c for c in found if c)), samples.describe())
    return samples


@pytest.mark.checklist("trigger.error-rate")
def test_error_rate_is_below_the_rollback_trigger(recorded, measure):
    measure("error_rate_pct", recorded.error_rate_pct, subject=recorded.describe(),
            samples=len(recorded.results))


@pytest.mark.checklist("trigger.p95-latency")
def test_p95_latency_is_below_the_rollback_trigger(recorded, measure):
    measure("p95_ms", recorded.p95_ms, subject=recorded.describe(), samples=len(recorded.results))


@pytest.mark.rollback_trigger("critical_flow")
@pytest.mark.checklist("trigger.critical-feature")
def test_critical_endpoints_work(recorded):
    broken = {}
    for result in recorded.results:
        ok = result.status is not None and result.status < 500
        broken.setdefault(result.path, []).append(ok)
    failing = [f"{path} failed {values.count(False)} of {len(values)} requests"
               for path, values in broken.items() if values.count(False) * 2 > len(values)]
    assert not failing, f"critical endpoints broken: {'; '.join(failing)} ({recorded.describe()})"
