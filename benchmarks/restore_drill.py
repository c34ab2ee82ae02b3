"""Benchmark: the restore drill on about a million rows, against raw `pg_restore -j` and the plan's
`gunzip | psql`, in one run; medians of --repeat runs.

    .venv/bin/python benchmarks/restore_drill.py [--rows 1000000] [--repeat 3] [--jobs 2]

Starts a throwaway PostgreSQL cluster (initdb as the postgres user, fsync off), fills `bench_src`
with patients (1/5 of the rows) and orders (4/5, each pointing at a patient), dumps it once as
`-Fc` and as gzipped plain SQL, then times:
- raw:   `pg_restore -j N --no-owner` of the .dump into an empty database (restore alone);
- drill: `pytest rollback/test_restore_drill.py` against that server and backup (scratch
         database, --exit-on-error restore, counts and checksums of source and copy, RTO
         measurement, drop): wall time of the whole pytest process, and its restore step alone
         (the RTO it measures: `pg_restore --exit-on-error -j N --no-owner --no-privileges`);
- plan:  `gunzip -c x.sql.gz | psql -v ON_ERROR_STOP=1` into an empty database (restore alone).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def sh(*args: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(args), check=True, capture_output=True, text=True, timeout=1800, **kw)  # type: ignore[call-overload]


def start_cluster(root: Path) -> tuple[str, Path]:
    data = root / "data"
    data.mkdir()
    shutil.chown(root, "postgres")
    shutil.chown(data, "postgres")
    port = free_port()
    sh("runuser", "-u", "postgres", "--", str(PG_BIN / "initdb"), "-D", str(data), "-U", "postgres",
       "-A", "trust", "--no-sync")
    sh("runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data), "-w", "-l",
       str(data / "log"), "start", "-o",
       f"-p {port} -k {data} -c listen_addresses=127.0.0.1 -c fsync=off -c max_wal_size=4GB")
    return f"postgresql://postgres@127.0.0.1:{port}", data


def psql(dsn: str, sql: str, db: str = "postgres") -> str:
    return sh(str(PG_BIN / "psql"), "-X", "-At", "-v", "ON_ERROR_STOP=1", f"{dsn}/{db}", "-c", sql).stdout


def fill(dsn: str, rows: int) -> None:
    patients, orders = rows // 5, rows - rows // 5
    psql(dsn, "CREATE DATABASE bench_src")
    psql(dsn, f"""
        CREATE TABLE patients (id varchar PRIMARY KEY, name text NOT NULL, created_at timestamptz NOT NULL);
        CREATE TABLE orders (id varchar PRIMARY KEY, patient_id varchar REFERENCES patients(id),
                             status varchar(32) NOT NULL, lens_type text NOT NULL,
                             od_sphere numeric(5,2), created_at timestamptz NOT NULL);
        INSERT INTO patients SELECT 'p' || i, 'Patient ' || i, now() - i * interval '1 minute'
          FROM generate_series(1, {patients}) i;
        INSERT INTO orders SELECT 'o' || i, 'p' || (1 + i % {patients}), 'pending', 'single vision',
          (i % 800) / 100.0 - 4, now() - i * interval '1 second' FROM generate_series(1, {orders}) i;
        """, "bench_src")
    psql(dsn, "VACUUM ANALYZE", "bench_src")  # not inside the transaction of a multi-statement -c


def timed(fn: object) -> float:
    started = time.monotonic()
    fn()  # type: ignore[operator]
    return time.monotonic() - started


def raw_restore(dsn: str, dump: Path, jobs: int) -> float:
    """Seconds of `pg_restore -j` alone (the scratch database is made and dropped untimed)."""
    psql(dsn, "CREATE DATABASE bench_raw")
    seconds = timed(lambda: sh(str(PG_BIN / "pg_restore"), "--no-owner", f"-j{jobs}",
                               f"--dbname={dsn}/bench_raw", str(dump)))
    psql(dsn, "DROP DATABASE bench_raw")
    return seconds


def plan_restore(dsn: str, plain: Path) -> float:
    """Seconds of `gunzip -c | psql` alone, as the plan's restore-database.sh does it."""
    psql(dsn, "CREATE DATABASE bench_plan")
    seconds = timed(lambda: sh(
        "bash", "-o", "pipefail", "-c",
        f"gunzip -c {plain} | {PG_BIN / 'psql'} -X -q -v ON_ERROR_STOP=1 {dsn}/bench_plan >/dev/null"))
    psql(dsn, "DROP DATABASE bench_plan")
    return seconds


