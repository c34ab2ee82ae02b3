"""The platform readiness checks against the reference platform: healthy -> GO; every fault switch
-> NO-GO naming the check that sees it (with the finding in its message); a component missing from
the configuration -> not verified, declared not applicable -> not applicable, never passed;
kubectl works against the Kubernetes emulator.

Runtime faults use the session's ilsref (conftest `ilsref`); faults that act only at `up` get
instances of their own (one with six faults, two PostgreSQL-only ones); backup faults are applied
to a copy-restored backup directory of the session instance.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest

from conftest import GENEROUS_LIMITS
from ilsref.launcher import to_toml
from ilsref.services import backups as backup_service

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
RUN_TIMEOUT_S = 120
ATTEMPTS, RETRY_PAUSE_S = 4, 2.0  # a fault reaches Prometheus/Alertmanager after a reload

R = "readiness/"
K8S, ROLLOUT = R + "test_kubernetes_workload.py", R + "test_kubernetes_rollout.py"
PG, REDIS, BACKUPS = R + "test_postgresql.py", R + "test_redis.py", R + "test_backups.py"
PROM, ALERTS = R + "test_monitoring_prometheus.py", R + "test_monitoring_alerting.py"
OBS, DNS, TLS, CDN = (R + "test_observability_services.py", R + "test_dns.py",
                      R + "test_tls_deep.py", R + "test_cdn.py")
MODULES = (K8S, ROLLOUT, PG, REDIS, BACKUPS, PROM, ALERTS, OBS, DNS, TLS, CDN)


@dataclass(frozen=True)
class Run:
    returncode: int
    seconds: float
    verdict: dict[str, Any]
    output: str

    @property
    def checks(self) -> dict[str, dict[str, Any]]:
        return {c["nodeid"]: c for c in self.verdict.get("checks", [])}

    def outcome(self, nodeid_part: str) -> list[tuple[str, str, str]]:
        return [(n, c["outcome"], c["message"]) for n, c in self.checks.items() if nodeid_part in n]

    def explain(self) -> str:
        return (f"exit {self.returncode} in {self.seconds:.1f} s; {self.verdict.get('decision')}; "
                f"reasons {self.verdict.get('reasons', [])[:6]}; tail {self.output[-800:]}")


class Platform:
    """An ilsref home, the environment to run in, and a cutover.toml pointing at it."""

    def __init__(self, home: Path, workdir: Path, env: dict[str, str], extra: str = "") -> None:
        self.home, self.workdir, self.env = home, workdir, env
        self.config = workdir / "readiness-cutover.toml"
        self.write_config(home / "run" / "local.toml", extra)
        self._runs = 0

    def write_config(self, include: Path, extra: str = "", name: str | None = None) -> Path:
        path = self.workdir / (name or "readiness-cutover.toml")
        path.write_text('[cutover]\ndefault_environment = "local"\n\n[environments.local]\n'
                        f'kind = "other"\ninclude = "{include}"\n{extra}')
        return path

    def ilsref(self, *args: str) -> str:
        done = subprocess.run([PYTHON, "-m", "ilsref", *args], cwd=REPO, env=self.env,
                              capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"ilsref {' '.join(args)}: {done.stderr[-1500:]}"
        return done.stdout

    def run(self, *modules: str, config: Path | None = None, only: tuple[str, ...] = ()) -> Run:
        """`pytest -m readiness MODULES` (only the checks named in `only`, when given)."""
        self._runs += 1
        reports = self.workdir / f"readiness-{self._runs}"
        select = ["-k", " or ".join(sorted(set(only)))] if only else []
        command = [PYTHON, "-m", "pytest", "-m", "readiness", *modules, *select,
                   f"--cutover-config={config or self.config}", "--cutover-env=local",
                   "-p", "no:cacheprovider", f"--cutover-reports={reports}",
                   f"--html={reports / 'r.html'}", f"--junitxml={reports / 'junit.xml'}", "-q"]
        started = time.monotonic()
        done = subprocess.run(command, cwd=REPO, env=self.env, capture_output=True, text=True,
                              timeout=RUN_TIMEOUT_S, check=False)
        verdict_file = reports / "verdict.json"
        verdict = json.loads(verdict_file.read_text()) if verdict_file.exists() else {}
        return Run(done.returncode, time.monotonic() - started, verdict, done.stdout + done.stderr)

    def settle_monitoring(self, timeout_s: float = 40.0) -> None:
        """After a monitoring fault is cleared: Prometheus ready again and every target up."""
        import urllib.request

        url = tomllib.loads((self.home / "run" / "local.toml").read_text())["prometheus"]["url"]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{url}/api/v1/targets", timeout=2) as answer:
                    targets = json.load(answer)["data"]["activeTargets"]
                if targets and all(t["health"] == "up" for t in targets):
                    return
            except OSError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"Prometheus did not settle within {timeout_s:.0f} s")


@pytest.fixture(scope="session")
def platform(ilsref: Any, tmp_path_factory: pytest.TempPathFactory) -> Platform:
    """The session's ilsref (conftest), driven through its own readiness config."""
    return Platform(ilsref.home, tmp_path_factory.mktemp("readiness-runs"), dict(ilsref.env))


