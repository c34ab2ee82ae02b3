"""Readiness, TLS in depth, for every configured public host: the chain is trusted by the
configured CA bundle, the certificate names the host, it is far enough from expiry (warning below
30 days, critical below 7), TLS versions below the minimum are refused, and the key is strong
(RSA >= 2048 bits, EC >= 256 bits by default).
"""

from __future__ import annotations

import pytest

from pytest_cutover import unverified
from pytest_cutover.clients import tls

pytestmark = pytest.mark.checklist("infra.tls-certificates")

VERSIONS = ("TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3")
DEFAULT_MIN_VERSION = "TLSv1.2"  # Mozilla intermediate
DEFAULT_MIN_RSA_BITS = 2048
DEFAULT_MIN_EC_BITS = 256


def _split(host):
    name, sep, port = host.rpartition(":")
    return (name, int(port)) if sep and port.isdigit() else (host, 443)


@pytest.fixture(scope="session")
def _probed():
    return {}


@pytest.fixture
def tls_table(require, tls_host):
    table = require("tls")
    return table


@pytest.fixture
def endpoint(tls_table, tls_host, target, probe_timeout_s, _probed, evidence):
    """Facts about one host's TLS endpoint, probed once per run."""
    if tls_host not in _probed:
        name, port = _split(tls_host)
        _probed[tls_host] = tls.probe(name, port, ca_bundle=target.ca_bundle,
                                      timeout_s=probe_timeout_s)
    facts = _probed[tls_host]
    evidence(f"TLS endpoint {facts.where}", facts.to_dict(), "json")
    assert facts.leaf is not None, f"TLS handshake with {facts.where} failed: {facts.error}"
    return facts


def test_chain_is_trusted_by_the_ca_bundle(endpoint):
    assert endpoint.trusted, (
        f"the chain of {endpoint.where} (issuer {endpoint.leaf.issuer!r}) is not trusted by "
        f"{endpoint.ca_bundle or 'the system trust store'}: {endpoint.verify_error}")


def test_certificate_names_the_host(endpoint):
    assert endpoint.leaf.valid_for(endpoint.server_name), (
        f"the certificate of {endpoint.where} names {endpoint.leaf.sans!r} "
        f"(expected {endpoint.server_name!r})")


def test_certificate_is_far_enough_from_expiry(endpoint, measure):
    leaf = endpoint.leaf
    measure("cert_days_left", round(leaf.days_left(), 1),
            subject=f"certificate of {endpoint.where} (not after {leaf.not_after:%Y-%m-%d})")


def test_versions_below_the_minimum_are_refused(tls_table, endpoint, probe_timeout_s):
    minimum = tls_table.get("min_version", DEFAULT_MIN_VERSION)
    if minimum not in VERSIONS:
        pytest.fail(f"tls.min_version {minimum!r} is not one of {', '.join(VERSIONS)}",
                    pytrace=False)
    legacy = VERSIONS[: VERSIONS.index(minimum)]
    verdicts = {v: tls.accepts_protocol(endpoint.host, endpoint.port, v,
                                        server_name=endpoint.server_name, timeout_s=probe_timeout_s)
                for v in legacy}
    accepted = [v for v, ok in verdicts.items() if ok]
    assert not accepted, f"{endpoint.where} accepts {', '.join(accepted)} (expected {minimum} or newer only)"
    if legacy and all(ok is None for ok in verdicts.values()):
        unverified(f"this machine's OpenSSL cannot offer {', '.join(legacy)}, so their refusal "
                   f"by {endpoint.where} cannot be shown")


def test_key_is_strong_enough(tls_table, endpoint):
    leaf = endpoint.leaf
    if leaf.key_type == "RSA":
        minimum = int(tls_table.get("min_rsa_bits", DEFAULT_MIN_RSA_BITS))
    elif leaf.key_type.startswith("EC"):
        minimum = int(tls_table.get("min_ec_bits", DEFAULT_MIN_EC_BITS))
    else:
        minimum = 0 if leaf.key_type in ("Ed25519", "Ed448") else None
    assert minimum is not None, f"{endpoint.where} uses a {leaf.key_type} key (expected RSA, EC or EdDSA)"
    assert (leaf.key_bits or 0) >= minimum, (
        f"{endpoint.where} uses a {leaf.key_type} key of {leaf.key_bits} bits "
        f"(expected at least {minimum})")
