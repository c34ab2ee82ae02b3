"""Application: the load test and the performance benchmarks were met by the release: the most
recent `load` verdict in the cutover ledger (from `pytest -m load`) is GO and recent enough."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_cutover import unverified
from pytest_cutover.thresholds import Threshold

LOAD_AGE = Threshold(warn=3, crit=7, unit="days")


@pytest.mark.checklist("app.load-test", "app.performance-benchmarks")
def test_latest_load_verdict_is_go(target, request, ledger, measure, evidence):
    where = ((target.data.get("ledger") or {}).get("load_environment")
             or request.getfixturevalue("staging").name)
    record = ledger.latest(where, "load")
    if record is None:
        unverified(f"the ledger {str(ledger.path)!r} holds no load run of {where!r}: run "
                   f"`pytest -m load --cutover-env {where}` first")
    evidence("load verdict from the ledger", record.to_dict(), "json")
    assert record.verdict == "GO", f"the latest load run is {record.describe()} (expected GO)"
    assert record.release in (None, target.release), (
        f"the latest load run tested release {record.release!r} (expected {target.release!r})")
    age = record.age(dt.datetime.now(dt.UTC)).total_seconds() / 86400
    measure("load_verdict_age_days", age, target.threshold("load_verdict_age_days", LOAD_AGE),
            subject=record.describe())
