"""The smoke folder against a healthy reference deployment: GO, every report written, the same
verdict with `-n 2`, and no secret in any report file."""

from __future__ import annotations

import base64
import binascii
import re
import ssl
import tomllib
import urllib.request
from urllib.parse import urlsplit

import pytest

REPORT_FILES = ("go-no-go.html", "verdict.json", "junit.xml", "summary.md", "announcement.md")
DATA_URI = re.compile(r"base64,([A-Za-z0-9+/]+=*)")  # pytest-html embeds extras as data URIs
JWT = re.compile(r"eyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]+")


def test_healthy_run_is_go_with_exit_code_0(healthy_run):
    assert (healthy_run.returncode, healthy_run.verdict["decision"]) == (0, "GO"), (
        healthy_run.explain())


def test_healthy_run_writes_all_five_report_files(healthy_run):
    missing = [name for name in REPORT_FILES if not (healthy_run.reports / name).is_file()]
    assert not missing, f"missing report files {missing} in {healthy_run.reports}"


def test_healthy_run_passes_every_check_it_ran(healthy_run):
    assert set(healthy_run.outcomes.values()) == {"passed"}, healthy_run.explain()
    assert len(healthy_run.outcomes) >= 60, f"only {len(healthy_run.outcomes)} smoke checks ran"


def test_healthy_run_takes_seconds(healthy_run):
    # Generous for a loaded CI machine; it catches checks that wait for timeouts one by one.
    assert healthy_run.seconds < 60, f"a healthy smoke run took {healthy_run.seconds:.1f} s"


def readable(path):
    """A report file's text plus the decoded content of every base64 data URI it embeds."""
    text = path.read_text(errors="replace")
    decoded = []
    for blob in DATA_URI.findall(text):
        try:
            decoded.append(base64.b64decode(blob).decode(errors="replace"))
        except (binascii.Error, ValueError):
            continue
    return "\n".join([text, *decoded])


def _planted_secrets(ilsref):
    secrets = ilsref.secrets()
    dsn_password = urlsplit(secrets["CUTOVER_LOCAL_DATABASE_URL"]).password
    return {"DSN password": dsn_password,
            "smoke password": secrets["CUTOVER_LOCAL_SMOKE_PASSWORD"]}


def test_no_secret_appears_in_any_report_file(healthy_run, ilsref):
    # The run logged in (passwords sent, access tokens returned) and its transcripts are evidence.
    planted = _planted_secrets(ilsref)
    leaks = []
    for path in sorted(p for p in healthy_run.reports.rglob("*") if p.is_file()):
        text = readable(path)
        leaks += [f"{what} in {path.name}" for what, value in planted.items() if value in text]
        leaks += [f"a bearer token in {path.name}" for _ in JWT.findall(text)[:1]]
    assert not leaks, f"secrets leaked into reports: {leaks}"


def test_login_exchange_reached_the_report_files(healthy_run):
    # The leak test above proves nothing unless the login exchange did reach the reports.
    html = readable(healthy_run.reports / "go-no-go.html")
    assert "POST https://" in html and "/api/auth/jwt/login" in html
    assert "accessToken" in html, "the login answer (with its redacted token) is not in the report"


@pytest.mark.slow
def test_parallel_run_gives_the_serial_verdict(healthy_run, ilsref):
    parallel = ilsref.smoke("-n", "2", "smoke")
    assert (parallel.returncode, parallel.verdict["decision"], parallel.outcomes) == (
        healthy_run.returncode, healthy_run.verdict["decision"], healthy_run.outcomes), (
        parallel.explain())


@pytest.mark.slow
def test_parallel_run_of_a_faulty_target_gives_the_serial_verdict(ilsref):
    with ilsref.fault("no_csp"):
        serial = ilsref.smoke("smoke/test_security_headers.py", "smoke/test_cors.py")
        parallel = ilsref.smoke("-n", "2", "smoke/test_security_headers.py", "smoke/test_cors.py")
    assert serial.verdict["decision"] == "NO-GO", serial.explain()
    assert (parallel.returncode, parallel.verdict["decision"], parallel.failing) == (
        serial.returncode, serial.verdict["decision"], serial.failing), parallel.explain()


def test_version_from_the_image_tag_passes_then_fails_on_a_latest_tag(ilsref):
    config = ilsref.workdir / "image-tag.toml"
    config.write_text(ilsref.config.read_text() + 'version = { source = "image_tag" }\n')
    args = ("smoke/test_version.py", f"--cutover-config={config}")
    healthy = ilsref.smoke(*args)
    assert (healthy.returncode, healthy.verdict["decision"]) == (0, "GO"), healthy.explain()
    with ilsref.fault("k8s_latest_tag"):
        broken = ilsref.smoke(*args)
    assert (broken.returncode, broken.verdict["decision"]) == (1, "NO-GO"), broken.explain()
    assert any("is 'latest' (expected release" in r for r in broken.verdict["reasons"]), broken.explain()


def _login_posts(ilsref) -> float:
    """POSTs the app has answered on its login path (its Prometheus counter)."""
    local = tomllib.loads((ilsref.home / "run" / "local.toml").read_text())
    context = ssl.create_default_context(cafile=local["ca_bundle"])
    with urllib.request.urlopen(local["base_url"] + "/metrics", context=context, timeout=10) as answer:
        text = answer.read().decode()
    return sum(float(m.group(1)) for m in re.finditer(
        r'^http_requests_total\{[^}]*method="POST",path="/api/auth/jwt/login"[^}]*\} ([0-9.e+]+)$',
        text, re.M))


@pytest.mark.parametrize(("selected", "logins"), [
    # the login check, a cookie check and a token check read one login, sent ahead of them
    ("logs_in or session_cookies_carry_flag or accepts_the_smoke_token", 1),
    ("health", 0),  # no selected check reads it: none is sent
], ids=["readers", "none"])
def test_a_smoke_run_sends_the_smoke_login_once_and_only_when_read(ilsref, selected, logins):
    before = _login_posts(ilsref)
    run = ilsref.smoke("smoke", f"-k={selected}")
    assert run.verdict["decision"] == "GO" and len(run.outcomes) >= 3, run.explain()
    assert _login_posts(ilsref) - before == logins, run.explain()
