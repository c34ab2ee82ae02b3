"""The browser flows' view of the target: routes, selectors, texts and flow settings.

Pure module. The defaults are ILS 2.0's own (routes, test ids, texts and storage keys of its React
app at 0f8f009, each listed in docs/ils-contract.md with its source file);
`[environments.NAME.e2e]` overrides any of them (schema.E2E lists the keys), so the same flows run
against the reference deployment and the real ILS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Every flow of e2e/ (the `flow` marker names one); whether it is critical is declared on the test
# (rollback_trigger("critical_flow")) and can be overridden per environment.
FLOWS = ("homepage", "login", "login_rejected", "dashboard", "create_patient", "create_order",
         "reports", "admin_users", "admin_audit", "admin_refused", "logout")

# Every default below is a fact of ILS 2.0 at 0f8f009, listed in docs/ils-contract.md with the ILS
# file it was read from (tests/unit/test_ils_contract.py keeps it so). An empty string means ILS
# has no such thing: the flow that needs it is not applicable until the environment sets it.
ROUTES = {
    "home": "/", "login": "/email-login", "signed_out": "/login",
    "user_dashboard": "/ecp/dashboard", "admin_dashboard": "/admin/dashboard",
    "platform_admin_dashboard": "/platform-admin/dashboard",
    "patients": "/ecp/patients", "new_order": "/ecp/new-order", "orders": "/ecp/orders",
    "reports": "",  # ILS 2.0 has no reports page (contract: route.no-reports)
    "admin_users": "/admin/users", "audit_log": "/admin/audit-logs",
    "api_login": "/api/auth/jwt/login", "api_patients": "/api/patients",
    "api_patient": "/api/patients/{id}",
    "api_orders": "/api/orders", "api_order": "/api/orders/{id}",
}

# the route each role lands on after signing in (EmailLoginPage's switch on the role)
LANDING = {"ecp": "user_dashboard", "admin": "admin_dashboard",
           "platform_admin": "platform_admin_dashboard"}


def _testid(name: str) -> str:
    return f"[data-testid={name}]"


def _stat(title: str) -> str:
    """A StatsCard's figure: the `h3` after the `p` holding its title."""
    return f'div:has(> p:text-is("{title}")) > h3'


def _card(title: str) -> str:
    """A Card's figure: the bold number in the content after the header holding its title."""
    return f':has(> :text-is("{title}")) + * .text-2xl'


SELECTORS = {
    "home_ready": "#root",
    "email": _testid("input-email"), "password": _testid("input-password"),
    "login_button": _testid("button-login"),
    "login_error": '[role=status]:has-text("Login failed")',
    "signed_in": _testid("button-logout"),  # only the signed-in layout has it
    "logout": _testid("button-logout"),
    "add_patient": _testid("button-add-patient"),
    "patient_name": "#name", "patient_dob": "#dateOfBirth", "patient_nhs": "#nhsNumber",
    "patient_email": "#email", "patient_phone": "#phone", "patient_address": "#address",
    "patient_city": "#city", "patient_postcode": "#postcode",
    "patient_submit": 'button[type=submit]:has-text("Add Patient")',
    "patient_search": _testid("input-search-patients"), "patient_row": "[data-testid^=row-patient-]",
    "form_error": "[role=alert]:visible", "toast": "[role=status]:visible",
    "order_patient_name": _testid("input-patient-name"), "order_patient_dob": _testid("input-patient-dob"),
    **{f"order_{eye}_{field}": _testid(f"input-{eye}-{field}")
       for eye in ("od", "os") for field in ("sphere", "cylinder", "axis", "add")},
    "order_pd": _testid("input-pd"), "order_lens_type": _testid("select-lens-type"),
    "order_lens_material": _testid("select-lens-material"), "order_coating": _testid("select-coating"),
    "order_notes": _testid("textarea-notes"),
    # scoped to the page's main element: the welcome dialog has a "Next" button of its own
    "wizard_next": 'main button:text-is("Next")', "wizard_back": 'main button:text-is("Back")',
    "wizard_complete": 'main button:text-is("Complete")',
    "select_option": "[role=option]",
    "order_card": '[data-testid="card-order-{number}"]',
    "user_row": "[data-testid^=row-user-]",
    "audit_row": "",  # ILS's audit log page has no row test ids
    "access_denied": 'h1:text-is("404 Page Not Found")',
    "users_table": "[data-testid^=row-user-]",
}

TEXTS = {
    "login_error": "Invalid email or password",
    "patient_added": "Patient Added",
    "order_created": "Order created successfully",
    "order_number_pattern": r"[A-Z]{2,6}-[A-Z0-9-]{4,}",
    "order_status": "pending",
    "failed_login_action": "",  # ILS writes no audit row for a sign-in (contract: auth.login-audit)
}

WIDGETS = {
    "user_dashboard": [_stat("Total Orders"), _stat("In Production"), _stat("Completed"),
                       _stat("Pending")],
    "admin_dashboard": [_stat("Total Users"), _stat("Pending Approval"), _stat("Active Users"),
                        _stat("Suspended")],
    "platform_admin_dashboard": [_card("Total Users"), _card("Total Companies"),
                                 _card("Active Users")],
    "reports": [],
}

ORDER = {"lens_type": "Progressive", "lens_material": "Polycarbonate", "coating": "Anti-Reflective"}
STORAGE = {"access_token": "ils_access_token", "refresh_token": "ils_refresh_token",
           "token_expiry": "ils_token_expiry", "welcome_seen": "hasSeenWelcome"}
