"""The outcomes a check can have beyond pass and fail, carried as tagged skip reasons.

Pure module. pytest only knows passed/failed/skipped; a skip here is never a pass: each tag says
what the verdict must make of it.
"""

from __future__ import annotations

UNVERIFIED = "unverified"  # the component or data needed is missing: counts against GO
NOT_APPLICABLE = "not_applicable"  # declared so in the config, with a reason: neutral
PENDING = "pending"  # a manual item without a valid sign-off: counts against GO
# the check could not exercise its flow (target unreachable, TLS failed, throttled, a prerequisite
# failed): counts against GO, never fires ROLLBACK; the message starts with its cause
BLOCKED = "blocked"

_TAG = "[cutover:{}] "


def tag(outcome: str, message: str) -> str:
    return _TAG.format(outcome) + message


def parse(reason: str) -> tuple[str, str]:
    """(outcome, message) of a skip reason; untagged skips are 'unverified' (never passed)."""
    text = reason
    # pytest prefixes skip reasons with "Skipped: "
    text = text.removeprefix("Skipped: ")
    for outcome in (UNVERIFIED, NOT_APPLICABLE, PENDING, BLOCKED):
        prefix = _TAG.format(outcome)
        if text.startswith(prefix):
            return outcome, text[len(prefix):]
    return UNVERIFIED, f"skipped: {text}"


def blocked_message(cause: str, detail: str) -> str:
    """The message of a blocked check: 'blocked by CAUSE: DETAIL' (split back by `blocked_cause`)."""
    return f"blocked by {cause}: {detail}" if detail else f"blocked by {cause}"


def blocked_cause(message: str) -> tuple[str, str]:
    """(cause, detail) of a blocked check's message; the whole message is the cause if untagged."""
    text = message.removeprefix("blocked by ")
    cause, sep, detail = text.partition(": ")
    return (cause, detail) if sep else (text, "")
