"""The e2e profile: ILS defaults, overrides, and every problem of an `e2e` table at once."""

from __future__ import annotations

import pytest

from pytest_cutover.e2e_profile import FLOWS, ROUTES, SELECTORS, resolve


def test_empty_table_gives_the_ils_defaults():
    profile, problems = resolve({})
    assert problems == []
    assert profile.routes == ROUTES and profile.selectors == SELECTORS
    assert profile.cleanup == "database" and profile.trust_ca_bundle is True


def test_overrides_replace_single_keys_and_keep_the_rest():
    profile, problems = resolve({"routes": {"reports": "/ecp/analytics"},
                                 "selectors": {"logout": "#sign-out"}})
    assert problems == []
    assert profile.routes["reports"] == "/ecp/analytics"
    assert profile.routes["login"] == "/email-login"
    assert profile.selectors["logout"] == "#sign-out"


@pytest.mark.parametrize(("table", "fragment"), [
    ({"routes": {"reprots": "/x"}}, "e2e.routes.reprots: unknown key"),
    ({"flows": {"checkout": {"critical": True}}}, "e2e.flows.checkout: unknown flow"),
    ({"cleanup": "api"}, "e2e.cleanup: 'api' is not one of"),
    ({"cleanup_tables": [{"table": "orders"}]}, "e2e.cleanup_tables: expected a list"),
    ({"ignore_console": ["("]}, "e2e.ignore_console: '(' is not a regular expression"),
    ({"data_prefix": "a b"}, "e2e.data_prefix: 'a b' must be"),
])
def test_each_problem_is_reported(table, fragment):
    _, problems = resolve(table)
    assert any(fragment in p for p in problems), problems


def test_all_problems_are_reported_together():
    _, problems = resolve({"routes": {"x": "/"}, "cleanup": "api", "flows": {"nope": {}}})
    assert len(problems) == 3, problems


@pytest.mark.parametrize(("flows", "declared", "expected"), [
    ({}, True, True), ({}, False, False),
    ({"reports": {"critical": True}}, False, True), ({"reports": {"critical": False}}, True, False),
])
def test_criticality_is_declared_unless_the_environment_overrides_it(flows, declared, expected):
    profile, _ = resolve({"flows": flows})
    assert profile.critical("reports", declared) is expected


def test_a_flow_can_be_declared_not_applicable_with_a_reason():
    profile, _ = resolve({"flows": {"admin_audit": {"not_applicable": "no audit UI in 2.0"}}})
    assert profile.not_applicable("admin_audit") == "no audit UI in 2.0"
    assert profile.not_applicable("reports") is None


def test_resource_load_failures_are_left_to_the_network_events():
    profile, _ = resolve({})
    assert profile.ignored("Failed to load resource: the server responded with a status of 401 ()")
    assert not profile.ignored("Failed to load resource: net::ERR_CONNECTION_REFUSED")
    assert not profile.ignored("Uncaught TypeError: x is not a function")


def test_every_flow_has_a_name_the_tests_use():
    assert len(set(FLOWS)) == len(FLOWS) and "create_order" in FLOWS


def test_defaults_are_ils_own_storage_keys_landing_pages_and_cleanup_by_id():
    profile, _ = resolve({})
    assert profile.storage["access_token"] == "ils_access_token"
    assert profile.landing_route("platform_admin") == "platform_admin_dashboard"
    assert profile.routes[profile.landing_route("ecp") or ""] == "/ecp/dashboard"
    assert all(t["column"] == "id" for t in profile.cleanup_tables)
    assert "patient_name" not in str(profile.cleanup_tables)
    assert profile.strict_third_party is False


def test_the_wizard_buttons_are_scoped_to_the_page_not_the_welcome_dialog():
    profile, _ = resolve({})
    assert all(profile.selectors[k].startswith("main ")
               for k in ("wizard_next", "wizard_back", "wizard_complete"))


def test_what_ils_lacks_has_no_default_and_can_be_set():
    profile, _ = resolve({})
    assert profile.routes["reports"] == "" and profile.widgets["reports"] == []
    assert profile.texts["failed_login_action"] == "" and profile.selectors["audit_row"] == ""
    profile, problems = resolve({"routes": {"reports": "/ecp/reports"},
                                 "landing": {"lab_tech": "reports"}, "strict_third_party": True})
    assert problems == [] and profile.landing_route("lab_tech") == "reports"
    assert profile.strict_third_party is True


def test_a_landing_page_must_be_a_route_name():
    _, problems = resolve({"landing": {"ecp": "/ecp/dashboard"}})
    assert any("e2e.landing.ecp: '/ecp/dashboard' is not a route name" in p for p in problems)
