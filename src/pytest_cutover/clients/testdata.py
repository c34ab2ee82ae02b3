"""Data the suite creates (e2e flows, load test orders): every name starts with a run-specific
prefix, and all of it is deleted at the end of the run through the database, then counted again.

Two ways to find the rows: the e2e flows record the id of every row they create (`record`), and
exactly those rows are deleted; the load model, whose workers run in other processes, marks its
rows with the prefix in a column (`by_prefix=True`). Tables and columns are ILS's own
(docs/ils-contract.md). psycopg is imported when data is actually removed, so collecting the suite
stays fast."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

CONNECT_TIMEOUT_S = 5
# where the load model's orders carry the run's prefix (ILS's orders have no patient name column)
LOAD_ORDER_TABLES = [{"table": "orders", "column": "notes"}]


class SuiteData:
    def __init__(self, prefix: str, dsn: str | None, tables: list[dict[str, str]],
                 by_prefix: bool = False) -> None:
        self.prefix, self.dsn, self.tables, self.by_prefix = prefix, dsn, tables, by_prefix
        self.created: Counter[str] = Counter()
        self.recorded: dict[str, list[str]] = {}

    def record(self, table: str, row_id: str) -> None:
        """A row the suite just created (its id, in the column `tables` names for `table`)."""
        self.recorded.setdefault(table, []).append(str(row_id))

    @property
    def pending(self) -> bool:
        """Whether there is anything to remove (recorded rows, or prefixed rows may exist)."""
        return any(self.recorded.values()) or (self.by_prefix and bool(self.created))

    def name(self, kind: str) -> str:
        """A fresh name for something the suite creates, e.g. 'cutover-e2e-1a2b3c-gw0 Patient 9f4e'."""
        self.created[kind] += 1
        return f"{self.prefix} {kind} {secrets.token_hex(2)}"

    def _where(self, entry: dict[str, str]) -> Any:
        """The rows of `entry` that are the suite's, or None when there are none to look for."""
        from psycopg import sql

        column = sql.Identifier(entry["column"])
        if self.by_prefix:
            return sql.SQL("left({}, {}) = {}").format(
                column, sql.Literal(len(self.prefix)), sql.Literal(self.prefix))
        ids = self.recorded.get(entry["table"])
        return sql.SQL("{}::text = ANY({})").format(column, sql.Literal(ids)) if ids else None

    def remove(self) -> dict[str, int]:
        """Delete the suite's rows, in the configured table order; rows per table."""
        import psycopg
        from psycopg import sql

        assert self.dsn is not None  # noqa: S101 - narrows for mypy; only called with a DSN
        deleted: dict[str, int] = {}
        with psycopg.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            for entry in self.tables:
                where = self._where(entry)
                if where is None:
                    continue
                cursor = conn.execute(sql.SQL("DELETE FROM {} WHERE {}").format(
                    sql.Identifier(entry["table"]), where))
                deleted[entry["table"]] = cursor.rowcount
        return deleted

    def left_over(self) -> dict[str, int]:
        """The suite's rows still there, per table (only tables that have some)."""
        import psycopg
        from psycopg import sql

        assert self.dsn is not None  # noqa: S101 - narrows for mypy; only called with a DSN
        found: dict[str, int] = {}
        with psycopg.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            for entry in self.tables:
                where = self._where(entry)
                if where is None:
                    continue
                row = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
                    sql.Identifier(entry["table"]), where)).fetchone()
                if row and row[0]:
                    found[entry["table"]] = int(row[0])
        return found
