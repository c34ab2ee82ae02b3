"""Secrets are recognised by name or shape; findings never carry the value."""

import datetime as dt

import pytest

from pytest_cutover.secret_scan import age_days, rotated_at, scan, value_reason

PLANTED = "postgresql://ils_user:Plant3d-S3cret-Value@postgres:5432/ils_db"


@pytest.mark.parametrize(("value", "reason"), [
    (PLANTED, "a URL with an embedded password"),
    ("eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig", "a JSON Web Token"),
    ("-----BEGIN RSA PRIVATE KEY-----\nabc", "a PEM private key"),
    ("glsa_0123456789abcdef", "an API token by its prefix"),
    ("Zq8vN3kLp0Xw7Rt2Yb5Hs9Jd4Fg6Mc1Qa8Ue3Ti0", "a long random-looking string"),
    ("production", None), ("https://ils.example.com", None), ("900000", None),
])
def test_values_are_recognised_by_shape(value, reason):
    assert value_reason(value) == reason


def test_scan_names_key_and_reason_but_never_the_value():
    findings = scan({"NODE_ENV": "production", "DATABASE_URL": PLANTED, "API_TOKEN": "abcdefgh123",
                     "SESSION_SECRET": ""}, "ConfigMap ils-config")
    text = " ".join(f.describe() for f in findings)
    assert [f.where for f in findings] == ["ConfigMap ils-config key API_TOKEN",
                                           "ConfigMap ils-config key DATABASE_URL"]
    assert "Plant3d" not in text and "abcdefgh123" not in text


def test_rotation_annotation_wins_over_creation_time():
    created = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert rotated_at(created, {"cutover.io/rotated-at": "2026-03-01T00:00:00Z"}) == dt.datetime(
        2026, 3, 1, tzinfo=dt.UTC)
    assert rotated_at(created, {"cutover.io/rotated-at": "garbage"}) == created
    assert age_days(created, created + dt.timedelta(days=61, hours=12)) == 61.5
