"""The cutover ledger: every run's verdict, appended to `reports/history/ledger.jsonl`.

Pure module. One JSON object per line and per run: when, environment, release, markers, verdict,
counts and every check's outcome with its checklist ids. Appending one line with O_APPEND is
atomic for lines of this size, so runs from several shells can share a ledger; a line that does
not parse (a crash mid-write) is skipped when reading.

Later runs read it: "rollback rehearsed on staging within 7 days" is the newest `rollback_drill`
record of `staging`, GO and recent enough; a run names that record as its evidence.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

FILE_NAME = "ledger.jsonl"
OK_OUTCOMES = frozenset({"passed", "not_applicable", "waived"})


@dataclass(frozen=True)
class CheckOutcome:
    nodeid: str
    outcome: str
    checklist: tuple[str, ...] = ()
    blocking: bool = True


@dataclass(frozen=True)
class Record:
    time: dt.datetime
    environment: str
    kind: str
    release: str | None
    markers: tuple[str, ...]
    verdict: str
    counts: dict[str, int] = field(default_factory=dict)
    checks: tuple[CheckOutcome, ...] = ()
    target: str = ""
    report: str = ""  # this run's archived report, relative to the ledger folder ("" if none)
    # what the run was run as: its -m expression or --cutover-phase ("" for records before it,
    # or a run of everything): `covers` reads it rather than the markers its checks carried
    phase: str = ""
    # options that left checks of the phase out (-k, --deselect, --lf, --sw): covers no phase
    narrowed: tuple[str, ...] = ()

    def age(self, now: dt.datetime) -> dt.timedelta:
        return now - self.time

    def covers(self, marker: str) -> bool:
        """Whether this run was a run of `marker`'s phase: its phase selects a check that carries
        only that marker (`-m "smoke or e2e"` covers smoke; `-m readiness` does not, even when
        some readiness checks also carry the smoke marker). Without a phase: the markers seen.
        A narrowed run (`-k`, `--deselect`, `--lf`, `--sw`) covers no phase, as checks of it may
        not have run, unless `--cutover-phase` named the phase it stands for."""
        if self.narrowed:
            return False
        if not self.phase:
            return marker in self.markers
        return phase_selects(self.phase, marker)

    def checks_for(self, item_id: str) -> list[CheckOutcome]:
        return [c for c in self.checks if item_id in c.checklist]

    def blocking_problems(self, ignore_items: Iterable[str] = ()) -> list[CheckOutcome]:
        """Blocking checks that did not pass, leaving out checks linked to `ignore_items`
        (prefixes such as "gate.", so the gate never depends on its own earlier outcome)."""
        prefixes = tuple(ignore_items)
        return [c for c in self.checks if c.blocking and c.outcome not in OK_OUTCOMES
                and not (prefixes and any(i.startswith(prefixes) for i in c.checklist))]

    def describe(self) -> str:
        return (f"{self.verdict} for {self.environment!r} ({', '.join(self.markers) or 'no markers'}) "
                f"release {self.release or '?'} at {self.time:%Y-%m-%d %H:%M} UTC")

    def to_dict(self) -> dict[str, Any]:
        return {"time": self.time.isoformat(timespec="seconds"), "environment": self.environment,
                "kind": self.kind, "release": self.release, "markers": list(self.markers),
                "verdict": self.verdict, "counts": self.counts, "target": self.target,
                **({"report": self.report} if self.report else {}),
                **({"phase": self.phase} if self.phase else {}),
                **({"narrowed": list(self.narrowed)} if self.narrowed else {}),
                "checks": [{"nodeid": c.nodeid, "outcome": c.outcome,
                            "checklist": list(c.checklist), "blocking": c.blocking}
                           for c in self.checks]}

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Record:
        when = dt.datetime.fromisoformat(data["time"])
        return cls(
            time=when if when.tzinfo else when.replace(tzinfo=dt.UTC),
            environment=str(data["environment"]), kind=str(data.get("kind", "other")),
            release=data.get("release"), markers=tuple(data.get("markers", ())),
            verdict=str(data["verdict"]), counts=dict(data.get("counts", {})),
            target=str(data.get("target", "")), report=str(data.get("report", "")),
            phase=str(data.get("phase", "")), narrowed=tuple(data.get("narrowed", ())),
            checks=tuple(CheckOutcome(c["nodeid"], c["outcome"], tuple(c.get("checklist", ())),
                                      bool(c.get("blocking", True)))
                         for c in data.get("checks", ())))


def record_from_verdict(doc: dict[str, Any], now: dt.datetime | None = None) -> Record:
    """A ledger record from the run's verdict document (report/files.py verdict_document)."""
    markers = tuple(m for m in doc.get("markers", []) if not m.startswith(("-m ", "-k ")))
    return Record(
        time=now or dt.datetime.now(dt.UTC), environment=doc["environment"],
        kind=doc.get("environment_kind", "other"), release=doc.get("release"), markers=markers,
        verdict=doc["decision"], counts=dict(doc.get("counts", {})), target=doc.get("target", ""),
        report=str(doc.get("report_archive", "")), phase=str(doc.get("phase") or ""),
        narrowed=() if doc.get("phase_named") else tuple(doc.get("narrowed_by") or ()),
        checks=tuple(CheckOutcome(c["nodeid"], c["outcome"], tuple(c.get("checklist", ())),
                                  bool(c.get("blocking", True))) for c in doc.get("checks", [])))


