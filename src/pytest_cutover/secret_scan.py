"""Recognise secrets by their name or their shape, without ever returning the value.

Pure module. Used on ConfigMap data and literal container env values (where secrets must not
be) and on Secret metadata (age against the rotation policy). Findings say *where* and *why*,
never *what*: a finding holds the key name and a reason such as "URL with a password".
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass

SECRET_NAME = re.compile(
    r"(PASSWORD|PASSWD|PWD|SECRET|TOKEN|API_?KEY|PRIVATE_?KEY|CREDENTIAL|AUTH_KEY|ACCESS_KEY|DSN)",
    re.IGNORECASE)
_URL_WITH_PASSWORD = re.compile(r"^[a-z][a-z0-9+.-]*://[^:/@\s]*:[^@\s/]+@", re.IGNORECASE)
_JWT = re.compile(r"^eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.")
_PEM_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
_TOKEN_PREFIX = re.compile(r"^(sk_live_|ghp_|gho_|glpat-|xox[abp]-|AKIA[0-9A-Z]{12}|sntrys_|glsa_)")
ROTATION_ANNOTATIONS = ("cutover.io/rotated-at", "secrets.ils/rotated-at", "rotated-at")


@dataclass(frozen=True)
class Finding:
    where: str  # e.g. "ConfigMap ils-config key DATABASE_URL"
    reason: str  # e.g. "a URL with an embedded password" (never the value)

    def describe(self) -> str:
        return f"{self.where}: {self.reason}"


def _entropy_bits_per_char(value: str) -> float:
    counts = Counter(value)
    return -sum(n / len(value) * math.log2(n / len(value)) for n in counts.values())


def value_reason(value: str) -> str | None:
    """Why a value looks like a secret, or None."""
    text = value.strip()
    if _URL_WITH_PASSWORD.match(text):
        return "a URL with an embedded password"
    if _JWT.match(text):
        return "a JSON Web Token"
    if _PEM_KEY.search(text):
        return "a PEM private key"
    if _TOKEN_PREFIX.match(text):
        return "an API token by its prefix"
    if (len(text) >= 32 and " " not in text and not text.startswith(("http://", "https://", "/"))
            and _entropy_bits_per_char(text) >= 4.0):
        return "a long random-looking string"
    return None


def name_reason(name: str) -> str | None:
    match = SECRET_NAME.search(name)
    return f"a secret-like name ({match.group(1).upper()})" if match else None


def scan(values: Mapping[str, str], where: str) -> list[Finding]:
    """Findings for the entries of a plain-text map (ConfigMap data, literal env values).

    A secret-like name with an empty or placeholder value is not a finding; a secret-like value
    is one whatever its name.
    """
    findings: list[Finding] = []
    for key, value in sorted(values.items()):
        reason = value_reason(value or "")
        if reason is None and value and len(value) >= 8:
            reason = name_reason(key)
        if reason:
            findings.append(Finding(f"{where} key {key}", reason))
    return findings


def rotated_at(created: dt.datetime | None, annotations: Mapping[str, str]) -> dt.datetime | None:
    """When the secret was last rotated: a rotation annotation, else its creation time."""
    for key in ROTATION_ANNOTATIONS:
        raw = annotations.get(key)
        if raw:
            try:
                when = dt.datetime.fromisoformat(raw)
            except ValueError:
                continue
            return when if when.tzinfo else when.replace(tzinfo=dt.UTC)
    return created


def age_days(when: dt.datetime, now: dt.datetime) -> float:
    return max(0.0, (now - when).total_seconds() / 86400)
