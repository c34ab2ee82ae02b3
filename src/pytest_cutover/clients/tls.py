"""Facts about a TLS endpoint: the peer certificate, whether a CA bundle trusts it, the session.

Returns facts, never asserts. Two handshakes: one that accepts anything (to read the certificate
even when it is expired, self-signed or for another host) and one that verifies the chain against
the bundle, so "untrusted" and "wrong host" are told apart. A failure to connect is a fact too.
"""

from __future__ import annotations

import _ssl
import datetime as dt
import ipaddress
import socket
import ssl
import time
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa


@dataclass(frozen=True)
class CertificateFacts:
    subject: str
    issuer: str
    sans: list[str]
    not_before: dt.datetime
    not_after: dt.datetime
    serial: str
    key_type: str
    key_bits: int | None
    signature_hash: str | None
    sha256: str

    def days_left(self, now: dt.datetime | None = None) -> float:
        now = now or dt.datetime.now(dt.UTC)
        return (self.not_after - now).total_seconds() / 86400

    def expired(self, now: dt.datetime | None = None) -> bool:
        return self.days_left(now) < 0

    def valid_for(self, host: str) -> bool:
        return any(_name_matches(pattern, host) for pattern in self.sans)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["not_before"] = self.not_before.isoformat()
        data["not_after"] = self.not_after.isoformat()
        data["days_left"] = round(self.days_left(), 1)
        return data


@dataclass(frozen=True)
class TlsFacts:
    host: str
    port: int
    server_name: str
    elapsed_ms: float
    error: str | None = None  # could not complete even an unverified handshake
    protocol: str | None = None
    cipher: str | None = None
    chain: list[CertificateFacts] = field(default_factory=list)  # leaf first
    trusted: bool = False  # the chain verifies against the CA bundle (hostname aside)
    verify_error: str | None = None
    ca_bundle: str | None = None

    @property
    def leaf(self) -> CertificateFacts | None:
        return self.chain[0] if self.chain else None

    @property
    def where(self) -> str:
        return f"{self.server_name}:{self.port}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "host": self.host, "port": self.port, "server_name": self.server_name,
            "elapsed_ms": round(self.elapsed_ms, 1), "error": self.error,
            "protocol": self.protocol, "cipher": self.cipher, "trusted": self.trusted,
            "verify_error": self.verify_error, "ca_bundle": self.ca_bundle or "system trust store",
            "valid_for_host": self.leaf.valid_for(self.server_name) if self.leaf else None,
            "chain": [cert.to_dict() for cert in self.chain],
        }


def probe(host: str, port: int = 443, *, server_name: str | None = None,
          ca_bundle: str | None = None, timeout_s: float = 5.0) -> TlsFacts:
    """Handshake with host:port (SNI `server_name`, default host) and describe what came back."""
    name = server_name or host
    started = time.perf_counter()
    try:
        protocol, cipher, chain = _read_unverified(host, port, name, timeout_s)
    except (OSError, ssl.SSLError) as exc:
        return TlsFacts(host, port, name, _since(started), error=_describe(exc),
                        ca_bundle=ca_bundle)
    trusted, verify_error = _verify_chain(host, port, name, ca_bundle, timeout_s)
    return TlsFacts(host, port, name, _since(started), protocol=protocol, cipher=cipher,
                    chain=chain, trusted=trusted, verify_error=verify_error, ca_bundle=ca_bundle)


def _read_unverified(host: str, port: int, name: str, timeout_s: float
                     ) -> tuple[str | None, str | None, list[CertificateFacts]]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (socket.create_connection((host, port), timeout=timeout_s) as raw,
          context.wrap_socket(raw, server_hostname=name) as tls):
        cipher = tls.cipher()
        # Python >= 3.13 exposes the whole chain; before that only the leaf is available.
        unverified_chain = getattr(tls, "get_unverified_chain", None)
        ders = ([_der(c) for c in unverified_chain()] if unverified_chain
                else [tls.getpeercert(binary_form=True)])
        return tls.version(), cipher[0] if cipher else None, [
            summarize(x509.load_der_x509_certificate(der)) for der in ders if der]


