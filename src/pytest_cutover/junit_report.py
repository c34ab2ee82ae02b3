"""Read a JUnit XML report (a `<testsuites>` or a single `<testsuite>`) into totals.

Pure module. Totals are counted from the `<testcase>` elements, not taken from the suite
attributes, which some producers leave out or get wrong.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass


class JUnitFormatError(ValueError):
    """The document is not JUnit XML."""


@dataclass(frozen=True)
class JUnitTotals:
    tests: int
    failures: int
    errors: int
    skipped: int
    failed_names: tuple[str, ...]  # classname.name of failed or errored cases, first ones

    @property
    def passed(self) -> int:
        return self.tests - self.failures - self.errors - self.skipped

    def describe(self) -> str:
        return (f"{self.tests} tests: {self.passed} passed, {self.failures} failed, "
                f"{self.errors} errors, {self.skipped} skipped")


def parse(text: str, keep_names: int = 10) -> JUnitTotals:
    try:
        root = ET.fromstring(text)  # noqa: S314 - expat >= 2.4 refuses entity bombs; no external entities
    except ET.ParseError as exc:
        raise JUnitFormatError(f"not XML: {exc}") from None
    if root.tag not in ("testsuites", "testsuite"):
        raise JUnitFormatError(f"root element is <{root.tag}>, expected <testsuites> or <testsuite>")
    tests = failures = errors = skipped = 0
    names: list[str] = []
    for case in root.iter("testcase"):
        tests += 1
        tags = {child.tag for child in case}
        name = ".".join(p for p in (case.get("classname"), case.get("name")) if p)
        if "failure" in tags:
            failures += 1
        elif "error" in tags:
            errors += 1
        elif "skipped" in tags:
            skipped += 1
            continue
        else:
            continue
        if len(names) < keep_names:
            names.append(name)
    return JUnitTotals(tests, failures, errors, skipped, tuple(names))
