"""What a page tells its script (API paths, payload field names, chart renderer), and the UI
fault switches (ilsref.services.uifaults) that break exactly that wiring, read per request."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from ilsref.faults import FaultState
from ilsref.migrations.seed import COATINGS, FRAME_TYPES, LENS_MATERIALS, LENS_TYPES

SLOW_PAGE_S = 5.0  # ui_page_slow: well past the e2e page-load budget, well inside its timeout


@dataclass(frozen=True)
class Wiring:
    login_path: str = "/api/auth/jwt/login"
    patient_name_field: str = "name"
    lens_type_field: str = "lensType"
    chart_renderer: str = "bars"
    users_path: str = "/api/admin/users"
    next_twice: bool = False

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def wiring(faults: FaultState) -> Wiring:
    active = faults.active()
    return Wiring(
        login_path="/api/auth/jwt/sign-in" if "ui_login_broken" in active else Wiring.login_path,
        patient_name_field="fullName" if "ui_patient_save_fails" in active else "name",
        lens_type_field="lens_type" if "ui_order_submit_fails" in active else "lensType",
        chart_renderer="bars-v2" if "ui_js_error" in active else "bars",
        users_path="/api/admin/user-list" if "ui_admin_users_broken" in active else Wiring.users_path,
        next_twice="ui_wizard_next_twice" in active,
    )


# The wizard's select options: the same catalogue the seed data uses (ils-target-profile.md).
OPTIONS = {"lens_types": LENS_TYPES, "lens_materials": LENS_MATERIALS, "coatings": COATINGS,
           "frame_types": FRAME_TYPES}