def phase_selects(phase: str, marker: str) -> bool:
    """Whether a run of `phase` (a -m expression or a phase name) selects a check marked only
    `marker`; a phase that is not an expression is compared by name."""
    tokens = re.findall(r"\(|\)|[^\s()]+", phase)
    if not tokens or any(not re.fullmatch(r"[()]|[A-Za-z_][A-Za-z0-9_]*", t) for t in tokens):
        return phase == marker  # a phase name ("staging-verification"), not an expression
    try:
        value, rest = _or(tokens, marker)
    except (IndexError, ValueError):
        return phase == marker
    return value if not rest else phase == marker


# -m's grammar (or < and < not < parentheses), over one marker: small enough to keep this pure.
def _or(tokens: list[str], marker: str) -> tuple[bool, list[str]]:
    value, tokens = _and(tokens, marker)
    while tokens and tokens[0] == "or":
        right, tokens = _and(tokens[1:], marker)
        value = value or right
    return value, tokens


def _and(tokens: list[str], marker: str) -> tuple[bool, list[str]]:
    value, tokens = _not(tokens, marker)
    while tokens and tokens[0] == "and":
        right, tokens = _not(tokens[1:], marker)
        value = value and right
    return value, tokens


def _not(tokens: list[str], marker: str) -> tuple[bool, list[str]]:
    if tokens[0] == "not":
        value, rest = _not(tokens[1:], marker)
        return not value, rest
    if tokens[0] == "(":
        value, rest = _or(tokens[1:], marker)
        if not rest or rest[0] != ")":
            raise ValueError("unbalanced parenthesis")
        return value, rest[1:]
    if tokens[0] in ("and", "or", ")"):
        raise ValueError(f"unexpected {tokens[0]!r}")
    return tokens[0] == marker, tokens[1:]


class Ledger:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.path = folder / FILE_NAME

    def append(self, record: Record) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        line = (json.dumps(record.to_dict(), separators=(",", ":")) + "\n").encode()
        fd = os.open(self.path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            size = os.fstat(fd).st_size
            if size and os.pread(fd, 1, size - 1) != b"\n":
                line = b"\n" + line  # end a torn line first, so this record stays readable
            os.write(fd, line)
        finally:
            os.close(fd)

    def records(self) -> Iterator[Record]:
        """Every readable record, oldest first."""
        if not self.path.exists():
            return
        with self.path.open(encoding="utf-8") as fh:
            for line in fh:
                try:
                    yield Record.from_dict(json.loads(line))
                except (ValueError, KeyError, TypeError):
                    continue  # a torn or foreign line: skip it, keep the rest

    def latest(self, environment: str, marker: str | None = None, item: str | None = None,
               release: str | None = None) -> Record | None:
        """The newest record of `environment` that covers `marker` and has checks for `item`."""
        found = None
        for record in self.records():
            if record.environment != environment:
                continue
            if marker is not None and not record.covers(marker):
                continue
            if item is not None and not record.checks_for(item):
                continue
            if release is not None and record.release != release:
                continue
            if found is None or record.time >= found.time:
                found = record
        return found


def folder(reports: Path, environment: dict[str, Any], config_dir: Path) -> Path:
    """Where the ledger lives: `[environments.X.ledger] directory` (relative to the config
    file), else `<reports>/history`."""
    configured = (environment.get("ledger") or {}).get("directory")
    return config_dir / configured if configured else reports / "history"


def append_verdict(doc: dict[str, Any], where: Path) -> None:
    """Append this run's verdict document (report/files.py) to the ledger in `where`."""
    Ledger(where).append(record_from_verdict(doc))
