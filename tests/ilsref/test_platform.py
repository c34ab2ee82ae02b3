"""The platform services of ilsref (monitoring, stand-ins, DNS, backups) run for real, answer the
APIs the checks use, and every fault visibly changes the answer.

A throwaway PostgreSQL and Redis, and an HTTPS /metrics stand-in in place of the ILS app, are
started here from the cookbook commands; nothing of the app's own services is used.
"""

from __future__ import annotations

import gzip
import json
import os
import shutil
import ssl
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import dns.message
import dns.query
import dns.rcode
import pytest
import trustme
import yaml

from ilsref.faults import FaultState
from ilsref.monitoring.rules import REQUIRED_ALERTS, UNKNOWN_METRIC
from ilsref.runtime import RunDir, alive, free_port, wait_for_port
from ilsref.services import backups, monitoring, standins
from ilsref.services import dns as dns_service
from ilsref.services.base import Context

PG_BIN = Path("/usr/lib/postgresql/15/bin")
WAIT_SECONDS = 20.0

METRICS = b"""# TYPE http_requests_total counter
http_requests_total{method="GET",path="/api/health",status_code="200"} 42
http_requests_total{method="GET",path="/api/orders",status_code="500"} 1
# TYPE http_request_duration_seconds histogram
http_request_duration_seconds_bucket{le="0.01"} 30
http_request_duration_seconds_bucket{le="0.1"} 41
http_request_duration_seconds_bucket{le="1"} 43
http_request_duration_seconds_bucket{le="10"} 43
http_request_duration_seconds_bucket{le="+Inf"} 43
http_request_duration_seconds_sum 0.9
http_request_duration_seconds_count 43
# TYPE db_connection_pool gauge
db_connection_pool{state="idle"} 4
"""


# ---------------------------------------------------------------- helpers


