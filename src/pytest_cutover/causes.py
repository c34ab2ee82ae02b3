"""Root causes: what a failed or blocked check's message says went wrong underneath it.

Pure module. One expired certificate makes every check that needs a response fail or stop in the
same way; naming that once, first, with the count of checks it took down, is what a reader needs.
`classify` maps a message to a root cause ("TLS verification failed for host:port (...)",
"connection refused by host:port", "throttled by the target (429)", ...), or None when the
message names no cause shared beyond its check. `group` builds the verdict's `causes[]`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from pytest_cutover import outcomes

# kinds of a cause, most serious first (the order the verdict lists them in)
ROLLBACK, FAILED, ERROR, BLOCKED, UNVERIFIED, PENDING = (
    "rollback", "failed", "error", "blocked", "unverified", "pending")
KIND_ORDER = (ROLLBACK, FAILED, ERROR, BLOCKED, UNVERIFIED, PENDING)
_KIND_OF_OUTCOME = {"failed": FAILED, "error": ERROR, "blocked": BLOCKED,
                    "unverified": UNVERIFIED, "pending": PENDING}

_HOST_PORT = r"(?P<where>[\w.\-\[\]]+:\d+)"
# (family, pattern, cause template): the first match wins; {where} and {detail} come from the
# match. Causes of one family at one host:port are one root cause (an expired certificate fails
# the certificate checks and blocks every other check: one line).
_RULES: tuple[tuple[str, re.Pattern[str], str], ...] = tuple(
    (family, re.compile(p, re.I), t) for family, p, t in (
        ("tls", r"TLS verification failed for " + _HOST_PORT + r"(?: \((?P<detail>[^)]*)\))?",
         "TLS verification failed for {where}{detail}"),
        ("tls", r"certificate of " + _HOST_PORT + r".*?(?P<detail>expired|not trusted|names )",
         "TLS verification failed for {where}"),
        ("tls", r"certificate of " + _HOST_PORT, "certificate of {where}"),
        ("refused", r"connection refused by " + _HOST_PORT, "connection refused by {where}"),
        ("no-answer", r"no answer from " + _HOST_PORT, "no answer from {where}"),
        ("tls", r"CERTIFICATE_VERIFY_FAILED|certificate verify failed|TLS verification failed",
         "TLS verification failed"),
        ("refused", r"Connection refused|connection failed \(refused", "connection refused"),
        # the suite's own traffic throttled (blocked causes), never the rate-limit probe's finding
        ("throttled", r"throttled by the target|the target's rate limit on the suite",
         "throttled by the target (429)"),
        ("saturated", r"load generator.{0,40}saturated|machine (?:was |is )?saturated",
         "the load generator or its machine was saturated"),
    ))


def _match(message: str) -> tuple[str, str, str] | None:
    """(family, where, cause) of the first rule a message matches."""
    for family, pattern, template in _RULES:
        found = pattern.search(message)
        if found:
            parts = found.groupdict()
            detail = parts.get("detail") if template.endswith("{detail}") else None
            where_ = parts.get("where") or ""
            return family, where_, template.format(where=where_,
                                                   detail=f" ({detail})" if detail else "")
    return None


def classify(message: str) -> str | None:
    """The root cause a message names, or None."""
    found = _match(message)
    return found[2] if found else None


def signature(message: str) -> str:
    """A message's first clause with paths and numbers blanked: the same failure on 17
    endpoints is one cause (details after the first ';' differ from check to check)."""
    message = message.split("; ")[0]
    return re.sub(r"/[\w/{}\[\].:-]*|\d+(?:\.\d+)?", "#", message)


def where(url: str) -> str:
    """host:port of a URL (the port implied by the scheme when absent)."""
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    return f"{parts.hostname or '?'}:{port}"


def no_response_cause(url: str, error: str | None) -> str | None:
    """The cause of a request that got no response, or None when the target accepted the
    connection and then failed to answer (a read timeout: the flow ran and was too slow)."""
    text = error or ""
    if text.startswith("TLS verification failed"):
        inner = text.partition("(")[2].rstrip(")")
        return f"TLS verification failed for {where(url)}" + (f" ({inner})" if inner else "")
    if text.startswith("TLS error"):
        return f"TLS handshake with {where(url)} failed"
    if text.startswith("connection failed"):
        return f"connection refused by {where(url)}"
    if text.startswith("timed out connecting"):
        return f"no answer from {where(url)} (connection timed out)"
    return None


@dataclass
class Cause:
    cause: str
    kind: str
    checks: list[str] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)  # outcome -> checks, for the line
    root: bool = False  # classified (shared beneath several checks), not one check's own message
    first: str = ""  # the first check's whole reason, shown when the cause stands for one check

    def line(self) -> str:
        """One reason line: 'CAUSE: 3 checks failed, 37 checks blocked (test_a, test_b, ...)'."""
        if len(self.checks) == 1:
            return self.first
        counts = ", ".join(f"{n} check{'s' if n != 1 else ''} {_WORD.get(o, o)}"
                           for o, n in sorted(self.outcomes.items(), key=lambda x: _rank(x[0])))
        # one check's own message shared by a few: each is named in full (a report reader and the
        # HTML find it); a root cause beneath many: the first three by name
        shown = 10 if not self.root else 3
        names = ", ".join(n if not self.root else n.split("::")[-1] for n in self.checks[:shown])
        more = f" +{len(self.checks) - shown} more" if len(self.checks) > shown else ""
        return f"{self.cause}: {counts} ({names}{more})"

    def to_dict(self) -> dict[str, Any]:
        return {"cause": self.cause, "kind": self.kind, "checks": list(self.checks)}


_WORD = {"failed": "failed", "error": "in error", "blocked": "blocked",
         "unverified": "not verified", "pending": "pending sign-off"}


def _rank(kind: str) -> int:
    return KIND_ORDER.index(kind) if kind in KIND_ORDER else len(KIND_ORDER)


def cause_of(outcome: str, message: str) -> tuple[str, str | None]:
    """(cause, root key or None) of one blocking check's result."""
    if outcome == "pending":
        return "sign-offs missing or expired", "pending"  # one cause, whoever must sign
    text = outcomes.blocked_cause(message)[0] if outcome == "blocked" else message
    found = _match(text)
    if found:
        family, where_, cause = found
        return cause, f"{family}@{where_}"
    if outcome == "blocked":
        return text, f"blocked@{text}"
    return message.split("; ")[0], None


