"""PostgreSQL facts over psycopg (imported lazily): settings, connections, roles, migrations.

Returns facts, never asserts. Every connection carries a connect timeout and a statement timeout,
and runs read-only transactions (`default_transaction_read_only`), in autocommit so that no
transaction of ours stays open. A server that cannot be reached raises `DbUnavailable` with a
one-line reason (credentials are never part of it).
"""

from __future__ import annotations

from dataclasses import dataclass
from types import TracebackType
from typing import Any, Self

DEFAULT_MIGRATION_QUERY = (
    "SELECT hash FROM drizzle.__drizzle_migrations ORDER BY created_at DESC, id DESC LIMIT 1")


class DbUnavailable(RuntimeError):
    """The database could not be asked (connection, authentication, timeout)."""


@dataclass(frozen=True)
class Connections:
    used: int  # backends of every kind counted by PostgreSQL against max_connections
    max: int
    reserved: int  # superuser_reserved_connections

    @property
    def pct(self) -> float:
        return 100.0 * self.used / self.max if self.max else 0.0


@dataclass(frozen=True)
class Transaction:
    pid: int
    user: str | None
    state: str | None
    age_s: float
    query: str  # first 200 characters


@dataclass(frozen=True)
class Replica:
    name: str
    state: str | None
    lag_s: float | None  # replay lag; None when the server does not report it


class Database:
    """`with Database(dsn, timeout_s=5) as db: db.value("select 1")`."""

    def __init__(self, dsn: str, timeout_s: float = 5.0) -> None:
        self.dsn = dsn
        self.timeout_s = timeout_s
        self._conn: Any = None

    def __enter__(self) -> Self:
        import psycopg

        statement_ms = int(self.timeout_s * 1000)
        try:
            self._conn = psycopg.connect(
                self.dsn, autocommit=True, connect_timeout=max(1, int(self.timeout_s)),
                options=f"-c statement_timeout={statement_ms} -c default_transaction_read_only=on",
                application_name="pytest-cutover")
        except psycopg.Error as exc:
            raise DbUnavailable(_first_line(exc)) from None
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._conn is not None:
            self._conn.close()

    def cancel(self) -> None:
        """Ask the server to stop the statement running on this connection (from another thread)."""
        if self._conn is not None:
            self._conn.cancel_safe(timeout=max(1.0, min(self.timeout_s, 10.0)))

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        import psycopg

        try:
            with self._conn.cursor() as cur:
                cur.execute(sql.encode(), params)
                return list(cur.fetchall()) if cur.description else []
        except psycopg.Error as exc:
            raise DbUnavailable(_first_line(exc)) from None

    def value(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        found = self.rows(sql, params)
        return found[0][0] if found else None

    # --- facts ---------------------------------------------------------------------------

    def server_version_num(self) -> int:
        return int(self.value("SHOW server_version_num"))

    def server_version(self) -> str:
        return str(self.value("SHOW server_version"))

    def settings(self, names: list[str]) -> dict[str, tuple[str, str | None]]:
        """name -> (setting in its base unit, unit) from pg_settings; missing names are absent."""
        found = self.rows("SELECT name, setting, unit FROM pg_settings WHERE name = ANY(%s)",
                          (list(names),))
        return {name: (setting, unit) for name, setting, unit in found}

    def show(self, name: str) -> str:
        """A setting as SHOW prints it (e.g. shared_buffers '128MB')."""
        return str(self.value("SELECT current_setting(%s)", (name,)))

    def connections(self) -> Connections:
        used = self.value("SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'")
        return Connections(int(used), int(self.show("max_connections")),
                           int(self.show("superuser_reserved_connections")))

    def current_role(self) -> tuple[str, bool]:
        """(role name, whether it is a superuser)."""
        row = self.rows("SELECT rolname, rolsuper FROM pg_roles WHERE rolname = current_user")[0]
        return str(row[0]), bool(row[1])

    def ssl_in_use(self) -> tuple[bool, str | None]:
        """(TLS on this connection, protocol version)."""
        row = self.rows("SELECT ssl, version FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        return (bool(row[0][0]), row[0][1]) if row else (False, None)

    def long_transactions(self, older_than_s: float, limit: int = 20) -> list[Transaction]:
        """Open transactions (other than ours) older than `older_than_s`, oldest first."""
        found = self.rows(
            "SELECT pid, usename, state, extract(epoch FROM now() - xact_start), "
            "left(query, 200) FROM pg_stat_activity WHERE xact_start IS NOT NULL "
            "AND pid <> pg_backend_pid() AND backend_type = 'client backend' "
            "AND now() - xact_start > make_interval(secs => %s) "
            "ORDER BY xact_start LIMIT %s", (older_than_s, limit))
        return [Transaction(int(p), u, s, float(a), q or "") for p, u, s, a, q in found]

    def replicas(self) -> list[Replica]:
        found = self.rows("SELECT coalesce(application_name, client_addr::text, '?'), state, "
                          "extract(epoch FROM replay_lag) FROM pg_stat_replication")
        return [Replica(str(n), s, None if lag is None else float(lag)) for n, s, lag in found]

    def database_size(self) -> tuple[str, int]:
        """(database name, size in bytes)."""
        row = self.rows("SELECT current_database(), pg_database_size(current_database())")[0]
        return str(row[0]), int(row[1])

    def user_data_bytes(self) -> int:
        """Size of the tables outside the system schemas (heap + TOAST, no indexes)."""
        return int(self.value(
            "SELECT coalesce(sum(pg_table_size(c.oid)), 0) FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind IN ('r', 'm') "
            "AND n.nspname NOT IN ('pg_catalog', 'information_schema') "
            "AND n.nspname NOT LIKE 'pg_toast%%'") or 0)

    def migration_head(self, query: str = DEFAULT_MIGRATION_QUERY) -> str | None:
        head = self.value(query)
        return None if head is None else str(head)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0] if text else 'no message'}"


def to_bytes(setting: str, unit: str | None) -> int | None:
    """A pg_settings value in bytes when its unit is a size ('8kB', 'kB', 'MB'), else None."""
    if not unit:
        return None
    digits = "".join(c for c in unit if c.isdigit())
    factor = {"B": 1, "kB": 1024, "MB": 1024**2, "GB": 1024**3, "TB": 1024**4}.get(
        unit[len(digits):])
    return int(setting) * int(digits or 1) * factor if factor else None


def parse_size(text: str) -> int | None:
    """'128MB', '1GB', '8kB', '256mb' or a plain number of bytes -> bytes (None if unreadable)."""
    cleaned = text.strip().lower().replace(" ", "")
    units = (("tb", 1024**4), ("gb", 1024**3), ("mb", 1024**2), ("kb", 1024), ("b", 1))
    for suffix, factor in units:
        if cleaned.endswith(suffix) and cleaned[: -len(suffix)].replace(".", "", 1).isdigit():
            return int(float(cleaned[: -len(suffix)]) * factor)
    return int(cleaned) if cleaned.isdigit() else None
