"""Security: of the routes an attacker can list (the published OpenAPI document, the routes read
from the app's source in the profile, the `/api/...` literals of the served app's JavaScript),
none answers an anonymous caller, and no admin route answers a signed-in non-admin.

Read-only and bounded: GET only, path parameters filled with a harmless value, at most
`security.sweep_max_routes` routes; routes public on purpose are listed in the profile's
`public_routes` (plus `security.public_routes`). A 429 stops the sweep: the rest is not verified.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urljoin, urlsplit

import pytest

from pytest_cutover import route_sweep, unverified
from pytest_cutover.clients.http import HttpClient

pytestmark = pytest.mark.checklist("sec.security-audit")

SCRIPTS_READ = 3  # JavaScript assets of the served page searched for API routes


@dataclass(frozen=True)
class Sweep:
    routes: list[route_sweep.Route]
    public: list[str]
    admin_prefixes: list[str]
    sources: dict[str, str]  # where each list came from, and what was found there


def _openapi(client: HttpClient, target, sources: dict[str, str]) -> list[str]:
    configured = str((target.data.get("documentation") or {}).get("openapi") or "")
    path = configured if configured.startswith("/") else target.profile.get("openapi_path")
    if not path:
        return []
    answer = client.get(path)
    found = route_sweep.from_openapi(answer.json()) if answer.status == 200 else []
    sources["openapi"] = f"GET {path}: {answer.status}, {len(found)} GET routes"
    return found


def _spa(client: HttpClient, target, sources: dict[str, str]) -> list[str]:
    page = client.get("/")
    own = urlsplit(target.base_url).netloc
    scripts = [s for s in route_sweep.script_sources(page.text if page.status == 200 else "")
               if urlsplit(urljoin(target.base_url + "/", s)).netloc == own][:SCRIPTS_READ]
    found: list[str] = []
    for script in scripts:
        answer = client.get(urljoin(target.base_url + "/", script))
        found += route_sweep.from_javascript(answer.text) if answer.status == 200 else []
    sources["spa"] = f"{len(scripts)} script(s) of GET /: {len(found)} /api literals"
    return found


@pytest.fixture(scope="module")
def sweep(target) -> Sweep:
    security = target.data.get("security") or {}
    profile = target.profile
    sources: dict[str, str] = {}
    client = HttpClient(target.base_url, ca_bundle=target.ca_bundle, timeout_s=target.timeout_s)
    try:
        listed = [("openapi", _openapi(client, target, sources)),
                  ("profile", [*profile.get("internal_routes", []), *profile.get("protected_paths", [])]),
                  ("spa", _spa(client, target, sources))]
    finally:
        client.close()
    routes = route_sweep.gather(listed, int(security.get("sweep_max_routes", 30)),
                                security.get("sweep_exclude") or [])
    if not routes:
        unverified(f"no API route was found to sweep ({sources or 'no source answered'}): publish "
                   f"the OpenAPI document or list routes in the profile's internal_routes")
    return Sweep(routes, [*profile.get("public_routes", []), *(security.get("public_routes") or [])],
                 list(profile.get("admin_route_prefixes") or []), sources)


def _ask(http: HttpClient, routes: list[route_sweep.Route], headers: dict[str, str] | None = None
         ) -> tuple[list[str], int]:
    """Findings (one line per route that served its answer) and how many routes were asked."""
    findings: list[str] = []
    asked = 0
    for route in routes:
        result = http.get(route.path, headers=headers)
        asked += 1
        if result.status == 429:
            unverified(f"the target throttled the sweep after {asked} of {len(routes)} routes "
                       f"(429 on GET {route.path}); findings so far: {findings or 'none'}")
        if route_sweep.exposed(result.status):
            body = " ".join(result.text[:80].split())
            findings.append(f"GET {route.path} ({route.source}) answered {result.status}: {body!r}")
    return findings, asked


def test_no_route_answers_an_anonymous_caller(http, sweep, evidence):
    routes = [r for r in sweep.routes if not route_sweep.matches(r.path, sweep.public)]
    findings, asked = _ask(http, routes)
    evidence("route sweep (anonymous)", {"sources": sweep.sources, "asked": [r.path for r in routes],
                                         "public (not asked)": sweep.public}, "json")
    assert not findings, (f"{len(findings)} of {asked} routes answer an anonymous caller (expected "
                          f"401, 403 or 404): " + "; ".join(findings))


def test_no_admin_route_answers_a_non_admin_user(http, sweep, non_admin_token, evidence):
    routes = [r for r in sweep.routes if route_sweep.is_admin(r.path, sweep.admin_prefixes)
              and not route_sweep.matches(r.path, sweep.public)]
    if not routes:
        unverified(f"no admin route among the {len(sweep.routes)} found (admin_route_prefixes "
                   f"{sweep.admin_prefixes})")
    findings, asked = _ask(http, routes, {"Authorization": f"Bearer {non_admin_token}"})
    evidence("route sweep (non-admin)", {"asked": [r.path for r in routes]}, "json")
    assert not findings, (f"{len(findings)} of {asked} admin routes answer a signed-in non-admin "
                          f"(expected 401, 403 or 404): " + "; ".join(findings))
