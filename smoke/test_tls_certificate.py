"""Smoke: the target's TLS certificate is trusted by the configured CA bundle, valid for the host
and far enough from expiry (warning below 30 days, critical below 7)."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from pytest_cutover.clients import tls

pytestmark = pytest.mark.checklist("infra.tls-certificates", "sec.https-enforced")


@pytest.fixture(scope="module")
def certificate(target, smoke_timeout_s):
    """Facts about the TLS endpoint of base_url, read once for this module."""
    url = urlsplit(target.base_url)
    return tls.probe(url.hostname, url.port or 443, ca_bundle=target.ca_bundle,
                     timeout_s=smoke_timeout_s)


@pytest.fixture
def leaf(certificate, evidence):
    evidence(f"TLS certificate of {certificate.where}", certificate.to_dict(), "json")
    assert certificate.leaf is not None, (
        f"TLS handshake with {certificate.where} failed: {certificate.error}")
    return certificate.leaf


def test_certificate_is_trusted_by_the_ca_bundle(certificate, leaf):
    assert certificate.trusted, (
        f"certificate of {certificate.where} (issuer {leaf.issuer!r}) is not trusted by "
        f"{certificate.ca_bundle or 'the system trust store'}: {certificate.verify_error}")


def test_certificate_is_valid_for_the_host(certificate, leaf):
    assert leaf.valid_for(certificate.server_name), (
        f"certificate of {certificate.where} names {leaf.sans!r} "
        f"(expected {certificate.server_name!r} among its subject alternative names)")


def test_certificate_is_not_expired(certificate, leaf):
    assert not leaf.expired(), (
        f"certificate of {certificate.where} expired on {leaf.not_after:%Y-%m-%d %H:%M} UTC")


def test_certificate_has_enough_days_left(certificate, leaf, measure):
    measure("cert_days_left", round(leaf.days_left(), 1),
            subject=f"certificate of {certificate.where} (not after {leaf.not_after:%Y-%m-%d})")