def _merge_unplaced(found: dict[tuple[str, str], Cause]) -> None:
    """A cause that names no host:port ("connection refused") joins the one cause of its family
    that does ("connection refused by localhost:8443"): the same dead port, said once."""
    for key in [k for k in found if k[0] == "root" and str(k[1]).endswith("@")]:
        family = str(key[1])[:-1]
        placed = [k for k in found if k[0] == "root" and str(k[1]).startswith(family + "@")
                  and k != key]
        if len(placed) != 1:
            continue
        into, gone = found[placed[0]], found.pop(key)
        into.checks.extend(gone.checks)
        for outcome, n in gone.outcomes.items():
            into.outcomes[outcome] = into.outcomes.get(outcome, 0) + n
        if _rank(gone.kind) < _rank(into.kind):
            into.kind = gone.kind


def group(entries: Iterable[tuple[str, str, str, str]]) -> list[Cause]:
    """Causes from (nodeid, outcome, message, reason line) of blocking non-passing checks, most
    serious and widest first: root causes shared by several checks before single checks."""
    found: dict[tuple[str, str], Cause] = {}
    for nodeid, outcome, message, reason in entries:
        cause, root = cause_of(outcome, message)
        key = ("root", root) if root else (outcome, signature(cause))
        kind = _KIND_OF_OUTCOME.get(outcome, FAILED)
        entry = found.get(key)
        if entry is None:
            entry = found[key] = Cause(cause, kind, root=root is not None, first=reason)
        elif len(cause) > len(entry.cause):  # the most telling wording of the same cause
            entry.cause = cause
        entry.checks.append(nodeid)
        entry.outcomes[outcome] = entry.outcomes.get(outcome, 0) + 1
        if _rank(kind) < _rank(entry.kind):
            entry.kind = kind
    _merge_unplaced(found)
    return sorted(found.values(), key=lambda c: (not (c.root and len(c.checks) > 1),
                                                 _rank(c.kind), -len(c.checks)))
