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
