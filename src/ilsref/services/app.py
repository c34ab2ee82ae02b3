"""The ILS reference web app as a subprocess (`python -m ilsref.app --config run/app.json`)."""

from __future__ import annotations

import json
import os
import secrets
import ssl
import sys
import time
import urllib.request
from pathlib import Path

from ilsref.certs import FAULT_VARIANTS, CertPair
from ilsref.faults import Fault
from ilsref.runtime import free_port, wait_for_port
from ilsref.services.base import Context

SERVICE = "app"
STARTUP_TIMEOUT_S = 30.0

FAULTS = (
    Fault("health_degraded", "smoke/health", "health endpoints report status degraded"),
    Fault("health_db_disconnected", "smoke/health",
          "health reports database initializing (detailed: disconnected, unhealthy)"),
    Fault("not_ready", "smoke/health", "/health/ready answers 503 not_ready"),
    Fault("wrong_version", "smoke/version", "the app serves version 0.0.0-wrong"),
    Fault("slow_health", "smoke/latency", "health endpoints take 1.5 s"),
    Fault("slow_api", "smoke/latency", "API calls take 700 ms more"),
    Fault("hang", "smoke/latency", "requests are accepted but never answered"),
    Fault("auth_open", "smoke/auth", "protected API paths answer 200 without a token"),
    Fault("login_broken", "smoke/auth", "login with valid credentials answers 500"),
    Fault("accepts_bad_password", "smoke/auth", "login accepts any password"),
    Fault("insecure_cookie", "smoke/auth", "ils.sid is set without Secure, HttpOnly, SameSite"),
    Fault("no_hsts", "smoke/headers", "no Strict-Transport-Security header"),
    Fault("weak_hsts", "smoke/headers", "Strict-Transport-Security max-age=300"),
    Fault("no_csp", "smoke/headers", "no Content-Security-Policy header"),
    Fault("no_xfo", "smoke/headers", "no X-Frame-Options header"),
    Fault("no_xcto", "smoke/headers", "no X-Content-Type-Options header"),
    Fault("no_referrer_policy", "smoke/headers", "no Referrer-Policy header"),
    Fault("server_header_leak", "smoke/headers",
          "X-Powered-By: Express and Server: nginx/1.18.0 are sent"),
    Fault("cors_reflect", "smoke/cors",
          "any Origin is reflected with Access-Control-Allow-Credentials: true"),
    Fault("no_https_redirect", "smoke/tls", "the HTTP listener serves pages instead of a 301"),
    Fault("cert_expired", "smoke/tls", "the certificate expired yesterday"),
    Fault("cert_expiring_soon", "smoke/tls", "the certificate expires in 5 days"),
    Fault("cert_wrong_host", "smoke/tls", "the certificate is for wrong.example.net"),
    Fault("cert_untrusted", "smoke/tls", "the certificate is signed by an unknown CA"),
    Fault("unknown_api_200", "smoke/routes", "unknown /api paths answer 200 HTML"),
    Fault("delete_allowed", "smoke/routes", "DELETE /api/health answers 200"),
    Fault("homepage_500", "smoke/routes", "the homepage answers 500"),
    Fault("favicon_missing", "smoke/routes", "/favicon.ico answers 404"),
    Fault("patients_500", "e2e/patients", "GET /api/patients answers 500"),
    Fault("rate_limit_off", "smoke/rate-limit", "no rate limiting (no RateLimit-* headers, no 429)"),
    Fault("rate_limit_stuck", "readiness/rate-limit",
          "a client answered 429 stays blocked for 2 minutes, long past its Retry-After"),
    Fault("admin_role_bypass", "readiness/access-control",
          "the admin API (/api/admin/*) answers 200 to any signed-in role, ecp included"),
    Fault("debug_path_exposed", "readiness/access-control",
          "GET /api/debug (and /api/debug/env) answers 200 with the process environment as JSON"),
    Fault("cors_origin_substring", "smoke/cors",
          "any Origin containing the allowed host is granted with credentials (ILS's includes test)"),
    Fault("cors_null_origin", "smoke/cors", "the Origin `null` is granted with credentials"),
    Fault("csp_unsafe_eval", "smoke/headers", "the CSP's script-src allows 'unsafe-eval'"),
    Fault("internal_stack_trace", "readiness/route-sweep",
          "GET /api/diagnostic/filesystem answers 500 with a Node stack trace to anyone"),
    Fault("internal_events_open", "readiness/route-sweep",
          "GET /api/system/events lists the event log to anonymous callers"),
    Fault("seeded_admin", "readiness/access-control",
          "ILS's boot-code admin admin@ils2.com logs in with its published password"),
    Fault("tls_legacy_accepted", "readiness/tls", "the HTTPS listener accepts TLS 1.0 and TLS 1.1"),
)


