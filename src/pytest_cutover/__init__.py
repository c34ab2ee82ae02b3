"""pytest-cutover: a go/no-go verification suite for production cutovers.

Check code calls `unverified`, `not_applicable`, `pending` or `blocked` to end a check with an outcome that
is neither pass nor fail (see outcomes.py).
"""

from __future__ import annotations

from typing import NoReturn

from pytest_cutover import outcomes

__all__ = ["blocked", "not_applicable", "pending", "unverified"]


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


def blocked(cause: str, detail: str = "") -> NoReturn:
    """The check could not exercise its flow because of `cause` (the target unreachable, TLS
    verification failed, the suite throttled, a prerequisite failed). Counts against GO, never
    fires ROLLBACK; checks blocked by the same cause are reported as one reason."""
    _skip(outcomes.BLOCKED, outcomes.blocked_message(cause, detail))
