"""JUnit XML totals are counted from the test cases."""

import pytest

from pytest_cutover.junit_report import JUnitFormatError, parse

XML = """<?xml version="1.0"?>
<testsuites><testsuite name="api" tests="99">
  <testcase classname="orders" name="creates"/>
  <testcase classname="orders" name="lists"><failure message="boom"/></testcase>
  <testcase classname="patients" name="search"><error message="x"/></testcase>
  <testcase classname="patients" name="nhs"><skipped/></testcase>
</testsuite></testsuites>"""


def test_totals_come_from_the_cases_not_the_suite_attributes():
    totals = parse(XML)
    assert (totals.tests, totals.passed, totals.failures, totals.errors, totals.skipped) == (4, 1, 1, 1, 1)
    assert totals.failed_names == ("orders.lists", "patients.search")


def test_a_single_testsuite_root_is_accepted():
    assert parse('<testsuite><testcase name="a"/></testsuite>').tests == 1


@pytest.mark.parametrize("text", ["<html/>", "not xml"])
def test_other_documents_are_refused(text):
    with pytest.raises(JUnitFormatError):
        parse(text)
