"""Dependency-audit reports: npm audit, pip-audit and Trivy JSON into counts by severity."""

import json

import pytest

from pytest_cutover.dependency_audit import AuditFormatError, parse

NPM = {"auditReportVersion": 2, "vulnerabilities": {
    "lodash": {"name": "lodash", "severity": "critical", "via": [{"source": 1, "url": "https://gh/a/1"}]},
    "minimist": {"name": "minimist", "severity": "high", "via": ["lodash"]},
}, "metadata": {}}
NPM6 = {"advisories": {"118": {"module_name": "minimist", "severity": "moderate"}}}
TRIVY = {"ArtifactName": "ghcr.io/ils/ils-app:2.0.0", "Results": [
    {"Target": "app", "Vulnerabilities": [
        {"VulnerabilityID": "CVE-1", "PkgName": "openssl", "Severity": "HIGH"},
        {"VulnerabilityID": "CVE-2", "PkgName": "zlib", "Severity": "MEDIUM"}]},
    {"Target": "node", "Vulnerabilities": None}]}
PIP = {"dependencies": [{"name": "jinja2", "version": "2.0",
                         "vulns": [{"id": "PYSEC-1", "fix_versions": []}]},
                        {"name": "requests", "version": "2.32", "vulns": []}]}


@pytest.mark.parametrize(("doc", "tool", "counts"), [
    (NPM, "npm audit", {"critical": 1, "high": 1}),
    (NPM6, "npm audit", {"moderate": 1}),
    (TRIVY, "Trivy", {"high": 1, "moderate": 1}),
    (PIP, "pip-audit", {"unknown": 1}),
    (PIP["dependencies"], "pip-audit", {"unknown": 1}),
    ({"auditReportVersion": 2, "vulnerabilities": {}}, "npm audit", {}),
], ids=["npm", "npm6", "trivy", "pip-audit", "pip-audit-old", "clean"])
def test_report_format_is_recognised_and_counted(doc, tool, counts):
    report = parse(json.dumps(doc))
    assert report.tool == tool
    assert {k: v for k, v in report.counts().items() if v} == counts


def test_description_lists_nonzero_severities():
    assert parse(json.dumps(NPM)).describe() == "npm audit report: 1 critical, 1 high"


@pytest.mark.parametrize("text", ["not json", "42", json.dumps({"foo": 1})])
def test_unknown_documents_are_refused(text):
    with pytest.raises(AuditFormatError):
        parse(text)
