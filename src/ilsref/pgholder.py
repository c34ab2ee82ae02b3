"""`python -m ilsref.pgholder`: hold PostgreSQL resources the way a misbehaving client does.

Started by the postgres service for two faults, with the DSN in $ILSREF_HOLDER_DSN (never argv):
- `--open-transaction`: one connection inside a transaction that is never committed
  (`db_long_transaction`: a long-running transaction holding locks and blocking vacuum);
- `--fill-pct N`: idle connections until N % of max_connections are used (`db_connections_high`).
Runs until it is killed (`ilsref down`).
"""

from __future__ import annotations

import argparse
import math
import os
import time

import psycopg

MAX_EXTRA = 500  # never open more than this, whatever max_connections says


def _used(conn: psycopg.Connection) -> tuple[int, int]:
    row = conn.execute(
        b"SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'), "
        b"current_setting('max_connections')::int").fetchone()
    assert row is not None
    return int(row[0]), int(row[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--open-transaction", action="store_true")
    parser.add_argument("--fill-pct", type=float, default=0.0)
    args = parser.parse_args()
    dsn = os.environ["ILSREF_HOLDER_DSN"]
    held: list[psycopg.Connection] = []
    if args.open_transaction:
        conn = psycopg.connect(dsn, connect_timeout=10, application_name="ilsref-long-transaction")
        conn.execute(b"SELECT count(*) FROM pg_class")  # implicitly BEGINs; never committed
        held.append(conn)
    if args.fill_pct:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as probe:
            used, maximum = _used(probe)
        wanted = min(MAX_EXTRA, math.ceil(maximum * args.fill_pct / 100) - used)
        for _ in range(max(0, wanted)):
            held.append(psycopg.connect(dsn, autocommit=True, connect_timeout=10,
                                        application_name="ilsref-connection-hog"))
    print(f"holding {len(held)} connection(s)", flush=True)
    while True:
        time.sleep(3600)


if __name__ == "__main__":
    main()
