"""Fault switches for the browser flows (e2e/): each breaks one user flow of the server-rendered UI.

The UI (`ilsref.app.ui`) reads them per request through the app's FaultState, so they toggle at
run time. Each is a plausible front-end regression, not an API failure: the API stays healthy.
"""

from __future__ import annotations

from ilsref.faults import Fault

FAMILY = "e2e/flows"

FAULTS = (
    Fault("ui_login_broken", FAMILY,
          "the sign-in form posts to a route that does not exist: nobody can sign in"),
    Fault("ui_patient_save_fails", FAMILY,
          "the add-patient form sends the name as 'fullName': every save is refused (400)"),
    Fault("ui_order_submit_fails", FAMILY,
          "the order wizard sends the lens type as 'lens_type': Complete is refused (400)"),
    Fault("ui_wizard_next_twice", FAMILY,
          "the order wizard renders a second 'Next' button in the page: the step's 'Next' is "
          "ambiguous (a strict-mode violation in the browser)"),
    Fault("ui_page_slow", FAMILY, "every dashboard page takes 5 s to render"),
    Fault("ui_js_error", FAMILY,
          "the reports page throws an uncaught TypeError while drawing its chart"),
    Fault("ui_reports_500", FAMILY, "the reports page answers 500"),
    Fault("ui_admin_open", FAMILY, "admin pages are shown to signed-in users of any role"),
    Fault("ui_admin_users_broken", FAMILY,
          "the users page loads its list from /api/admin/user-list (404): the table never fills"),
    Fault("ui_audit_log_broken", FAMILY, "the audit log page answers 500"),
    Fault("ui_stack_trace_leak", FAMILY,
          "the reports page's API call (a browser fetch only) carries a Node stack trace"),
)
