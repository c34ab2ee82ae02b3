"""docs/ils-contract.md keeps the ILS defaults honest.

Every route, test id, element id, text, role, storage key, table and column that the default e2e
profile, the load model and the clean-up queries use must appear in backticks in a row of the
contract that names the ILS source file it was read from. Structural parts of a selector (tag
names, classes, pseudo-classes) are not tokens; the rows describing each page's structure cover
them. The limiter and lockout rows carry machine-readable numbers (`limits()`).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from pytest_cutover import e2e_profile, schema
from pytest_cutover.clients import testdata

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = ROOT / "docs" / "ils-contract.md"
LOCUSTFILE = ROOT / "load" / "locustfile.py"
SOURCE = re.compile(r"\b(?:server|client|shared)/[\w./*-]+|\bpackage\.json\b")
PLACEHOLDER = re.compile(r"\{[^}]*\}|<[^>]*>|\[id\]")


def _normal(token: str) -> str:
    """Placeholders (`{id}`, `<id>`, `[id]`) and prefix matches compare alike."""
    return PLACEHOLDER.sub("*", token.strip())


def rows(text: str | None = None) -> list[dict[str, str]]:
    """The contract's fact rows: id, fact, values, source."""
    found = []
    for line in (text if text is not None else CONTRACT.read_text()).splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) == 4 and line.startswith("|") and cells[0] not in ("id", "") \
                and not set(cells[0]) <= set("-"):
            found.append(dict(zip(("id", "fact", "values", "source"), cells, strict=True)))
    return found


def listed_tokens(text: str | None = None) -> dict[str, str]:
    """Every backticked token of a row with an ILS source file -> that row's id."""
    tokens: dict[str, str] = {}
    for row in rows(text):
        if not SOURCE.search(row["source"]):
            continue
        for token in re.findall(r"`([^`]+)`", row["fact"]):
            tokens.setdefault(_normal(token), row["id"])
    return tokens


def limits(text: str | None = None) -> dict[str, dict[str, str]]:
    """The limiter/lockout rows' values, by their `name`: {"failed-login": {"limit": "5", ...}}."""
    found = {}
    for row in rows(text):
        pairs = dict(p.strip().split("=", 1) for p in row["values"].split(";") if "=" in p)
        if row["id"].startswith("limit.") and "name" in pairs:
            found[pairs["name"]] = pairs
    return found


def selector_tokens(selector: str) -> set[str]:
    """What a selector relies on: test ids (a prefix match ends in `*`), element ids, roles and
    quoted texts."""
    tokens = set()
    for value, prefix in ((m["v"], m["op"] == "^=") for m in re.finditer(
            r"data-testid(?P<op>\^?=)\"?(?P<v>[\w{}-]+)\"?", selector)):
        tokens.add(_normal(value) + ("*" if prefix else ""))
    tokens |= {f"#{m}" for m in re.findall(r"(?<![\w\"])#([\w-]+)", selector)}
    tokens |= {f"[role={m}]" for m in re.findall(r"\[role=(\w+)\]", selector)}
    tokens |= set(re.findall(r":(?:text-is|has-text)\(\"([^\"]+)\"\)", selector))
    return tokens


def used_tokens() -> dict[str, set[str]]:
    """Every token the defaults use, by where it is used."""
    used: dict[str, set[str]] = {}

    def add(where: str, *tokens: str) -> None:
        used.setdefault(where, set()).update(_normal(t) for t in tokens if t)

    add("e2e.routes", *e2e_profile.ROUTES.values())
    for key, selector in e2e_profile.SELECTORS.items():
        add(f"e2e.selectors.{key}", *selector_tokens(selector))
    for page, widgets in e2e_profile.WIDGETS.items():
        add(f"e2e.widgets.{page}", *(t for w in widgets for t in selector_tokens(w)))
    add("e2e.texts", *(v for k, v in e2e_profile.TEXTS.items() if k != "order_number_pattern"))
    add("e2e.order", *e2e_profile.ORDER.values())
    add("e2e.storage", *e2e_profile.STORAGE.values())
    add("e2e.landing", *e2e_profile.LANDING)
    for name, entries in (("e2e.cleanup_tables", e2e_profile.CLEANUP_TABLES),
                          ("load clean-up", testdata.LOAD_ORDER_TABLES)):
        add(name, *(e["table"] for e in entries), *(e["column"] for e in entries))
    add("load model", *re.findall(r"name=\"(/[^\"]+)\"", LOCUSTFILE.read_text()))
    profile = schema.ILS_PROFILE  # the smoke profile; the probe path is meant not to exist
    add("profile", *profile["health_paths"], *profile["protected_paths"], profile["ready_path"],
        profile["detailed_health_path"], profile["login_path"], profile["me_path"],
        profile["static_asset"], profile["csrf_cookie"], profile["csrf_header"])
    add("endpoints", *(e["path"] for e in schema.ILS_ENDPOINTS.values()))
    return used