def drill_restore(dsn: str, backups: Path, jobs: int, work: Path) -> float:
    config = work / "cutover.toml"
    config.write_text(f"""[environments.bench]
kind = "other"
base_url = "http://127.0.0.1:9"
[environments.bench.database]
dsn_env = "BENCH_DSN"
admin_dsn_env = "BENCH_DSN"
scratch_allowed = true
[environments.bench.backups]
directory = "{backups}"
pattern = "bench_*.dump"
[environments.bench.rollback]
restore_jobs = {jobs}
pg_bin = "{PG_BIN}"
""")
    reports = work / "reports"
    env = {**os.environ, "BENCH_DSN": f"{dsn}/bench_src"}
    done = subprocess.run([sys.executable, "-m", "pytest", "rollback/test_restore_drill.py",
                           f"--cutover-config={config}", "--cutover-env=bench",
                           f"--cutover-reports={reports}", f"--html={reports / 'r.html'}",
                           f"--junitxml={reports / 'j.xml'}", "-p", "no:cacheprovider", "-q"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1800,
                          check=False)
    verdict = json.loads((reports / "verdict.json").read_text())
    if verdict["decision"] != "GO":
        raise SystemExit(f"the drill did not pass: {verdict['reasons']}\n{done.stdout[-2000:]}")
    return float(next(m["value"] for c in verdict["checks"] for m in c["measurements"]
                      if m["name"] == "restore_seconds"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    load_before = os.getloadavg()[0]
    root = Path(tempfile.mkdtemp(prefix="bench-restore-"))
    dsn, data = start_cluster(root)
    try:
        fill(dsn, args.rows)
        backups = root / "backups"
        backups.mkdir()
        dump, plain = backups / "bench_1.dump", backups / "bench_1.sql.gz"
        sh(str(PG_BIN / "pg_dump"), "-Fc", f"--dbname={dsn}/bench_src", f"--file={dump}")
        sh("bash", "-o", "pipefail", "-c", f"{PG_BIN / 'pg_dump'} {dsn}/bench_src | gzip > {plain}")
        raw, drill, drill_restore_s, plan = [], [], [], []
        for i in range(args.repeat):
            raw.append(raw_restore(dsn, dump, args.jobs))
            work = root / f"drill-{i}"
            work.mkdir()
            started = time.monotonic()
            drill_restore_s.append(drill_restore(dsn, backups, args.jobs, work))
            drill.append(time.monotonic() - started)
            plan.append(plan_restore(dsn, plain))
        med = {name: statistics.median(values) for name, values in
               (("raw", raw), ("drill", drill), ("drill_restore", drill_restore_s), ("plan", plan))}
        size = dump.stat().st_size / 1e6, plain.stat().st_size / 1e6
        print(f"rows {args.rows:,}; .dump {size[0]:.1f} MB, .sql.gz {size[1]:.1f} MB; "
              f"jobs {args.jobs}; {os.cpu_count()} cores; medians of {args.repeat}; load average "
              f"before {load_before:.1f}, after {os.getloadavg()[0]:.1f}")
        print(f"| raw pg_restore -j{args.jobs} | {med['raw']:.2f} s | 1.00 |")
        drill = med["drill"]
        print(f"| restore drill (pytest, whole run) | {drill:.2f} s | {drill / med['raw']:.2f} |")
        print(f"| restore drill, restore step alone (RTO) | {med['drill_restore']:.2f} s | "
              f"{med['drill_restore'] / med['raw']:.2f} |")
        print(f"| plan: gunzip -c | psql | {med['plan']:.2f} s | {med['plan'] / med['raw']:.2f} |")
    finally:
        subprocess.run(["runuser", "-u", "postgres", "--", str(PG_BIN / "pg_ctl"), "-D", str(data),
                        "-m", "immediate", "stop"], capture_output=True, timeout=60, check=False)
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
