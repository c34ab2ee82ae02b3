"""Self-tests of the reference deployment's core: real PostgreSQL, Redis and app processes.

One deployment serves the whole module (`python -m ilsref up --test-mode` in a temporary
ILSREF_HOME); faults are toggled at run time and must change what goes over the wire.
ILSREF_TEST_SERVICES selects the services (default: the core three; "all" for everything).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
import pytest
import requests

SRC = Path(__file__).resolve().parents[2] / "src"
CORE_SERVICES = "postgres,redis,app"
TIMEOUT = 10.0


@dataclass
class Deployment:
    home: Path
    env: dict[str, str]
    base_url: str
    http_url: str
    ca: str
    secrets: dict[str, str]
    app_config: dict[str, Any]

    def cli(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([sys.executable, "-m", "ilsref", *args], env=self.env,
                              capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise AssertionError(f"ilsref {' '.join(args)} -> {done.returncode}\n{done.stderr}")
        return done

    def set_faults(self, *names: str) -> None:
        """Write faults.json directly (what `fault set` does), fast enough to use per test."""
        path = self.home / "run" / "faults.json"
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({"active": sorted(names)}))
        os.replace(tmp, path)

    def client(self, timeout: float = TIMEOUT) -> Client:
        return Client(self.base_url, self.ca, timeout)

    def login(self, client: Client, account: str = "smoke") -> dict[str, Any]:
        prefix = f"CUTOVER_LOCAL_{account.upper()}"
        response = client.post("/api/auth/jwt/login", json={
            "email": self.secrets[f"{prefix}_EMAIL"], "password": self.secrets[f"{prefix}_PASSWORD"]})
        assert response.status_code == 200, response.text
        return response.json()  # type: ignore[no-any-return]

    def pids(self) -> set[int]:
        """Every recorded process and all its descendants (postgres backends included)."""
        recorded = set(json.loads((self.home / "processes.json").read_text()).values())
        parents: dict[int, int] = {}
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(stat.parent.name)] = int(fields[1])
        found, frontier = set(recorded), set(recorded)
        while frontier:
            frontier = {pid for pid, ppid in parents.items() if ppid in frontier} - found
            found |= frontier
        return found


class Client(requests.Session):
    """A session bound to the deployment: relative paths, its CA, a timeout, no redirects."""

    def __init__(self, base_url: str, ca: str, timeout: float) -> None:
        super().__init__()
        self.base_url, self.verify, self.timeout = base_url, ca, timeout

    def request(self, method: str, url: str, *args: Any, **kw: Any) -> requests.Response:  # type: ignore[override]
        kw.setdefault("timeout", self.timeout)
        kw.setdefault("allow_redirects", False)
        kw.setdefault("verify", self.verify)  # else REQUESTS_CA_BUNDLE would override it
        return super().request(method, self.base_url + url, *args, **kw)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    home = tmp_path_factory.mktemp("ilsref")
    env = {**os.environ, "ILSREF_HOME": str(home),
           "PYTHONPATH": os.pathsep.join(filter(None, (str(SRC), os.environ.get("PYTHONPATH"))))}
    services = os.environ.get("ILSREF_TEST_SERVICES", CORE_SERVICES)
    argv = [sys.executable, "-m", "ilsref", "up", "--test-mode", "--auth-rate-limit", "1000/60"]
    if services != "all":
        argv += ["--only", services]
    up = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=180)
    assert up.returncode == 0, f"up failed:\n{up.stdout}\n{up.stderr}"
    run = home / "run"
    secrets = dict(line.split("=", 1) for line in (run / "secrets.env").read_text().splitlines())
    import tomllib
    local = tomllib.loads((run / "local.toml").read_text())
    dep = Deployment(home, env, local["base_url"], local["http_url"], local["ca_bundle"], secrets,
                     json.loads((run / "app.json").read_text()))
    try:
        yield dep
    finally:
        dep.set_faults()
        subprocess.run([sys.executable, "-m", "ilsref", "down"], env=env, capture_output=True,
                       timeout=120)


@pytest.fixture(autouse=True)
def no_faults(deployment: Deployment) -> Iterator[None]:
    deployment.set_faults()
    yield
    deployment.set_faults()


@pytest.fixture
def client(deployment: Deployment) -> Iterator[Client]:
    with deployment.client() as c:
        yield c


def csrf(client: Client) -> dict[str, str]:
    """Fetch a page to receive the csrf-token cookie; the header that must echo it."""
    client.get("/api/health")
    return {"X-CSRF-Token": client.cookies["csrf-token"]}


# --- the deployment's files and command line ----------------------------------------------------

def test_run_files(deployment: Deployment) -> None:
    run = deployment.home / "run"
    assert (run / "secrets.env").stat().st_mode & 0o777 == 0o600
    assert (run / "app.json").stat().st_mode & 0o777 == 0o600
    assert json.loads((run / "mode.json").read_text()) == {"test_mode": True}
    import tomllib
    local = tomllib.loads((run / "local.toml").read_text())
    assert local["kind"] == "other" and local["base_url"].startswith("https://localhost:")
    assert local["database"]["dsn_env"] == "CUTOVER_LOCAL_DATABASE_URL"
    assert local["accounts"]["smoke"]["password_env"] in deployment.secrets
    assert "password" not in (run / "local.toml").read_text().replace("password_env", "")


def test_database_is_migrated_and_seeded(deployment: Deployment) -> None:
    import tomllib

    import psycopg
    head = tomllib.loads((deployment.home / "run" / "local.toml").read_text())["database"][
        "expected_migration_head"]
    with psycopg.connect(deployment.secrets["CUTOVER_LOCAL_DATABASE_URL"], connect_timeout=5) as conn:
        applied = conn.execute("SELECT hash FROM drizzle.__drizzle_migrations ORDER BY id").fetchall()
        assert applied[-1][0] == head
        assert conn.execute("SELECT count(*) FROM patients").fetchone()[0] >= 50  # type: ignore[index]
        assert conn.execute("SELECT count(*) FROM orders").fetchone()[0] >= 100  # type: ignore[index]


def test_cli_faults_and_validation(deployment: Deployment) -> None:
    listing = deployment.cli("faults").stdout
    for name in ("health_degraded", "cert_expired", "hang", "rate_limit_off"):
        assert name in listing
    bad = deployment.cli("fault", "set", "no_such_fault", check=False)
    assert bad.returncode == 2 and "health_degraded" in bad.stderr
    deployment.cli("fault", "set", "wrong_version")
    with deployment.client() as c:
        assert c.get("/api/health").json()["version"] == "0.0.0-wrong"
    deployment.cli("fault", "clear")
    with deployment.client() as c:
        assert c.get("/api/health").json()["version"] == "2.0.0"
    assert deployment.cli("up", check=False).returncode == 1  # already running


# --- health -------------------------------------------------------------------------------------

def test_health_shapes(client: Client) -> None:
    for path in ("/health", "/api/health", "/health/live"):
        body = client.get(path).json()
        assert {"status", "server", "database", "timestamp", "uptime", "version"} <= body.keys()
        assert (body["status"], body["server"], body["database"]) == ("ok", "ready", "connected")
        dt.datetime.fromisoformat(body["timestamp"].replace("Z", "+00:00"))
    ready = client.get("/health/ready")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
    detailed = client.get("/api/health/detailed").json()
    assert (detailed["status"], detailed["database"], detailed["redis"]) == ("healthy", "connected", "up")
    assert {"checks", "environment", "uptime", "memory"} <= detailed.keys()


def test_served_version_follows_version_file(deployment: Deployment, client: Client) -> None:
    version_file = deployment.home / "run" / "version.json"
    try:
        version_file.write_text(json.dumps({"version": "2.0.1"}))
        assert client.get("/api/health").json()["version"] == "2.0.1"
    finally:
        version_file.unlink()
    assert client.get("/api/health").json()["version"] == "2.0.0"


# --- auth ---------------------------------------------------------------------------------------

def test_login_me_and_cookie(deployment: Deployment, client: Client) -> None:
    response = client.post("/api/auth/jwt/login", json={
        "email": deployment.secrets["CUTOVER_LOCAL_SMOKE_EMAIL"],
        "password": deployment.secrets["CUTOVER_LOCAL_SMOKE_PASSWORD"]})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] and body["user"]["role"] == "ecp" and body["expiresIn"] > 0
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("ils.sid=") and "Secure" in cookie and "HttpOnly" in cookie
    assert "samesite=lax" in cookie.lower()
    me = client.get("/api/auth/jwt/me", headers={"Authorization": f"Bearer {body['accessToken']}"})
    assert me.status_code == 200 and me.json()["user"]["email"] == "smoke@ils.local"


def test_auth_errors(deployment: Deployment, client: Client) -> None:
    assert client.post("/api/auth/jwt/login", json={}).status_code == 400
    # as ILS: the body is validated first, so an unknown account with a short password is a 400
    short = client.post("/api/auth/jwt/login", json={"email": "nobody@ils.local", "password": "nope"})
    assert short.status_code == 400 and short.json()["error"]["message"] == "Validation failed"
    wrong = client.post("/api/auth/login", json={"email": "lab@ils.local", "password": "nope"})
    assert wrong.status_code == 401 and wrong.json()["error"]["message"] == "Invalid email or password"
    assert client.get("/api/auth/jwt/me").json()["error"]["code"] == "NO_TOKEN"
    bad = client.get("/api/auth/jwt/me", headers={"Authorization": "Bearer not.a.token"})
    assert bad.status_code == 401 and bad.json()["error"]["code"] == "TOKEN_INVALID"
    expired = jwt.encode({"sub": "x", "type": "access", "exp": int(time.time()) - 60},
                         deployment.app_config["jwt_secret"], algorithm="HS256")
    late = client.get("/api/auth/jwt/me", headers={"Authorization": f"Bearer {expired}"})
    assert late.json()["error"]["code"] == "TOKEN_EXPIRED"
    assert client.get("/api/patients").status_code == 401


def test_lockout_after_five_failures(client: Client) -> None:
    attempt = {"email": f"locked-{time.time_ns()}@ils.local", "password": "wrong-password-1"}
    codes = [client.post("/api/auth/jwt/login", json=attempt).status_code for _ in range(6)]
    assert codes == [401] * 5 + [429]


def test_role_checks(deployment: Deployment, client: Client) -> None:
    ecp = deployment.login(client)["accessToken"]
    admin = deployment.login(client, "admin")["accessToken"]
    for path in ("/api/admin/users", "/api/admin/audit-logs", "/api/admin/stats"):
        assert client.get(path, headers={"Authorization": f"Bearer {ecp}"}).status_code == 403
        assert client.get(path, headers={"Authorization": f"Bearer {admin}"}).status_code == 200
    logs = client.get("/api/admin/audit-logs", headers={"Authorization": f"Bearer {admin}"}).json()
    assert any(entry["action"] == "login" for entry in logs["logs"])
    for path in ("/api/analytics/overview", "/api/bi/summary", "/api/clinical/reporting/reports"):
        assert client.get(path, headers={"Authorization": f"Bearer {ecp}"}).status_code == 200


# --- patients and orders ------------------------------------------------------------------------

def test_csrf_is_required_for_writes(deployment: Deployment, client: Client) -> None:
    auth = {"Authorization": f"Bearer {deployment.login(client)['accessToken']}"}
    refused = client.post("/api/patients", json={"name": "No Token"}, headers=auth)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "CSRF_TOKEN_INVALID"
    wrong = client.post("/api/patients", json={"name": "No Token"},
                        headers={**auth, "X-CSRF-Token": "forged"})
    assert wrong.status_code == 403


def test_create_patient_and_order(deployment: Deployment, client: Client) -> None:
    headers = {"Authorization": f"Bearer {deployment.login(client)['accessToken']}", **csrf(client)}
    patient = client.post("/api/patients", headers=headers, json={
        "name": "Test Patient", "dateOfBirth": "1980-02-03", "nhsNumber": "9434765919",
        "fullAddress": {"address": "1 Test Road", "city": "Leeds", "postcode": "LS1 1AA"}})
    assert patient.status_code == 201, patient.text
    assert patient.json()["customerNumber"].startswith("CUST-")
    assert client.post("/api/patients", headers=headers, json={"email": "x@y"}).status_code == 400

    order = client.post("/api/orders", headers=headers, json={
        "patientName": "Test Patient", "lensType": "Progressive", "lensMaterial": "Trivex",
        "coating": "Anti-Reflective", "odSphere": -1.5, "odAxis": 90, "pd": 63})
    assert order.status_code == 201, order.text
    number = order.json()["orderNumber"]
    assert order.json()["status"] == "pending"
    missing = client.post("/api/orders", headers=headers, json={"patientName": "X"})
    assert missing.status_code == 400
    found = client.get("/api/orders", headers=headers,
                       params={"search": number, "status": "pending", "limit": 5}).json()
    assert [o["orderNumber"] for o in found["orders"]] == [number]


# --- routes, headers, redirect, CORS ------------------------------------------------------------

def test_routes(client: Client) -> None:
    missing = client.get("/api/does-not-exist")
    assert missing.status_code == 404
    assert missing.json() == {"success": False, "error": {
        "code": "NOT_FOUND", "message": "Route GET /api/does-not-exist not found"}}
    spa = client.get("/some/client/route")
    assert spa.status_code == 200 and "text/html" in spa.headers["content-type"]
    assert client.get("/").status_code == 200
    assert client.get("/favicon.ico").status_code == 200
    assert client.get("/assets/app.js").status_code == 200
    assert client.delete("/api/health").status_code in (404, 405)
    assert "/api/orders" in client.get("/api/docs/openapi.json").json()["paths"]
    metrics = client.get("/metrics").text
    assert 'http_requests_total{method="GET",path="/api/health",status_code="200"}' in metrics
    assert "http_request_duration_seconds_bucket" in metrics


def test_security_headers(client: Client) -> None:
    headers = client.get("/").headers  # a fresh client: it is given a CSRF token too
    assert headers["content-security-policy"] == "default-src 'self'; base-uri 'self'; object-src 'none'"
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert headers["x-frame-options"] == "SAMEORIGIN"
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "no-referrer"
    assert "x-powered-by" not in headers and "server" not in headers
    csrf_cookie = headers["set-cookie"]
    assert csrf_cookie.startswith("csrf-token=") and "Secure" in csrf_cookie
    assert "SameSite=Strict" in csrf_cookie and "HttpOnly" not in csrf_cookie


def test_cors(deployment: Deployment, client: Client) -> None:
    foreign = client.get("/api/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in foreign.headers
    own = client.get("/api/health", headers={"Origin": deployment.base_url})
    assert own.headers["access-control-allow-origin"] == deployment.base_url


def test_http_redirects_to_https(deployment: Deployment) -> None:
    response = requests.get(f"{deployment.http_url}/patients?x=1", timeout=TIMEOUT,
                            allow_redirects=False)
    assert response.status_code == 301
    assert response.headers["location"] == f"{deployment.base_url}/patients?x=1"


# --- faults at run time -------------------------------------------------------------------------

def _get(deployment: Deployment, path: str, **kw: Any) -> requests.Response:
    with deployment.client() as c:
        return c.get(path, **kw)


HEADER_FAULTS = [
    ("no_hsts", lambda h: "strict-transport-security" not in h),
    ("weak_hsts", lambda h: h["strict-transport-security"] == "max-age=300"),
    ("no_csp", lambda h: "content-security-policy" not in h),
    ("no_xfo", lambda h: "x-frame-options" not in h),
    ("server_header_leak", lambda h: h["x-powered-by"] == "Express" and h["server"] == "nginx/1.18.0"),
]


@pytest.mark.parametrize(("fault", "seen"), HEADER_FAULTS, ids=[f for f, _ in HEADER_FAULTS])
def test_header_faults(deployment: Deployment, fault: str, seen: Any) -> None:
    deployment.set_faults(fault)
    assert seen(_get(deployment, "/").headers)


def test_health_faults(deployment: Deployment) -> None:
    deployment.set_faults("health_degraded")
    assert _get(deployment, "/api/health").json()["status"] == "degraded"
    deployment.set_faults("health_db_disconnected")
    assert _get(deployment, "/health").json()["database"] == "initializing"
    assert _get(deployment, "/api/health/detailed").json()["database"] == "disconnected"
    deployment.set_faults("not_ready")
    assert _get(deployment, "/health/ready").status_code == 503
    deployment.set_faults("redis_down")
    detailed = _get(deployment, "/api/health/detailed").json()
    assert (detailed["redis"], detailed["status"]) == ("down", "degraded")


def test_route_faults(deployment: Deployment) -> None:
    deployment.set_faults("unknown_api_200")
    assert _get(deployment, "/api/nothing-here").status_code == 200
    deployment.set_faults("delete_allowed")
    with deployment.client() as c:
        assert c.delete("/api/health").status_code == 200
    deployment.set_faults("homepage_500")
    assert _get(deployment, "/").status_code == 500
    deployment.set_faults("favicon_missing")
    assert _get(deployment, "/favicon.ico").status_code == 404
    deployment.set_faults("no_https_redirect")
    assert requests.get(f"{deployment.http_url}/", timeout=TIMEOUT).status_code == 200


def test_auth_faults(deployment: Deployment) -> None:
    deployment.set_faults("auth_open")
    assert _get(deployment, "/api/patients").status_code == 200
    deployment.set_faults("accepts_bad_password")
    with deployment.client() as c:
        assert c.post("/api/auth/jwt/login", json={"email": "lab@ils.local",
                                                   "password": "anything-at-all"}).status_code == 200
    deployment.set_faults("login_broken")
    with deployment.client() as c:
        assert c.post("/api/auth/jwt/login", json={
            "email": deployment.secrets["CUTOVER_LOCAL_ADMIN_EMAIL"],
            "password": deployment.secrets["CUTOVER_LOCAL_ADMIN_PASSWORD"]}).status_code == 500
    deployment.set_faults("insecure_cookie")
    with deployment.client() as c:
        cookie = c.post("/api/auth/jwt/login", json={
            "email": deployment.secrets["CUTOVER_LOCAL_ADMIN_EMAIL"],
            "password": deployment.secrets["CUTOVER_LOCAL_ADMIN_PASSWORD"]}).headers["set-cookie"]
    assert "Secure" not in cookie and "HttpOnly" not in cookie
    deployment.set_faults("cors_reflect")
    reflected = _get(deployment, "/api/health", headers={"Origin": "https://evil.example"}).headers
    assert reflected["access-control-allow-origin"] == "https://evil.example"
    assert reflected["access-control-allow-credentials"] == "true"
    deployment.set_faults("patients_500")
    with deployment.client() as c:
        token = deployment.login(c)["accessToken"]
        assert c.get("/api/patients", headers={"Authorization": f"Bearer {token}"}).status_code == 500


def test_access_control_faults(deployment: Deployment) -> None:
    with deployment.client() as c:
        ecp = {"Authorization": f"Bearer {deployment.login(c)['accessToken']}"}  # smoke is an ecp user
        assert c.get("/api/admin/users", headers=ecp).status_code == 403
        assert c.get("/api/debug").status_code == 404
        deployment.set_faults("admin_role_bypass")
        assert c.get("/api/admin/users", headers=ecp).status_code == 200
        assert _get(deployment, "/api/admin/users").status_code == 401  # anonymous: still refused
        deployment.set_faults("debug_path_exposed")
        for path in ("/api/debug", "/api/debug/env"):
            answer = c.get(path)
            assert answer.status_code == 200 and answer.json()["env"]["NODE_ENV"] == "production"
        password = deployment.app_config["database_url"].split(":")[2].split("@")[0]
        assert password and password not in c.get("/api/debug").text


def test_latency_faults(deployment: Deployment) -> None:
    deployment.set_faults("slow_health")
    started = time.monotonic()
    _get(deployment, "/api/health")
    assert time.monotonic() - started >= 1.4
    deployment.set_faults("hang")
    with pytest.raises(requests.exceptions.ReadTimeout):
        _get(deployment, "/api/health", timeout=1.0)


def _handshake(deployment: Deployment, verify: bool = True) -> dict[str, Any]:
    """A real TLS handshake as a checker makes it: SNI localhost, the deployment's CA."""
    context = ssl.create_default_context(cafile=deployment.ca)
    if not verify:
        context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    port = deployment.app_config["https_port"]
    with (socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
          context.wrap_socket(raw, server_hostname="localhost") as tls):
        return tls.getpeercert() or {"der": tls.getpeercert(binary_form=True)}


