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
from collections.abc import Callable
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


SIGNOFF_KEYS = ("item", "who", "role", "when", "evidence", "expires")
WAIVER_KEYS = ("check", "justification", "approver", "expires")
_DATE_FORMAT = "a TOML date or date-time (2026-11-20 or 2026-11-20T10:00:00Z)"


def _entries(raw: dict[str, Any], table: str, file: str, problems: list[str]) -> list[dict[str, Any]]:
    """The [[table]] entries; any other shape is a problem, never a crash."""
    value = raw.get(table, [])
    if not isinstance(value, list) or not all(isinstance(e, dict) for e in value):
        problems.append(f"{file}: {table}: found {type(value).__name__} {_show(value)}; expected "
                        f"[[{table}]] tables (one per entry, each with its keys)")
        return []
    return value


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _closest(word: str, options: Any) -> str:
    import difflib

    match = difflib.get_close_matches(word, list(options), n=1, cutoff=0.6)
    return f" (did you mean {match[0]!r}?)" if match else ""


def _date(entry: dict[str, Any], key: str, where: str, problems: list[str]) -> dt.datetime | None:
    try:
        return _as_datetime(entry.get(key))
    except ValueError:
        problems.append(f"{where}.{key}: found {_show(entry.get(key))}; expected {_DATE_FORMAT}")
        return None


def _text_fields(entry: dict[str, Any], keys: tuple[str, ...], required: tuple[str, ...],
                 where: str, problems: list[str]) -> bool:
    ok = True
    for key in sorted(set(entry) - set(keys)):
        problems.append(f"{where}.{key}: unknown key{_closest(key, keys)}; expected "
                        f"{', '.join(keys)}")
        ok = False
    missing = [k for k in required if entry.get(k) in (None, "")]
    if missing:
        problems.append(f"{where}: missing {', '.join(missing)}")
        ok = False
    for key in required:
        value = entry.get(key)
        if value not in (None, "") and key not in ("when", "expires") and not isinstance(value, str):
            problems.append(f"{where}.{key}: found {_show(value)}; expected a string")
            ok = False
    return ok


def waiver_target_exists(pattern: str, known_checks: list[str]) -> bool:
    """A waiver names a node id, a prefix of parametrized ids, or a glob."""
    probe = Waiver(pattern, "", "", dt.datetime.max.replace(tzinfo=dt.UTC))
    base = pattern.split("[", 1)[0]
    return any(probe.matches(c) or c == base or c.startswith(pattern + "[") for c in known_checks)


def load(path: Path, known_items: set[str] | None = None,
         known_checks: list[str] | Callable[[], list[str]] | None = None,
         now: dt.datetime | None = None) -> tuple[Governance, list[str]]:
    """Read signoffs.toml; a missing file means no sign-offs and no waivers (not an error).

    With `known_items` (checklist ids) and `known_checks` (node ids of the suite's checks, or a
    function giving them, called only when there is a waiver), a sign-off for an unknown item and
    a waiver that matches no check are problems too."""
    problems: list[str] = []
    now = now or dt.datetime.now(dt.UTC)
    if not path.exists():
        return Governance([], [], None), problems
    file = str(path)
    try:
        raw = tomllib.loads(path.read_bytes().decode("utf-8"))
    except IsADirectoryError:
        return Governance([], [], path), [f"sign-off file {file!r} is a directory, not a TOML file"]
    except UnicodeDecodeError as exc:
        return Governance([], [], path), [f"sign-off file {file!r} is not UTF-8 text (byte "
                                          f"{exc.start}); save it as UTF-8"]
    except tomllib.TOMLDecodeError as exc:
        return Governance([], [], path), [f"sign-off file {file!r} is not valid TOML: {exc}"]
    except OSError as exc:
        return Governance([], [], path), [f"sign-off file {file!r} cannot be read: "
                                          f"{exc.strerror or exc}"]
    problems.extend(f"{file}: {k}: unknown table{_closest(k, ('signoff', 'waiver'))}; expected "
                    f"[[signoff]] or [[waiver]]" for k in sorted(set(raw) - {"signoff", "waiver"}))
    signoffs, waivers = [], []
    for i, entry in enumerate(_entries(raw, "signoff", file, problems)):
        where = f"{file}: signoff #{i + 1}" + (f" ({entry['item']})" if isinstance(
            entry.get("item"), str) else "")
        if not _text_fields(entry, SIGNOFF_KEYS, ("item", "who", "role", "when", "evidence"),
                            where, problems):
            continue
        when, expires = _date(entry, "when", where, problems), _date(entry, "expires", where, problems)
        if when is None or (expires is None and "expires" in entry):
            continue
        if when > now:
            problems.append(f"{where}.when: {when:%Y-%m-%d %H:%M} UTC is in the future; a sign-off "
                            f"records a confirmation that has happened")
            continue
        if known_items is not None and entry["item"] not in known_items:
            problems.append(f"{where}.item: {entry['item']!r} is no checklist id"
                            f"{_closest(entry['item'], known_items)}; expected an id of "
                            f"src/pytest_cutover/data/checklist.toml")
            continue
        signoffs.append(SignOff(entry["item"], entry["who"], entry["role"], when,
                                entry["evidence"], expires))
    waiver_entries = _entries(raw, "waiver", file, problems)
    if callable(known_checks) and waiver_entries:
        known_checks = known_checks()
    for i, entry in enumerate(waiver_entries):
        where = f"{file}: waiver #{i + 1}"
        if not _text_fields(entry, WAIVER_KEYS, WAIVER_KEYS, where, problems):
            continue
        expires = _date(entry, "expires", where, problems)
        if expires is None:
            continue
        if isinstance(known_checks, list) and not waiver_target_exists(entry["check"], known_checks):
            names = [c.split("::")[-1] for c in known_checks]
            hint = _closest(entry["check"].split("::")[-1], names)
            if hint:
                hint = next((f" (did you mean {c!r}?)" for c in known_checks
                             if c.endswith("::" + hint.split("'")[1])), hint)
            else:
                hint = _closest(entry["check"], known_checks)
            problems.append(f"{where}.check: {entry['check']!r} matches no check of the suite"
                            f"{hint}; expected a node id (file.py::test_name), a prefix or a glob")
            continue
        waivers.append(Waiver(entry["check"], entry["justification"], entry["approver"], expires))
    return Governance(signoffs, waivers, path), problems


def known_checks(root: Path, paths: list[Path]) -> list[str]:
    """Node ids (file.py::test or file.py::Class::test) of the checks under `paths`, read from
    the source without importing it, so waivers are validated before anything runs."""
    import ast

    found: set[str] = set()
    files: set[Path] = set()
    for path in paths:
        if path.is_file() and path.suffix == ".py":
            files.add(path)
        elif path.is_dir():
            files.update(p for p in path.rglob("test_*.py") if ".venv" not in p.parts)
    for file in sorted(files):
        try:
            tree = ast.parse(file.read_bytes())
            rel = file.resolve().relative_to(root.resolve()).as_posix()
        except (SyntaxError, ValueError, OSError):
            continue  # pytest reports a broken module itself; a file outside root has no id
        for node in tree.body:
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test"):
                found.add(f"{rel}::{node.name}")
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                found.update(f"{rel}::{node.name}::{m.name}" for m in node.body
                             if isinstance(m, ast.FunctionDef | ast.AsyncFunctionDef)
                             and m.name.startswith("test"))
    return sorted(found)
