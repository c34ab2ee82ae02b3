"""Special outcomes travel as tagged skip reasons; an untagged skip is never a pass."""

from __future__ import annotations

import pytest

from pytest_cutover import outcomes


@pytest.mark.parametrize(("reason", "parsed"), [
    (outcomes.tag(outcomes.UNVERIFIED, "cdn not configured"), ("unverified", "cdn not configured")),
    ("Skipped: " + outcomes.tag(outcomes.NOT_APPLICABLE, "no CDN"), ("not_applicable", "no CDN")),
    (outcomes.tag(outcomes.PENDING, "no sign-off"), ("pending", "no sign-off")),
    ("Skipped: flaky on Tuesdays", ("unverified", "skipped: flaky on Tuesdays")),
    ("", ("unverified", "skipped: ")),
])
def test_skip_reasons_parse_to_outcomes(reason: str, parsed: tuple[str, str]) -> None:
    assert outcomes.parse(reason) == parsed


def test_blocked_message_carries_its_cause_and_splits_back() -> None:
    message = outcomes.blocked_message("TLS verification failed for ils.local:443", "GET /api/health")
    assert outcomes.parse(outcomes.tag(outcomes.BLOCKED, message)) == ("blocked", message)
    assert outcomes.blocked_cause(message) == ("TLS verification failed for ils.local:443",
                                               "GET /api/health")