def _legacy_handshake(deployment: Deployment, version: ssl.TLSVersion) -> str | None:
    """The protocol a handshake offering only `version` completes with, or None if refused."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    context.set_ciphers("ALL:@SECLEVEL=0")
    context.minimum_version = context.maximum_version = version
    port = deployment.app_config["https_port"]
    try:
        with (socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
              context.wrap_socket(raw, server_hostname="localhost") as tls):
            return tls.version()
    except ssl.SSLError:
        return None


@pytest.mark.filterwarnings("ignore:ssl.TLSVersion.TLSv1:DeprecationWarning")  # legacy is the point
def test_tls_legacy_fault_accepts_tls_1_0_and_1_1(deployment: Deployment) -> None:
    legacy = (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1)
    assert [_legacy_handshake(deployment, v) for v in legacy] == [None, None]
    assert _legacy_handshake(deployment, ssl.TLSVersion.TLSv1_2) == "TLSv1.2"
    deployment.set_faults("tls_legacy_accepted")
    assert [_legacy_handshake(deployment, v) for v in legacy] == ["TLSv1", "TLSv1.1"]
    assert _handshake(deployment)["subjectAltName"]  # modern clients still verify the valid leaf
    deployment.set_faults("tls_legacy_accepted", "cert_wrong_host")  # orthogonal to the cert faults
    assert _legacy_handshake(deployment, ssl.TLSVersion.TLSv1) == "TLSv1"
    with pytest.raises(ssl.SSLCertVerificationError, match=r"[Hh]ostname"):
        _handshake(deployment)
    deployment.set_faults()
    assert _legacy_handshake(deployment, ssl.TLSVersion.TLSv1) is None


def test_tls_faults_switch_the_certificate(deployment: Deployment) -> None:
    assert _handshake(deployment)["subjectAltName"]  # the valid leaf verifies
    deployment.set_faults("cert_expired")
    with pytest.raises(ssl.SSLCertVerificationError, match="expired"):
        _handshake(deployment)
    deployment.set_faults("cert_wrong_host")
    with pytest.raises(ssl.SSLCertVerificationError, match=r"[Hh]ostname"):
        _handshake(deployment)
    deployment.set_faults("cert_untrusted")
    with pytest.raises(ssl.SSLCertVerificationError):
        _handshake(deployment)
    deployment.set_faults("cert_expiring_soon")
    not_after = ssl.cert_time_to_seconds(_handshake(deployment)["notAfter"])
    assert 4 * 86400 < not_after - time.time() < 6 * 86400
    deployment.set_faults()
    assert _handshake(deployment)["subjectAltName"]


# --- rate limits (last: they spend the window's budget) -----------------------------------------

def _burst_until_429(c: Any, path: str, first: Any) -> Any:
    """Requests until one is refused. A fixed window may reset mid-burst on a busy machine, so
    the burst goes on past the advertised remaining count, bounded by three windows' worth."""
    answer = first
    for _ in range(3 * int(first.headers["ratelimit-limit"]) + 1):
        answer = c.get(path)
        if answer.status_code == 429:
            return answer
    raise AssertionError(f"{path}: three windows' worth of requests and never a 429")