def _der(cert: Any) -> bytes:
    """A chain entry as DER: bytes already, or (Python 3.13.0) an _ssl.Certificate."""
    if isinstance(cert, bytes):
        return cert
    return bytes(cert.public_bytes(getattr(_ssl, "ENCODING_DER", 2)))


def _verify_chain(host: str, port: int, name: str, ca_bundle: str | None, timeout_s: float
                  ) -> tuple[bool, str | None]:
    context = ssl.create_default_context(cafile=ca_bundle)
    context.check_hostname = False  # hostname is judged separately, from the SANs
    try:
        with (socket.create_connection((host, port), timeout=timeout_s) as raw,
              context.wrap_socket(raw, server_hostname=name)):
            return True, None
    except ssl.SSLCertVerificationError as exc:
        return False, exc.verify_message or str(exc)
    except (OSError, ssl.SSLError) as exc:
        return False, _describe(exc)


def summarize(cert: x509.Certificate) -> CertificateFacts:
    key = cert.public_key()
    key_type, bits = _key_kind(key)
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
        sans = [str(v) for v in san.get_values_for_type(x509.DNSName)] + [
            str(v) for v in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        sans = []
    algorithm = cert.signature_hash_algorithm
    return CertificateFacts(
        subject=cert.subject.rfc4514_string(), issuer=cert.issuer.rfc4514_string(), sans=sans,
        not_before=cert.not_valid_before_utc, not_after=cert.not_valid_after_utc,
        serial=format(cert.serial_number, "x"), key_type=key_type, key_bits=bits,
        signature_hash=algorithm.name if algorithm else None,
        sha256=cert.fingerprint(hashes.SHA256()).hex())


def _key_kind(key: Any) -> tuple[str, int | None]:
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return f"EC {key.curve.name}", key.key_size
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    return type(key).__name__, None


def _name_matches(pattern: str, host: str) -> bool:
    """RFC 6125 matching: exact name, a left-most `*` label, or an IP address SAN."""
    host, pattern = host.lower().rstrip("."), pattern.lower().rstrip(".")
    try:
        return ipaddress.ip_address(host) == ipaddress.ip_address(pattern)
    except ValueError:
        pass
    if pattern.startswith("*."):
        first, _, rest = host.partition(".")
        return bool(first) and rest == pattern[2:]
    return host == pattern


def _describe(exc: BaseException) -> str:
    if isinstance(exc, TimeoutError | socket.timeout):
        return "timed out"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    reason = getattr(exc, "reason", None) or getattr(exc, "strerror", None)
    return f"{type(exc).__name__}: {reason or exc}"


def _since(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def accepts_protocol(host: str, port: int, version: str, *, server_name: str | None = None,
                     timeout_s: float = 5.0) -> bool | None:
    """Whether host:port completes a handshake offering only `version` ('TLSv1', 'TLSv1.1' ...).

    None when this machine's OpenSSL cannot offer that version at all, so nothing can be said.
    The client's security level is lowered so that OpenSSL is willing to offer legacy protocols.
    """
    wanted = {"TLSv1": ssl.TLSVersion.TLSv1, "TLSv1.1": ssl.TLSVersion.TLSv1_1,
              "TLSv1.2": ssl.TLSVersion.TLSv1_2, "TLSv1.3": ssl.TLSVersion.TLSv1_3}[version]
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with warnings.catch_warnings():  # naming TLS 1.0/1.1 is deprecated; probing them is the point
            warnings.simplefilter("ignore", DeprecationWarning)
            context.set_ciphers("ALL:@SECLEVEL=0")
            context.minimum_version = context.maximum_version = wanted
    except (ValueError, ssl.SSLError):
        return None
    try:
        with (socket.create_connection((host, port), timeout=timeout_s) as raw,
              context.wrap_socket(raw, server_hostname=server_name or host) as tls):
            return tls.version() == version
    except ssl.SSLError as exc:
        if "NO_PROTOCOLS_AVAILABLE" in str(exc).upper():
            return None
        return False
    except OSError:
        return False
