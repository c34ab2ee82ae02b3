"""What a browser needs to trust the target the way the suite does (returns facts, never asserts).

Chromium does not read a CA bundle file. `--ignore-certificate-errors-spki-list` accepts the
SHA-256 of a certificate's public key instead: we pin the target's *leaf* only after Python has
verified it (chain and host name) against the environment's CA bundle, so the browser trusts
exactly what the bundle vouches for today, and nothing else.
"""

from __future__ import annotations

import base64
import hashlib
import socket
import ssl
from dataclasses import dataclass
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization


@dataclass(frozen=True)
class LeafPin:
    spki_sha256: str | None  # base64, as Chromium wants it; None when the leaf did not verify
    error: str | None = None


def spki_sha256(der: bytes) -> str:
    """Base64 SHA-256 of a DER certificate's SubjectPublicKeyInfo."""
    key = x509.load_der_x509_certificate(der).public_key()
    spki = key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)
    return base64.b64encode(hashlib.sha256(spki).digest()).decode()


def pin_verified_leaf(base_url: str, ca_bundle: str, timeout_s: float = 5.0) -> LeafPin:
    """The SPKI pin of the target's leaf, if it verifies against `ca_bundle` for its host."""
    parts = urlsplit(base_url)
    host, port = parts.hostname or "", parts.port or 443
    context = ssl.create_default_context(cafile=ca_bundle)
    try:
        with (socket.create_connection((host, port), timeout=timeout_s) as raw,
              context.wrap_socket(raw, server_hostname=host) as tls):
            der = tls.getpeercert(binary_form=True)
    except ssl.SSLCertVerificationError as exc:
        return LeafPin(None, f"{host}:{port} certificate does not verify with {ca_bundle}: "
                             f"{exc.verify_message or exc}")
    except (OSError, ssl.SSLError) as exc:
        return LeafPin(None, f"TLS handshake with {host}:{port} failed: {exc}")
    if not der:
        return LeafPin(None, f"{host}:{port} sent no certificate")
    return LeafPin(spki_sha256(der))
