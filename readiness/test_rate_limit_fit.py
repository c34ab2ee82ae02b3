"""Application: each advertised API rate limit fits the traffic the plan expects from one address.

A practice's users share one address (a router; ILS never trusts a proxy's forwarded address), so
an API limit below what they send in normal use refuses real users. The expected traffic comes
from the load model (pytest_cutover.limit_fit); the arithmetic is in the evidence and message.
"""

from __future__ import annotations

import time

import pytest

from pytest_cutover import unverified
from pytest_cutover.limit_fit import judge
from pytest_cutover.loadplan import DEFAULTS as LOAD_DEFAULTS
from pytest_cutover.throttling import traffic_table
from pytest_cutover.traffic_budget import read_limiter

pytestmark = pytest.mark.checklist("sec.rate-limiting")


@pytest.fixture(scope="module")
def advertised(target):
    """The limiters the API's answers advertise (a read of the current user and the first
    protected path), by name: {name: (limit, window_s, path)}."""
    from pytest_cutover.clients.http import HttpClient

    profile = target.profile
    paths = [profile["me_path"], *(profile.get("protected_paths") or [])[:1]]
    client = HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=target.timeout_s)
    found, answers = {}, []
    try:
        for path in paths:
            answer = client.get(path)
            answers.append(answer.describe())
            limiter = read_limiter(answer.headers, time.monotonic())
            if limiter is not None:
                found.setdefault(limiter.name, (limiter.limit, limiter.window_s, path))
    finally:
        client.close()
    if not found:
        unverified(f"no API answer advertised a rate limit (RateLimit-* headers): {'; '.join(answers)}")
    return found


def test_api_rate_limit_fits_one_practice_in_normal_use(advertised, target, evidence):
    model = {**LOAD_DEFAULTS, **(target.data.get("load") or {})}
    users = int(traffic_table(target)["users_per_address"])
    fits, findings, unknown = [], [], []
    for name, (limit, window_s, path) in sorted(advertised.items()):
        if not window_s:
            unknown.append(f"{name} on {path}: no window advertised (RateLimit-Policy w=)")
            continue
        fit = judge(name, limit, window_s, model, users)
        (fits if fit.fits else findings).append(f"{fit.arithmetic()} (seen on {path})")
    evidence("rate limit vs expected traffic", "\n".join(fits + findings + unknown))
    assert not findings, "; ".join(findings) + (
        " (raise the limit, or key it by user rather than address; [traffic] users_per_address "
        "sets the users behind one address)")
    if unknown and not fits:
        unverified("; ".join(unknown))
