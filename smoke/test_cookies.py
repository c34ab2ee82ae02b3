"""Smoke: cookies the app sets on the home page and at login are protected: session cookies are
Secure, HttpOnly and SameSite; the CSRF cookie is Secure and SameSite.

A session cookie without Secure costs 40 points on the MDN Observatory, without HttpOnly 30.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from pytest_cutover import blocked
from pytest_cutover.causes import no_response_cause

pytestmark = pytest.mark.checklist("sec.security-headers")


@dataclass(frozen=True)
class IssuedCookie:
    name: str
    issued_by: str  # "GET /" or "login"
    attributes: frozenset[str]  # lower-case attribute names: secure, httponly, samesite, ...
    samesite: str | None

    @classmethod
    def parse(cls, header, issued_by):
        first, *attrs = [part.strip() for part in header.split(";")]
        pairs = [a.partition("=") for a in attrs if a]
        names = frozenset(key.strip().lower() for key, _, _ in pairs)
        samesite = next((v.strip() for k, _, v in pairs if k.strip().lower() == "samesite"), None)
        return cls(first.partition("=")[0].strip(), issued_by, names, samesite)

    def lacks(self, flag):
        if flag == "samesite":
            return (self.samesite or "").lower() not in ("strict", "lax")
        return flag not in self.attributes


@pytest.fixture(scope="module")
def cookie_exchanges(smoke_login):
    """The run's one GET / and real login by a fresh client (`smoke_login`): every check below
    asks the same question of them (which cookies are set, with which flags)."""
    return smoke_login.exchanges


@pytest.fixture
def issued_cookies(cookie_exchanges, http, evidence):
    """Every Set-Cookie the app sends a fresh client on GET / and on a real login."""
    http.history.extend(cookie_exchanges)  # the check's transcripts show the shared exchanges
    unanswered = [r for r in cookie_exchanges if r.status is None]
    if not cookie_exchanges or unanswered:  # no answer, no cookies to judge: never a pass
        first = unanswered[0] if unanswered else None
        blocked((first and no_response_cause(first.url, first.error))
                or "the shared GET / and login got no answer",
                "; ".join(r.describe() for r in unanswered) or "no exchange was made")
    found = [IssuedCookie.parse(h, "GET /" if r.method == "GET" else "login")
             for r in cookie_exchanges for h in r.set_cookies]
    evidence("cookies set (values omitted; one GET / and one login shared by this module's checks)", [
        {"name": c.name, "by": c.issued_by, "attributes": sorted(c.attributes),
         "samesite": c.samesite} for c in found], "json")
    return found


def _offenders(cookies, names, flag):
    return [f"{c.name} (from {c.issued_by})" for c in cookies if c.name in names and c.lacks(flag)]


@pytest.mark.parametrize("flag", ["secure", "httponly", "samesite"])
def test_session_cookies_carry_flag(issued_cookies, target, flag):
    names = set(target.profile["session_cookies"])
    offenders = _offenders(issued_cookies, names, flag)
    assert not offenders, (f"session cookie(s) {', '.join(offenders)} lack {flag} "
                           f"(expected Secure, HttpOnly and SameSite=Lax or Strict)")


@pytest.mark.parametrize("flag", ["secure", "samesite"])
def test_csrf_cookie_carries_flag(issued_cookies, target, flag):
    name = target.profile["csrf_cookie"]
    offenders = _offenders(issued_cookies, {name}, flag)
    assert not offenders, (f"CSRF cookie {', '.join(offenders)} lacks {flag} "
                           f"(expected Secure and SameSite=Lax or Strict)")
