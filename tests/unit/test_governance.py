"""Sign-offs and waivers from signoffs.toml: the latest sign-off wins, expiry is honoured, waivers
match exactly, by parametrized prefix or by glob, and mistakes in the file are problems."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest

from pytest_cutover import governance
from pytest_cutover.governance import Waiver

NOW = dt.datetime(2026, 11, 25, 12, 0, tzinfo=dt.UTC)


def load(tmp_path: Path, text: str) -> tuple[governance.Governance, list[str]]:
    path = tmp_path / "signoffs.toml"
    path.write_text(textwrap.dedent(text))
    return governance.load(path)


def test_missing_file_means_no_signoffs_and_no_problems(tmp_path: Path) -> None:
    gov, problems = governance.load(tmp_path / "signoffs.toml")
    assert (gov.signoffs, gov.waivers, gov.path, problems) == ([], [], None, [])


def test_latest_signoff_for_an_item_wins(tmp_path: Path) -> None:
    gov, problems = load(tmp_path, """
        [[signoff]]
        item = "team.war-room"
        who = "Old Lead"
        role = "Release Manager"
        when = 2026-11-01T10:00:00Z
        evidence = "https://wiki/old"
        [[signoff]]
        item = "team.war-room"
        who = "Dana Reyes"
        role = "Release Manager"
        when = 2026-11-20T10:00:00Z
        evidence = "https://wiki/new"
        expires = 2026-12-31
        [[signoff]]
        item = "other.item"
        who = "Someone"
        role = "QA Lead"
        when = 2026-11-30T10:00:00
        evidence = "x"
    """)
    assert problems == []
    found = gov.signoff_for("team.war-room")
    assert found is not None and found.who == "Dana Reyes"
    assert gov.signoff_for("unknown.item") is None
    assert gov.signoff_for("other.item").when.tzinfo is dt.UTC  # type: ignore[union-attr]


@pytest.mark.parametrize(("expires", "expired"), [
    ("2026-11-25", False),  # a date is valid through the end of that day
    ("2026-11-24", True),
    ("2026-11-25T11:59:00Z", True),
    ("2026-11-25T12:01:00Z", False),
    ('"2026-11-25"', False),  # a quoted date means the same as a TOML date
    ('"2026-11-24"', True),
])
def test_signoff_expiry(tmp_path: Path, expires: str, expired: bool) -> None:
    gov, problems = load(tmp_path, f"""
        [[signoff]]
        item = "security.audit"
        who = "Sam Ito"
        role = "CISO"
        when = 2026-11-01
        evidence = "https://wiki/audit"
        expires = {expires}
    """)
    assert problems == []
    assert gov.signoffs[0].expired(NOW) is expired


def waiver(check: str, expires: dt.datetime = NOW + dt.timedelta(days=1)) -> Waiver:
    return Waiver(check, "why", "approver", expires)


@pytest.mark.parametrize(("pattern", "nodeid", "matches"), [
    ("smoke/test_h.py::test_csp", "smoke/test_h.py::test_csp", True),
    ("smoke/test_h.py::test_csp", "smoke/test_h.py::test_csp_strict", False),
    ("smoke/test_h.py::test_csp", "smoke/test_h.py::test_csp[health]", True),
    ("smoke/test_h.py::test_csp[health]", "smoke/test_h.py::test_csp[health]", True),
    ("smoke/test_h.py::test_csp[health]", "smoke/test_h.py::test_csp[home]", False),
    ("smoke/test_h.py::*", "smoke/test_h.py::test_anything[x]", True),
    ("smoke/*::test_csp", "readiness/test_h.py::test_csp", False),
    ("smoke/test_?.py::test_csp", "smoke/test_h.py::test_csp", True),
])
def test_waiver_matching(pattern: str, nodeid: str, matches: bool) -> None:
    assert waiver(pattern).matches(nodeid) is matches


def test_expired_waiver_is_expired() -> None:
    assert waiver("x", NOW - dt.timedelta(seconds=1)).expired(NOW)
    assert not waiver("x").expired(NOW)


def test_a_renewed_waiver_wins_over_the_expired_one_it_replaces() -> None:
    gov = governance.Governance([], [waiver("smoke/t.py::test_a", NOW - dt.timedelta(days=30)),
                                     waiver("smoke/t.py::test_a", NOW + dt.timedelta(days=30))])
    found = gov.waiver_for("smoke/t.py::test_a")
    assert found is not None and not found.expired(NOW)
    assert gov.waiver_for("smoke/t.py::test_b") is None


def test_waivers_load_from_the_file(tmp_path: Path) -> None:
    gov, problems = load(tmp_path, """
        [[waiver]]
        check = "smoke/test_security_headers.py::test_content_security_policy_is_set"
        justification = "CSP rolled out behind a flag next sprint"
        approver = "Sam Ito (CISO)"
        expires = 2026-12-15
    """)
    assert problems == []
    assert gov.waivers[0].to_dict() == {
        "check": "smoke/test_security_headers.py::test_content_security_policy_is_set",
        "justification": "CSP rolled out behind a flag next sprint", "approver": "Sam Ito (CISO)",
        "expires": "2026-12-15T23:59:59.999999+00:00"}


@pytest.mark.parametrize(("text", "problem"), [
    ('[[signoff]]\nitem = "a"\nwho = "b"\nrole = "c"\nwhen = "yesterday"\nevidence = "e"\n',
     "signoffs.toml: signoff #1 (a).when: found 'yesterday'; expected a TOML date or date-time"),
    ('[[signoff]]\nitem = "a"\nwho = "b"\nrole = "c"\nwhen = 5\nevidence = "e"\n',
     "signoffs.toml: signoff #1 (a).when: found 5; expected a TOML date or date-time"),
    ('[[signoff]]\nitem = "a"\nwhen = 2026-01-01\n', "signoffs.toml: signoff #1 (a): missing who, role, "
                                                     "evidence"),
    ('[[waiver]]\ncheck = "x"\njustification = "j"\napprover = "a"\nexpires = "soon"\n',
     "signoffs.toml: waiver #1.expires: found 'soon'; expected a TOML date or date-time"),
    ('[[waiver]]\ncheck = "x"\n', "signoffs.toml: waiver #1: missing justification, approver, expires"),
    ('[[signof]]\nitem = "a"\n',
     "signoffs.toml: signof: unknown table (did you mean 'signoff'?); expected [[signoff]] or [[waiver]]"),
    ("[[signoff]\n", "is not valid TOML"),
    ('signoff = "team.war-room"\n', "signoffs.toml: signoff: found str 'team.war-room'; expected "
                                    "[[signoff]] tables"),
    ('[[signoff]]\nitem = "a"\nwho = "b"\nrole = "c"\nwhen = 2026-01-01\nevidence = "e"\n'
     'expire = 2027-01-01\n',
     "signoffs.toml: signoff #1 (a).expire: unknown key (did you mean 'expires'?)"),
    ('[[signoff]]\nitem = "a"\nwho = "b"\nrole = "c"\nwhen = 2999-01-01\nevidence = "e"\n',
     "signoffs.toml: signoff #1 (a).when: 2999-01-01 23:59 UTC is in the future"),
])
def test_mistakes_in_the_signoff_file_are_problems(tmp_path: Path, text: str, problem: str) -> None:
    _, problems = load(tmp_path, text)
    assert any(problem in p for p in problems), problems


def test_unknown_item_and_waiver_for_no_check_are_problems_with_suggestions(tmp_path: Path) -> None:
    path = tmp_path / "signoffs.toml"
    path.write_text(textwrap.dedent("""
        [[signoff]]
        item = "team.war-rom"
        who = "b"
        role = "c"
        when = 2026-01-01
        evidence = "e"

        [[waiver]]
        check = "smoke/test_headers.py::test_csp_is_sett"
        justification = "j"
        approver = "a"
        expires = 2026-12-15

        [[waiver]]
        check = "smoke/test_headers.py::test_csp_is_set"
        justification = "j"
        approver = "a"
        expires = 2026-12-15
    """))
    checks = ["smoke/test_headers.py::test_csp_is_set[a]", "smoke/test_headers.py::test_hsts"]
    gov, problems = governance.load(path, {"team.war-room", "team.on-call"}, checks)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "signoff #1 (team.war-rom).item: 'team.war-rom' is no checklist id (did you mean "
        "'team.war-room'?); expected an id of src/pytest_cutover/data/checklist.toml",
        "waiver #1.check: 'smoke/test_headers.py::test_csp_is_sett' matches no check of the suite "
        "(did you mean 'smoke/test_headers.py::test_csp_is_set[a]'?); expected a node id "
        "(file.py::test_name), a prefix or a glob"]
    assert [w.check for w in gov.waivers] == ["smoke/test_headers.py::test_csp_is_set"]


def test_a_directory_or_non_utf8_file_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    folder = tmp_path / "signoffs.toml"
    folder.mkdir()
    assert "is a directory" in governance.load(folder)[1][0]
    bad = tmp_path / "s2.toml"
    bad.write_bytes(b'[[signoff]]\nitem = "\xff\xfe"\n')
    assert "is not UTF-8 text" in governance.load(bad)[1][0]