def wait_until(condition: Callable[[], Any], what: str, timeout: float = WAIT_SECONDS) -> Any:
    """Poll `condition` until it returns something truthy, at most `timeout` seconds."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = condition()
        if last:
            return last
        time.sleep(0.2)
    raise AssertionError(f"{what}: not true after {timeout:.0f} s (last value {last!r})")


def http(url: str, token: str | None = None, method: str = "GET", body: Any = None) -> tuple[int, bytes]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    data = None
    if body is not None:
        data = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    request = urllib.request.Request(url, data=data, headers=headers, method=method)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()
    except OSError:
        return 0, b""  # nothing answered


def get_json(url: str, token: str | None = None) -> Any:
    status, body = http(url, token)
    assert status == 200, f"GET {url} returned {status}: {body[:200]!r}"
    return json.loads(body)


def dns_answer(resolver: str, name: str, rtype: str = "A") -> tuple[str, list[tuple[str, int]]]:
    """(rcode, [(rdata, ttl)]) from one resolver 'host:port'."""
    host, port = resolver.split(":")
    reply = dns.query.udp(dns.message.make_query(name, rtype), host, port=int(port), timeout=2)
    return dns.rcode.to_text(reply.rcode()), [(str(rd), rrset.ttl) for rrset in reply.answer for rd in rrset]


class MetricsHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802
        self.send_response(200 if self.path == "/metrics" else 404)
        self.send_header("Content-Type", "text/plain; version=0.0.4")
        self.end_headers()
        self.wfile.write(METRICS)

    def log_message(self, *args: Any) -> None:
        pass


# ---------------------------------------------------------------- the platform


@dataclass
class Platform:
    ctx: Context
    pg_dir: Path
    cleanups: list[Callable[[], None]] = field(default_factory=list)
    stopped: bool = False

    @property
    def env(self) -> dict[str, Any]:
        return self.ctx.environment

    def faults(self, *names: str) -> None:
        self.ctx.faults.write(set(names))
        time.sleep(0.01)  # distinct mtimes for back-to-back writes

    def our_processes(self) -> set[int]:
        """Pids recorded in the run directory plus any process whose argv names our directories."""
        pids = set(self.ctx.run.processes().values())
        markers = (str(self.ctx.run.path), str(self.pg_dir))
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    argv = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
                except OSError:
                    continue
                if any(marker in argv for marker in markers):
                    pids.add(int(entry.name))
        return {pid for pid in pids if pid != os.getpid()}

    def stop(self) -> set[int]:
        """Stop everything; returns the processes still alive afterwards (should be none)."""
        watched = self.our_processes()
        if not self.stopped:
            self.stopped = True
            self.ctx.run.stop_all()
            for cleanup in reversed(self.cleanups):
                cleanup()
        return {pid for pid in watched if alive(pid)}


def start_postgres(directory: Path) -> tuple[int, Callable[[], None]]:
    data = directory / "data"
    data.mkdir()
    shutil.chown(data, "postgres", "postgres")
    port = free_port()
    as_postgres = ["runuser", "-u", "postgres", "--"]
    subprocess.run([*as_postgres, str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres", "-A", "trust",
                    "--no-sync"], check=True, capture_output=True, timeout=60)
    options = f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-w",
                    "-l", str(data / "server.log"), "start", "-o", options],
                   check=True, capture_output=True, timeout=60)

    def stop() -> None:
        subprocess.run([*as_postgres, str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop"],
                       capture_output=True, timeout=60)

    psql = [str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres",
            "-v", "ON_ERROR_STOP=1"]
    subprocess.run([*psql, "-c", "CREATE USER ils_user PASSWORD 'ils-pass'", "-c",
                    "CREATE DATABASE ils_db OWNER ils_user"], check=True, capture_output=True, timeout=30)
    schema = """
        CREATE TABLE patients (id serial PRIMARY KEY, customer_number text UNIQUE NOT NULL, name text);
        CREATE TABLE orders (id serial PRIMARY KEY, order_number text UNIQUE NOT NULL,
                             patient_id int REFERENCES patients, status text DEFAULT 'pending');
        INSERT INTO patients (customer_number, name)
            SELECT 'C' || g, 'Patient ' || g FROM generate_series(1, 200) g;
        INSERT INTO orders (order_number, patient_id) SELECT 'O' || g, g FROM generate_series(1, 200) g;
    """
    subprocess.run([*psql[:-2], "-d", "ils_db", "-U", "ils_user", "-c", schema], check=True,
                   capture_output=True, timeout=30, env={**os.environ, "PGPASSWORD": "ils-pass"})
    return port, stop


def start_metrics_target(directory: Path) -> tuple[int, Path, Callable[[], None]]:
    authority = trustme.CA()
    ca_pem = directory / "ca.pem"
    authority.cert_pem.write_to_path(str(ca_pem))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    authority.issue_cert("localhost", "127.0.0.1").configure_cert(context)
    port = free_port()
    server = ThreadingHTTPServer(("127.0.0.1", port), MetricsHandler)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()

    def stop() -> None:
        server.shutdown()
        server.server_close()

    return port, ca_pem, stop


@pytest.fixture(scope="module")
def platform(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    run = RunDir(tmp_path_factory.mktemp("ilsref"))
    run.prepare()
    (run.path / "run").mkdir()
    # PostgreSQL runs as `postgres`, which cannot enter pytest's private tmp directory.
    pg_dir = Path(tempfile.mkdtemp(prefix="ilsref-platform-pg-"))
    pg_dir.chmod(0o755)
    ctx = Context(run=run, faults=FaultState(run.path / "run" / "faults.json"), release="2.0.0")
    platform = Platform(ctx, pg_dir)
    platform.cleanups.append(lambda: shutil.rmtree(pg_dir, ignore_errors=True))
    try:
        pg_port, stop_pg = start_postgres(pg_dir)
        platform.cleanups.append(stop_pg)
        redis_port = free_port()
        run.spawn("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(redis_port), "--save", "",
                            "--appendonly", "no", "--requirepass", "redis-pass", "--dir", str(pg_dir)])
        wait_for_port(redis_port)
        app_port, ca_pem, stop_app = start_metrics_target(run.path)
        platform.cleanups.append(stop_app)
        ctx.facts.update(
            postgres_port=pg_port,
            postgres_dsn=f"postgresql://ils_user:ils-pass@127.0.0.1:{pg_port}/ils_db",
            postgres_admin_dsn=f"postgresql://postgres@127.0.0.1:{pg_port}/postgres",
            pg_bin=str(PG_BIN),
            redis_port=redis_port,
            redis_url=f"redis://:redis-pass@127.0.0.1:{redis_port}/0",
            app_https_port=app_port,
            app_base_url=f"https://localhost:{app_port}",
            ca_pem=str(ca_pem),
        )
        for service in (standins, monitoring, dns_service, backups):
            service.start(ctx)
        yield platform
    finally:
        platform.stop()


# ---------------------------------------------------------------- monitoring


def target_health(platform: Platform) -> dict[str, str]:
    targets = get_json(f"{platform.env['prometheus']['url']}/api/v1/targets")["data"]["activeTargets"]
    return {t["labels"]["job"]: t["health"] for t in targets}


def loaded_rules(platform: Platform) -> dict[str, str]:
    """alert name -> expression, as Prometheus has loaded them."""
    groups = get_json(f"{platform.env['prometheus']['url']}/api/v1/rules?type=alert")["data"]["groups"]
    return {rule["name"]: rule["query"] for group in groups for rule in group["rules"]}


def alertmanager_config(platform: Platform) -> dict[str, Any]:
    status = get_json(f"{platform.env['alertmanager']['url']}/api/v2/status")
    return yaml.safe_load(status["config"]["original"])


def routed_receiver_integrations(config: dict[str, Any]) -> list[str]:
    receiver = next(r for r in config["receivers"] if r["name"] == config["route"]["receiver"])
    return [key for key, value in receiver.items() if key.endswith("_configs") and value]


def test_environment_names_prometheus_and_alertmanager(platform: Platform) -> None:
    assert platform.env["prometheus"]["expected_targets"] == ["ils-app", "postgres", "redis"]
    assert set(platform.env["prometheus"]["required_alerts"]) == set(REQUIRED_ALERTS)
    assert platform.env["alertmanager"]["url"].startswith("http://127.0.0.1:")


def test_prometheus_is_ready(platform: Platform) -> None:
    assert http(f"{platform.env['prometheus']['url']}/-/ready")[0] == 200


def test_prometheus_scrapes_every_target(platform: Platform) -> None:
    expected = {"ils-app", "postgres", "redis", "prometheus"}
    wait_until(lambda: target_health(platform) == dict.fromkeys(expected, "up"), "all targets up")


def test_prometheus_has_series_from_app_and_exporters(platform: Platform) -> None:
    url = f"{platform.env['prometheus']['url']}/api/v1/query?query="
    for metric in ("http_requests_total", "pg_settings_max_connections", "redis_up"):
        wait_until(lambda m=metric: get_json(url + m)["data"]["result"], f"series {metric}")  # type: ignore[misc]


def test_prometheus_loaded_the_required_alert_rules(platform: Platform) -> None:
    rules = wait_until(lambda: loaded_rules(platform), "rules loaded")
    assert set(REQUIRED_ALERTS) <= set(rules)


def test_alertmanager_is_ready_and_routes_to_a_receiver_with_an_integration(platform: Platform) -> None:
    assert http(f"{platform.env['alertmanager']['url']}/-/ready")[0] == 200
    assert routed_receiver_integrations(alertmanager_config(platform)) == ["webhook_configs"]


def test_alertmanager_accepts_a_test_alert_and_delivers_it(platform: Platform) -> None:
    url = platform.env["alertmanager"]["url"]
    alert = {"labels": {"alertname": "CutoverSelfTest", "severity": "info"},
             "annotations": {"summary": "posted by test_platform"}}
    assert http(f"{url}/api/v2/alerts", method="POST", body=[alert])[0] == 200
    listed = get_json(f"{url}/api/v2/alerts?filter=alertname%3D%22CutoverSelfTest%22")
    assert [a["labels"]["alertname"] for a in listed] == ["CutoverSelfTest"]
    sink = platform.ctx.facts["alert_sink_url"]
    wait_until(lambda: any(a["labels"]["alertname"] == "CutoverSelfTest"
                           for n in get_json(sink) for a in n["alerts"]), "webhook delivery")


# ---------------------------------------------------------------- stand-ins


def secret(platform: Platform, component: str, key: str = "token_env") -> str:
    return platform.ctx.secrets[platform.env[component][key]]


def test_grafana_health_is_public_and_dashboards_need_the_token(platform: Platform) -> None:
    url = platform.env["grafana"]["url"]
    assert get_json(f"{url}/api/health") == {"commit": "d94d597d84", "database": "ok", "version": "10.4.1"}
    assert http(f"{url}/api/search?type=dash-db&query=")[0] == 401
    hits = get_json(f"{url}/api/search?type=dash-db&query=", secret(platform, "grafana"))
    overview = next(h for h in hits if h["title"] == "ILS 2.0 Overview")
    assert overview["type"] == "dash-db" and overview["url"].startswith(f"/d/{overview['uid']}/")
    board = get_json(f"{url}/api/dashboards/uid/{overview['uid']}", secret(platform, "grafana"))
    assert {p["title"] for p in board["dashboard"]["panels"]} >= {"Request rate", "P95 latency", "Error rate"}


def test_sentry_project_and_issues_need_the_token(platform: Platform) -> None:
    env = platform.env["sentry"]
    project_url = f"{env['url']}/api/0/projects/{env['org']}/{env['project']}/"
    assert http(project_url)[0] == 401
    assert get_json(project_url, secret(platform, "sentry"))["slug"] == "ils-app"
    issues = get_json(f"{project_url}issues/?query=is:unresolved", secret(platform, "sentry"))
    assert issues and all(i["status"] == "unresolved" for i in issues)
    assert {"level", "status", "count", "firstSeen", "lastSeen", "title"} <= set(issues[0])
    assert not [i for i in issues if i["level"] in ("fatal", "error")]


def test_sentry_dsn_accepts_events(platform: Platform) -> None:
    dsn = secret(platform, "sentry", "dsn_env")
    key, _, rest = dsn.removeprefix("http://").partition("@")
    host, _, project_id = rest.partition("/")
    status, _ = http(f"http://{host}/api/{project_id}/store/?sentry_key={key}", method="POST",
                     body={"message": "x"})
    assert status == 200


def recent_log_lines(platform: Platform) -> list[str]:
    env = platform.env["logs"]
    now = time.time_ns()
    query = urllib.parse.urlencode({"query": env["query"], "start": now - 3600 * 10**9, "end": now,
                                    "limit": 50})
    answer = get_json(f"{env['url']}/loki/api/v1/query_range?{query}")
    assert answer["status"] == "success" and answer["data"]["resultType"] == "streams"
    return [line for stream in answer["data"]["result"] for _, line in stream["values"]]


def test_log_store_is_ready_and_has_recent_app_lines(platform: Platform) -> None:
    assert http(f"{platform.env['logs']['url']}/ready") == (200, b"ready\n")
    assert len(recent_log_lines(platform)) == 50


# ---------------------------------------------------------------- DNS and backups


def test_both_resolvers_answer_the_configured_records(platform: Platform) -> None:
    env = platform.env["dns"]
    assert len(env["resolvers"]) == 2
    for resolver in env["resolvers"]:
        for record in env["records"]:
            rcode, answers = dns_answer(resolver, record["name"], record["type"])
            assert rcode == "NOERROR"
            assert [value for value, _ in answers] == record["expect"]
            assert all(ttl <= env["ttl_max"] for _, ttl in answers)
        assert dns_answer(resolver, "nothing.example.test")[0] == "NXDOMAIN"


def test_backups_are_real_and_restorable(platform: Platform) -> None:
    env = platform.env["backups"]
    files = sorted(Path(env["directory"]).glob(env["pattern"]))
    assert len(files) == 8  # today and 1, 2, 3 days ago, each as .dump and .sql.gz
    newest = backups.newest(Path(env["directory"]))
    dump = next(p for p in newest if p.suffix == ".dump")
    listing = subprocess.run([str(PG_BIN / "pg_restore"), "--list", str(dump)], capture_output=True,
                             text=True, timeout=30)
    assert listing.returncode == 0 and "TABLE public patients" in listing.stdout
    sql = gzip.decompress(next(p for p in newest if p.name.endswith(".sql.gz")).read_bytes()).decode()
    assert "CREATE TABLE public.orders" in sql
    oldest_age_hours = (time.time() - min(p.stat().st_mtime for p in files)) / 3600
    assert 71 < oldest_age_hours < 73


# ---------------------------------------------------------------- faults


def prometheus_ready(platform: Platform) -> bool:
    return http(f"{platform.env['prometheus']['url']}/-/ready")[0] == 200


# fault -> a probe that is true while the fault shows in what the service answers
LIVE_FAULTS: dict[str, Callable[[Platform], bool]] = {
    "prom_target_down": lambda p: target_health(p).get("redis") == "down",
    "prom_missing_rule": lambda p: "HighErrorRate" not in loaded_rules(p),
    "prom_rule_unknown_metric": lambda p: UNKNOWN_METRIC in loaded_rules(p).get("HighRequestRate", ""),
    "am_no_receiver": lambda p: routed_receiver_integrations(alertmanager_config(p)) == [],
    "prom_down": lambda p: not prometheus_ready(p),
    "grafana_down": lambda p: http(f"{p.env['grafana']['url']}/api/health")[0] == 503,
    "grafana_missing_dashboard": lambda p: "ILS 2.0 Overview" not in [
        h["title"] for h in get_json(f"{p.env['grafana']['url']}/api/search?type=dash-db&query=",
                                     secret(p, "grafana"))],
    "sentry_unreachable": lambda p: http(
        f"{p.env['sentry']['url']}/api/0/projects/ils/ils-app/", secret(p, "sentry"))[0] >= 500,
    "sentry_critical_issue": lambda p: any(
        i["level"] == "fatal" for i in get_json(
            f"{p.env['sentry']['url']}/api/0/projects/ils/ils-app/issues/?query=is:unresolved%20release:2.0.0",
            secret(p, "sentry"))),
    "logs_not_ready": lambda p: http(f"{p.env['logs']['url']}/ready")[0] == 503,
    "logs_stale": lambda p: recent_log_lines(p) == [],
    "logs_error_lines": lambda p: any("ERROR" in line and "OrderService.ts" in line
                                      for line in recent_log_lines(p)),
    "dns_disagree": lambda p: [dns_answer(r, "ils.example.test")[1][0][0] for r in p.env["dns"]["resolvers"]]
    == ["127.0.0.1", "127.0.0.2"],
    "dns_nxdomain": lambda p: {dns_answer(r, "ils.example.test")[0] for r in p.env["dns"]["resolvers"]}
    == {"NXDOMAIN"},
    "dns_ttl_huge": lambda p: dns_answer(p.env["dns"]["resolvers"][0], "ils.example.test")[1][0][1] == 604800,
}


def test_every_platform_fault_has_a_live_test() -> None:
    declared = {f.name for module in (monitoring, standins, dns_service) for f in module.FAULTS}
    assert declared == set(LIVE_FAULTS)
    assert all(f.restart for f in backups.FAULTS)


@pytest.mark.parametrize("fault", list(LIVE_FAULTS))
def test_fault_toggles_at_run_time(platform: Platform, fault: str) -> None:
    shows = LIVE_FAULTS[fault]
    assert not shows(platform), f"{fault} already visible before it was set"
    platform.faults(fault)
    try:
        wait_until(lambda: shows(platform), f"{fault} visible after set")
    finally:
        platform.faults()
    wait_until(lambda: not shows(platform), f"{fault} gone after clear")
    if fault == "prom_down":
        wait_until(lambda: target_health(platform).get("prometheus") == "up", "prometheus scraped again")


def restore_fails(dump: Path) -> bool:
    listing = subprocess.run([str(PG_BIN / "pg_restore"), "--list", str(dump)], capture_output=True,
                             timeout=30)
    return listing.returncode != 0


BACKUP_FAULTS: dict[str, Callable[[Path], bool]] = {
    "backup_missing": lambda d: list(d.iterdir()) == [],
    "backup_stale": lambda d: min(time.time() - p.stat().st_mtime for p in d.iterdir()) > 71 * 3600,
    "backup_tiny": lambda d: all(p.stat().st_size < 100 for p in backups.newest(d)),
    "backup_corrupt": lambda d: restore_fails(next(p for p in backups.newest(d) if p.suffix == ".dump"))
    and all(p.stat().st_size > 1000 for p in backups.newest(d)),
}


@pytest.mark.parametrize("fault", list(BACKUP_FAULTS))
def test_backup_fault_breaks_a_copy_of_the_backups(platform: Platform, tmp_path: Path, fault: str) -> None:
    shutil.copytree(backups.backup_dir(platform.ctx.run.path), backups.backup_dir(tmp_path))
    copy = backups.backup_dir(tmp_path)
    for original in backups.backup_dir(platform.ctx.run.path).iterdir():  # copytree keeps mtimes
        assert (copy / original.name).stat().st_mtime == original.stat().st_mtime
    assert not BACKUP_FAULTS[fault](copy)
    backups.apply_fault(tmp_path, fault)
    assert BACKUP_FAULTS[fault](copy)
    if fault == "backup_corrupt":
        with pytest.raises((OSError, EOFError, zlib.error)):
            gzip.decompress(next(p for p in backups.newest(copy) if p.name.endswith(".gz")).read_bytes())


# ---------------------------------------------------------------- shutdown (keep last)


def test_everything_stops_and_no_process_is_left(platform: Platform) -> None:
    assert len(platform.our_processes()) >= 7  # exporters, supervisor + 2 servers, stand-ins, dns, ...
    assert platform.stop() == set()


def test_waiting_for_a_port_stops_at_once_when_its_server_has_exited() -> None:
    server = subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])
    server.wait(timeout=30)
    # a TimeoutError after the whole wait would mean the dead process was not noticed
    with pytest.raises(RuntimeError, match="exited with 3 before listening"):
        wait_for_port(free_port(), timeout=60, process=server)
