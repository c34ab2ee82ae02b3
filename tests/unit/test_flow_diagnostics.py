"""A failing flow names its step and what it waited for; third-party origins are told apart."""

from __future__ import annotations

import pytest

from e2e.flowkit import describe_failure, origin_of

TIMEOUT = ('Locator.click: Timeout 5000ms exceeded.\nCall log:\n'
           '  - waiting for locator("main button:text-is(\\"Next\\")")\n')
STRICT = ('Locator.click: Error: strict mode violation: locator("button:text-is(\\"Next\\")") '
          'resolved to 2 elements:\n    1) <button>Next</button>\n    2) <button>Next</button>\n')
EXPECT = ('the wizard gave no answer to \'Complete\'\nActual value: None\nCall log:\n'
          '  - Expect "to_be_visible" with timeout 5000ms\n'
          '  - waiting for locator("[role=status]").first\n')


def test_a_timeout_names_the_step_and_the_selector_waited_for():
    message = describe_failure("Prescription", Exception(TIMEOUT))
    assert message.startswith("step 'Prescription' failed: Locator.click: Timeout 5000ms exceeded")
    assert 'waited for locator("main button:text-is(\\"Next\\")")' in message
    assert "\n" not in message


def test_an_ambiguous_selector_is_reported_as_a_strict_mode_violation():
    message = describe_failure("Patient Info", Exception(STRICT))
    assert "ambiguous selector (strict-mode violation)" in message
    assert 'locator("button:text-is(\\"Next\\")") matched 2 elements (expected one)' in message
    assert message.startswith("step 'Patient Info'")


def test_a_failed_expectation_keeps_its_message_and_locator():
    message = describe_failure("Review and Complete", AssertionError(EXPECT))
    assert "the wizard gave no answer to 'Complete'" in message
    assert 'waited for locator("[role=status]").first' in message


def test_an_exception_without_text_is_named_by_its_type():
    assert describe_failure("open /", TimeoutError()) == "step 'open /' failed: TimeoutError"


@pytest.mark.parametrize(("url", "origin"), [
    ("https://localhost:8443/ecp/dashboard?x=1", "https://localhost:8443"),
    ("https://fonts.gstatic.com/s/inter.woff2", "https://fonts.gstatic.com"),
    ("HTTPS://Example.COM", "https://example.com"),
    ("data:image/png;base64,xx", ""), ("", ""),
])
def test_origin_of(url: str, origin: str):
    assert origin_of(url) == origin


class _Page:
    url = "https://localhost:8443/ecp/dashboard"

    def on(self, event: str, handler: object) -> None:
        pass


class _Request:
    def __init__(self, url: str, failure: str) -> None:
        self.url, self.failure, self.method = url, failure, "GET"


def _flow(strict: bool):  # type: ignore[no-untyped-def]
    from e2e.flowkit import Flow
    from pytest_cutover.e2e_profile import resolve

    profile, _ = resolve({"strict_third_party": strict})
    return Flow(_Page(), profile, lambda *a: None,  # type: ignore[arg-type]
                frozenset({"https://localhost:8443"}))


def test_third_party_failures_are_warnings_and_the_apps_own_are_problems():
    flow = _flow(strict=False)
    flow._request_failed(_Request("https://fonts.gstatic.com/s/inter.woff2", "net::ERR_NAME_NOT_RESOLVED"))
    assert flow.problems == [] and "third-party https://fonts.gstatic.com" in flow.warnings[0]
    flow._request_failed(_Request("https://localhost:8443/api/stats", "net::ERR_CONNECTION_RESET"))
    assert len(flow.problems) == 1 and "/api/stats" in flow.problems[0]
    flow._request_failed(_Request("https://localhost:8443/api/orders", "net::ERR_ABORTED"))
    assert len(flow.problems) == 1  # the page moved on: not counted


def test_strict_third_party_counts_them_against_the_flow():
    flow = _flow(strict=True)
    flow._request_failed(_Request("https://fonts.gstatic.com/s/inter.woff2", "net::ERR_NAME_NOT_RESOLVED"))
    assert len(flow.problems) == 1 and flow.warnings == []
