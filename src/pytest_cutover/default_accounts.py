"""Accounts whose credentials are public: the app's own seeded ones and the generic defaults.

Pure module. The profile's `seeded_accounts` are read from the app's own migrations, seeds and
boot code (for ILS: docs/ils-contract.md, acct.*); `security.default_credentials` is the generic
list. On an environment of kind production the suite refuses to sign in as one of them: checks
that pass as a publicly known admin prove nothing about the real accounts, and keep a hole open.
"""

from __future__ import annotations

from typing import Any

from pytest_cutover.settings import Environment, Unavailable


def known(environment: Environment) -> dict[str, str]:
    """Lower-cased e-mail -> where it is published, for the app's seeded accounts (the app
    re-creates them with their published password, so the address alone is enough)."""
    found: dict[str, str] = {}
    for entry in environment.profile.get("seeded_accounts") or []:
        if isinstance(entry, dict) and entry.get("email"):
            found.setdefault(str(entry["email"]).lower(),
                             f"created by the app's own code ({entry.get('source') or 'profile'})")
    return found


def generic(environment: Environment) -> dict[str, set[str]]:
    """Lower-cased e-mail -> the public passwords the generic list pairs it with. A generic entry
    names a real address only to probe it: the account is a default one only if it uses one."""
    found: dict[str, set[str]] = {}
    security = environment.data.get("security") or {}
    for entry in security.get("default_credentials") or []:
        if isinstance(entry, dict) and entry.get("email"):
            found.setdefault(str(entry["email"]).lower(), set()).add(str(entry.get("password") or ""))
    return found


def seeded(environment: Environment) -> list[dict[str, Any]]:
    """The profile's seeded accounts that the login can accept at all, most dangerous first."""
    shortest = int(environment.profile.get("login_min_password") or 0)
    return [entry for entry in environment.profile.get("seeded_accounts") or []
            if isinstance(entry, dict) and entry.get("email")
            and len(str(entry.get("password") or "")) >= max(shortest, 1)]


def own_account_problems(environment: Environment) -> list[str]:
    """One problem per configured account (accounts.*) that is a known default one, on production."""
    if not environment.is_production:
        return []
    public, defaults = known(environment), generic(environment)
    problems = []
    for name, table in sorted((environment.data.get("accounts") or {}).items()):
        if not isinstance(table, dict) or not table.get("email_env"):
            continue
        try:
            email = environment.secret(str(table["email_env"])).strip().lower()
        except Unavailable:
            continue  # not set: the checks that need it say so
        where = public.get(email)
        if where is None and email in defaults and _password(environment, table) in defaults[email]:
            where = "a generic default account, with its public password"
        if where is not None:
            problems.append(
                f"environments.{environment.name}.accounts.{name} is {email!r}, a known default "
                f"account ({where}) whose password is public: the suite refuses to use it "
                f"on production; create a dedicated account and remove or re-key this one")
    return problems


def _password(environment: Environment, table: dict[str, Any]) -> str | None:
    try:
        return environment.secret(str(table.get("password_env") or ""))
    except Unavailable:
        return None
