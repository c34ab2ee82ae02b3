"""Smoke: pages and API answers carry sane security headers (the MDN Observatory's set) and do
not reveal the software stack."""

from __future__ import annotations

import re

import pytest

from pytest_cutover import csp, unverified

pytestmark = pytest.mark.checklist("sec.security-headers")

# Where headers are looked at: the page users open, and an API answer.
HEADER_PROBES = ("homepage", "api")
VERSION_IN_HEADER = re.compile(r"\d+\.\d+")


@pytest.fixture(params=HEADER_PROBES)
def answer(request, http, api_health_path, evidence):
    result = http.get("/" if request.param == "homepage" else api_health_path)
    assert result.status is not None, result.describe()
    evidence(f"response headers of GET {result.path}", dict(result.headers), "json")
    return result


def _missing(result, name):
    return f"GET {result.path} sends no {name} header"


@pytest.mark.checklist("sec.https-enforced")
def test_hsts_max_age_is_at_least_six_months(answer, measure):
    hsts = answer.header("Strict-Transport-Security")
    assert hsts, _missing(answer, "Strict-Transport-Security")
    found = re.search(r"max-age\s*=\s*\"?(\d+)", hsts, re.IGNORECASE)
    assert found, f"GET {answer.path} sends Strict-Transport-Security {hsts!r} without max-age"
    measure("hsts_max_age_s", int(found.group(1)), subject=f"GET {answer.path}")


def test_content_security_policy_is_set(answer):
    assert answer.header("Content-Security-Policy"), _missing(answer, "Content-Security-Policy")


def test_framing_is_restricted(answer):
    xfo = (answer.header("X-Frame-Options") or "").strip().upper()
    csp = answer.header("Content-Security-Policy") or ""
    assert xfo in ("DENY", "SAMEORIGIN") or "frame-ancestors" in csp, (
        f"GET {answer.path} sends X-Frame-Options {xfo or None!r} and no CSP frame-ancestors "
        f"(expected DENY or SAMEORIGIN, or frame-ancestors)")


def test_content_type_sniffing_is_disabled(answer):
    xcto = answer.header("X-Content-Type-Options")
    assert (xcto or "").strip().lower() == "nosniff", (
        f"GET {answer.path} sends X-Content-Type-Options {xcto!r} (expected 'nosniff')")


def test_referrer_policy_is_set(answer):
    policy = (answer.header("Referrer-Policy") or "").strip().lower()
    assert policy and policy != "unsafe-url", (
        f"GET {answer.path} sends Referrer-Policy {policy or None!r} (expected a policy other "
        f"than 'unsafe-url')")


def test_server_header_reveals_no_version(answer):
    server = answer.header("Server")
    assert not (server and VERSION_IN_HEADER.search(server)), (
        f"GET {answer.path} sends Server {server!r} (expected no version number)")


def test_x_powered_by_is_not_sent(answer):
    powered = answer.header("X-Powered-By")
    assert powered is None, f"GET {answer.path} sends X-Powered-By {powered!r} (expected none)"


def test_content_security_policy_has_no_weak_sources(answer):
    policy = answer.header("Content-Security-Policy")
    if not policy:  # the presence is test_content_security_policy_is_set's claim
        unverified(f"{_missing(answer, 'Content-Security-Policy')}: no policy to analyse")
    weak = csp.findings(policy)
    assert not weak, (f"GET {answer.path} sends a Content-Security-Policy with "
                      f"{len(weak)} weak spot(s): {csp.describe(weak)}")
