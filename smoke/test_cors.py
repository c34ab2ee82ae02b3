"""Smoke: no look-alike of the app's own origin is granted credentialed cross-origin access.

Reflecting an Origin together with `Access-Control-Allow-Credentials: true` lets a page of that
origin act as the signed-in user (MDN Observatory: -50). Hand-written origin checks fail in known
ways (a prefix, suffix or substring match, `null`, any `localhost`, plain http, any subdomain, an
unescaped regex dot): each variant of `pytest_cutover.cors_origins` is sent on a simple request
and on a preflight, so a failure names the mistake, the origin sent and the headers received.

The granted origin comes from `security.cors_allowed_origins`, else is learnt from the answer to a
same-origin request (an app that always answers with its configured origin teaches it), else is
the base URL's origin.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_cutover import cors_origins, not_applicable
from pytest_cutover.clients.http import HttpClient
from pytest_cutover.clients.prefetch import Planned

pytestmark = pytest.mark.checklist("sec.security-headers")

VARIANTS = list(cors_origins.VARIANTS)


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}"


@pytest.fixture(scope="module")
def cors_path(target) -> str:
    security = target.data.get("security") or {}
    paths = target.profile.get("protected_paths") or []
    path = security.get("cors_path") or (paths[0] if paths else None)
    if not path:
        pytest.fail(f"no path for the CORS probes: set security.cors_path or the profile's "
                    f"protected_paths for {target.name!r}", pytrace=False)
    return str(path)


@pytest.fixture(scope="module")
def allowed_origin(target, cors_path, smoke_timeout_s, readiness) -> str:
    configured = (target.data.get("security") or {}).get("cors_allowed_origins") or []
    own = _origin(target.base_url)
    if configured:
        return str(configured[0])
    if not readiness.ready:  # every check fails at once (target_answers): nothing to learn
        return own
    client = HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=smoke_timeout_s)
    try:
        answer = client.get(cors_path, headers={"Origin": own})
    finally:
        client.close()
    learnt = (answer.header("Access-Control-Allow-Origin") or "").strip()
    return learnt if "://" in learnt else own


@pytest.fixture(scope="module")
def probes(target, allowed_origin) -> dict[str, cors_origins.Probe]:
    return {p.variant: p for p in cors_origins.probes(target.base_url, allowed_origin)}


def _preflight_headers(probe: cors_origins.Probe) -> dict[str, str]:
    return {"Origin": probe.origin, "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type"}


@pytest.fixture(scope="module")
def cors_prefetch(request, cors_path, probes, prefetcher, tokens):
    """The selected probes sent ahead, bounded like the smoke prefetch: they depend on nothing
    but the granted origin, and each answer serves its one check. The credentialed GETs only
    when the smoke token is at hand (a check without it ends on its own)."""
    try:
        auth = {"Authorization": f"Bearer {tokens('smoke')}"}
    except (pytest.fail.Exception, pytest.skip.Exception):
        auth = None
    planned = []
    for item in request.session.items:
        variant = getattr(getattr(item, "callspec", None), "params", {}).get("probe")
        if Path(item.path) != Path(__file__) or variant not in probes:
            continue
        if item.originalname == "test_origin_preflight_is_not_granted":
            planned.append(Planned.options(cors_path, _preflight_headers(probes[variant])))
        elif item.originalname == "test_origin_is_not_granted_credentialed_access" and auth:
            planned.append(Planned.get(cors_path, {"Origin": probes[variant].origin, **auth}))
    batch = prefetcher(planned)
    yield batch
    if batch is not None:
        batch.close()


@pytest.fixture
def http(http, cors_prefetch):
    """The smoke client; a probe sent ahead by `cors_prefetch` is answered from there."""
    if cors_prefetch is not None:
        http.sent_ahead = cors_prefetch.take
    return http


@pytest.fixture(params=VARIANTS)
def probe(request, probes) -> cors_origins.Probe:
    if request.param not in probes:
        not_applicable(f"the {request.param!r} variant does not apply: the granted origin is "
                       f"plain http already")
    return probes[request.param]


def _finding(method: str, path: str, probe: cors_origins.Probe, result) -> str:
    granting = {k: v for k, v in cors_origins.cors_headers(result.headers).items()
                if k.lower() in ("access-control-allow-origin", "access-control-allow-credentials")}
    return (f"{probe.variant}: {method} {path} with Origin {probe.origin!r} answered {granting!r} "
            f"(expected no credentialed grant; {probe.meaning})")


def test_origin_is_not_granted_credentialed_access(http, cors_path, probe, smoke_auth):
    result = http.get(cors_path, headers={"Origin": probe.origin, **smoke_auth})
    assert result.status is not None, result.describe()
    assert not cors_origins.granted(probe.origin, result.headers), _finding(
        "GET", cors_path, probe, result)


def test_origin_preflight_is_not_granted(http, cors_path, probe):
    result = http.request("OPTIONS", cors_path, headers=_preflight_headers(probe))
    assert result.status is not None, result.describe()
    assert not cors_origins.granted(probe.origin, result.headers), _finding(
        "OPTIONS", cors_path, probe, result)
