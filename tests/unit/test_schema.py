"""The schema machinery: bounds implied by a key's name (so adding a key is one line), the names
the configuration may use, and offline parsing of DSNs and Redis URLs that never echoes them."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from pytest_cutover import schema
from pytest_cutover.schema import INT, NUMBER, STR, K, MapOf

ROOT = Path(__file__).resolve().parents[2]


def problems(data: object, spec: object) -> list[str]:
    found: list[str] = []
    schema.validate(data, spec, "t", found, file="f.toml")
    return found


@pytest.mark.parametrize(("key", "kind", "value", "expected"), [
    ("drain_timeout_s", NUMBER, 0, "found 0; expected a number > 0"),  # a new key, one line
    ("budget_duration_s", NUMBER, -1, "expected a number > 0"),
    ("poll_s", NUMBER, 0.5, None),
    ("retries", INT, -2, "expected a number >= 0"),
    ("metrics_port", INT, 70000, "expected a number >= 1 and <= 65535"),
    ("expect_status", INT, 42, "expected a number >= 100 and <= 599"),
    ("warmup_s", NUMBER, 0, None),  # not a timeout: 0 means none
])
def test_bounds_follow_from_the_key_name(key: str, kind: str, value: object, expected: str | None) -> None:
    found = problems({key: value}, {key: kind})
    if expected is None:
        assert found == []
    else:
        assert len(found) == 1 and found[0].startswith(f"f.toml: t.{key}: ") and expected in found[0]


def test_k_adds_meaning_choices_and_required_in_one_line() -> None:
    spec = {"mode": K(STR, "how", choices=("fast", "slow"), required=True)}
    assert problems({"mode": "fats"}, spec) == [
        "f.toml: t.mode: found 'fats'; expected one of fast, slow (did you mean 'fast'?)"]
    missing: list[str] = []
    schema.missing_required({}, spec, "t", "f.toml", missing)
    assert missing == ["f.toml: t.mode: missing; expected a string (how)"]


def test_map_with_known_names_suggests_the_nearest() -> None:
    assert problems({"cnd": "x"}, MapOf(STR, names=("cdn", "dns"))) == [
        "f.toml: t.cnd: unknown name (did you mean 'cdn'?); expected one of cdn, dns"]


def test_secret_looking_values_are_not_echoed() -> None:
    found = problems({"password": 5}, {"password": STR})
    assert found == ["f.toml: t.password: found 5 (int); expected a string"]
    found = problems({"api_token": ["s3cr3t-value"]}, {"api_token": STR})
    assert "s3cr3t-value" in found[0]  # a list is shown (not a string secret), but
    assert "hidden" in problems({"db_password": "s3cr3t-value"}, {"db_password": INT})[0]


@pytest.mark.parametrize(("value", "problem"), [
    ("postgresql://app:Secr3t-pw@db:5432/ils", None),
    ("host=db dbname=ils user=app password=Secr3t-pw", None),
    ("postgresql://app:Secr3t-pw@db:99999/ils", "its port is not a number from 1 to 65535"),
    ("postgresql://app:Secr3t-pw@db:5432/", "it names no database"),
    ("mysql://app:Secr3t-pw@db/ils", "scheme 'mysql'"),
    ("postgresql//app:Secr3t-pw@db/ils", "neither a postgresql:// URL nor key=value pairs"),
    ("host=db pasword=Secr3t-pw", "unknown keyword(s) pasword"),
])
def test_dsns_are_parsed_offline_and_never_echoed(value: str, problem: str | None) -> None:
    found = schema.dsn_problem(value)
    assert found == problem or (problem and found and problem in found)
    assert "Secr3t" not in (found or "")


@pytest.mark.parametrize(("value", "problem"), [
    ("redis://:Secr3t-pw@cache:6379/0", None),
    ("rediss://cache:6380", None),
    ("redis://:Secr3t-pw@cache:6x79/0", "its port is not a number"),
    ("http://cache:6379", "scheme 'http'"),
    ("redis://:Secr3t-pw@cache:6379/zero", "its database (the path) is not a number"),
])
def test_redis_urls_are_parsed_offline_and_never_echoed(value: str, problem: str | None) -> None:
    found = schema.redis_url_problem(value)
    assert found == problem or (problem and found and problem in found)
    assert "Secr3t" not in (found or "")


def test_every_threshold_name_the_suite_looks_up_is_known() -> None:
    """A name used by a check but unknown to the schema would be refused in the config."""
    used: set[str] = set()
    for folder in ("readiness", "smoke", "e2e", "load", "rollback", "src/pytest_cutover"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text()
            used |= set(re.findall(r"threshold\(\s*\"([a-z0-9_]+)\"", text))
            used |= set(re.findall(r"measure\(\s*\"([a-z0-9_]+)\",[^,()]+\)", text))  # no threshold given
            used |= set(re.findall(r"\"([a-z0-9_]+_age_(?:hours|days))\"", text))
    # table keys, and document_age_days (judged against documents.*.max_age_days, not [thresholds])
    unknown = sorted(used - set(schema.threshold_names())
                     - {"max_age_hours", "max_age_days", "document_age_days"})
    assert unknown == [], f"add these to schema.THRESHOLDS_WITH_LOCAL_DEFAULTS: {unknown}"


def test_not_applicable_names_cover_every_component_a_check_requires() -> None:
    used: set[str] = set()
    for folder in ("readiness", "smoke", "e2e", "load", "rollback"):
        for path in (ROOT / folder).rglob("*.py"):
            used |= set(re.findall(r"(?:require|not_applicable_reason|component)\(\s*\"([a-z_]+)\"",
                                   path.read_text()))
    assert sorted(used - set(schema.not_applicable_names())) == []
