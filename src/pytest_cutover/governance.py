"""Manual sign-offs and waivers, read from signoffs.toml.

Pure module. A sign-off records who confirmed a manual checklist item, in which role, when and
with what evidence; it may expire. A waiver lets a failing check pass with a justification, an
approver and an expiry date; an expired waiver does not waive anything.

```toml
[[signoff]]
item = "team.on-call-rotation"
who = "Dana Reyes"
role = "DevOps Lead"
when = 2026-11-20T10:00:00Z
evidence = "https://pagerduty.example.com/schedules/ILS"
expires = 2026-12-31          # optional

[[waiver]]
check = "smoke/test_security_headers.py::test_content_security_policy_is_set"  # nodeid or prefix
justification = "CSP rolled out behind a flag next sprint"
approver = "Sam Ito (CISO)"
expires = 2026-12-15
```
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any


def _as_datetime(value: Any) -> dt.datetime | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        # a date-only expiry is valid through the end of that day (UTC)
        return dt.datetime.combine(value, dt.time.max, tzinfo=dt.UTC)
    if isinstance(value, str):
        try:  # a quoted date means the same as a TOML date: valid through the end of that day
            return _as_datetime(dt.date.fromisoformat(value))
        except ValueError:
            return _as_datetime(dt.datetime.fromisoformat(value))
    raise ValueError(f"expected a date or date-time, got {value!r}")


@dataclass(frozen=True)
class SignOff:
    item: str
    who: str
    role: str
    when: dt.datetime
    evidence: str
    expires: dt.datetime | None = None

    def expired(self, now: dt.datetime) -> bool:
        return self.expires is not None and now > self.expires

    def to_dict(self) -> dict[str, Any]:
        return {"item": self.item, "who": self.who, "role": self.role,
                "when": self.when.isoformat(), "evidence": self.evidence,
                "expires": self.expires.isoformat() if self.expires else None}


@dataclass(frozen=True)
class Waiver:
    check: str
    justification: str
    approver: str
    expires: dt.datetime

    def matches(self, nodeid: str) -> bool:
        return nodeid == self.check or nodeid.startswith(self.check + "[") or (
            any(c in self.check for c in "*?[") and fnmatch.fnmatchcase(nodeid, self.check))

    def expired(self, now: dt.datetime) -> bool:
        return now > self.expires

    def to_dict(self) -> dict[str, Any]:
        return {"check": self.check, "justification": self.justification,
                "approver": self.approver, "expires": self.expires.isoformat()}


@dataclass
class Governance:
    signoffs: list[SignOff]
    waivers: list[Waiver]
    path: Path | None = None

    def signoff_for(self, item: str, role: str | None = None) -> SignOff | None:
        """The newest sign-off of `item`, by `role` when given (an item several roles sign,
        such as team readiness); else the newest by anyone, so the caller can name the mismatch."""
        matching = [s for s in self.signoffs if s.item == item]
        if role is not None:
            matching = [s for s in matching if s.role.lower() == role.lower()] or matching
        return max(matching, key=lambda s: s.when) if matching else None

    def waiver_for(self, nodeid: str) -> Waiver | None:
        """The matching waiver that runs longest, so a renewed waiver beats the expired one it
        replaces (an expired one is returned only when no other matches)."""
        matching = [w for w in self.waivers if w.matches(nodeid)]
        return max(matching, key=lambda w: w.expires) if matching else None


def _required(entry: dict[str, Any], keys: tuple[str, ...], where: str, problems: list[str]) -> bool:
    missing = [k for k in keys if not entry.get(k)]
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
    return not missing


def load(path: Path) -> tuple[Governance, list[str]]:
    """Read signoffs.toml; a missing file means no sign-offs and no waivers (not an error)."""
    problems: list[str] = []
    if not path.exists():
        return Governance([], [], None), problems
    try:
        with path.open("rb") as fh:
            raw = tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        return Governance([], [], path), [f"sign-off file {str(path)!r} is not valid TOML: {exc}"]
    unknown = sorted(set(raw) - {"signoff", "waiver"})
    problems.extend(f"{path.name}: unknown table {k!r} (expected [[signoff]] or [[waiver]])"
                    for k in unknown)
    signoffs, waivers = [], []
    for i, entry in enumerate(raw.get("signoff", [])):
        where = f"{path.name} signoff #{i + 1}"
        if not _required(entry, ("item", "who", "role", "when", "evidence"), where, problems):
            continue
        try:
            when = _as_datetime(entry["when"])
            assert when is not None  # noqa: S101 - narrows for mypy; "when" is required
            signoffs.append(SignOff(entry["item"], entry["who"], entry["role"], when,
                                    entry["evidence"], _as_datetime(entry.get("expires"))))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    for i, entry in enumerate(raw.get("waiver", [])):
        where = f"{path.name} waiver #{i + 1}"
        if not _required(entry, ("check", "justification", "approver", "expires"), where, problems):
            continue
        try:
            expires = _as_datetime(entry["expires"])
            assert expires is not None  # noqa: S101 - narrows for mypy; "expires" is required
            waivers.append(Waiver(entry["check"], entry["justification"], entry["approver"], expires))
        except ValueError as exc:
            problems.append(f"{where}: {exc}")
    return Governance(signoffs, waivers, path), problems
