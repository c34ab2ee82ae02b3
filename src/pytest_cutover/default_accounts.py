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
    """Lower-cased e-mail -> where it is published (the app file, or the generic list)."""
    found: dict[str, str] = {}
    for entry in environment.profile.get("seeded_accounts") or []:
        if isinstance(entry, dict) and entry.get("email"):
            found.setdefault(str(entry["email"]).lower(),
                             f"created by the app's own code ({entry.get('source') or 'profile'})")
    security = environment.data.get("security") or {}
    for entry in security.get("default_credentials") or []:
        if isinstance(entry, dict) and entry.get("email"):
            found.setdefault(str(entry["email"]).lower(), "a generic default account")
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
    public = known(environment)
    problems = []
    for name, table in sorted((environment.data.get("accounts") or {}).items()):
        if not isinstance(table, dict) or not table.get("email_env"):
            continue
        try:
            email = environment.secret(str(table["email_env"])).strip().lower()
        except Unavailable:
            continue  # not set: the checks that need it say so
        if email in public:
            problems.append(
                f"environments.{environment.name}.accounts.{name} is {email!r}, a known default "
                f"account ({public[email]}) whose password is public: the suite refuses to use it "
                f"on production; create a dedicated account and remove or re-key this one")
    return problems
