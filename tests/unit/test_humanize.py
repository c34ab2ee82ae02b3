"""humanize: numbers, percentages, durations, sizes and relative times as a person writes them."""

from __future__ import annotations

import datetime as dt

import pytest

from pytest_cutover import humanize

NOW = dt.datetime(2026, 3, 1, 12, 0, tzinfo=dt.UTC)


@pytest.mark.parametrize(("value", "text"), [
    (0, "0"), (3, "3"), (1234.5678, "1,235"), (12.3456, "12.3"), (0.00133712, "0.0013"),
    (0.5, "0.5"), (-2.71828, "-2.72"), (0.00001, "<0.0001"), (None, "-")])
def test_number_keeps_three_significant_digits(value: float, text: str) -> None:
    assert humanize.number(value) == text


@pytest.mark.parametrize(("value", "text"), [
    (0, "0 %"), (0.04, "<0.1 %"), (0.4321, "0.4 %"), (3.0, "3 %"), (4.37, "4.4 %"), (12.6, "13 %")])
def test_percent(value: float, text: str) -> None:
    assert humanize.percent(value) == text


@pytest.mark.parametrize(("seconds", "text"), [
    (0.0421, "42 ms"), (3.44, "3.4 s"), (42, "42 s"), (18 * 60 + 5, "18 min"),
    (2 * 3600 + 5 * 60, "2 h 5 min"), (20 * 3600, "20 h"), (3 * 86400, "3 days")])
def test_duration(seconds: float, text: str) -> None:
    assert humanize.duration(seconds) == text


@pytest.mark.parametrize(("n", "text"), [(512, "512 B"), (2345, "2.35 kB"), (14_200_000, "14.2 MB"),
                                         (1.2e9, "1.2 GB")])
def test_size(n: float, text: str) -> None:
    assert humanize.size(n) == text


def test_relative_times_past_and_future() -> None:
    assert humanize.ago(NOW - dt.timedelta(minutes=18), NOW) == "18 min ago"
    assert humanize.ago((NOW - dt.timedelta(seconds=10)).isoformat(), NOW) == "just now"
    assert humanize.ago(NOW + dt.timedelta(days=3), NOW) == "in 3 days"
    assert humanize.ago("2026-03-01T11:59:00", NOW) == "1 min ago"  # naive = UTC


@pytest.mark.parametrize(("value", "unit", "text"), [
    (0.00133712, "days", "2 min"), (0.00234104, "h", "8.4 s"), (4.2, "%", "4.2 %"),
    (231.7, "ms", "232 ms"), (3.25, "ms", "3.25 ms"), (12500, "ms", "12 s"), (7, "restarts", "7 restarts"),
    (1536, "bytes", "1.54 kB")])
def test_quantity_picks_the_unit_a_person_would(value: float, unit: str, text: str) -> None:
    assert humanize.quantity(value, unit) == text


def test_tidy_rounds_long_tails_in_text_and_leaves_versions_and_addresses() -> None:
    text = "backup age 0.00133712 days at 127.0.0.1:8080, release 2.0.0, p95 231.456789 ms, 1.5 s"
    assert humanize.tidy(text) == "backup age 0.0013 days at 127.0.0.1:8080, release 2.0.0, p95 231 ms, 1.5 s"


def test_tidy_shortens_iso_timestamps_to_the_minute() -> None:
    assert humanize.tidy("until 2027-01-01T23:59:59.999999+00:00: CSP") == "until 2027-01-01 23:59 UTC: CSP"
    assert humanize.tidy("at 2026-03-01T10:00:00+02:00") == "at 2026-03-01 10:00 +02:00"
