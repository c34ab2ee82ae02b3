"""Grade a site's security headers in the spirit of the MDN HTTP Observatory.

Pure module. Start at 100, subtract a penalty per failed test, add bonuses only when the score
before bonuses is at least 90 (as the Observatory does), then map the score to a letter grade.
The penalties follow the Observatory's published scoring (docs/anchors.md); tests it runs that
need a browser-side view (subresource integrity, robots) are left out.

Input is what one homepage answer (plus an optional login answer and an HTTP-to-HTTPS probe)
shows; output is the score, the letter, one finding per test and the missing headers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from pytest_cutover import csp

# (lowest score, letter), best first; the Observatory's scale.
GRADES: tuple[tuple[int, str], ...] = (
    (100, "A+"), (90, "A"), (85, "A-"), (80, "B+"), (70, "B"), (65, "B-"), (60, "C+"),
    (50, "C"), (45, "C-"), (40, "D+"), (30, "D"), (25, "D-"), (0, "F"))
LETTERS = tuple(letter for _, letter in GRADES)
HSTS_MIN_AGE_S = 15_552_000  # six months
PRIVATE_REFERRER = {"no-referrer", "same-origin", "strict-origin", "strict-origin-when-cross-origin"}
UNSAFE_REFERRER = {"unsafe-url", "no-referrer-when-downgrade"}


@dataclass(frozen=True)
class Finding:
    test: str  # e.g. "content-security-policy"
    delta: int  # penalty (< 0), bonus (> 0) or 0
    note: str


@dataclass(frozen=True)
class Grade:
    score: int
    letter: str
    findings: tuple[Finding, ...]
    missing: tuple[str, ...]  # header names that were absent
    csp_findings: tuple[csp.CspFinding, ...] = field(default=())  # weak spots of a policy that is set

    def summary(self) -> str:
        missing = ", ".join(self.missing) or "none"
        weak = f"; weak CSP: {csp.describe(list(self.csp_findings))}" if self.csp_findings else ""
        return f"grade {self.letter} (score {self.score}); missing headers: {missing}{weak}"

    def failed(self) -> list[Finding]:
        return [f for f in self.findings if f.delta < 0]


@dataclass(frozen=True)
class Observation:
    """What the grader looks at: response headers (any case) and raw Set-Cookie lines."""

    headers: Mapping[str, str]
    set_cookies: tuple[str, ...] = ()
    session_cookies: tuple[str, ...] = ("ils.sid", "connect.sid", "session")
    https_redirect: bool | None = None  # None: no plain-HTTP listener was probed
    cors_origin_reflected_with_credentials: bool = False


def letter_for(score: int) -> str:
    for lowest, letter in GRADES:
        if score >= lowest:
            return letter
    return "F"


def at_least(letter: str, minimum: str) -> bool:
    """True when `letter` is as good as `minimum` or better (A+ is best)."""
    return LETTERS.index(letter) <= LETTERS.index(minimum)


def _lower(headers: Mapping[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _directives(policy: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for part in policy.split(";"):
        name, _, value = part.strip().partition(" ")
        if name:
            found.setdefault(name.lower(), value.strip())
    return found


def _csp(headers: dict[str, str]) -> list[Finding]:
    policy = headers.get("content-security-policy")
    if policy is None:
        return [Finding("content-security-policy", -25, "Content-Security-Policy header not set")]
    directives = _directives(policy)
    scripts = directives.get("script-src", directives.get("default-src", ""))
    if "default-src" not in directives and "script-src" not in directives:
        return [Finding("content-security-policy", -25,
                        "Content-Security-Policy sets neither default-src nor script-src")]
    if "'unsafe-inline'" in scripts:
        return [Finding("content-security-policy", -20, "CSP allows 'unsafe-inline' scripts")]
    if "'unsafe-eval'" in scripts:
        return [Finding("content-security-policy", -10, "CSP allows 'unsafe-eval'")]
    if directives.get("default-src") == "'none'":
        return [Finding("content-security-policy", 10, "CSP with default-src 'none'")]
    return [Finding("content-security-policy", 0, "CSP set without unsafe sources")]


def _hsts(headers: dict[str, str]) -> list[Finding]:
    value = headers.get("strict-transport-security")
    if value is None:
        return [Finding("strict-transport-security", -20, "Strict-Transport-Security header not set")]
    match = re.search(r"max-age\s*=\s*\"?(\d+)", value, re.IGNORECASE)
    age = int(match.group(1)) if match else 0
    if age < HSTS_MIN_AGE_S:
        return [Finding("strict-transport-security", -10,
                        f"HSTS max-age={age} is below six months ({HSTS_MIN_AGE_S})")]
    words = value.lower()
    if "preload" in words and "includesubdomains" in words:
        return [Finding("strict-transport-security", 5, "HSTS with preload and includeSubDomains")]
    return [Finding("strict-transport-security", 0, f"HSTS max-age={age}")]


def _frame(headers: dict[str, str]) -> list[Finding]:
    csp = _directives(headers.get("content-security-policy", ""))
    if "frame-ancestors" in csp:
        return [Finding("x-frame-options", 5, "framing restricted by CSP frame-ancestors")]
    value = headers.get("x-frame-options", "").strip().upper()
    if not value:
        return [Finding("x-frame-options", -20, "X-Frame-Options header not set")]
    if value not in ("DENY", "SAMEORIGIN"):
        return [Finding("x-frame-options", -20, f"X-Frame-Options {value!r} is not DENY or SAMEORIGIN")]
    return [Finding("x-frame-options", 0, f"X-Frame-Options {value}")]


def _content_type(headers: dict[str, str]) -> list[Finding]:
    value = headers.get("x-content-type-options", "").strip().lower()
    if value != "nosniff":
        note = "not set" if not value else f"is {value!r}, not nosniff"
        return [Finding("x-content-type-options", -5, f"X-Content-Type-Options {note}")]
    return [Finding("x-content-type-options", 0, "X-Content-Type-Options nosniff")]


def _referrer(headers: dict[str, str]) -> list[Finding]:
    values = {v.strip().lower() for v in headers.get("referrer-policy", "").split(",") if v.strip()}
    if not values:
        return [Finding("referrer-policy", 0, "Referrer-Policy not set (browser default)")]
    if values & UNSAFE_REFERRER:
        return [Finding("referrer-policy", -5, f"Referrer-Policy {', '.join(sorted(values))} leaks URLs")]
    if values <= PRIVATE_REFERRER:
        return [Finding("referrer-policy", 5, f"Referrer-Policy {', '.join(sorted(values))}")]
    return [Finding("referrer-policy", 0, f"Referrer-Policy {', '.join(sorted(values))}")]


def _cookie_attributes(line: str) -> tuple[str, set[str]]:
    name = line.split("=", 1)[0].strip()
    attributes = {part.strip().split("=", 1)[0].lower() for part in line.split(";")[1:]}
    return name, attributes


def _cookies(set_cookies: Iterable[str], session_names: Iterable[str]) -> list[Finding]:
    lines = list(set_cookies)
    if not lines:
        return [Finding("cookies", 0, "no cookies set")]
    sessions = {n.lower() for n in session_names}
    worst: Finding | None = None
    all_samesite = True
    for line in lines:
        name, attrs = _cookie_attributes(line)
        session = name.lower() in sessions
        all_samesite &= "samesite" in attrs
        problems: list[Finding] = []
        if session and "secure" not in attrs:
            problems.append(Finding("cookies", -40, f"session cookie {name!r} set without Secure"))
        elif session and "httponly" not in attrs:
            problems.append(Finding("cookies", -30, f"session cookie {name!r} set without HttpOnly"))
        elif "secure" not in attrs:
            problems.append(Finding("cookies", -20, f"cookie {name!r} set without Secure"))
        for problem in problems:
            if worst is None or problem.delta < worst.delta:
                worst = problem
    if worst is not None:
        return [worst]
    if all_samesite:
        return [Finding("cookies", 5, "all cookies Secure, session cookies HttpOnly, all SameSite")]
    return [Finding("cookies", 0, "all cookies Secure, session cookies HttpOnly")]


def _redirect(https_redirect: bool | None) -> list[Finding]:
    if https_redirect is None:
        return []
    if not https_redirect:
        return [Finding("redirection", -20, "plain HTTP does not redirect to HTTPS")]
    return [Finding("redirection", 0, "plain HTTP redirects to HTTPS")]


def _cors(reflected: bool) -> list[Finding]:
    if reflected:
        return [Finding("cross-origin-resource-sharing", -50,
                        "any Origin is reflected with Access-Control-Allow-Credentials: true")]
    return [Finding("cross-origin-resource-sharing", 0, "foreign origins are not granted access")]


EXPECTED_HEADERS = ("Content-Security-Policy", "Strict-Transport-Security", "X-Frame-Options",
                    "X-Content-Type-Options", "Referrer-Policy")


def grade(observation: Observation) -> Grade:
    headers = _lower(observation.headers)
    findings = [*_csp(headers), *_hsts(headers), *_frame(headers), *_content_type(headers),
                *_referrer(headers),
                *_cookies(observation.set_cookies, observation.session_cookies),
                *_redirect(observation.https_redirect),
                *_cors(observation.cors_origin_reflected_with_credentials)]
    base = 100 + sum(f.delta for f in findings if f.delta < 0)
    bonus = sum(f.delta for f in findings if f.delta > 0) if base >= 90 else 0
    score = max(0, base + bonus)
    missing = tuple(h for h in EXPECTED_HEADERS if h.lower() not in headers)
    weak = tuple(csp.findings(headers.get("content-security-policy")))
    return Grade(score, letter_for(score), tuple(findings), missing, weak)


def lowest_score(letter: str) -> int:
    """The lowest score that still earns `letter`; ValueError for an unknown letter."""
    for lowest, known in GRADES:
        if known == letter:
            return lowest
    raise ValueError(f"unknown grade {letter!r}; expected one of {', '.join(LETTERS)}")
