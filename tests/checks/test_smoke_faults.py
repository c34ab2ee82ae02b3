"""Each fault of the reference app makes the smoke run NO-GO and names the check that sees it.

A fault case selects only the smoke module(s) whose claim the fault breaks, so every run takes
seconds; `exact` cases also prove that nothing else failed (no collateral noise).
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest


@dataclass(frozen=True)
class FaultCase:
    fault: str
    select: tuple[str, ...]  # pytest arguments: smoke modules, -k expressions
    intended: tuple[str, ...]  # nodeid substrings that must fail
    exact: bool = True  # every failure is one of the intended checks

    def param(self):
        marks = [pytest.mark.slow] if self.fault in SLOW else []
        return pytest.param(self, id=self.fault, marks=marks)


SLOW = {"hang", "slow_health", "redis_down"}
HEALTH, ENDPOINTS = "smoke/test_health.py", "smoke/test_endpoints.py"
AUTH, HEADERS = "smoke/test_authentication.py", "smoke/test_security_headers.py"
TLS, API = "smoke/test_tls_certificate.py", "smoke/test_api_contract.py"

CASES = [
    FaultCase("health_degraded", (HEALTH,), (
        "test_health_path_reports_status_ok[api/health]", "test_detailed_health_reports_healthy")),
    FaultCase("health_db_disconnected", (HEALTH,), (
        "test_health_path_reports_database_connected[api/health]",
        "test_detailed_health_reports_database_connected"), exact=False),
    FaultCase("not_ready", (HEALTH, ENDPOINTS), (
        "test_readiness_path_reports_ready",
        "test_endpoint_answers_expected_status_and_body[readiness]")),
    FaultCase("redis_down", (HEALTH, "-k", "detailed"), (
        "test_detailed_health_reports_redis_up", "test_detailed_health_reports_healthy")),
    # the app's own health report shows a slow database (> 1 s) and a slow Redis (> 100 ms)
    FaultCase("db_slow", (HEALTH, "-k", "detailed"), (
        "test_detailed_health_reports_database_connected", "test_detailed_health_reports_healthy")),
    FaultCase("redis_slow", (HEALTH, "-k", "detailed"), (
        "test_detailed_health_reports_redis_up", "test_detailed_health_reports_healthy")),
    FaultCase("wrong_version", ("smoke/test_version.py",), ("test_deployed_version_is_the_release",)),
    FaultCase("slow_health", (HEALTH, ENDPOINTS, "-k", "latency"), (
        "test_health_path_answers_within_latency_budget[api/health]",
        "test_endpoint_answers_within_latency_budget[health]")),
    FaultCase("slow_api", (API, "-k", "latency"), (
        "test_authenticated_api_read_within_latency_budget",)),
    FaultCase("auth_open", (AUTH,), ("test_protected_path_rejects_anonymous_call[api/patients]",
                                     "test_protected_path_rejects_anonymous_call[api/admin/users]")),
    FaultCase("login_broken", (AUTH,), ("test_smoke_account_logs_in",), exact=False),
    # accepts_bad_password: smoke never tries a real account's password (the failed-login budget);
    # the readiness default-credential probe catches it (tests/checks/test_governance_readiness.py)
    FaultCase("insecure_cookie", ("smoke/test_cookies.py",), (
        "test_session_cookies_carry_flag[secure]", "test_session_cookies_carry_flag[httponly]",
        "test_session_cookies_carry_flag[samesite]")),
    FaultCase("patients_500", (AUTH,), ("test_protected_path_accepts_the_smoke_token[api/patients]",)),
    FaultCase("no_hsts", (HEADERS,), ("test_hsts_max_age_is_at_least_six_months[homepage]",
                                      "test_hsts_max_age_is_at_least_six_months[api]")),
    FaultCase("weak_hsts", (HEADERS,), ("test_hsts_max_age_is_at_least_six_months[homepage]",)),
    FaultCase("no_csp", (HEADERS,), ("test_content_security_policy_is_set[homepage]",)),
    FaultCase("no_xfo", (HEADERS,), ("test_framing_is_restricted[homepage]",)),
    FaultCase("no_xcto", (HEADERS,), ("test_content_type_sniffing_is_disabled[homepage]",)),
    FaultCase("no_referrer_policy", (HEADERS,), ("test_referrer_policy_is_set[homepage]",)),
    FaultCase("server_header_leak", (HEADERS,), ("test_server_header_reveals_no_version[api]",
                                                 "test_x_powered_by_is_not_sent[homepage]")),
    FaultCase("cors_reflect", ("smoke/test_cors.py",), (
        "test_origin_is_not_granted_credentialed_access[", "test_origin_preflight_is_not_granted[")),
    FaultCase("no_https_redirect", ("smoke/test_https_redirect.py",), (
        "test_plain_http_redirects_to_https_same_host_and_path",)),
    # OpenSSL refuses an expired chain too, so "trusted" fails along with the expiry claims.
    FaultCase("cert_expired", (TLS,), ("test_certificate_is_not_expired",
                                       "test_certificate_has_enough_days_left",
                                       "test_certificate_is_trusted_by_the_ca_bundle")),
    FaultCase("cert_expiring_soon", (TLS,), ("test_certificate_has_enough_days_left",)),
    FaultCase("cert_wrong_host", (TLS,), ("test_certificate_is_valid_for_the_host",)),
    FaultCase("cert_untrusted", (TLS,), ("test_certificate_is_trusted_by_the_ca_bundle",)),
    FaultCase("rate_limit_off", ("smoke/test_rate_limit_headers.py",), (
        "test_api_answers_advertise_the_rate_limit",)),
    FaultCase("unknown_api_200", (API,), ("test_unknown_api_path_answers_json_404",)),
    FaultCase("delete_allowed", (API,), ("test_wrong_method_on_health_is_refused",)),
    FaultCase("homepage_500", (ENDPOINTS,), (
        "test_homepage_serves_html", "test_endpoint_answers_expected_status_and_body[homepage]")),
    FaultCase("favicon_missing", (ENDPOINTS,), ("test_static_asset_is_served",)),
]


@pytest.mark.parametrize("case", [c.param() for c in CASES])
def test_fault_makes_smoke_no_go_naming_the_check(ilsref, case):
    with ilsref.fault(case.fault):
        run = ilsref.smoke(*case.select)
    assert (run.returncode, run.verdict["decision"]) == (1, "NO-GO"), run.explain()
    failing = run.failing
    missed = [s for s in case.intended if not any(s in nodeid for nodeid in failing)]
    assert not missed, f"{case.fault}: expected failing {missed}, got {failing}"
    if case.exact:
        stray = [n for n in failing if not any(s.split("[")[0] in n for s in case.intended)]
        assert not stray, f"{case.fault}: unexpected failures {stray}"
    html = run.html
    absent = [s.split("[")[0] for s in case.intended if s.split("[")[0] not in html]
    assert not absent, f"{case.fault}: the HTML report does not name {absent}"


@pytest.mark.slow
def test_hanging_target_is_no_go_within_the_ready_wait(ilsref):
    with ilsref.fault("hang"):
        run = ilsref.smoke("smoke")
    assert (run.returncode, run.verdict["decision"]) == (1, "NO-GO"), run.explain()
    ready = [c for c in run.verdict["checks"]
             if "test_target_answers_health_within_the_ready_wait" in c["nodeid"]]
    assert ready and ready[0]["outcome"] == "failed", run.explain()
    # ready_wait_s is 20 s by default: one bounded wait, then every other check fails at once
    spent = sum(c["duration_s"] for c in run.verdict["checks"])
    assert spent < 25, f"the checks against a hanging target took {spent:.1f} s in all"
    # pytest's own start-up comes on top; generous for a loaded CI machine
    assert run.seconds < 45, f"the whole run against a hanging target took {run.seconds:.1f} s"
    assert "test_target_answers_health_within_the_ready_wait" in run.html


def test_at_least_fifteen_faults_are_covered():
    covered = {c.fault for c in CASES} | {"hang"}
    assert len(covered) >= 15, sorted(covered)
