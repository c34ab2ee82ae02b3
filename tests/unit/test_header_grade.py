"""Header grading in the spirit of the MDN HTTP Observatory: penalties, bonuses, letters."""

import pytest

from pytest_cutover.header_grade import Observation, at_least, grade, letter_for

ILS_HEADERS = {
    "Content-Security-Policy": "default-src 'self'",
    "Strict-Transport-Security": "max-age=31536000; includeSubDomains; preload",
    "X-Frame-Options": "SAMEORIGIN",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
SESSION_OK = "ils.sid=abc; Path=/; Secure; HttpOnly; SameSite=Lax"


def without(*names: str) -> dict[str, str]:
    return {k: v for k, v in ILS_HEADERS.items() if k not in names}


def test_the_ils_header_set_scores_a_plus_with_bonuses():
    result = grade(Observation(ILS_HEADERS, (SESSION_OK,), https_redirect=True))
    assert (result.score, result.letter, result.missing) == (115, "A+", ())


@pytest.mark.parametrize(("headers", "score", "missing"), [
    (without("Content-Security-Policy"), 75, ("Content-Security-Policy",)),
    (without("Strict-Transport-Security"), 80, ("Strict-Transport-Security",)),
    (without("X-Frame-Options"), 80, ("X-Frame-Options",)),
    (without("X-Content-Type-Options"), 105, ("X-Content-Type-Options",)),
    ({}, 30, tuple(ILS_HEADERS)),
], ids=["no-csp", "no-hsts", "no-xfo", "no-xcto", "nothing"])
def test_a_missing_header_costs_its_penalty_and_is_named(headers, score, missing):
    result = grade(Observation(headers))
    assert (result.score, result.missing) == (score, missing)


def test_bonuses_count_only_when_the_base_score_is_at_least_90():
    assert grade(Observation(without("Content-Security-Policy"))).score == 75


@pytest.mark.parametrize(("value", "delta"), [
    ("max-age=300", -10), ("max-age=15552000", 0), ("max-age=63072000; includeSubDomains; preload", 5)])
def test_hsts_below_six_months_is_penalised(value, delta):
    result = grade(Observation({**ILS_HEADERS, "Strict-Transport-Security": value}))
    assert [f.delta for f in result.findings if f.test == "strict-transport-security"] == [delta]


@pytest.mark.parametrize(("cookie", "delta"), [
    ("ils.sid=abc; Path=/", -40),
    ("ils.sid=abc; Path=/; Secure", -30),
    ("theme=dark; Path=/", -20),
    (SESSION_OK, 5),
])
def test_cookie_flags_are_graded_by_the_worst_cookie(cookie, delta):
    result = grade(Observation(ILS_HEADERS, (cookie,)))
    assert [f.delta for f in result.findings if f.test == "cookies"] == [delta]


def test_unsafe_inline_csp_costs_20():
    result = grade(Observation({**ILS_HEADERS,
                                "Content-Security-Policy": "default-src 'self' 'unsafe-inline'"}))
    assert result.score == 80


def test_no_https_redirect_and_reflected_cors_are_penalised():
    result = grade(Observation(ILS_HEADERS, https_redirect=False,
                               cors_origin_reflected_with_credentials=True))
    assert result.score == 30 and result.letter == "D"


@pytest.mark.parametrize(("score", "letter"), [(130, "A+"), (100, "A+"), (95, "A"), (85, "A-"),
                                               (72, "B"), (60, "C+"), (24, "F"), (0, "F")])
def test_score_maps_to_the_observatory_letter(score, letter):
    assert letter_for(score) == letter


def test_grades_compare_best_first():
    assert at_least("A+", "B") and at_least("B", "B") and not at_least("B-", "B")


CLEAN_CSP = {"Content-Security-Policy": "default-src 'self'; base-uri 'self'; object-src 'none'"}


def test_summary_names_grade_score_and_missing_headers():
    assert grade(Observation({**without("X-Frame-Options"), **CLEAN_CSP})).summary() == (
        "grade B+ (score 80); missing headers: X-Frame-Options")


def test_summary_lists_the_weak_spots_of_a_policy_that_is_set():
    policy = "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; object-src 'none'"
    summary = grade(Observation({**ILS_HEADERS, "Content-Security-Policy": policy})).summary()
    assert "missing headers: none; weak CSP: script-src 'unsafe-inline' allows inline script" in summary
    assert "script-src 'unsafe-eval' allows eval()" in summary and "base-uri is missing" in summary


def test_lowest_score_of_a_letter_and_unknown_letters():
    from pytest_cutover.header_grade import lowest_score

    assert (lowest_score("A+"), lowest_score("B"), lowest_score("F")) == (100, 70, 0)
    with pytest.raises(ValueError, match="unknown grade 'E'"):
        lowest_score("E")
