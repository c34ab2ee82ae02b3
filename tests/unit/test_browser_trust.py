"""Pinning the target's leaf for Chromium: only a leaf that verifies against the bundle."""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from pytest_cutover.clients.browser_trust import pin_verified_leaf, spki_sha256


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture(scope="module")
def server(ca: trustme.CA) -> Iterator[int]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ca.issue_cert("localhost").configure_cert(context)
    listener = socket.create_server(("127.0.0.1", 0))
    port = listener.getsockname()[1]

    def serve() -> None:
        while True:
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(raw, server_side=True):
                    pass
            except (OSError, ssl.SSLError):
                pass

    threading.Thread(target=serve, daemon=True).start()
    yield port
    listener.close()


def test_spki_hash_is_sha256_of_the_public_key(ca: trustme.CA):
    der = x509.load_pem_x509_certificate(ca.cert_pem.bytes()).public_bytes(serialization.Encoding.DER)
    key = x509.load_der_x509_certificate(der).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert spki_sha256(der) == base64.b64encode(hashlib.sha256(key).digest()).decode()


def test_leaf_that_verifies_is_pinned(ca: trustme.CA, server: int, tmp_path: Path):
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    pin = pin_verified_leaf(f"https://localhost:{server}", str(bundle))
    assert pin.error is None and pin.spki_sha256


def test_leaf_from_another_ca_is_not_pinned(server: int, tmp_path: Path):
    bundle = tmp_path / "other.pem"
    trustme.CA().cert_pem.write_to_path(str(bundle))
    pin = pin_verified_leaf(f"https://localhost:{server}", str(bundle))
    assert pin.spki_sha256 is None and "does not verify" in (pin.error or "")