ACCOUNTS = {"user": "smoke", "admin": "admin"}
# deletion order of the rows a flow records as created (by their `id`)
CLEANUP_TABLES = [{"table": "orders", "column": "id"}, {"table": "patients", "column": "id"}]
# Chromium logs every 4xx/5xx answer as "Failed to load resource"; answers are judged from the
# network events instead (5xx fail a flow, a 401 is what a wrong password should get).
IGNORE_CONSOLE = [r"^Failed to load resource: the server responded with a status of \d+"]
PAGE_LOAD_MS = {"warn": 2000, "crit": 4000}
CLEANUP_MODES = ("database", "none")


@dataclass(frozen=True)
class E2eProfile:
    routes: dict[str, str]
    selectors: dict[str, str]
    texts: dict[str, str]
    widgets: dict[str, list[str]]
    order: dict[str, str]
    storage: dict[str, str]
    accounts: dict[str, str]
    flows: dict[str, dict[str, Any]]
    test_tenant: str | None
    data_prefix: str
    cleanup: str
    cleanup_tables: list[dict[str, str]]
    trust_ca_bundle: bool
    strict_third_party: bool
    landing: dict[str, str]
    action_timeout_ms: int
    navigation_timeout_ms: int
    page_load_ms: dict[str, Any]
    ignore_console: list[str]

    def critical(self, flow: str, declared: bool) -> bool:
        """Whether a failure of `flow` is a rollback trigger (declared on the test unless the
        environment says otherwise)."""
        return bool(self.flows.get(flow, {}).get("critical", declared))

    def not_applicable(self, flow: str) -> str | None:
        reason = self.flows.get(flow, {}).get("not_applicable")
        return str(reason) if reason else None

    def landing_route(self, role: str) -> str | None:
        """The route name a signed-in `role` lands on, or None when the profile has none."""
        return self.landing.get(role)

    def ignored(self, console_text: str) -> bool:
        return any(re.search(pattern, console_text) for pattern in self.ignore_console)


def _merged(name: str, defaults: dict[str, Any], table: dict[str, Any], problems: list[str]
            ) -> dict[str, Any]:
    given = table.get(name, {})
    unknown = sorted(set(given) - set(defaults))
    problems.extend(f"e2e.{name}.{key}: unknown key; known: {', '.join(sorted(defaults))}"
                    for key in unknown)
    return {**defaults, **given}


def resolve(table: dict[str, Any]) -> tuple[E2eProfile, list[str]]:
    """The environment's `e2e` table over the ILS defaults, and every problem found in it."""
    problems: list[str] = []
    flows = table.get("flows", {})
    problems.extend(f"e2e.flows.{name}: unknown flow; known: {', '.join(FLOWS)}"
                    for name in flows if name not in FLOWS)
    cleanup = table.get("cleanup", "database")
    if cleanup not in CLEANUP_MODES:
        problems.append(f"e2e.cleanup: {cleanup!r} is not one of {', '.join(CLEANUP_MODES)}")
    tables = table.get("cleanup_tables", CLEANUP_TABLES)
    if not all(isinstance(t, dict) and set(t) == {"table", "column"} for t in tables):
        problems.append("e2e.cleanup_tables: expected a list of {table = ..., column = ...} (the "
                        "column holding the ids the flows record, in deletion order)")
    ignore = table.get("ignore_console", IGNORE_CONSOLE)
    for pattern in ignore:
        try:
            re.compile(pattern)
        except re.error as exc:
            problems.append(f"e2e.ignore_console: {pattern!r} is not a regular expression ({exc})")
    texts = _merged("texts", TEXTS, table, problems)
    try:
        re.compile(texts["order_number_pattern"])
    except re.error as exc:
        problems.append(f"e2e.texts.order_number_pattern: not a regular expression ({exc})")
    prefix = table.get("data_prefix", "cutover-e2e")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]{2,30}", prefix):
        problems.append(f"e2e.data_prefix: {prefix!r} must be 3-31 letters, digits or dashes "
                        f"(it starts every name the suite creates)")
    routes = _merged("routes", ROUTES, table, problems)
    landing = {**LANDING, **table.get("landing", {})}
    problems.extend(f"e2e.landing.{role}: {name!r} is not a route name; known: {', '.join(routes)}"
                    for role, name in landing.items() if name not in routes)
    profile = E2eProfile(
        routes=routes,
        selectors=_merged("selectors", SELECTORS, table, problems),
        texts=texts,
        widgets=_merged("widgets", WIDGETS, table, problems),
        order=_merged("order", ORDER, table, problems),
        storage=_merged("storage", STORAGE, table, problems),
        accounts=_merged("accounts", ACCOUNTS, table, problems),
        flows=flows, test_tenant=table.get("test_tenant"), data_prefix=prefix, cleanup=cleanup,
        cleanup_tables=tables, trust_ca_bundle=table.get("trust_ca_bundle", True),
        strict_third_party=table.get("strict_third_party", False), landing=landing,
        action_timeout_ms=table.get("action_timeout_ms", 5000),
        navigation_timeout_ms=table.get("navigation_timeout_ms", 15000),
        page_load_ms={**PAGE_LOAD_MS, "unit": "ms", **table.get("page_load_ms", {})},
        ignore_console=list(ignore),
    )
    return profile, problems
