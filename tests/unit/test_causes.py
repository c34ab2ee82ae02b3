"""Root causes first: messages classified into causes, reasons grouped one line per cause."""

from __future__ import annotations

import pytest

from pytest_cutover import causes, outcomes
from pytest_cutover.verdict import CheckResult, decide

WHERE = "localhost:8443"
EXPIRED = f"TLS verification failed for {WHERE} (certificate expired 10 days ago)"


@pytest.mark.parametrize(("message", "expected"), [
    (f"blocked by {EXPIRED}: GET / failed", EXPIRED),
    (f"certificate of {WHERE} expired on 2026-01-01 00:00 UTC", f"TLS verification failed for {WHERE}"),
    ("connection refused by 127.0.0.1:9", "connection refused by 127.0.0.1:9"),
    ("GET / failed after 2 ms: connection failed (refused or reset)", "connection refused"),
    ("the target's rate limit on the suite's own traffic", "throttled by the target (429)"),
    ("60 requests to /api/health were never answered 429 (expected throttling)", None),
    ("assert 503 == 200", None),
])
def test_messages_are_classified_into_root_causes(message: str, expected: str | None) -> None:
    assert causes.classify(message) == expected


@pytest.mark.parametrize(("error", "expected"), [
    ("TLS verification failed (certificate has expired)",
     "TLS verification failed for ils.example:443 (certificate has expired)"),
    ("connection failed (refused or reset)", "connection refused by ils.example:443"),
    ("timed out connecting", "no answer from ils.example:443 (connection timed out)"),
    ("timed out", None),  # the target took the request: a slow answer is the check's to judge
    (None, None),
])
def test_no_response_has_a_cause_unless_the_target_took_the_request(error, expected) -> None:
    assert causes.no_response_cause("https://ils.example/api/health", error) == expected


def _blocked(nodeid: str, cause: str) -> CheckResult:
    return CheckResult(nodeid, "blocked", outcomes.blocked_message(cause, "GET / failed"))


def test_an_expired_certificate_is_one_reason_listed_first() -> None:
    results = [CheckResult("smoke/test_version.py::test_other", "failed", "assert '1.9' == '2.0'")]
    results += [_blocked(f"smoke/test_x.py::test_{n}", EXPIRED) for n in range(37)]
    results += [
        CheckResult("smoke/test_tls.py::test_not_expired", "failed",
                    f"AssertionError: certificate of {WHERE} expired on 2026-11-23 10:00 UTC"),
        CheckResult("smoke/test_tls.py::test_trusted", "failed",
                    f"AssertionError: certificate of {WHERE} (issuer 'x') is not trusted by ca.pem"),
        CheckResult("smoke/test_x.py::test_ok", "passed"),
    ]
    verdict = decide(results, "local", ["smoke"])
    assert verdict.decision == "NO-GO"
    assert len(verdict.reasons) == 2, verdict.reasons
    assert verdict.reasons[0].startswith(f"{EXPIRED}: 2 checks failed, 37 checks blocked (test_0, ")
    assert verdict.reasons[0].endswith(" +36 more)")
    first = verdict.causes[0]
    assert (first["cause"], first["kind"], len(first["checks"])) == (EXPIRED, "failed", 39)


def test_a_cause_without_host_joins_the_one_that_names_it() -> None:
    refused = "connection refused by localhost:9"
    results = [_blocked(f"t.py::test_{n}", refused) for n in range(5)]
    results.append(CheckResult("t.py::test_ready", "failed",
                               "GET /api/health failed: connection failed (refused or reset)"))
    verdict = decide(results, "local", ["smoke"])
    assert verdict.reasons == [f"{refused}: 1 check failed, 5 checks blocked "
                               f"(test_0, test_1, test_2 +3 more)"]


def test_unrelated_failures_keep_their_own_lines_after_the_root_causes() -> None:
    results = [_blocked(f"t.py::test_{n}", "throttled by the target (429) at login")
               for n in range(3)]
    results.append(CheckResult("t.py::test_version", "failed", "deployed 1.9 (expected 2.0)"))
    verdict = decide(results, "local", ["smoke"])
    assert verdict.reasons == ["throttled by the target (429): 3 checks blocked "
                               "(test_0, test_1, test_2)",
                               "t.py::test_version failed: deployed 1.9 (expected 2.0)"]


def test_a_blocked_check_never_fires_rollback() -> None:
    blocked = _blocked("e2e/test_login.py::test_login", "connection refused by localhost:9")
    blocked.rollback_triggers = ["critical_flow"]
    blocked.measurements = [{"name": "p95_ms", "value": 3000, "rollback": True, "rollback_at": 2000,
                             "level": "critical", "message": "p95 3000 ms"}]
    verdict = decide([blocked], "local", ["e2e"])
    assert verdict.decision == "NO-GO"
    assert verdict.rollback_reasons == []
    assert all(t["state"] != "fired" for t in verdict.triggers)


def test_a_check_that_fired_rollback_is_one_cause_not_two() -> None:
    fired = CheckResult("e2e/test_login.py::test_login", "failed", "step 'sign in' failed",
                        rollback_triggers=["critical_flow"])
    other = CheckResult("smoke/test_v.py::test_version", "failed", "deployed 1.9")
    verdict = decide([fired, other], "local", ["e2e"])
    assert verdict.decision == "ROLLBACK"
    assert [(c["kind"], c["checks"]) for c in verdict.causes] == [
        ("rollback", ["e2e/test_login.py::test_login"]),
        ("failed", ["smoke/test_v.py::test_version"])]


def test_checks_sharing_a_message_are_each_named_in_full() -> None:
    results = [CheckResult(f"e2e/test_d.py::test_widgets[chromium-{role}]", "failed",
                           f"page_load_ms {ms} ms is above the critical threshold 4000 ms")
               for role, ms in (("user", 5106), ("admin", 4410))]
    verdict = decide(results, "local", ["e2e"])
    assert len(verdict.reasons) == 1
    assert all(r.nodeid in verdict.reasons[0] for r in results), verdict.reasons
