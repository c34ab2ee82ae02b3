"""Security: the release's dependency audit (npm audit, pip-audit or Trivy JSON) has no
critical finding; high findings are warnings."""

from __future__ import annotations

import pytest

from pytest_cutover import dependency_audit, unverified
from pytest_cutover.clients.documents import fetch
from pytest_cutover.thresholds import Threshold


@pytest.fixture
def audit(require, http, settings):
    location = require("security").get("audit_report")
    if not location:
        unverified("security.audit_report (the release's npm audit / pip-audit / Trivy JSON) "
                   "is not configured")
    document = fetch(location, http, settings.path.parent)
    if not document.found:
        pytest.fail(f"dependency-audit report {location!r} not found: {document.problem}", pytrace=False)
    try:
        return dependency_audit.parse(document.text)
    except dependency_audit.AuditFormatError as exc:
        pytest.fail(f"dependency-audit report {location!r} cannot be read: {exc}", pytrace=False)


@pytest.mark.checklist("sec.security-audit")
def test_dependency_audit_has_no_critical_findings(audit, target, measure, evidence):
    unknown_as = (target.data.get("security") or {}).get("audit_unknown_severity", "high")
    counts = audit.counts()
    critical = counts["critical"] + (counts["unknown"] if unknown_as == "critical" else 0)
    high = counts["high"] + (counts["unknown"] if unknown_as == "high" else 0)
    evidence("dependency audit", {"tool": audit.tool, "counts": counts,
                                  "critical": [f"{v.package} {v.id}" for v in audit.of("critical")],
                                  "high": [f"{v.package} {v.id}" for v in audit.of("high")]}, "json")
    measure("audit_high_findings", high, Threshold(warn=0, unit="findings"), subject=audit.tool)
    names = ", ".join(f"{v.package} ({v.id})" for v in audit.of("critical")[:5])
    assert critical == 0, f"{audit.describe()}: {critical} critical finding(s) (expected 0): {names}"
