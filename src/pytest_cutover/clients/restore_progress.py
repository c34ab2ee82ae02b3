"""A parallel pg_restore's progress, read from its verbose log: which tables already hold their
final rows, and whether one of its job slots is free.

`pg_restore --jobs N --verbose` logs "launching item <id> ..." and "finished item <id> ..." for
every entry of the archive's table of contents it runs in its parallel phase; `pg_restore --list`
maps the ids to entries. A table is *final* once its TABLE DATA entry has finished (its rows are
committed, and nothing later in a restore changes them) and so have the entries on it that take
a lock a reader would collide with or that change what the drill reads of it (its primary key and
other constraints, triggers, rules, policies). Foreign keys are left out: their check takes a
lock that readers pass, and a table is read while its foreign keys are checked.

The restore drill uses it to verify while the restore runs without slowing it: its reads start
only when one of pg_restore's job slots is free (its measured time is the RTO), and a table's
copy is read as soon as it is final. Pure module: no process, no database.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

# entries that lock their table against readers, or that the comparison reads (the primary key
# chooses the bound); names of two words before one (FK CONSTRAINT is not one of them)
_HOLDS = ("CHECK CONSTRAINT", "ROW SECURITY", "CONSTRAINT", "TRIGGER", "RULE", "POLICY")
_KNOWN = ("TABLE DATA", "FK CONSTRAINT", *_HOLDS)
_TOC_LINE = re.compile(r"^(\d+); \d+ \d+ (.*)$")
_EVENT = re.compile(r"\b(launching|finished) item (\d+)\b")


@dataclass(frozen=True)
class Entry:
    dump_id: int
    desc: str
    schema: str
    tag: str  # TABLE DATA: the table; CONSTRAINT and the like: "<table> <name>"


def parse_list(listing: str) -> list[Entry]:
    """The entries of `pg_restore --list` this module tracks (others are of no use to it)."""
    found = []
    for line in listing.splitlines():
        match = _TOC_LINE.match(line.strip())
        if match is None:
            continue
        rest = match.group(2)
        desc = next((d for d in _KNOWN if rest.startswith(d + " ")), None)
        if desc is None:
            continue
        schema, _, named = rest[len(desc) + 1:].partition(" ")
        tag = named.rpartition(" ")[0]  # the owner comes last
        if schema and tag:
            found.append(Entry(int(match.group(1)), desc, schema, tag))
    return found


def table_name(schema: str, table: str) -> str:
    """As `pgfacts.user_tables` names it: `public` tables unqualified."""
    return table if schema == "public" else f"{schema}.{table}"


class RestoreProgress:
    """Fed pg_restore's log lines (from the thread reading them); tells which tables became
    final and lends job slots to the verification's reads (`slot()`)."""

    def __init__(self, entries: Iterable[Entry], jobs: int) -> None:
        entries = list(entries)
        self.jobs = max(1, jobs)
        self._pending: dict[str, set[int]] = {}  # table -> its entries not finished yet
        self._table_of: dict[int, str] = {}
        tables = {(e.schema, e.tag): e.dump_id for e in entries if e.desc == "TABLE DATA"}
        for (schema, table), dump_id in tables.items():
            self._pending[table_name(schema, table)] = {dump_id}
            self._table_of[dump_id] = table_name(schema, table)
        for entry in entries:
            if entry.desc not in _HOLDS:
                continue
            # "<table> <name>": the longest table of its schema the tag starts with
            owner = max((t for s, t in tables if s == entry.schema and entry.tag.startswith(t + " ")),
                        key=len, default=None)
            if owner is not None:
                name = table_name(entry.schema, owner)
                self._pending[name].add(entry.dump_id)
                self._table_of[entry.dump_id] = name
        self._running: set[int] = set()
        self._parallel = False  # the parallel phase began: before it one connection works alone
        self.over = False
        self._lent = 0
        self._changed = threading.Condition()

    def feed(self, line: str) -> list[str]:
        """Take one log line; returns the tables it made final."""
        if "entering main parallel loop" in line:
            with self._changed:
                self._parallel = True
                self._changed.notify_all()
            return []
        match = _EVENT.search(line)
        if match is None or not line.lstrip().startswith("pg_restore"):
            return []
        dump_id = int(match.group(2))
        with self._changed:
            if match.group(1) == "launching":
                self._running.add(dump_id)
                return []
            self._running.discard(dump_id)
            self._changed.notify_all()
            table = self._table_of.get(dump_id)
            if table is None or dump_id not in self._pending.get(table, ()):
                return []
            left = self._pending[table]
            left.discard(dump_id)
            if left:
                return []
            del self._pending[table]
            return [table]

    def final(self, table: str) -> bool:
        """Whether the restore has finished every entry of `table` this module tracks."""
        with self._changed:
            return table in self._table_of.values() and table not in self._pending

    def finish(self) -> None:
        """pg_restore exited: every slot is free from now on."""
        with self._changed:
            self.over = True
            self._changed.notify_all()

    def free_slot(self) -> bool:
        return self.over or (self._parallel and len(self._running) + self._lent < self.jobs)

    @contextmanager
    def slot(self, limit_s: float) -> Iterator[None]:
        """Wait (at most `limit_s`) until one of the restore's job slots is free, and hold it."""
        with self._changed:
            self._changed.wait_for(self.free_slot, timeout=limit_s)
            self._lent += 1
        try:
            yield
        finally:
            with self._changed:
                self._lent -= 1
                self._changed.notify_all()
