"""Redaction fuzz (issue 13): secrets embedded in the error shapes of psycopg, redis, requests,
urllib3, Playwright, kubernetes and Locust output, in assertion messages, exception reprs, shown
locals, captured stdout and logs, evidence, skip reasons and waived failures. Not one of them, nor
a fragment of 8 characters of a password or token, nor its base64, reaches any report file or the
terminal."""

from __future__ import annotations

import base64
import json
import socket
from urllib.parse import quote

import pytest
from cutover_project import Project

PASSWORD_DSN = "Zq7-Pw@rd-DSN-4451"  # '@' is percent-encoded in the URL form
PASSWORD_REDIS = "Rd5-Redis-Secret-9981"
PASSWORD_SMOKE = "Sm0ke-Account-Pass-7733"
TOKEN_GRAFANA = "glsa_GrafanaTok3n_ABCDEF123456"
TOKEN_SENTRY = "sntrys_SentryTok3n_7777XYZ"


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


PORT = _closed_port()  # nothing listens: the libraries' own connection errors, on loopback
DSN = f"postgresql://ils_app:{quote(PASSWORD_DSN, safe='')}@127.0.0.1:{PORT}/ils"
REDIS = f"redis://:{PASSWORD_REDIS}@127.0.0.1:{PORT}/0"

CONFIG_EXTRA = """
database = { dsn_env = "T_DSN" }
redis = { url_env = "T_REDIS" }
accounts.smoke = { email_env = "T_EMAIL", password_env = "T_PASS" }
grafana = { url = "http://grafana.example.com", token_env = "T_GRAFANA" }
sentry = { url = "http://sentry.example.com", token_env = "T_SENTRY" }
"""

