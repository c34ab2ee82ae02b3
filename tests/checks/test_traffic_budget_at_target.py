"""The suite never causes the failure it reports: against ILS's own limiters, its traffic stays
within budget, and a limit too tight for the plan's traffic is a finding.

Each test starts its own reference deployment: one with ILS's failed-login limiter and lockout
(5 failures per 900 s, not shrunk), one with ILS's API limit (`--rate-limit ils`: 100 per 900 s).
"""

from __future__ import annotations

import contextlib
import re
import ssl
import urllib.request
from collections.abc import Iterator

import pytest

from conftest import REPO, Reference

PROBE_PATH = "/api/auth/jwt/me"  # the rate-limit probe's path (ilsref's governance config)


def _deployment(tmp_path_factory: pytest.TempPathFactory, name: str, *flags: str
                ) -> Iterator[Reference]:
    reference = Reference(tmp_path_factory.mktemp(f"{name}-home"), tmp_path_factory.mktemp(name))
    ledger = reference.workdir / "history"  # shared by every run: the failed-login budget too
    reference.config.write_text(reference.config.read_text() + (
        f'signoffs = "{REPO / "examples" / "signoffs.local.toml"}"\n'
        f'ledger = {{ directory = "{ledger}" }}\n'))
    try:
        reference.ilsref("up", "--test-mode", *flags)
        yield reference
    finally:
        with contextlib.suppress(RuntimeError):
            reference.ilsref("down")


@pytest.fixture(scope="module")
def ils_failed_login_limits(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    yield from _deployment(tmp_path_factory, "ils-failed-login")


@pytest.fixture(scope="module")
def ils_api_limit(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Reference]:
    yield from _deployment(tmp_path_factory, "ils-api-limit", "--rate-limit", "ils")


def _local(reference: Reference) -> dict:
    import tomllib

    return tomllib.loads((reference.home / "run" / "local.toml").read_text())


def _get(reference: Reference, path: str, body: bytes | None = None) -> tuple[int, str]:
    local = _local(reference)
    context = ssl.create_default_context(cafile=local["ca_bundle"])
    request = urllib.request.Request(local["base_url"] + path, data=body, headers=(
        {"Content-Type": "application/json"} if body else {}))
    try:
        with urllib.request.urlopen(request, context=context, timeout=10) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def throttled_by_path(reference: Reference) -> dict[str, float]:
    """429 answers the app counted, by route (its /metrics)."""
    _, text = _get(reference, "/metrics")
    found: dict[str, float] = {}
    for line in text.splitlines():
        match = re.match(r'http_requests_total\{(.*)\} ([0-9.e+]+)$', line)
        if match and 'status_code="429"' in match.group(1):
            path = re.search(r'path="([^"]*)"', match.group(1))
            key = path.group(1) if path else "?"
            found[key] = found.get(key, 0) + float(match.group(2))
    return found


def _logs_in(reference: Reference, account: str) -> int:
    import json

    secrets = reference.secrets()
    prefix = f"CUTOVER_LOCAL_{account.upper()}"
    body = json.dumps({"email": secrets[f"{prefix}_EMAIL"],
                       "password": secrets[f"{prefix}_PASSWORD"]}).encode()
    return _get(reference, "/api/auth/jwt/login", body)[0]


@pytest.mark.slow
def test_smoke_e2e_readiness_and_load_stay_within_ils_failed_login_limit(ils_failed_login_limits):
    reference = ils_failed_login_limits
    outcomes: dict[str, dict[str, str]] = {}
    for name, marker in (("smoke", "smoke"), ("e2e", "e2e"),
                         ("load", "load and not post_launch")):
        run = reference.suite(marker, timeout_s=600)
        outcomes[name] = run.outcomes
        assert throttled_by_path(reference) == {}, (name, run.explain())
    before_probe = throttled_by_path(reference)
    run = reference.suite("readiness", "-k", "not go_no_go_gate", timeout_s=600)
    outcomes["readiness"] = run.outcomes
    throttled = throttled_by_path(reference)
    # the probe's own 429s, and none anywhere else
    assert set(throttled) <= {PROBE_PATH} and before_probe == {}, (throttled, run.explain())
    assert throttled.get(PROBE_PATH, 0) >= 1, run.explain()
    # the budget held: 3 deliberate failures in the window, the rest not verified (not failed)
    booked = (reference.workdir / "history" / "failed-logins.jsonl").read_text().splitlines()
    assert len(booked) == 3, booked
    refused = [n for o in outcomes.values() for n, outcome in o.items()
               if "credential" in n and outcome == "failed"]
    assert not refused, refused
    assert (_logs_in(reference, "smoke"), _logs_in(reference, "admin")) == (200, 200)


def test_ils_api_limit_is_a_no_go_finding_with_the_arithmetic(ils_api_limit):
    run = ils_api_limit.suite("readiness", "readiness/test_rate_limit_fit.py",
                              "readiness/test_rate_limit.py")
    assert run.verdict["decision"] == "NO-GO", run.explain()
    fit = next(c for c in run.verdict["checks"]
               if "test_api_rate_limit_fits_one_practice_in_normal_use" in c["nodeid"])
    assert fit["outcome"] == "failed", run.explain()
    assert "x 900 s window x 5 users behind one address = 3115 requests expected per window " \
           "vs a limit of 100" in run.output + run.html, run.explain()
    # ILS's 900 s window is beyond recovery_max_s: the probe needs the opt-in, whatever the kind
    probe = [c for c in run.verdict["checks"] if "test_rate_limit.py" in c["nodeid"]]
    assert probe and all(c["outcome"] == "unverified" for c in probe), probe
    assert _get(ils_api_limit, PROBE_PATH)[0] != 429  # the probe did not throttle the address


def test_healthy_reference_limit_fits(ilsref):
    run = ilsref.suite("readiness", "readiness/test_rate_limit_fit.py")
    assert run.verdict["decision"] == "GO", run.explain()


