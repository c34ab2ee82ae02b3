"""Read a dependency-audit report (npm audit, pip-audit or Trivy JSON) into findings by severity.

Pure module. The format is recognised from the document's shape:
- npm audit v7+: `{"auditReportVersion": 2, "vulnerabilities": {name: {"severity": ...}}}`
  (npm 6: `{"advisories": {id: {"module_name", "severity"}}}`);
- Trivy: `{"Results": [{"Vulnerabilities": [{"VulnerabilityID", "PkgName", "Severity"}]}]}`;
- pip-audit (`--format json`): `{"dependencies": [{"name", "vulns": [{"id"}]}]}` or the older
  top-level list. pip-audit carries no severity: each vulnerability counts as `unknown` unless
  it names one (some mirrors add `severity`), so configure how to treat `unknown`.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

SEVERITIES = ("critical", "high", "moderate", "low", "info", "unknown")
_ALIASES = {"medium": "moderate", "negligible": "low", "none": "info", "informational": "info"}


class AuditFormatError(ValueError):
    """The document is not one of the supported audit formats."""


@dataclass(frozen=True)
class Vulnerability:
    package: str
    id: str
    severity: str


@dataclass(frozen=True)
class AuditReport:
    tool: str
    vulnerabilities: tuple[Vulnerability, ...]

    def counts(self) -> dict[str, int]:
        found = Counter(v.severity for v in self.vulnerabilities)
        return {s: found.get(s, 0) for s in SEVERITIES}

    def of(self, severity: str) -> list[Vulnerability]:
        return [v for v in self.vulnerabilities if v.severity == severity]

    def describe(self) -> str:
        counts = self.counts()
        shown = ", ".join(f"{counts[s]} {s}" for s in SEVERITIES if counts[s]) or "no findings"
        return f"{self.tool} report: {shown}"


def severity(value: Any) -> str:
    word = str(value or "unknown").strip().lower()
    word = _ALIASES.get(word, word)
    return word if word in SEVERITIES else "unknown"


def _npm(doc: dict[str, Any]) -> AuditReport:
    found: list[Vulnerability] = []
    if isinstance(doc.get("vulnerabilities"), dict):
        for name, entry in doc["vulnerabilities"].items():
            via = [v for v in entry.get("via", []) if isinstance(v, dict)]
            ident = str(via[0].get("url") or via[0].get("source")) if via else name
            found.append(Vulnerability(name, ident, severity(entry.get("severity"))))
    else:
        for ident, entry in doc.get("advisories", {}).items():
            found.append(Vulnerability(str(entry.get("module_name", "?")), str(ident),
                                       severity(entry.get("severity"))))
    return AuditReport("npm audit", tuple(found))


def _trivy(doc: dict[str, Any]) -> AuditReport:
    found = [Vulnerability(str(v.get("PkgName", "?")), str(v.get("VulnerabilityID", "?")),
                           severity(v.get("Severity")))
             for result in doc.get("Results") or [] for v in result.get("Vulnerabilities") or []]
    return AuditReport("Trivy", tuple(found))


def _pip_audit(dependencies: list[Any]) -> AuditReport:
    found = [Vulnerability(str(dep.get("name", "?")), str(v.get("id", "?")), severity(v.get("severity")))
             for dep in dependencies if isinstance(dep, dict) for v in dep.get("vulns") or []]
    return AuditReport("pip-audit", tuple(found))


def parse(text: str) -> AuditReport:
    """The report's findings; AuditFormatError when it is not JSON of a known tool."""
    try:
        doc = json.loads(text)
    except ValueError as exc:
        raise AuditFormatError(f"not JSON: {exc}") from None
    if isinstance(doc, list):
        return _pip_audit(doc)
    if not isinstance(doc, dict):
        raise AuditFormatError(f"expected a JSON object or list, got {type(doc).__name__}")
    if "auditReportVersion" in doc or "advisories" in doc or (
            "vulnerabilities" in doc and isinstance(doc["vulnerabilities"], dict)):
        return _npm(doc)
    if "Results" in doc or "ArtifactName" in doc:
        return _trivy(doc)
    if isinstance(doc.get("dependencies"), list):
        return _pip_audit(doc["dependencies"])
    raise AuditFormatError("not an npm audit, pip-audit or Trivy JSON report (keys: "
                           f"{', '.join(sorted(doc)[:8])})")