# Each check fails (or is skipped, or waived) with a secret in a realistic shape.
SHAPES = r'''
import base64
import json
import logging
import pytest
from pytest_cutover import unverified

def s(target, name):
    return target.secret(name)

def dsn(target):
    return s(target, "T_DSN")

def password(target):
    from urllib.parse import unquote, urlsplit
    return unquote(urlsplit(dsn(target)).password)

# --- psycopg ----------------------------------------------------------------------------------
def test_psycopg_real_connect_error_with_dsn_in_message(target):
    import psycopg
    try:
        psycopg.connect(dsn(target), connect_timeout=1)
    except psycopg.OperationalError as exc:
        raise AssertionError(f"cannot connect with {dsn(target)}: {exc!r}") from exc

def test_psycopg_real_parse_error_echoes_a_typo_dsn(target):
    import psycopg.conninfo
    broken = dsn(target).replace("://", "//")
    psycopg.conninfo.conninfo_to_dict(broken)

def test_psycopg_driver_echoes_a_fragment(target):
    middle = password(target)[3:15]
    raise RuntimeError(f'invalid integer value "{middle}@127" for connection option "port"')

def test_psycopg_conninfo_keyword_form(target):
    conninfo = f"host=127.0.0.1 port=5432 dbname=ils user=ils_app password={password(target)}"
    assert False, f"OperationalError: connection failed: conninfo {conninfo}"

def test_psycopg_decoded_password_in_fatal(target):
    pytest.fail(f'FATAL: password authentication failed for user "ils_app" ({password(target)})')

# --- redis ------------------------------------------------------------------------------------
def test_redis_real_connection_error(target):
    import redis
    client = redis.Redis.from_url(s(target, "T_REDIS"), socket_connect_timeout=1)
    try:
        client.ping()
    except redis.ConnectionError as exc:
        raise AssertionError(f"{exc!r} for {s(target, 'T_REDIS')}") from exc

def test_redis_real_url_parse_error(target):
    import redis
    redis.Redis.from_url(s(target, "T_REDIS").replace("/0", ":6x79/0"))

def test_redis_connection_kwargs_repr(target):
    from urllib.parse import urlsplit
    kwargs = {"host": "127.0.0.1", "port": 6379, "password": urlsplit(s(target, "T_REDIS")).password}
    raise ConnectionError(f"Connection<{kwargs!r}>: AUTH failed: WRONGPASS invalid username-password pair")

# --- requests / urllib3 -----------------------------------------------------------------------
def test_requests_real_connection_error_with_userinfo_and_token(target):
    import requests
    from urllib.parse import quote
    url = (f"http://smoke:{quote(s(target, 'T_PASS'))}@{dsn(target).split('@')[1].split('/')[0]}"
           f"/api?token={s(target, 'T_GRAFANA')}")
    requests.get(url, timeout=1)

def test_urllib3_real_max_retry(target):
    import urllib3
    port = dsn(target).split("@")[1].split("/")[0]
    urllib3.PoolManager().request("GET", f"http://{port}/x?access_token={s(target, 'T_GRAFANA')}",
                                  retries=0)

def test_requests_http_error_body_with_tokens(target):
    body = json.dumps({"accessToken": s(target, "T_GRAFANA"), "refreshToken": s(target, "T_SENTRY")})
    raise AssertionError(f"HTTPError('401 Client Error: Unauthorized'): body {body}")

def test_headers_dict_repr(target):
    headers = {"Authorization": f"Bearer {s(target, 'T_SENTRY')}", "Accept": "application/json"}
    assert headers is None, headers

# --- Playwright -------------------------------------------------------------------------------
def test_playwright_goto_with_credentials_in_url(target):
    from urllib.parse import quote
    url = f"https://smoke%40ils.test:{quote(s(target, 'T_PASS'))}@127.0.0.1/login"
    raise RuntimeError(f'page.goto: net::ERR_CONNECTION_REFUSED at {url}\nCall log:\n'
                       f'  - navigating to "{url}"')

def test_playwright_fill_call_log(target):
    raise TimeoutError('locator.fill: Timeout 5000ms exceeded.\nCall log:\n  - waiting for '
                       f'get_by_label("Password")\n  - fill("{s(target, "T_PASS")}")')

# --- kubernetes -------------------------------------------------------------------------------
def test_kubernetes_api_exception_headers(target):
    raise RuntimeError("(401)\nReason: Unauthorized\nHTTP response headers: HTTPHeaderDict({'Authorization': "
                       f"'Bearer {s(target, 'T_GRAFANA')}', 'Audit-Id': 'x'}})\nHTTP response body: "
                       '{"kind":"Status","message":"Unauthorized"}')

def test_kubernetes_secret_data_base64(target):
    data = {"DATABASE_URL": base64.b64encode(dsn(target).encode()).decode(),
            "SESSION_SECRET": base64.b64encode(s(target, "T_SENTRY").encode()).decode()}
    assert not data, f"V1Secret(data={data!r}) holds the DSN in plain base64"

def test_kubectl_env_dump(target):
    pytest.fail(f"kubectl exec -- env:\nPGPASSWORD={password(target)}\nREDIS_URL={s(target, 'T_REDIS')}")

# --- Locust output ----------------------------------------------------------------------------
def test_locust_failure_line(target):
    body = json.dumps({"email": s(target, "T_EMAIL"), "password": s(target, "T_PASS")})
    raise AssertionError(f"POST /api/auth/jwt/login: CatchResponseError('login failed for {body}') x3")

def test_locust_stats_csv_with_token_in_name(target):
    raise AssertionError("Type,Name,Request Count\nGET,/api/reports?access_token="
                         f"{s(target, 'T_GRAFANA')},12")

# --- pytest's own channels: locals, stdout, logs, evidence, skip reasons, waivers ------------
def test_shown_locals_and_exception_repr(target):
    class DriverError(Exception):
        def __init__(self, conninfo):
            super().__init__()
            self.conninfo = conninfo
        def __repr__(self):
            return f"DriverError(conninfo={self.conninfo!r})"
    local_dsn = dsn(target)
    raise AssertionError(repr(DriverError(local_dsn)))

def test_captured_stdout_and_log(target):
    print("connecting with", s(target, "T_REDIS"), "token", s(target, "T_SENTRY"))
    logging.getLogger("ils").error("login with %s failed", s(target, "T_PASS"))
    assert False, "see captured output"

def test_evidence_holds_the_dsn(target, evidence):
    evidence("config dump", {"dsn": dsn(target), "grafana_token": s(target, "T_GRAFANA")}, "json")
    evidence("log", f"db url {dsn(target)}\nfragment {password(target)[2:12]}")
    assert False, "evidence attached"

def test_skip_reason_with_the_dsn(target):
    unverified(f"database not reachable at {dsn(target)}")

def test_waived_failure_shows_a_token(target):
    assert False, f"token {s(target, 'T_GRAFANA')} rejected"

def test_measurement_subject_with_a_secret(target, measure):
    measure("health_latency_ms", 5000, subject=f"login as {s(target, 'T_PASS')}")
'''