def _own_instance(tmp_path_factory: pytest.TempPathFactory, base_env: dict[str, str],
                  *up_args: str, extra: str = "") -> Platform:
    """A deployment of this module's own, started with `up_args` (e.g. --faults)."""
    home = tmp_path_factory.mktemp("ilsref-readiness")
    instance = Platform(home, home, {**base_env, "ILSREF_HOME": str(home)}, extra)
    instance.ilsref("up", "--test-mode", *GENEROUS_LIMITS, *up_args)
    return instance


# --- healthy ---------------------------------------------------------------------------------

@pytest.fixture(scope="session")
def healthy(platform: Platform) -> Run:
    platform.settle_monitoring()
    return platform.run(*MODULES)


def test_healthy_platform_is_go(healthy: Run) -> None:
    assert healthy.returncode == 0 and healthy.verdict["decision"] == "GO", healthy.explain()


def test_healthy_run_passes_checks_of_every_module(healthy: Run) -> None:
    passed = {n.split("::")[0] for n, c in healthy.checks.items() if c["outcome"] == "passed"}
    assert passed == set(MODULES) - {CDN}, healthy.explain()
    assert len([c for c in healthy.checks.values() if c["outcome"] == "passed"]) >= 55


def test_healthy_run_declares_the_cdn_not_applicable_with_the_reason(healthy: Run) -> None:
    cdn = healthy.outcome(CDN)
    assert cdn and all(o == "not_applicable" and "without a CDN" in m for _, o, m in cdn), cdn


def test_healthy_run_shows_the_infrastructure_items_in_the_matrix(healthy: Run,
                                                                  platform: Platform) -> None:
    linked = {i for c in healthy.checks.values() for i in c["checklist"]}
    for item in ("infra.kubernetes-cluster", "infra.postgresql", "infra.redis", "infra.dns",
                 "infra.tls-certificates", "infra.backups", "infra.monitoring-stack",
                 "infra.log-aggregation", "infra.cdn", "sec.sentry", "deploy.rollout-complete",
                 "post.alerts-working", "week1.daily-backups", "t24.legacy-backup"):
        assert item in linked, f"{item} is linked to no check that ran"
    html = next(platform.workdir.glob("readiness-*/r.html")).read_text()
    assert "infra.kubernetes-cluster" in html


# --- faults: batched so that one run shows several, each seen through its own finding ---------
#
# Faults in one batch break different checks and do not touch each other's objects; each case
# names the check that must fail and a piece of its message that only that fault produces, so a
# batch proves every one of its faults individually, in one run of seconds.

