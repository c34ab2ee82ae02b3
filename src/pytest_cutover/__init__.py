"""pytest-cutover: a go/no-go verification suite for production cutovers.

Check code calls `unverified`, `not_applicable` or `pending` to end a check with an outcome that
is neither pass nor fail (see outcomes.py).
"""

from __future__ import annotations

from typing import NoReturn

from pytest_cutover import outcomes

__all__ = ["not_applicable", "pending", "unverified"]


def _skip(outcome: str, message: str) -> NoReturn:
    import pytest

    pytest.skip(outcomes.tag(outcome, message))


def unverified(message: str) -> NoReturn:
    """The check could not be carried out (component not configured, data missing)."""
    _skip(outcomes.UNVERIFIED, message)


def not_applicable(message: str) -> NoReturn:
    """The config declares this component not applicable, with the reason in `message`."""
    _skip(outcomes.NOT_APPLICABLE, message)


def pending(message: str) -> NoReturn:
    """A manual item that has no valid sign-off yet."""
    _skip(outcomes.PENDING, message)