def test_rate_limit(deployment: Deployment) -> None:
    with deployment.client() as c:
        first = c.get("/api/auth/jwt/me")
        assert first.headers["ratelimit-policy"] == "300;w=10"  # the general /api limiter
        _burst_until_429(c, "/api/auth/jwt/me", first)
        limited = c.get("/api/auth/jwt/me")
        assert limited.status_code == 429 and "retry-after" in limited.headers
        assert set(limited.json()) == {"error", "retryAfter"}
        assert c.get("/api/health").status_code == 200  # health is exempt
        deployment.set_faults("rate_limit_off")
        assert c.get("/api/auth/jwt/me").status_code == 401


def test_failed_login_limiter_counts_failures_only(deployment: Deployment) -> None:
    """ILS's authRateLimiter (skipSuccessfulRequests): a refused sign-in spends one of the
    failed-login budget, a successful one gives its count back; its headers win on that path."""
    with deployment.client() as c:
        def remaining(response: Any) -> int:
            assert response.headers["ratelimit-policy"] == "1000;w=60", response.headers
            return int(response.headers["ratelimit-remaining"])

        wrong = {"email": f"nobody-{time.time_ns()}@example.invalid", "password": "wrong-password-1"}
        first = c.post("/api/auth/jwt/login", json=wrong)
        if int(first.headers["ratelimit-reset"]) < 10:  # all three steps inside one fixed window
            time.sleep(int(first.headers["ratelimit-reset"]) + 0.5)
            first = c.post("/api/auth/jwt/login", json=wrong)
        before = remaining(first)
        assert remaining(c.post("/api/auth/jwt/login", json=wrong)) == before - 1
        deployment.login(c)  # a success, counted while it runs, then taken back
        assert remaining(c.post("/api/auth/jwt/login", json=wrong)) == before - 2


