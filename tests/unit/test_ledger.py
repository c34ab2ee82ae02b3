"""The cutover ledger: append one record per run, read the newest matching one."""

import datetime as dt

from pytest_cutover.ledger import CheckOutcome, Ledger, Record, record_from_verdict

NOW = dt.datetime(2026, 11, 26, 12, 0, tzinfo=dt.UTC)


def record(env="staging", markers=("rollback_drill",), verdict="GO", hours_ago=1, checks=(), release="2.0.0"):
    return Record(NOW - dt.timedelta(hours=hours_ago), env, "staging", release, tuple(markers), verdict,
                  checks=tuple(checks))


def test_appended_records_read_back_equal(tmp_path):
    ledger = Ledger(tmp_path / "history")
    first = record(checks=[CheckOutcome("rollback/test_x.py::test_undo", "passed",
                                        ("t24.rollback-on-staging",))])
    ledger.append(first)
    assert list(ledger.records()) == [first]


def test_latest_picks_the_newest_match_by_environment_marker_and_item(tmp_path):
    ledger = Ledger(tmp_path)
    old = record(hours_ago=30)
    new = record(hours_ago=2, verdict="NO-GO")
    smoke = record(markers=("smoke",), hours_ago=1)
    prod = record(env="production", hours_ago=0)
    linked = record(hours_ago=5, checks=[CheckOutcome("a::b", "passed", ("t24.restore-works",))])
    for r in (old, new, smoke, prod, linked):
        ledger.append(r)
    assert ledger.latest("staging", "rollback_drill") == new
    assert ledger.latest("staging", "smoke") == smoke
    assert ledger.latest("staging", item="t24.restore-works") == linked
    assert ledger.latest("staging", "load") is None
    assert ledger.latest("staging", "rollback_drill", release="1.9.0") is None


def test_a_torn_line_is_skipped(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.append(record())
    with ledger.path.open("a") as fh:
        fh.write('{"time": "2026-11-26T1')
    ledger.append(record(hours_ago=0))
    assert len(list(ledger.records())) == 2


def test_blocking_problems_ignore_non_blocking_and_named_items():
    r = record(checks=[CheckOutcome("a", "failed", ("gate.all-checks-green",)),
                       CheckOutcome("b", "pending", ("team.on-call",)),
                       CheckOutcome("c", "failed", (), blocking=False),
                       CheckOutcome("d", "waived"), CheckOutcome("e", "passed")])
    assert [c.nodeid for c in r.blocking_problems(ignore_items=("gate.",))] == ["b"]


def test_record_from_the_verdict_document_drops_the_marker_expression():
    doc = {"decision": "GO", "environment": "local", "environment_kind": "other", "release": "2.0.0",
           "markers": ["readiness", "-m readiness"], "counts": {"passed": 1}, "target": "https://x",
           "checks": [{"nodeid": "n", "outcome": "passed", "checklist": ["x.y"], "blocking": True}]}
    r = record_from_verdict(doc, NOW)
    assert (r.markers, r.verdict, r.checks[0].checklist) == (("readiness",), "GO", ("x.y",))
    assert r.describe() == "GO for 'local' (readiness) release 2.0.0 at 2026-11-26 12:00 UTC"
