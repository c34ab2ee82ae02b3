"""Table facts for integrity snapshots and restore comparisons, read with `clients/db.Database`.

Read-only. A snapshot is read inside one REPEATABLE READ transaction, so counts, checksums and
orphan counts describe one instant; `export_snapshot=True` also exports that instant for
`pg_dump --snapshot`, so a fresh dump and the facts it is compared with agree exactly.

Checksum of a table: the sum (as numeric, order-independent) of the first 64 bits of
md5(ROW(columns)::text) over its rows, for the listed columns in table order. Same rows and
same values give the same checksum in any database restored from the same data.

The restore drill, which reads both of its sides in one run on one server, may use the faster
`record_hash=True`: the sum of PostgreSQL's own 64-bit hash of each row (`hash_record_extended`,
per-type hashing of the values, no text conversion; about 4x faster on a million rows). It is
used only where every column's type has such a hash (`record_hash_usable`); its checksums are
marked `rec:` and are never compared with md5 ones (saved snapshots stay md5).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from pytest_cutover.clients.db import Database
from pytest_cutover.integrity import Historical, Relation, Snapshot, TableFacts

INTEGER_TYPES = {"smallint", "integer", "bigint"}
# column types (format_type names, modifiers stripped) whose values PostgreSQL hashes with an
# extended (64-bit, seeded) hash function: hash_record_extended can combine them
RECORD_HASH_TYPES = frozenset({
    "smallint", "integer", "bigint", "numeric", "real", "double precision", "boolean", "text",
    "character varying", "character", "name", "uuid", "bytea", "jsonb", "date", "time without time zone",
    "time with time zone", "timestamp without time zone", "timestamp with time zone", "interval",
    "inet", "oid"})
RECORD_HASH_MIN_SERVER = 140000  # hash_record_extended arrived in PostgreSQL 14


def quote(name: str) -> str:
    """A (possibly schema-qualified) identifier, quoted: orders -> "orders"."""
    return ".".join('"' + part.replace('"', '""') + '"' for part in name.split("."))


def user_tables(db: Database) -> list[str]:
    """Ordinary tables outside the system schemas; `public` ones unqualified."""
    rows = db.rows(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
        "AND n.nspname NOT LIKE 'pg_toast%%' AND NOT c.relispartition ORDER BY 1, 2")
    return [name if schema == "public" else f"{schema}.{name}" for schema, name in rows]


def columns(db: Database, table: str) -> list[tuple[str, str]]:
    """(name, type) of the table's live columns, in table order."""
    return [(str(n), str(t)) for n, t in db.rows(
        "SELECT attname, format_type(atttypid, atttypmod) FROM pg_attribute "
        "WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum",
        (quote(table),))]


def primary_key(db: Database, table: str) -> list[tuple[str, str]]:
    return [(str(n), str(t)) for n, t in db.rows(
        "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_index i "
        "JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey) "
        "WHERE i.indrelid = %s::regclass AND i.indisprimary ORDER BY a.attnum", (quote(table),))]


def foreign_keys(db: Database) -> list[Relation]:
    """Single-column foreign keys of the user tables, as relations."""
    rows = db.rows(
        "SELECT c.conrelid::regclass::text, a.attname, c.confrelid::regclass::text, af.attname "
        "FROM pg_constraint c "
        "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1] "
        "JOIN pg_attribute af ON af.attrelid = c.confrelid AND af.attnum = c.confkey[1] "
        "WHERE c.contype = 'f' AND array_length(c.conkey, 1) = 1 ORDER BY 1, 2")
    return [Relation(str(child).replace('"', ""), str(col), str(parent).replace('"', ""), str(key))
            for child, col, parent, key in rows]


def record_hash_usable(db: Database, table: str, cols: list[str]) -> bool:
    """Whether `record_hash=True` can checksum these columns of the table on this server."""
    if db.server_version_num() < RECORD_HASH_MIN_SERVER:
        return False
    types = dict(columns(db, table))
    return bool(cols) and all(c in types and types[c].split("(")[0] in RECORD_HASH_TYPES
                              for c in cols)


def _checksum(db: Database, table: str, cols: list[str], where: str = "",
              params: tuple[Any, ...] = (), record_hash: bool = False) -> tuple[int, str]:
    row = ", ".join(quote(c) for c in cols) or "1"
    # sum() of bigint is exact (numeric result) and adds in 128-bit integers: the same figure as
    # summing each value cast to numeric, at a fraction of the cost on a million rows
    each = (f"hash_record_extended(ROW({row}), 0)" if record_hash
            else f"('x' || left(md5(ROW({row})::text), 16))::bit(64)::bigint")
    count, total = db.rows(
        f"SELECT count(*), coalesce(sum({each}), 0)::text FROM {quote(table)} {where}",  # noqa: S608 - identifiers via quote(), values as params
        params)[0]
    return int(count), ("rec:" if record_hash else "") + str(total)