def test_rate_limit_stuck_keeps_a_throttled_client_blocked_past_retry_after(deployment: Deployment
                                                                            ) -> None:
    deployment.set_faults("rate_limit_stuck")
    with deployment.client() as c:
        first = c.get("/api/auth/jwt/me")
        limited = _burst_until_429(c, "/api/auth/jwt/me", first)
        time.sleep(int(limited.headers["retry-after"]) + 1.0)
        c.close()  # a new connection: the server may close the idle one just as it is reused
        assert c.get("/api/auth/jwt/me").status_code == 429  # a healthy limiter lets it through
        deployment.set_faults()
        assert c.get("/api/auth/jwt/me").status_code == 401


# --- down (last) --------------------------------------------------------------------------------

def test_down_leaves_no_process(deployment: Deployment) -> None:
    pids = deployment.pids()
    assert len(pids) >= 4  # postgres (with its backends), redis, app
    assert deployment.cli("status").returncode == 0
    deployment.cli("down")
    deadline = time.monotonic() + 5
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert [pid for pid in pids if _alive(pid)] == []
    assert deployment.cli("status", check=False).returncode == 1


def test_a_spawned_server_stopped_by_pid_is_reaped_at_exit(monkeypatch: pytest.MonkeyPatch) -> None:
    # a Popen that never learnt its child ended warns "still running" when it is collected
    from ilsref import runtime

    server = subprocess.Popen([sys.executable, "-c", "raise SystemExit(0)"])
    monkeypatch.setattr(runtime, "_SPAWNED", [server])
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and runtime.alive(server.pid):  # ended, not yet reaped
        time.sleep(0.05)
    runtime._servers_outlive_us()
    assert server.returncode == 0
