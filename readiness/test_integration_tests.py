"""Application: the release's integration tests passed in full (its JUnit XML report)."""

from __future__ import annotations

import pytest

from pytest_cutover import junit_report, unverified
from pytest_cutover.clients.documents import fetch

DEFAULT_MIN_TESTS = 1


@pytest.mark.checklist("app.integration-tests")
def test_integration_tests_passed_in_full(require, http, settings, evidence):
    application = require("application")
    location = application.get("junit_report")
    if not location:
        unverified("application.junit_report (the release's integration-test JUnit XML) is not configured")
    document = fetch(location, http, settings.path.parent)
    assert document.found, f"integration-test report {location!r} not found: {document.problem}"
    try:
        totals = junit_report.parse(document.text)
    except junit_report.JUnitFormatError as exc:
        pytest.fail(f"integration-test report {location!r} cannot be read: {exc}", pytrace=False)
    evidence("integration tests", {"report": location, "totals": totals.describe(),
                                   "failed": list(totals.failed_names)}, "json")
    minimum = int(application.get("min_tests", DEFAULT_MIN_TESTS))
    assert totals.failures == 0 and totals.errors == 0, (
        f"{totals.describe()} (expected no failures or errors); first: {', '.join(totals.failed_names)}")
    assert totals.tests >= minimum, f"only {totals.tests} integration tests ran (expected at least {minimum})"