def table_facts(db: Database, table: str, mutable: set[str] = frozenset(),  # type: ignore[assignment]
                created: tuple[str, ...] = ("created_at",), taken_at: str | None = None,
                only_columns: tuple[str, ...] | None = None) -> TableFacts:
    """Count, checksum (of `only_columns`, default: every column not in `mutable`), max id and
    the historical-rows bound with its count and checksum."""
    cols = columns(db, table)
    names = [n for n, _ in cols]
    chosen = list(only_columns) if only_columns is not None else [n for n in names if n not in mutable]
    missing = [c for c in chosen if c not in names]
    if missing:  # a column the snapshot checksummed was dropped: no row can match any more
        chosen = [c for c in chosen if c in names] + [f"<dropped {c}>" for c in missing]
    present = [c for c in chosen if c in names]
    rows, checksum = _checksum(db, table, present)
    if missing:
        checksum = f"columns dropped: {', '.join(missing)}"
    key = primary_key(db, table)
    max_id = None
    historical = Historical("none", None)
    if len(key) == 1 and key[0][1] in INTEGER_TYPES:
        value = db.value(f"SELECT max({quote(key[0][0])}) FROM {quote(table)}")  # noqa: S608 - identifiers via quote()
        max_id = None if value is None else str(value)
        historical = _historical(db, table, present, "id", max_id, key[0][0])
    elif taken_at is not None and (column := next((c for c in created if c in names), None)):
        historical = _historical(db, table, present, "created", taken_at, column)
    return TableFacts(rows, checksum, tuple(chosen), max_id, historical)


def _historical(db: Database, table: str, cols: list[str], kind: str, bound: str | None,
                column: str, record_hash: bool = False) -> Historical:
    if bound is None:
        return Historical(kind, None, 0, "0")
    cast = "bigint" if kind == "id" else "timestamptz"
    rows, checksum = _checksum(db, table, cols, f"WHERE {quote(column)} <= %s::{cast}", (bound,),
                               record_hash)
    return Historical(kind, f"{column} <= {bound}" if kind == "created" else bound, rows, checksum)


def dump_time_bound(db: Database, table: str, created: tuple[str, ...] = ("created_at",)
                    ) -> tuple[str, str, str] | None:
    """(kind, column, bound) up to which a restored copy's rows reach: its largest integer key,
    else its latest creation time; None when the table has neither."""
    key = primary_key(db, table)
    if len(key) == 1 and key[0][1] in INTEGER_TYPES:
        value = db.value(f"SELECT max({quote(key[0][0])}) FROM {quote(table)}")  # noqa: S608 - identifiers via quote()
        return None if value is None else ("id", key[0][0], str(value))
    names = {n for n, _ in columns(db, table)}
    column = next((c for c in created if c in names), None)
    if column is None:
        return None
    value = db.value(f"SELECT max({quote(column)})::text FROM {quote(table)}")  # noqa: S608 - identifiers via quote()
    return None if value is None else ("created", column, str(value))


def rows_up_to(db: Database, table: str, cols: list[str], kind: str, column: str, bound: str,
               record_hash: bool = False) -> Historical:
    """Count and checksum of the rows up to `bound` (an id, or a creation time)."""
    return _historical(db, table, cols, kind, bound, column, record_hash)


@dataclass(frozen=True)
class BoundPlan:
    """How the restore drill measures one table: the hashed columns (every one not mutable, in
    table order), the column that bounds the rows to the backup's moment ("id": the integer
    key, "created": the creation time; None: compared whole) and whether the row hash applies."""

    cols: tuple[str, ...]
    kind: str | None
    column: str | None
    record_hash: bool


@dataclass(frozen=True)
class Totals:
    """One scan: the largest bound value (None when no row has one) and the count and checksum
    sum of the rows whose bound column is set."""

    bound: str | None
    rows: int
    total: int


def bound_plan(db: Database, table: str, mutable: set[str],
               created: tuple[str, ...] = ("created_at",)) -> BoundPlan:
    types = dict(columns(db, table))
    cols = tuple(c for c in types if c not in mutable)
    key = primary_key(db, table)
    kind, column = None, None
    if len(key) == 1 and key[0][1] in INTEGER_TYPES:
        kind, column = "id", key[0][0]
    elif (found := next((c for c in created if c in types), None)) is not None:
        kind, column = "created", found
    record_hash = (bool(cols) and db.server_version_num() >= RECORD_HASH_MIN_SERVER
                   and all(types[c].split("(")[0] in RECORD_HASH_TYPES for c in cols))
    return BoundPlan(cols, kind, column, record_hash)


def _row_hash(cols: tuple[str, ...], record_hash: bool) -> str:
    row = ", ".join(quote(c) for c in cols) or "1"
    return (f"hash_record_extended(ROW({row}), 0)" if record_hash
            else f"('x' || left(md5(ROW({row})::text), 16))::bit(64)::bigint")