def missing_from_contract() -> dict[str, list[str]]:
    listed = listed_tokens()
    missing = {where: sorted(t for t in tokens if t not in listed)
               for where, tokens in used_tokens().items()}
    return {where: tokens for where, tokens in missing.items() if tokens}


def test_the_contract_has_at_least_60_facts_each_with_its_ils_source():
    facts = rows()
    assert len(facts) >= 60, f"{len(facts)} facts in {CONTRACT.name} (expected at least 60)"
    unsourced = [r["id"] for r in facts if not SOURCE.search(r["source"])]
    assert unsourced == [], f"rows without an ILS source file: {unsourced}"
    ids = [r["id"] for r in facts]
    assert len(ids) == len(set(ids)), "fact ids must be unique (they are stable references)"


def test_every_default_token_is_in_the_contract():
    assert missing_from_contract() == {}, (
        f"defaults that {CONTRACT.name} does not list with an ILS source: {missing_from_contract()}")


def test_a_default_selector_the_contract_does_not_list_fails(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setitem(e2e_profile.SELECTORS, "login_button", "[data-testid=button-signin]")
    monkeypatch.setitem(e2e_profile.STORAGE, "access_token", "accessToken")
    missing = missing_from_contract()
    assert missing.get("e2e.selectors.login_button") == ["button-signin"], missing
    assert missing.get("e2e.storage") == ["accessToken"], missing


def test_a_token_in_a_row_without_a_source_does_not_count():
    text = ("| id | fact | values | source |\n|----|----|----|----|\n"
            "| a | uses `button-x` | | client/src/pages/X.tsx |\n"
            "| b | uses `button-y` | | from memory |\n")
    assert set(listed_tokens(text)) == {"button-x"}


@pytest.mark.parametrize(("selector", "expected"), [
    ("[data-testid=input-email]", {"input-email"}),
    ("[data-testid^=row-patient-]", {"row-patient-*"}),
    ('[data-testid="card-order-{number}"]', {"card-order-*"}),
    ('button[type=submit]:has-text("Add Patient")', {"Add Patient"}),
    ('[role=status]:has-text("Login failed")', {"[role=status]", "Login failed"}),
    ("#dateOfBirth", {"#dateOfBirth"}),
    ('main button:text-is("Next")', {"Next"}),
])
def test_selector_tokens(selector: str, expected: set[str]):
    assert selector_tokens(selector) == expected


def test_limiter_and_lockout_rows_are_machine_readable():
    found: dict[str, Any] = limits()
    assert {"api", "failed-login", "lockout"} <= set(found), found
    failed, lockout = found["failed-login"], found["lockout"]
    assert (failed["limit"], failed["window_s"], failed["key"], failed["counts"]) == (
        "5", "900", "ip", "failed")
    assert (lockout["limit"], lockout["window_s"], lockout["lockout_s"], lockout["key"]) == (
        "5", "900", "1800", "account")
    assert (found["api"]["limit"], found["api"]["window_s"]) == ("100", "900")


def test_reference_deployment_defaults_are_ils_limiters():
    """ilsref starts with ILS's failed-login limiter and lockout, and `--rate-limit ils` gives
    ILS's API limit; the failed-login paths and the profile's defaults are the contract's."""
    from ilsref import launcher
    from ilsref.app import config, security

    found = limits()
    failed, lockout, api = found["failed-login"], found["lockout"], found["api"]
    args = launcher._parser().parse_args(["up"])
    assert args.auth_rate_limit == (int(failed["limit"]), int(failed["window_s"]))
    assert args.window_scale == 1.0
    assert config.Lockout(*launcher.ILS_LOCKOUT) == config.Lockout() == config.Lockout(
        int(lockout["limit"]), int(lockout["window_s"]), int(lockout["lockout_s"]))
    assert launcher._rate("ils") == (int(api["limit"]), int(api["window_s"]))
    assert config.RateLimit(int(api["limit"]), int(api["window_s"])) == config.ILS_API_LIMIT
    assert set(failed["paths"].split(",")) <= set(security.FAILED_LOGIN_PATHS)
    assert (schema.ILS_PROFILE["failed_login_limit"], schema.ILS_PROFILE["failed_login_window_s"]) == (
        int(failed["limit"]), int(failed["window_s"]))


def test_window_scale_shrinks_the_failed_login_window_and_the_lockout():
    from ilsref import launcher

    args = launcher._parser().parse_args(["up", "--window-scale", "0.02"])
    assert launcher._scaled(args.auth_rate_limit, args.window_scale) == (5, 18)
