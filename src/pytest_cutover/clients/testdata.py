"""Data the suite creates (e2e flows, load test orders): every name starts with a run-specific
prefix, and all of it is deleted at the end of the run through the database, then counted again.

psycopg is imported when data is actually removed, so collecting the suite stays fast."""

from __future__ import annotations

import secrets
from collections import Counter
from typing import Any

CONNECT_TIMEOUT_S = 5


class SuiteData:
    def __init__(self, prefix: str, dsn: str | None, tables: list[dict[str, str]]) -> None:
        self.prefix, self.dsn, self.tables = prefix, dsn, tables
        self.created: Counter[str] = Counter()

    def name(self, kind: str) -> str:
        """A fresh name for something the suite creates, e.g. 'cutover-e2e-1a2b3c-gw0 Patient 9f4e'."""
        self.created[kind] += 1
        return f"{self.prefix} {kind} {secrets.token_hex(2)}"

    def _where(self, column: str) -> Any:
        from psycopg import sql

        return sql.SQL("left({}, {}) = {}").format(
            sql.Identifier(column), sql.Literal(len(self.prefix)), sql.Literal(self.prefix))

    def remove(self) -> dict[str, int]:
        """Delete every row carrying the prefix, in the configured table order; rows per table."""
        import psycopg
        from psycopg import sql

        assert self.dsn is not None  # noqa: S101 - narrows for mypy; only called with a DSN
        deleted: dict[str, int] = {}
        with psycopg.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            for entry in self.tables:
                cursor = conn.execute(sql.SQL("DELETE FROM {} WHERE {}").format(
                    sql.Identifier(entry["table"]), self._where(entry["column"])))
                deleted[entry["table"]] = cursor.rowcount
        return deleted

    def left_over(self) -> dict[str, int]:
        """Rows still carrying the prefix, per table (only tables that have some)."""
        import psycopg
        from psycopg import sql

        assert self.dsn is not None  # noqa: S101 - narrows for mypy; only called with a DSN
        found: dict[str, int] = {}
        with psycopg.connect(self.dsn, connect_timeout=CONNECT_TIMEOUT_S) as conn:
            for entry in self.tables:
                row = conn.execute(sql.SQL("SELECT count(*) FROM {} WHERE {}").format(
                    sql.Identifier(entry["table"]), self._where(entry["column"]))).fetchone()
                if row and row[0]:
                    found[entry["table"]] = int(row[0])
        return found
