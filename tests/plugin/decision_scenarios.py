"""Three cutover runs for the go/no-go page's self-tests: GO, NO-GO (the issue's noisy readiness
run: one 429 cause behind many checks, pending sign-offs, unverified items) and ROLLBACK
(error rate beyond its rollback level under load). Imported by test_decision_page.py."""

from __future__ import annotations

import base64
import json
import zlib

LOAD_HISTORY_TITLE = "load time series (every second: users, P95, error rate of the last 10 s)"


def _png(width: int = 64, height: int = 32) -> str:
    """A small red PNG, as a failed flow's screenshot."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (len(data).to_bytes(4, "big") + kind + data
                + zlib.crc32(kind + data).to_bytes(4, "big"))
    raw = b"".join(b"\x00" + b"\xcc\x22\x22" * width for _ in range(height))
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", width.to_bytes(4, "big") + height.to_bytes(4, "big")
                                          + b"\x08\x02\x00\x00\x00")
           + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return base64.b64encode(png).decode()


def history(p95_peak: float, error_peak: float, seconds: int = 60) -> str:
    samples = []
    for t in range(1, seconds + 1):
        ramp = min(1.0, t / (seconds * 0.6))
        samples.append({"t": float(t), "users": int(20 * ramp), "requests": t * 15,
                        "p95_ms": round(120 + (p95_peak - 120) * ramp ** 2 + (t % 7) * 9.3371, 3),
                        "error_rate_pct": round(error_peak * ramp ** 3 + (t % 5) * 0.0133712, 4),
                        "warmup": False})
    return json.dumps(samples)


COMMON = '''
import pytest

@pytest.mark.checklist("success.critical-endpoints", "verify.health-green")
def test_health(measure):
    measure("health_latency_ms", 41.337712)

@pytest.mark.checklist("success.users-log-in")
def test_login():
    pass

@pytest.mark.checklist("infra.dns")
def test_dns():
    pass

@pytest.mark.checklist("success.backups", "infra.backups")
def test_backup_age(measure):
    measure("backup_age_hours", 0.00234104)
'''

LOAD = '''
import pytest
from pytest_cutover.thresholds import Threshold

HISTORY = {history!r}

@pytest.mark.checklist("app.load-test")
def test_load_run(evidence):
    evidence({title!r}, HISTORY, "json")

@pytest.mark.checklist("success.error-rate", "mon.error-rate")
def test_error_rate(measure):
    measure("error_rate_pct", {error})

@pytest.mark.checklist("success.p95-latency", "mon.p95-latency")
def test_p95(measure):
    measure("p95_ms", {p95})

@pytest.mark.parametrize(("name", "p95", "warn", "crit"), [
    ("GET /api/patients", 212.4, 500, 1000), ("POST /api/orders", 640.2, 500, 1000),
    ("GET /api/analytics/overview", 388.0, 800, 1500), ("GET /", 35.1, 300, 600)])
def test_endpoint_budget(measure, name, p95, warn, crit):
    measure("endpoint_p95_ms", p95, Threshold(warn=warn, crit=crit, unit="ms"),
            subject=f"{{name}} (budget {{name.split()[1]!r}}, 120 requests)")
'''

NO_GO_READINESS = '''
import pytest
from pytest_cutover import pending, unverified

@pytest.mark.parametrize("n", range(17))
@pytest.mark.checklist("sec.security-headers")
def test_endpoint_answers(n):
    assert False, (f"GET /api/v{{n}} answered 429 Too Many Requests (expected 200): "
                   "rate limiter shared with the test client")

SIGN = [("team.war-room", "DevOps Lead"), ("team.war-room", "QA Lead"),
        ("docs.runbooks", "DevOps Lead"), ("t24.team-available", "Backend Lead"),
        ("t24.team-available", "Frontend Lead"), ("t24.team-available", "Product Manager"),
        ("gate.team-ready", "DevOps Lead")]

@pytest.mark.parametrize(("item", "role"), [
    pytest.param(i, r, marks=pytest.mark.checklist(i)) for i, r in SIGN])
def test_signed(item, role):
    pending(f"no sign-off for {{item!r}}: it must be signed by the {{role}} in signoffs.toml "
            "(who, role, when, evidence)")

@pytest.mark.checklist("infra.cdn")
def test_cdn():
    unverified("no `cdn` table in the environment: declare it or name it under not_applicable")

@pytest.mark.checklist("infra.monitoring-stack")
def test_alerts():
    unverified("no `alertmanager` table in the environment")
'''

E2E_FAIL = '''
import pytest

@pytest.mark.rollback_trigger("critical_flow")
@pytest.mark.checklist("success.core-workflows")
def test_order_flow(evidence):
    evidence("screenshot at failure", {png!r}, "png")
    assert False, "order flow: 'Create order' stayed disabled after 10 s (expected enabled) at /orders/new"
'''

SIGNOFFS = '''
[[signoff]]
item = "team.war-room"
who = "Dana Reyes"
role = "Release Manager"
when = 2026-01-01T10:00:00Z
evidence = "https://wiki.example.com/war-room"

[[signoff]]
item = "docs.runbooks"
who = "Ari Kim"
role = "DevOps Lead"
when = 2026-01-01T10:00:00Z
evidence = "https://wiki.example.com/runbook"
expires = 2026-02-01
'''


def files(decision: str) -> dict[str, dict[str, str]]:
    """Folder -> {module name: source} for a run that ends in `decision`."""
    load = {"GO": (0.42, 231.6, 280, 0.6), "NO-GO": (0.42, 231.6, 280, 0.6),
            "ROLLBACK": (7.3417, 1260.4, 1400, 9.0)}[decision]
    error, p95, peak_p95, peak_err = load
    out: dict[str, dict[str, str]] = {
        "smoke": {"test_smoke": COMMON},
        "load": {"test_load_gate": LOAD.format(history=history(peak_p95, peak_err),
                                               title=LOAD_HISTORY_TITLE, error=error, p95=p95)}}
    if decision == "NO-GO":
        out["readiness"] = {"test_readiness": NO_GO_READINESS.format()}
    if decision == "ROLLBACK":
        out["e2e"] = {"test_flows": E2E_FAIL.format(png=_png())}
    return out
