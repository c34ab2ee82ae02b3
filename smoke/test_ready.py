"""Smoke: the deployed target answers its health path within the bounded wait (ready_wait_s)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.checklist("verify.deployment-verification", "prep.environment-check")


@pytest.fixture(autouse=True)
def target_answers() -> None:
    """This module makes the readiness claim itself, so it must not be cut short by it."""


def test_target_answers_health_within_the_ready_wait(readiness, evidence):
    evidence("bounded wait for the target", {
        "path": readiness.path, "ready": readiness.ready, "waited_s": round(readiness.waited_s, 2),
        "attempts": readiness.attempts, "last": readiness.last}, "json")
    assert readiness.ready, readiness.explain()