def _needles() -> list[str]:
    """Every form a leak could take: whole values, passwords in each encoding, base64, and every
    8-character fragment of each password and token."""
    whole = [DSN, REDIS, PASSWORD_DSN, quote(PASSWORD_DSN, safe=""), PASSWORD_REDIS, PASSWORD_SMOKE,
             quote(PASSWORD_SMOKE), TOKEN_GRAFANA, TOKEN_SENTRY]
    needles = set(whole)
    needles |= {base64.b64encode(v.encode()).decode().rstrip("=") for v in whole}
    for secret in (PASSWORD_DSN, PASSWORD_REDIS, PASSWORD_SMOKE, TOKEN_GRAFANA, TOKEN_SENTRY):
        needles |= {secret[i:i + 8] for i in range(len(secret) - 7)}
    return sorted(needles)


def test_the_fuzz_has_at_least_20_error_shapes() -> None:
    assert SHAPES.count("\ndef test_") >= 20


def test_no_secret_reaches_any_report_file_or_the_terminal(project: Project, monkeypatch: pytest.MonkeyPatch
                                                           ) -> None:
    for name, value in {"T_DSN": DSN, "T_REDIS": REDIS, "T_EMAIL": "smoke@ils.test", "T_PASS": PASSWORD_SMOKE,
                        "T_GRAFANA": TOKEN_GRAFANA, "T_SENTRY": TOKEN_SENTRY}.items():
        monkeypatch.setenv(name, value)
    project.config(extra="")
    text = (project.path / "cutover.toml").read_text()
    (project.path / "cutover.toml").write_text(
        text.replace('release = "2.0.0"\n', 'release = "2.0.0"\n' + CONFIG_EXTRA, 1))
    project.signoffs('[[waiver]]\ncheck = "smoke/test_shapes.py::test_waived_failure_shows_a_token"\n'
                     'justification = "j"\napprover = "a"\nexpires = 2999-01-01\n')
    project.tests("smoke", test_shapes=SHAPES)
    result = project.run("--html=reports/go-no-go.html", "--self-contained-html",
                         "--junitxml=reports/junit.xml", "-rA", "-l", "--tb=long", "-v",
                         "-o", "log_level=INFO", "-p", "no:randomly")
    terminal = result.stdout.str() + result.stderr.str()
    assert result.ret == 1, terminal  # the shapes fail: NO-GO
    doc = json.loads(project.report("verdict.json").read_text())
    outcomes = {c["nodeid"].split("::")[-1]: c["outcome"] for c in doc["checks"]}
    assert len(outcomes) == SHAPES.count("\ndef test_"), outcomes  # every shape ran
    assert outcomes.pop("test_waived_failure_shows_a_token") == "waived"
    assert "passed" not in set(outcomes.values())

    places = {"terminal": terminal}
    for path in sorted((project.path / "reports").rglob("*")):
        if path.is_file():
            places[str(path.relative_to(project.path))] = path.read_bytes().decode("utf-8", "replace")
    assert {"reports/go-no-go.html", "reports/junit.xml", "reports/verdict.json", "reports/summary.md",
            "reports/announcement.md"} <= set(places)
    assert any(p.startswith("reports/evidence/") and not p.endswith("SHA256SUMS") for p in places)
    leaks = [f"{where}: {needle!r}" for where, content in places.items() for needle in _needles()
             if needle in content]
    assert leaks == [], "\n".join(leaks[:40])
    # the messages stay useful: what failed is still said
    assert "Connection refused" in terminal or "connection" in terminal.lower()
    assert "ils_app" in places["reports/verdict.json"]  # the user and host are kept, not the password
