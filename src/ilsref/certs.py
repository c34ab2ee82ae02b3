"""TLS material for the reference deployment: one local CA and leaf certificates per TLS fault.

The app loads every variant at start and picks one per handshake (see `ilsref.app.server`), so the
`cert_*` faults take effect without a restart.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

import trustme

HOSTS = ("localhost", "127.0.0.1")

# fault name -> variant; the variant "valid" is served when no cert fault is active.
FAULT_VARIANTS = {
    "cert_expired": "expired",
    "cert_expiring_soon": "expiring_soon",
    "cert_wrong_host": "wrong_host",
    "cert_untrusted": "untrusted",
}


@dataclass(frozen=True)
class CertPair:
    certfile: Path  # leaf followed by its chain
    keyfile: Path


def generate(directory: Path) -> tuple[Path, dict[str, CertPair]]:
    """Write `ca.pem` into `directory` and the leaf variants under `directory/certs`.

    Returns the CA path and the variants by name ("valid", "expired", ...).
    """
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    ca = trustme.CA(organization_name="ilsref local CA")
    stranger = trustme.CA(organization_name="ilsref untrusted CA")  # never written to ca.pem
    leaves = {
        "valid": ca.issue_cert(*HOSTS, not_before=now - dt.timedelta(days=1),
                               not_after=now + dt.timedelta(days=365)),
        "expired": ca.issue_cert(*HOSTS, not_before=now - dt.timedelta(days=90),
                                 not_after=now - dt.timedelta(days=1)),
        "expiring_soon": ca.issue_cert(*HOSTS, not_before=now - dt.timedelta(days=85),
                                       not_after=now + dt.timedelta(days=5)),
        "wrong_host": ca.issue_cert("wrong.example.net", not_before=now - dt.timedelta(days=1),
                                    not_after=now + dt.timedelta(days=365)),
        "untrusted": stranger.issue_cert(*HOSTS, not_before=now - dt.timedelta(days=1),
                                         not_after=now + dt.timedelta(days=365)),
    }
    directory.mkdir(parents=True, exist_ok=True)
    ca_path = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_path))
    cert_dir = directory / "certs"
    cert_dir.mkdir(exist_ok=True)
    pairs: dict[str, CertPair] = {}
    for name, leaf in leaves.items():
        pair = CertPair(cert_dir / f"{name}.pem", cert_dir / f"{name}.key")
        leaf.private_key_pem.write_to_path(str(pair.keyfile))
        os.chmod(pair.keyfile, 0o600)
        with pair.certfile.open("wb") as out:
            for blob in leaf.cert_chain_pems:
                out.write(blob.bytes())
        pairs[name] = pair
    return ca_path, pairs
