"""A verdict you can trust, against the reference deployment: a dead or untrusted target is one
cause, listed first, and no check that needs a response passes without one."""

from __future__ import annotations

import socket

# checks that judge the TLS handshake or plain HTTP themselves, not a verified response
OWN_CONNECTION = ("smoke/test_tls_certificate.py", "smoke/test_ready.py",
                  "smoke/test_https_redirect.py")


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _passed(run, needing_a_response=True):
    """Smoke checks (they all talk to the target; the readiness checks that also carry the smoke
    marker ask Kubernetes) that passed."""
    return [c["nodeid"] for c in run.verdict["checks"] if c["outcome"] == "passed"
            and c["nodeid"].startswith("smoke/")
            and not (needing_a_response and c["nodeid"].startswith(OWN_CONNECTION))]


def test_an_expired_certificate_gives_at_most_three_reasons_the_certificate_first(ilsref):
    with ilsref.fault("cert_expired"):
        run = ilsref.smoke("smoke")
    assert (run.returncode, run.verdict["decision"]) == (1, "NO-GO"), run.explain()
    reasons = run.verdict["reasons"]
    assert 1 <= len(reasons) <= 3, reasons
    assert reasons[0].startswith("TLS verification failed for localhost:"), reasons
    assert "certificate expired" in reasons[0], reasons
    assert not _passed(run), f"passed without a verified response: {_passed(run)}"
    first = run.verdict["causes"][0]
    assert first["kind"] == "failed" and len(first["checks"]) > 20, first
    assert "TLS verification failed" in run.html.split("cutover-causes", 1)[1][:3000]


def test_a_closed_port_leaves_no_check_passed_and_one_cause(ilsref):
    port = _closed_port()
    config = ilsref.config_with(f'base_url = "https://localhost:{port}"\n'
                                f'[environments.local.profile]\nready_wait_s = 2\n')
    run = ilsref.suite("smoke", config=config)
    assert (run.returncode, run.verdict["decision"]) == (1, "NO-GO"), run.explain()
    assert not _passed(run, needing_a_response=False), _passed(run, needing_a_response=False)
    reasons = run.verdict["reasons"]
    assert reasons[0].startswith(f"connection refused by localhost:{port}"), reasons
    assert len(reasons) <= 3, reasons


def test_browser_flows_that_cannot_reach_the_target_are_blocked_never_rollback(ilsref):
    port = _closed_port()
    config = ilsref.config_with(f'base_url = "https://localhost:{port}"\n')
    run = ilsref.suite("e2e", config=config, timeout_s=300)
    assert (run.returncode, run.verdict["decision"]) == (1, "NO-GO"), run.explain()
    flows = {c["nodeid"]: c["outcome"] for c in run.verdict["checks"]}
    assert flows and set(flows.values()) <= {"blocked", "not_applicable"}, flows
    assert run.verdict["reasons"][0].startswith(f"connection refused by localhost:{port}"), (
        run.verdict["reasons"])
    assert not run.verdict["rollback_reasons"], run.verdict["rollback_reasons"]
