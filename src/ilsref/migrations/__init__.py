"""The reference schema as Drizzle-style migrations (SQL files plus a journal).

Drizzle records each applied migration as a row of `drizzle.__drizzle_migrations` holding the
SHA-256 of the file and the journal's `when` (ms); the release's expected head is the last entry.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import psycopg

SQL_DIR = Path(__file__).parent
BREAKPOINT = "--> statement-breakpoint"


@dataclass(frozen=True)
class Migration:
    tag: str
    created_at: int  # the journal's "when", in milliseconds
    sql: str

    @property
    def hash(self) -> str:
        return hashlib.sha256(self.sql.encode()).hexdigest()

    def statements(self) -> list[str]:
        return [s.strip() for s in self.sql.split(BREAKPOINT) if s.strip()]


def journal() -> list[Migration]:
    entries = json.loads((SQL_DIR / "_journal.json").read_text())["entries"]
    return [
        Migration(e["tag"], int(e["when"]), (SQL_DIR / f"{e['tag']}.sql").read_text())
        for e in sorted(entries, key=lambda e: e["idx"])
    ]


def expected_head() -> str:
    return journal()[-1].hash


def apply(conn: psycopg.Connection, *, skip_last: bool = False) -> list[str]:
    """Apply the migrations not yet recorded, each in its own transaction; returns their tags.

    `conn` must be in autocommit mode so that `conn.transaction()` opens real transactions.
    """
    conn.execute('CREATE SCHEMA IF NOT EXISTS "drizzle"')
    conn.execute(
        'CREATE TABLE IF NOT EXISTS "drizzle"."__drizzle_migrations" '
        "(id SERIAL PRIMARY KEY, hash text NOT NULL, created_at bigint)"
    )
    done = {row[0] for row in conn.execute('SELECT hash FROM "drizzle"."__drizzle_migrations"')}
    todo = journal()[:-1] if skip_last else journal()
    applied: list[str] = []
    for migration in todo:
        if migration.hash in done:
            continue
        with conn.transaction():
            for statement in migration.statements():
                conn.execute(statement.encode())
            conn.execute(
                'INSERT INTO "drizzle"."__drizzle_migrations" (hash, created_at) VALUES (%s, %s)',
                (migration.hash, migration.created_at),
            )
        applied.append(migration.tag)
    return applied