@dataclass(frozen=True)
class Case:
    fault: str
    module: str
    check: str  # the test name that must fail
    finding: str  # a piece of its message that shows this fault was seen


def _not_seen(run: Run, cases: list[Case]) -> list[str]:
    missing = []
    for case in cases:
        failing = [m for _, o, m in run.outcome(f"{case.module}::{case.check}")
                   if o in ("failed", "error")]
        named = any(case.check in reason for reason in run.verdict.get("reasons", []))
        if not (named and any(case.finding in m for m in failing)):
            missing.append(f"{case.fault}: {case.check} did not fail with {case.finding!r} "
                           f"(got {run.outcome(case.check)})")
    return missing


def _run_until_seen(platform: Platform, cases: list[Case], attempts: int = ATTEMPTS,
                    also: tuple[str, ...] = ()) -> Run:
    """Run the batch's checks until every case is seen (bounded: a fault reaches Prometheus and
    Alertmanager after a reload, a transaction must grow old). Only the named checks run, so a
    fault's side effects elsewhere (a rollout that cannot finish) cost no waiting."""
    modules = sorted({c.module for c in cases} | ({ROLLOUT} if also else set()))
    for attempt in range(attempts):
        run = platform.run(*modules, only=tuple(c.check for c in cases) + also)
        if not _not_seen(run, cases):
            break
        if attempt + 1 < attempts:
            time.sleep(RETRY_PAUSE_S)
    return run


def _assert_seen(run: Run, cases: list[Case]) -> None:
    assert run.verdict.get("decision") == "NO-GO" and run.returncode == 1, run.explain()
    missing = _not_seen(run, cases)
    assert not missing, "; ".join(missing) + f" | {run.explain()}"


RUNTIME_BATCHES = {
    "workload-and-services": [
        Case("k8s_latest_tag", K8S, "test_image_tag_is_pinned", ":latest"),
        Case("k8s_no_probes", K8S, "test_liveness_and_readiness_probes_are_present", "no livenessProbe"),
        Case("k8s_no_limits", K8S, "test_containers_set_resource_requests_and_limits", "limits.cpu"),
        Case("k8s_no_hpa", K8S, "test_autoscaler_is_present_with_sensible_bounds", "does not exist"),
        Case("k8s_no_pdb", K8S, "test_disruption_budget_is_present", "does not exist"),
        Case("k8s_ingress_no_tls", K8S, "test_ingress_tls_covers_the_public_host", "no host"),
        Case("k8s_no_endpoints", K8S, "test_service_has_ready_endpoints", "no ready endpoint"),
        Case("k8s_crashloop", K8S, "test_no_pod_is_crash_looping_or_failing_to_start",
             "CrashLoopBackOff"),
        Case("prom_missing_rule", PROM, "test_required_alert_rules_are_loaded", "HighErrorRate"),
        Case("prom_rule_unknown_metric", PROM, "test_every_metric_an_alert_uses_exists",
             "http_requests_count_total"),
        Case("am_no_receiver", ALERTS, "test_default_route_reaches_a_receiver_that_notifies",
             "no integration"),
        Case("grafana_missing_dashboard", OBS, "test_required_grafana_dashboards_exist",
             "ILS 2.0 Overview"),
        Case("sentry_critical_issue", OBS, "test_no_unresolved_fatal_issue_in_this_release",
             "TypeError"),
        Case("logs_stale", OBS, "test_log_store_holds_recent_app_lines", "no line"),
        Case("dns_ttl_huge", DNS, "test_ttls_are_within_bounds", "604800"),
        Case("cert_wrong_host", TLS, "test_certificate_names_the_host", "wrong.example.net"),
    ],
    "pods-and-outages": [
        Case("k8s_image_pull", K8S, "test_no_pod_is_crash_looping_or_failing_to_start",
             "ImagePullBackOff"),
        Case("k8s_same_probes", K8S, "test_liveness_and_readiness_probes_are_distinct", "same probe"),
        Case("k8s_pdb_blocks", K8S, "test_disruption_budget_allows_a_voluntary_disruption", "allows 0"),
        Case("k8s_restarts", ROLLOUT, "test_pods_of_the_new_revision_have_not_restarted", "restarted"),
        Case("prom_target_down", PROM, "test_every_expected_scrape_target_is_up", "redis"),
        Case("grafana_down", OBS, "test_grafana_is_healthy", "503"),
        Case("sentry_unreachable", OBS, "test_sentry_project_is_reachable", "503"),
        Case("logs_not_ready", OBS, "test_log_store_is_ready", "503"),
        Case("dns_disagree", DNS, "test_all_resolvers_agree", "127.0.0.2"),
        Case("cert_untrusted", TLS, "test_chain_is_trusted_by_the_ca_bundle", "not trusted"),
    ],
    "down-and-expired": [
        Case("k8s_single_replica", K8S, "test_deployment_runs_at_least_the_minimum_replicas",
             "runs 1 replica"),
        Case("prom_down", PROM, "test_prometheus_is_ready", "/-/ready"),
        Case("dns_nxdomain", DNS, "test_each_name_resolves_as_expected_on_every_resolver", "NXDOMAIN"),
        Case("cert_expired", TLS, "test_certificate_is_far_enough_from_expiry", "critical threshold"),
    ],
    "expiring": [
        Case("cert_expiring_soon", TLS, "test_certificate_is_far_enough_from_expiry",
             "critical threshold"),
        Case("tls_legacy_accepted", TLS, "test_versions_below_the_minimum_are_refused",
             "accepts TLSv1, TLSv1.1"),
    ],
}
MONITORING_FAULTS = {"prom_down", "prom_target_down", "prom_missing_rule",
                     "prom_rule_unknown_metric", "am_no_receiver"}