def totals(db: Database, table: str, plan: BoundPlan) -> Totals:
    """`Totals` of a bounded plan in one scan: the bound is the largest value of its column (what
    `dump_time_bound` reads), the rows are those up to it (what `rows_up_to` counts)."""
    column, each = quote(str(plan.column)), _row_hash(plan.cols, plan.record_hash)
    bound, rows, total = db.rows(
        f"SELECT max({column})::text, count(*) FILTER (WHERE {column} IS NOT NULL), "  # noqa: S608 - identifiers via quote()
        f"coalesce(sum({each}) FILTER (WHERE {column} IS NOT NULL), 0)::text FROM {quote(table)}")[0]
    return Totals(None if bound is None else str(bound), int(rows), int(total))


def rows_after(db: Database, table: str, plan: BoundPlan, bound: str) -> tuple[int, int]:
    """Count and checksum sum of the rows past `bound`: what `totals` minus them leaves is
    exactly the rows up to `bound` (sums of bigints are exact)."""
    cast = "bigint" if plan.kind == "id" else "timestamptz"
    rows, total = db.rows(
        f"SELECT count(*), coalesce(sum({_row_hash(plan.cols, plan.record_hash)}), 0)::text "  # noqa: S608 - identifiers via quote(), the bound as a parameter
        f"FROM {quote(table)} WHERE {quote(str(plan.column))} > %s::{cast}", (bound,))[0]
    return int(rows), int(total)


def bounded_facts(plan: BoundPlan, bound: str, rows: int, total: int) -> TableFacts:
    """TableFacts of the rows up to `bound`, as `rows_up_to` would report them."""
    checksum = ("rec:" if plan.record_hash else "") + str(total)
    shown = f"{plan.column} <= {bound}" if plan.kind == "created" else bound
    return TableFacts(rows, checksum, plan.cols, bound if plan.kind == "id" else None,
                      Historical(str(plan.kind), shown, rows, checksum))


def historical_again(db: Database, table: str, before: TableFacts) -> Historical:
    """The pre-cutover rows found again with the bound and the columns `before` recorded."""
    old = before.historical
    if old.kind == "none" or old.bound is None:
        return old
    present = {n for n, _ in columns(db, table)}
    cols = [c for c in before.columns if c in present]
    if old.kind == "id":
        key = primary_key(db, table)
        if not key:
            return Historical("id", old.bound)
        return _historical(db, table, cols, "id", old.bound, key[0][0])
    column, _, bound = old.bound.partition(" <= ")
    return _historical(db, table, cols, "created", bound, column)


def orphans(db: Database, relation: Relation) -> int:
    return int(db.value(
        f"SELECT count(*) FROM {quote(relation.child)} c WHERE c.{quote(relation.column)} IS NOT NULL "  # noqa: S608 - identifiers via quote()
        f"AND NOT EXISTS (SELECT 1 FROM {quote(relation.parent)} p "
        f"WHERE p.{quote(relation.key)} = c.{quote(relation.column)})"))


@contextmanager
def consistent(db: Database, export_snapshot: bool = False) -> Iterator[tuple[str, str | None]]:
    """One REPEATABLE READ read-only transaction: yields (now, exported snapshot id or None)."""
    db.rows("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    try:
        now = db.value("SELECT now()")
        exported = db.value("SELECT pg_export_snapshot()") if export_snapshot else None
        yield (now.isoformat() if isinstance(now, dt.datetime) else str(now)), exported
    finally:
        db.rows("COMMIT")


def snapshot(db: Database, environment: str, tables: list[str], relations: list[Relation],
             mutable: set[str], created: tuple[str, ...], taken_at: str,
             served_release: str | None = None) -> Snapshot:
    """Facts of `tables` and orphan counts of `relations`; call inside `consistent(db)`."""
    name, _ = db.database_size()
    facts = {t: table_facts(db, t, mutable, created, taken_at) for t in tables}
    return Snapshot(environment, taken_at, name, facts,
                    {str(r): orphans(db, r) for r in relations}, served_release)


def snapshot_again(db: Database, before: Snapshot, environment: str,
                   served_release: str | None = None) -> Snapshot:
    """Facts now, measured the way `before` was (same tables, columns, bounds, relations)."""
    with consistent(db) as (now, _):
        present = set(user_tables(db))
        facts = {}
        for table, old in before.tables.items():
            if table not in present:
                continue
            current = table_facts(db, table, only_columns=old.columns)
            facts[table] = TableFacts(current.rows, current.checksum, current.columns,
                                      current.max_id, historical_again(db, table, old))
        relations = {}
        for text in before.orphans:
            relation = Relation.parse(text)
            if relation.child in present and relation.parent in present:
                relations[text] = orphans(db, relation)
        name, _ = db.database_size()
    return Snapshot(environment, now, name, facts, relations, served_release)
