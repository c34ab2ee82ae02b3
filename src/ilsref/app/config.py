"""The app's configuration: run/app.json, written by ilsref.services.app (it holds secrets)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class RateLimit:
    limit: int
    window_s: int


# ILS 2.0's limiters (docs/ils-contract.md limit.*; server/middleware/security.ts,
# server/routes/auth-jwt.ts): the reference deployment's defaults, except the general API limit,
# which `ilsref up --rate-limit` sets (ILS's own is ILS_API_LIMIT, `--rate-limit ils`).
ILS_API_LIMIT = RateLimit(100, 900)
ILS_FAILED_LOGIN_LIMIT = RateLimit(5, 900)  # failed answers (status >= 400) only


@dataclass(frozen=True)
class Lockout:
    """Per-account lockout: `limit` failed sign-ins within `window_s` lock the e-mail for `lock_s`."""

    limit: int = 5
    window_s: int = 900
    lock_s: int = 1800


@dataclass(frozen=True)
class AppConfig:
    https_port: int
    http_port: int
    base_url: str  # https://localhost:<https_port>; also the only allowed CORS origin
    database_url: str
    redis_url: str
    certs: dict[str, tuple[str, str]]  # TLS variant -> (certfile, keyfile); "valid" is served normally
    jwt_secret: str
    faults_file: Path
    version_file: Path
    run_dir: Path
    release: str
    allowed_origin: str
    rate_limit: RateLimit
    auth_rate_limit: RateLimit
    lockout: Lockout = Lockout()
    test_mode: bool = False
    host: str = "127.0.0.1"

    @classmethod
    def load(cls, path: Path) -> AppConfig:
        raw = json.loads(path.read_text())
        return cls(
            https_port=int(raw["https_port"]),
            http_port=int(raw["http_port"]),
            base_url=raw["base_url"],
            database_url=raw["database_url"],
            redis_url=raw["redis_url"],
            certs={name: (pair["certfile"], pair["keyfile"]) for name, pair in raw["certs"].items()},
            jwt_secret=raw["jwt_secret"],
            faults_file=Path(raw["faults_file"]),
            version_file=Path(raw["version_file"]),
            run_dir=Path(raw["run_dir"]),
            release=raw["release"],
            allowed_origin=raw["allowed_origin"],
            rate_limit=RateLimit(*raw["rate_limit"]),
            auth_rate_limit=RateLimit(*raw["auth_rate_limit"]),
            lockout=Lockout(*raw.get("lockout", (5, 900, 1800))),
            test_mode=bool(raw.get("test_mode", False)),
            host=raw.get("host", "127.0.0.1"),
        )
