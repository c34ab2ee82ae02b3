"""The browser flows' view of the target: routes, selectors, texts and flow settings.

Pure module. The defaults fit ILS 2.0 (routes and `data-testid`s of its React app, see
ils-target-profile.md); `[environments.NAME.e2e]` overrides any of them (schema.E2E lists the keys),
so the same flows run against the reference deployment and the real ILS.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

# Every flow of e2e/ (the `flow` marker names one); whether it is critical is declared on the test
# (rollback_trigger("critical_flow")) and can be overridden per environment.
FLOWS = ("homepage", "login", "login_rejected", "dashboard", "create_patient", "create_order",
         "reports", "admin_users", "admin_audit", "admin_refused", "logout")

ROUTES = {
    "home": "/", "login": "/email-login",
    "user_dashboard": "/ecp/dashboard", "admin_dashboard": "/admin/dashboard",
    "patients": "/ecp/patients", "new_order": "/ecp/new-order", "orders": "/ecp/orders",
    "reports": "/ecp/reports", "admin_users": "/admin/users", "audit_log": "/admin/audit-logs",
    "api_login": "/api/auth/jwt/login", "api_patient": "/api/patients/{id}",
    "api_orders": "/api/orders",
}


def _testid(name: str) -> str:
    return f"[data-testid={name}]"


SELECTORS = {
    "home_ready": "#root",
    "email": _testid("input-email"), "password": _testid("input-password"),
    "login_button": _testid("button-login"), "login_error": "[role=alert]",
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
    "wizard_next": 'button:text-is("Next")', "wizard_back": 'button:text-is("Back")',
    "wizard_complete": 'button:text-is("Complete")',
    "order_number": _testid("text-order-number"),
    "order_search": _testid("input-search-orders"), "order_row": "[data-testid^=row-order-]",
    "users_table": _testid("table-users"), "user_row": "[data-testid^=row-user-]",
    "audit_row": "[data-testid^=row-audit-]", "access_denied": _testid("text-access-denied"),
}

TEXTS = {
    "login_error": "Invalid email or password",
    "order_created": "Order created successfully",
    "order_number_pattern": r"[A-Z]{2,6}-[A-Z0-9-]{4,}",
    "order_status": "pending",
    "failed_login_action": "login_failed",
}

WIDGETS = {
    "user_dashboard": [_testid("stat-total-patients"), _testid("stat-total-orders"),
                       _testid("stat-orders-pending")],
    "admin_dashboard": [_testid("stat-users"), _testid("stat-companies"),
                        _testid("stat-active-sessions")],
    "reports": [_testid("report-total-orders"), _testid("report-total-patients"),
                _testid("chart-lens-types")],
}

ORDER = {"lens_type": "Progressive", "lens_material": "Polycarbonate", "coating": "Anti-Reflective"}
STORAGE = {"access_token": "accessToken", "refresh_token": "refreshToken", "user": "user"}
ACCOUNTS = {"user": "smoke", "admin": "admin"}
CLEANUP_TABLES = [{"table": "orders", "column": "patient_name"}, {"table": "patients", "column": "name"}]
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
        problems.append("e2e.cleanup_tables: expected a list of {table = ..., column = ...}")
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
    profile = E2eProfile(
        routes=_merged("routes", ROUTES, table, problems),
        selectors=_merged("selectors", SELECTORS, table, problems),
        texts=texts,
        widgets=_merged("widgets", WIDGETS, table, problems),
        order=_merged("order", ORDER, table, problems),
        storage=_merged("storage", STORAGE, table, problems),
        accounts=_merged("accounts", ACCOUNTS, table, problems),
        flows=flows, test_tenant=table.get("test_tenant"), data_prefix=prefix, cleanup=cleanup,
        cleanup_tables=tables, trust_ca_bundle=table.get("trust_ca_bundle", True),
        action_timeout_ms=table.get("action_timeout_ms", 5000),
        navigation_timeout_ms=table.get("navigation_timeout_ms", 15000),
        page_load_ms={**PAGE_LOAD_MS, "unit": "ms", **table.get("page_load_ms", {})},
        ignore_console=list(ignore),
    )
    return profile, problems