ERROR_LOGS = "test_recent_pod_logs_show_no_error_patterns"


@pytest.mark.parametrize("batch", list(RUNTIME_BATCHES))
def test_runtime_faults_fail_their_checks(platform: Platform, healthy: Run, batch: str) -> None:
    cases = RUNTIME_BATCHES[batch]
    faults = [c.fault for c in cases] + (["k8s_error_logs"] if batch == "pods-and-outages" else [])
    platform.ilsref("fault", "set", *faults)
    try:
        run = _run_until_seen(platform, cases, also=(ERROR_LOGS,) if "k8s_error_logs" in faults else ())
    finally:
        platform.ilsref("fault", "clear", *faults)
        if MONITORING_FAULTS & set(faults):
            platform.settle_monitoring()
    _assert_seen(run, cases)
    if "k8s_error_logs" in faults:  # a warning, never a blocker
        assert [o for _, o, _ in run.outcome(ERROR_LOGS)] == ["failed"], run.explain()
        assert any(ERROR_LOGS in w and "(non-blocking) failed" in w for w in run.verdict["warnings"])
        assert not any(ERROR_LOGS in r for r in run.verdict["reasons"])


# --- backup faults: applied to the session's backup directory, restored afterwards -----------

BACKUP_BATCHES = {
    "stale-and-corrupt": [
        Case("backup_stale", BACKUPS, "test_newest_backup_is_recent", "critical threshold"),
        Case("backup_corrupt", BACKUPS, "test_newest_archives_read_back_completely",
             "do not read back"),
    ],
    "tiny": [Case("backup_tiny", BACKUPS, "test_newest_backup_size_is_plausible_for_the_database",
                  "of table data")],
    "missing": [Case("backup_missing", BACKUPS, "test_newest_backup_is_recent", "no backup found")],
}


