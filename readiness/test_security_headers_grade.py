"""Security: the site's headers earn at least the minimum grade (MDN HTTP Observatory scoring).

The grade looks at the page's headers and cookies, the session cookie of a real login when an
account is configured, the plain-HTTP redirect and the answer to a foreign Origin. The score and
letter land in the thresholds table; the findings and missing headers are the evidence.
"""

from __future__ import annotations

from html import escape

import pytest

from pytest_cutover import header_grade, unverified
from pytest_cutover.fixtures import secret_or_unverified
from pytest_cutover.thresholds import Threshold

FOREIGN_ORIGIN = "https://cutover-probe.invalid"


def _session_cookies(http, target) -> list[str]:
    """Set-Cookie lines of a real login, so the session cookie's flags are graded too."""
    account = (target.data.get("accounts") or {}).get("smoke")
    if not account:
        return []
    email = secret_or_unverified(target, account["email_env"])
    password = secret_or_unverified(target, account["password_env"])
    result = http.post(target.profile["login_path"], json={"email": email, "password": password})
    return result.set_cookies if result.status == 200 else []


@pytest.mark.checklist("sec.security-headers")
def test_security_headers_earn_the_minimum_grade(http, target, measure, evidence):
    security = target.data.get("security") or {}
    minimum = security.get("minimum_grade", "A")
    try:
        floor = header_grade.lowest_score(minimum)
    except ValueError as exc:
        pytest.fail(f"environments.{target.name}.security.minimum_grade: {exc}", pytrace=False)
    page = http.get(security.get("grade_path", "/"), headers={"Origin": FOREIGN_ORIGIN})
    if page.status is None:
        unverified(f"the page to grade could not be fetched: {page.describe()}")
    redirect = None
    if target.data.get("http_url"):
        plain = http.get(target.data["http_url"] + security.get("grade_path", "/"))
        redirect = plain.status in (301, 302, 307, 308) and str(
            plain.headers.get("Location", "")).startswith("https://")
    reflected = (page.headers.get("Access-Control-Allow-Origin") == FOREIGN_ORIGIN
                 and page.headers.get("Access-Control-Allow-Credentials", "").lower() == "true")
    observation = header_grade.Observation(
        page.headers, tuple(page.set_cookies + _session_cookies(http, target)),
        tuple(target.profile["session_cookies"]), redirect, reflected)
    grade = header_grade.grade(observation)
    rows = "".join(f"<tr><td>{escape(f.test)}</td><td>{f.delta:+d}</td><td>{escape(f.note)}</td></tr>"
                   for f in grade.findings)
    evidence(f"security header grade {grade.letter} ({grade.score})",
             f"<p><b>{escape(grade.summary())}</b></p><table><tr><th>test</th><th>score</th>"
             f"<th>finding</th></tr>{rows}</table>", "html")
    measure("security_header_score", grade.score,
            Threshold(crit=floor, unit="points", higher_is_worse=False),
            subject=f"{grade.summary()}; minimum grade {minimum}")
