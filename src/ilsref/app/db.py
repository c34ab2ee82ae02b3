"""The database pool, with every query timed into the ILS metrics."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import psycopg.errors
from psycopg.rows import dict_row
from psycopg_pool import AsyncConnectionPool

from ilsref.app.metrics import DB_QUERY_DURATION, DB_SLOW_QUERIES

SLOW_QUERY_S = 1.0


class Database:
    def __init__(self, dsn: str) -> None:
        self.pool = AsyncConnectionPool(
            dsn, min_size=2, max_size=20, open=False, timeout=5.0,
            kwargs={"autocommit": True, "row_factory": dict_row, "connect_timeout": 5},
        )

    async def open(self) -> None:
        await self.pool.open(wait=False)  # the app starts (and reports "initializing") without it

    async def close(self) -> None:
        await self.pool.close(timeout=2)

    async def fetch(self, sql: str, params: Sequence[Any] | dict[str, Any] = (),
                    *, timeout: float | None = None) -> list[dict[str, Any]]:
        started = time.perf_counter()
        async with self.pool.connection(timeout=timeout) as conn:
            cursor = await conn.execute(sql.encode(), params)
            rows = await cursor.fetchall() if cursor.description else []
        self._observe(sql, time.perf_counter() - started)
        return rows  # type: ignore[return-value]

    async def fetchrow(self, sql: str, params: Sequence[Any] | dict[str, Any] = ()
                       ) -> dict[str, Any] | None:
        rows = await self.fetch(sql, params)
        return rows[0] if rows else None

    async def insert_numbered(self, sql: str, values: Sequence[Any], new_number: Callable[[], str],
                              what: str, attempts: int = 5) -> tuple[str, dict[str, Any]]:
        """Run an INSERT ... RETURNING whose first parameter is a fresh random number (an order or
        customer number); the rare clash with an existing one is retried with another number."""
        for _ in range(attempts):
            number = new_number()
            try:
                row = await self.fetchrow(sql, (number, *values))
            except psycopg.errors.UniqueViolation:
                continue
            if row is None:
                raise RuntimeError(f"the INSERT of a new {what} returned no row")
            return number, row
        raise RuntimeError(f"could not allocate {what}")

    async def ping(self, sql: str = "SELECT 1", timeout: float = 3.0) -> float:
        """Seconds a trivial query takes end to end (raises when the database is unreachable)."""
        started = time.perf_counter()
        await self.fetch(sql, timeout=timeout)
        return time.perf_counter() - started

    def pool_stats(self) -> dict[str, int]:
        stats = self.pool.get_stats()
        return {"size": stats.get("pool_size", 0), "idle": stats.get("pool_available", 0),
                "waiting": stats.get("requests_waiting", 0), "max": self.pool.max_size}

    @staticmethod
    def _observe(sql: str, seconds: float) -> None:
        operation = sql.lstrip().split(None, 1)[0].upper() if sql.strip() else "OTHER"
        DB_QUERY_DURATION.labels(operation).observe(seconds)
        if seconds > SLOW_QUERY_S:
            DB_SLOW_QUERIES.labels(operation).inc()
