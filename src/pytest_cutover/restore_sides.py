"""The two sides of the restore drill's comparison, read while the restore runs.

`EarlySource` reads the source in one snapshot taken as the restore starts; `CopyReader` reads
each copy table as soon as a parallel pg_restore has finished with it (`RestoreProgress`), the
rest after the restore; `both_sides_bounded` puts them together as of the backup's moment. While
pg_restore runs, every scan waits for one of its job slots to be free: the restore's measured
time is the RTO. The checks and their fixture are in rollback/test_restore_drill.py.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager, suppress
from typing import Any

from pytest_cutover.clients import pgfacts
from pytest_cutover.clients.db import Database, DbUnavailable
from pytest_cutover.clients.restore_progress import RestoreProgress
from pytest_cutover.integrity import TableFacts

CopySide = tuple[pgfacts.BoundPlan, str | None, TableFacts]  # the copy's plan, bound and facts


class EarlySource:
    """The source's side of a bounded drill, read on its own connection while pg_restore runs,
    in one REPEATABLE READ snapshot that stays open until the comparison is done: per table,
    its plan (columns, bound column, hash) and, in one scan, the count and checksum sum of the
    rows whose bound column is set, with the largest bound value; tables without a bound
    column whole. The copy's bounds are known only after the restore: the rows past them, if
    any, are then counted in the same snapshot and taken off (`pgfacts.rows_after`)."""

    def __init__(self, dsn: str, tables: list[str], mutable: set[str], timeout_s: float,
                 progress: RestoreProgress | None = None) -> None:
        self.db = Database(dsn, timeout_s)
        self.timeout_s = timeout_s
        self.progress = progress
        self.now = ""
        self.present: set[str] = set()
        self.plans: dict[str, pgfacts.BoundPlan] = {}
        self.totals: dict[str, pgfacts.Totals] = {}
        self.whole: dict[str, TableFacts] = {}
        self._open = ExitStack()
        self._stop = threading.Event()
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="restore-source")
        self._done = self._pool.submit(self._read, tables, mutable)

    def _read(self, tables: list[str], mutable: set[str]) -> None:
        self._open.enter_context(self.db)
        # one process per scan: the restore keeps the rest of the server's cores (its measured
        # time is the RTO); the copy's scans after it may use parallel workers
        self.db.rows("SET max_parallel_workers_per_gather = 0")
        self.now, _ = self._open.enter_context(pgfacts.consistent(self.db))
        self.present = set(pgfacts.user_tables(self.db))
        for name in tables:
            if self._stop.is_set():
                return
            if name not in self.present:
                continue
            plan = self.plans[name] = pgfacts.bound_plan(self.db, name, mutable)
            with _slot(self.progress, self.timeout_s):  # the scan waits for a job slot to be free
                if self._stop.is_set():
                    return
                if plan.kind is None:
                    self.whole[name] = pgfacts.table_facts(self.db, name, mutable)
                else:
                    self.totals[name] = pgfacts.totals(self.db, name, plan)

    def result(self) -> EarlySource:
        self._done.result()
        return self

    def close(self) -> None:
        """Stop reading (the restore failed, or an error) and end the snapshot and connection."""
        if not self._done.done():
            self._stop.set()
            if self.progress is not None:  # a scan waiting for a job slot gives up at once
                self.progress.finish()
            with suppress(Exception):
                self.db.cancel()
        with suppress(Exception):
            self._done.result()
        self._pool.shutdown()
        with suppress(DbUnavailable):
            self._open.close()


def copy_side(db: Database, name: str, mutable: set[str]) -> CopySide:
    """The copy's plan, bound and facts of one table: the rows up to its largest integer key,
    else its latest creation time (all of its rows that have one, read in one scan); the
    whole table when it has neither."""
    plan = pgfacts.bound_plan(db, name, mutable)
    if plan.kind is not None:
        found = pgfacts.totals(db, name, plan)
        if found.bound is not None:
            return plan, found.bound, pgfacts.bounded_facts(plan, found.bound, found.rows, found.total)
    return plan, None, pgfacts.table_facts(db, name, mutable)


def _source_side(early: EarlySource, name: str, mutable: set[str],
                 copy: CopySide | None) -> TableFacts:
    """The source's facts of one table, measured the way the copy's were, in the early snapshot."""
    db = early.db
    plan, bound = (copy[0], copy[1]) if copy is not None else (None, None)
    if plan is None or bound is None:
        return early.whole.get(name) or pgfacts.table_facts(db, name, mutable)
    ahead = early.totals.get(name)
    if ahead is None or early.plans.get(name) != plan:  # the tables differ: read as the copy was
        found = pgfacts.rows_up_to(db, name, list(plan.cols), str(plan.kind), str(plan.column),
                                   bound, plan.record_hash)
        return TableFacts(found.rows, found.checksum, plan.cols,
                          bound if plan.kind == "id" else None, found)
    after = (0, 0) if ahead.bound == bound else pgfacts.rows_after(db, name, plan, bound)
    return pgfacts.bounded_facts(plan, bound, ahead.rows - after[0], ahead.total - after[1])


def both_sides_bounded(early: EarlySource, copy: dict[str, CopySide], tables: list[str],
                       mutable: set[str]) -> tuple[dict[str, TableFacts], dict[str, TableFacts], str]:
    """Source and copy as of the backup's moment, as far as the live database can tell: for each
    table, only the rows up to the copy's largest integer key, else up to its latest creation
    time. Rows written since the backup are left out; rows deleted or changed since still show
    up. Tables with neither are compared whole.

    The copy was read by `CopyReader`; the source's side was read while the restore ran
    (`EarlySource`) and only the rows past the copy's bounds are read now, in the same snapshot.
    Both sides hash the same columns the same way (PostgreSQL's row hash where every column type
    has one, else md5 of the row's text)."""
    source = {t: _source_side(early, t, mutable, copy.get(t)) for t in tables if t in early.present}
    return source, {t: found for t, (_, _, found) in copy.items()}, early.now


@contextmanager
def _slot(progress: RestoreProgress | None, limit_s: float) -> Iterator[None]:
    """Hold one of the restore's free job slots while scanning (nothing to wait for without a
    parallel restore to follow)."""
    if progress is None:
        yield
    else:
        with progress.slot(limit_s):
            yield


class CopyReader:
    """The copy's side, read on two connections: a table as soon as the restore has made it final
    (`RestoreProgress`), in a free job slot of the restore and without parallel workers (the
    restore's time is the RTO); the others after the restore, largest first, parallel workers
    allowed. A table read while the restore runs holds its final rows: pg_restore changes no row
    after a table's data, and the entries it waits for (keys, triggers, rules) add none; a parent
    of inherited tables is read after the restore, as its children may still be loading."""

    WORKERS = 2

    def __init__(self, dsn: str, wanted: list[str], read: Callable[[Database, str], Any],
                 timeout_s: float, progress: RestoreProgress | None) -> None:
        self.dsn, self.read, self.timeout_s, self.progress = dsn, read, timeout_s, progress
        self.wanted = set(wanted)
        self.found: dict[str, Any] = {}
        self.read_during: list[str] = []
        self._offered: set[str] = set()
        self._later: list[str] = []  # offered early, but read after the restore (inheritance)
        self._queue: queue.Queue[str | None] = queue.Queue()
        self._pool: ThreadPoolExecutor | None = None
        self._workers: list[Future[None]] = []
        self._connections: list[Database] = []
        self._lock = threading.RLock()  # offer() starts the workers while holding it
        self._closing = False

    def _start(self) -> None:
        with self._lock:
            if self._pool is None:
                self._pool = ThreadPoolExecutor(self.WORKERS, thread_name_prefix="restore-verify")
                self._workers = [self._pool.submit(self._work) for _ in range(self.WORKERS)]

    def offer(self, tables: list[str]) -> None:
        """Tables the restore just made final (called from the thread reading its log)."""
        with self._lock:
            fresh = [t for t in tables if t in self.wanted and t not in self._offered]
            if fresh:
                self._offered.update(fresh)
                self._start()
                for name in fresh:
                    self._queue.put(name)

    def _work(self) -> None:
        with Database(self.dsn, self.timeout_s) as db:
            with self._lock:
                self._connections.append(db)
            limited = False  # parallel workers turned off on this connection
            while (name := self._queue.get()) is not None:
                during = self.progress is not None and not self.progress.over
                if during and _has_children(db, name):
                    with self._lock:
                        self._later.append(name)
                    continue
                with _slot(self.progress if during else None, self.timeout_s):
                    if self._closing:
                        return
                    during = self.progress is not None and not self.progress.over
                    if during != limited:  # parallel workers only once the restore has ended
                        db.rows("SET max_parallel_workers_per_gather = 0" if during
                                else "RESET max_parallel_workers_per_gather")
                        limited = during
                    found = self.read(db, name)
                with self._lock:
                    self.found[name] = found
                    if during:
                        self.read_during.append(name)

    def finish(self, tables: list[str]) -> dict[str, Any]:
        """After a successful restore: read what is left, wait for every read, and return the
        copy's figures of each of `tables` the copy holds."""
        with Database(self.dsn, self.timeout_s) as first:
            in_copy = set(pgfacts.user_tables(first))
            with self._lock:
                left = [t for t in tables if t in in_copy and (t not in self._offered or t in self._later)]
            left.sort(reverse=True, key=lambda t: int(
                first.value("SELECT pg_relation_size(%s::regclass)", (pgfacts.quote(t),))))
        self._start()
        for name in left:
            self._queue.put(name)
        for _ in self._workers:
            self._queue.put(None)
        try:
            for worker in self._workers:
                worker.result()
        finally:
            if self._pool is not None:
                self._pool.shutdown()
                self._pool = None
        return {t: self.found[t] for t in tables if t in in_copy and t in self.found}

    def close(self) -> None:
        """Stop reading (the restore failed, or an error) and close the connections."""
        if self._pool is None:
            return
        self._closing = True
        if self.progress is not None:  # a read waiting for a job slot gives up at once
            self.progress.finish()
        with self._lock:
            for db in self._connections:
                with suppress(Exception):
                    db.cancel()
        while True:  # no queued table is read any more
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
        for _ in self._workers:
            self._queue.put(None)
        for worker in self._workers:
            with suppress(Exception):
                worker.result()
        self._pool.shutdown()


def _has_children(db: Database, table: str) -> bool:
    return bool(db.value("SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhparent = %s::regclass)",
                         (pgfacts.quote(table),)))