def start(ctx: Context) -> None:
    config_dir: Path = ctx.run_config
    https_port, http_port = free_port(), free_port()
    base_url = f"https://localhost:{https_port}"
    variants: dict[str, CertPair] = ctx.facts["cert_variants"]
    config = {
        "https_port": https_port,
        "http_port": http_port,
        "base_url": base_url,
        "allowed_origin": base_url,
        "database_url": ctx.facts["postgres_dsn"],
        "redis_url": ctx.facts["redis_url"],
        "certs": {name: {"certfile": str(pair.certfile), "keyfile": str(pair.keyfile)}
                  for name, pair in variants.items()},
        "jwt_secret": secrets.token_urlsafe(48),
        "faults_file": str(config_dir / "faults.json"),
        "version_file": str(config_dir / "version.json"),
        "run_dir": str(ctx.run.path),
        "release": ctx.release,
        "rate_limit": list(ctx.facts.get("rate_limit", (300, 10))),
        "auth_rate_limit": list(ctx.facts.get("auth_rate_limit", (5, 900))),
        "lockout": list(ctx.facts.get("lockout", (5, 900, 1800))),
        "test_mode": bool(ctx.facts.get("test_mode", False)),
    }
    app_json = config_dir / "app.json"
    fd = os.open(app_json, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # holds secrets
    with os.fdopen(fd, "w") as out:
        json.dump(config, out, indent=2)

    src_dir = Path(__file__).resolve().parents[2]  # the directory holding the ilsref package
    python_path = os.pathsep.join(p for p in (str(src_dir), os.environ.get("PYTHONPATH")) if p)
    proc = ctx.run.spawn(SERVICE, [sys.executable, "-m", "ilsref.app", "--config", str(app_json)],
                         env={"PYTHONPATH": python_path, "PYTHONUNBUFFERED": "1"})
    if "hang" in ctx.faults:  # it would never answer: a listening port is all we can wait for
        wait_for_port(https_port, timeout=STARTUP_TIMEOUT_S)
    else:
        verify = not any(fault in ctx.faults for fault in FAULT_VARIANTS)
        _wait_healthy(base_url, Path(ctx.facts["ca_pem"]) if verify else None, proc.poll,
                      ctx.run.logs / f"{SERVICE}.log")

    ctx.facts.update(app_https_port=https_port, app_http_port=http_port, app_base_url=base_url)
    ctx.environment.update(
        kind="other",
        base_url=base_url,
        http_url=f"http://localhost:{http_port}",
        release=ctx.release,
        ca_bundle=str(Path(ctx.facts["ca_pem"]).resolve()),
        env_file=str((config_dir / "secrets.env").resolve()),
    )
    ctx.environment["version"] = {"source": "endpoint", "path": "/api/health", "field": "version"}
    ctx.environment["tls"] = {"hosts": [f"localhost:{https_port}"], "min_version": "TLSv1.2"}
    ctx.environment["not_applicable"] = {
        "cdn": "the reference deployment is served without a CDN",
        "legacy_backup": "the reference deployment migrates no data from a legacy system",
    }
    accounts = {}
    for account in ctx.facts.get("accounts", ()):
        prefix = f"CUTOVER_LOCAL_{account.key.upper()}"
        accounts[account.key] = {"email_env": f"{prefix}_EMAIL", "password_env": f"{prefix}_PASSWORD"}
        ctx.secrets[f"{prefix}_EMAIL"] = account.email
        ctx.secrets[f"{prefix}_PASSWORD"] = account.password
    ctx.environment["accounts"] = accounts
    # what the reference has beyond ILS 2.0 (no reports page, no sign-in audit rows in ILS):
    # options without an ILS default, set here so the flows that need them run
    ctx.environment["e2e"] = {
        "routes": {"reports": "/ecp/reports"},
        "widgets": {"reports": ["[data-testid=report-total-orders]",
                                "[data-testid=report-total-patients]",
                                "[data-testid=chart-lens-types]"]},
        "selectors": {"audit_row": "[data-testid^=row-audit-]"},
        "texts": {"failed_login_action": "login_failed"},
    }
    # the failed-login limiter as started (ILS's unless `--auth-rate-limit`/`--window-scale`)
    failed_limit, failed_window = ctx.facts.get("auth_rate_limit", (5, 900))
    ctx.environment.setdefault("profile", {}).update(
        failed_login_limit=failed_limit, failed_login_window_s=failed_window)


def _wait_healthy(base_url: str, ca_pem: Path | None, exited, log: Path) -> None:  # type: ignore[no-untyped-def]
    """Until /api/health answers (over verified TLS unless a cert fault is on); fail fast if
    the process dies."""
    context = ssl.create_default_context(cafile=str(ca_pem) if ca_pem else None)
    if ca_pem is None:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    last_error = "no answer"
    while time.monotonic() < deadline:
        if exited() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-1:] if log.exists() else []
            raise RuntimeError(f"the app exited: {' '.join(tail) or 'see its log'}")
        try:
            with urllib.request.urlopen(f"{base_url}/api/health", context=context, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError as exc:
            last_error = str(exc)
        time.sleep(0.1)
    raise TimeoutError(f"the app did not answer /api/health within {STARTUP_TIMEOUT_S:.0f} s "
                       f"({last_error})")
