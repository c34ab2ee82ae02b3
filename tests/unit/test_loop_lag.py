"""Client-side queueing: how late the generator's event loop ran, and when that makes a load run
inconclusive. Synthetic samples only (no timing)."""

from __future__ import annotations

import json
from pathlib import Path

from pytest_cutover import causes
from pytest_cutover.clients.machine import LoopLag, MachineLoad, lag_saturation, saturation


def _lag(**counts: int) -> LoopLag:
    """{"ms3": 10} -> 10 samples 3 ms late."""
    return LoopLag({int(k.removeprefix("ms")): n for k, n in counts.items()})


def test_percentiles_are_nearest_rank_over_the_histogram() -> None:
    lag = _lag(ms1=90, ms40=5, ms300=5)  # 100 samples
    assert lag.samples == 100
    assert lag.percentile(0.5) == 1 and lag.p95_ms == 40 and lag.percentile(0.96) == 300
    assert lag.max_ms == 300
    assert LoopLag({}).p95_ms is None and "not measured" in LoopLag({}).describe()


def test_a_loop_that_kept_up_is_no_cause() -> None:
    assert lag_saturation(_lag(ms1=95, ms500=5), 100, 20) is None  # one stall in 20 is not P95


def test_a_loop_late_at_p95_names_the_saturated_generator() -> None:
    cause = lag_saturation(_lag(ms1=80, ms250=20), 100, 20)
    assert cause is not None and "250 ms late at P95" in cause
    assert "100 timed sleeps" in cause and "above 100 ms" in cause
    # grouped with the CPU causes in the verdict, and a valid 'blocked by CAUSE: detail' cause
    assert causes.classify(cause) == causes.classify("the load generator was saturated (CPU)")
    assert ": " not in cause


def test_too_few_lag_samples_make_no_claim() -> None:
    assert lag_saturation(_lag(ms900=19), 100, 20) is None
    assert lag_saturation(_lag(ms900=20), 100, 20) is not None
    assert lag_saturation(None, 100, 20) is None


def test_a_limit_of_zero_declares_any_lag_saturated() -> None:
    assert lag_saturation(_lag(ms1=30), 0, 20) is not None
    assert lag_saturation(_lag(ms0=30), 0, 20) is None  # on time to the millisecond: room


def test_saturation_takes_the_lag_cause_after_the_generators_cpu() -> None:
    idle = MachineLoad(samples=[(0, 0), (10, 100)], cores=2)
    lag_cause = lag_saturation(_lag(ms400=40), 100, 20)
    assert saturation(idle, 20.0, 90, lag_cause) == lag_cause
    assert "its process used 97 %" in str(saturation(idle, 97.0, 90, lag_cause))
    assert saturation(idle, 20.0, 90, None) is None


def test_each_process_file_is_merged_and_a_broken_one_left_out(tmp_path: Path) -> None:
    prefix = tmp_path / "loop-lag"
    (tmp_path / "loop-lag.101").write_text(json.dumps({"interval_ms": 50, "histogram": {"1": 30}}))
    (tmp_path / "loop-lag.102").write_text(json.dumps({"interval_ms": 50,
                                                       "histogram": {"1": 5, "200": 10}}))
    (tmp_path / "loop-lag.103").write_text("{not json")
    (tmp_path / "loop-lag.104.tmp").write_text(json.dumps({"histogram": {"999": 100}}))
    lag = LoopLag.read(prefix)
    assert lag is not None and lag.processes == 2 and lag.histogram == {1: 35, 200: 10}
    assert "in 2 process(es)" in lag.describe()
    assert LoopLag.read(tmp_path / "nothing") is None