@pytest.mark.parametrize("batch", list(BACKUP_BATCHES))
def test_backup_faults_fail_their_checks(platform: Platform, healthy: Run, batch: str) -> None:
    directory = backup_service.backup_dir(platform.home)
    saved = platform.workdir / "backups-saved"
    shutil.rmtree(saved, ignore_errors=True)
    shutil.copytree(directory, saved)  # copy2 keeps the modification times backups are judged by
    try:
        for case in BACKUP_BATCHES[batch]:
            backup_service.apply_fault(platform.home, case.fault)
        run = platform.run(BACKUPS)
    finally:
        shutil.rmtree(directory)
        shutil.copytree(saved, directory)
    _assert_seen(run, BACKUP_BATCHES[batch])


# --- faults that act at `up`: instances of their own -----------------------------------------

UP_FAULTS = [
    Case("migration_behind", PG, "test_migration_head_is_the_release_head", "last applied migration"),
    Case("db_app_superuser", PG, "test_application_role_is_not_a_superuser", "a superuser"),
    Case("db_connections_high", PG, "test_connection_usage_within_thresholds", "critical threshold"),
    Case("db_long_transaction", PG, "test_no_long_running_transactions", "open longer than"),
    Case("redis_no_auth", REDIS, "test_anonymous_clients_are_refused", "accepted"),
    Case("redis_noeviction", REDIS, "test_eviction_policy_is_as_planned", "noeviction"),
]


@pytest.fixture(scope="module")
def faulty(ilsref: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Platform]:
    instance = _own_instance(tmp_path_factory, dict(ilsref.env), "--faults",
                             ",".join(c.fault for c in UP_FAULTS))
    yield instance
    instance.ilsref("down")


def test_faults_at_up_fail_their_checks(faulty: Platform) -> None:
    # the open transaction must grow older than the local limit (10 s) first
    _assert_seen(_run_until_seen(faulty, UP_FAULTS, attempts=8), UP_FAULTS)


def test_stuck_rollout_fails_rollout_complete(faulty: Platform) -> None:
    kubeconfig = faulty.home / "run" / "kubeconfig"
    kubectl = ["kubectl", f"--kubeconfig={kubeconfig}", "-n", "ils-local"]
    faulty.ilsref("fault", "set", "k8s_stuck_rollout")
    subprocess.run([*kubectl, "rollout", "restart", "deployment/ils-app"], check=True,
                   capture_output=True, timeout=30)
    _assert_seen(faulty.run(ROLLOUT), [Case("k8s_stuck_rollout", ROLLOUT, "test_rollout_is_complete",
                                            "ProgressDeadlineExceeded")])


@pytest.mark.parametrize(("fault", "check", "finding"), [
    ("db_undersized", "test_sizing_settings_are_as_planned", "max_connections = 20"),
    ("db_bad_credentials", "test_database_accepts_connections", "password authentication failed"),
])
def test_postgres_only_fault_fails_its_check(ilsref: Any, tmp_path_factory: pytest.TempPathFactory,
                                             fault: str, check: str, finding: str) -> None:
    instance = _own_instance(tmp_path_factory, dict(ilsref.env), "--only", "postgres",
                             "--faults", fault)
    instance.write_config(instance.home / "run" / "local.toml", 'base_url = "https://localhost:9"\n'
                          f'env_file = "{instance.home / "run" / "secrets.env"}"\n')
    try:
        run = instance.run(PG)
    finally:
        instance.ilsref("down")
    _assert_seen(run, [Case(fault, PG, check, finding)])


# --- components missing from the configuration ------------------------------------------------

REMOVED = ("kubernetes", "database", "redis", "backups", "prometheus", "alertmanager", "grafana",
           "sentry", "logs", "dns", "tls")


def _without(platform: Platform, names: tuple[str, ...], extra: str, tag: str) -> Path:
    local = tomllib.loads((platform.home / "run" / "local.toml").read_text())
    trimmed = {k: v for k, v in local.items() if k not in names}
    path = platform.workdir / f"local-{tag}.toml"
    path.write_text(to_toml(trimmed))
    return platform.write_config(path, extra, name=f"cutover-{tag}.toml")


def test_missing_components_are_not_verified_never_passed(platform: Platform, healthy: Run) -> None:
    run = platform.run(*MODULES, config=_without(platform, REMOVED, "", "missing"))
    outcomes = {n: c["outcome"] for n, c in run.checks.items()
                if not n.startswith(CDN) and "legacy" not in n}  # both declared n/a in local.toml
    assert outcomes and set(outcomes.values()) == {"unverified"}, outcomes
    assert run.verdict["decision"] == "NO-GO", run.explain()
    assert any("is not configured for environment 'local'" in r for r in run.verdict["reasons"])


def test_components_declared_not_applicable_are_reported_so(platform: Platform, healthy: Run) -> None:
    reasons = "".join(f'{name} = "not part of this test platform"\n' for name in REMOVED)
    config = _without(platform, REMOVED, f"\n[environments.local.not_applicable]\n{reasons}",
                      "declared")
    run = platform.run(*MODULES, config=config)
    outcomes = {c["outcome"] for n, c in run.checks.items() if not n.startswith(CDN)}
    assert outcomes == {"not_applicable"}, run.explain()
    assert run.verdict["decision"] == "GO", run.explain()


# --- the CDN checks, configured: against a stand-in edge, and against the bare app ----------

class _Edge(BaseHTTPRequestHandler):
    hits = 0

    def do_GET(self) -> None:
        _Edge.hits += 1
        self.send_response(200)
        self.send_header("Content-Type", "image/x-icon")
        self.send_header("X-Cache", "HIT" if _Edge.hits > 1 else "MISS")
        self.send_header("Age", str(_Edge.hits - 1))
        self.send_header("Via", "1.1 edge.example (stand-in CDN)")
        self.end_headers()
        self.wfile.write(b"\x00")

    def log_message(self, *args: Any) -> None:
        pass


def test_cdn_checks_pass_behind_a_cdn_and_fail_without_one(platform: Platform, healthy: Run) -> None:
    edge = ThreadingHTTPServer(("127.0.0.1", 0), _Edge)
    Thread(target=edge.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{edge.server_port}"
        behind = platform.run(CDN, config=platform.write_config(
            platform.home / "run" / "local.toml",
            f'\n[environments.local.cdn]\nurl = "{url}"\nheaders = ["X-Cache", "Via"]\n'
            f'[environments.local.not_applicable]\ncdn = ""\n', name="cutover-cdn.toml"))
    finally:
        edge.shutdown()
        edge.server_close()
    bare = platform.run(CDN, config=platform.write_config(
        platform.home / "run" / "local.toml",
        '\n[environments.local.cdn]\nasset = "/favicon.ico"\n'
        '[environments.local.not_applicable]\ncdn = ""\n', name="cutover-nocdn.toml"))
    assert {c["outcome"] for c in behind.checks.values()} == {"passed"}, behind.explain()
    assert {c["outcome"] for c in bare.checks.values()} == {"failed"}, bare.explain()


# --- kubectl against the emulator ---------------------------------------------------------------

def test_kubectl_lists_the_deployment_shows_history_and_rollout_status(platform: Platform) -> None:
    kubectl = ["kubectl", f"--kubeconfig={platform.home / 'run' / 'kubeconfig'}", "-n", "ils-local"]

    def run(*args: str) -> str:
        done = subprocess.run([*kubectl, *args], capture_output=True, text=True, timeout=30,
                              check=False)
        assert done.returncode == 0, f"kubectl {' '.join(args)}: {done.stderr}"
        return done.stdout

    assert "ils-app" in run("get", "deployments")
    history = run("rollout", "history", "deployment/ils-app")
    assert "1" in history.split() and "2" in history.split(), history
    assert "successfully rolled out" in run("rollout", "status", "deployment/ils-app",
                                            "--timeout=20s")
