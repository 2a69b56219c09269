"""End to end: ``adu export`` of a PostgreSQL table to Parquet vs DuckDB's postgres
extension writing the same table with its own Parquet writer.

Run by hand (never a timed test)::

    .venv/bin/python bench/pg_export.py [ROWS]

Starts a throwaway PostgreSQL (tests/pgserver.py), loads the design's 11-column mixed
table, then times (best of 2): ``adu export --no-validate --parallel 2`` (a subprocess:
the time includes interpreter start-up; the job's own time is printed too) and DuckDB
1.4.4 ``COPY (SELECT * FROM pg.public.bench) TO … (FORMAT parquet, COMPRESSION zstd)``
with the extension loaded from the offline wheel.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from pgserver import PgServer  # noqa: E402

ROWS = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
LOAD = f"""
CREATE TABLE bench AS
SELECT i::bigint AS id,
       (i % 1000)::int AS qty,
       ((i::bigint * 7919) % 10000000 / 100.0)::numeric(12,2) AS price,
       repeat(md5(i::text), 1 + i % 3) AS note,
       ('C' || lpad((i % 5000)::text, 5, '0'))::varchar(16) AS code,
       timestamptz '2020-01-01' + (i * 97 % 100000000) * interval '1 second' AS at,
       date '2020-01-01' + (i % 2000) AS day,
       (i % 2 = 0) AS flag,
       md5(i::text)::uuid AS uid,
       jsonb_build_object('k', i % 100, 'w', 'alpha') AS doc,
       (i * 0.001)::double precision AS score
FROM generate_series(1, {ROWS}) AS i;
ANALYZE bench;
"""


def ext_path() -> str:
    import duckdb_ext  # the offline wheel's package: no download

    found = list(Path(duckdb_ext.__path__[0]).rglob("postgres_scanner.duckdb_extension"))
    return str(found[0])


def main() -> None:
    srv = PgServer().start()
    work = Path(tempfile.mkdtemp(prefix="adu-pgbench-"))
    try:
        with PgServer.connect(srv.dsn) as conn, conn.cursor() as cur:
            cur.execute(LOAD)
            conn.commit()
            cur.execute("SELECT pg_size_pretty(pg_total_relation_size('bench'))")
            print(f"{ROWS:,} rows, {cur.fetchone()[0]} in PostgreSQL, {os.cpu_count()} CPU(s)")
        env = {**os.environ, "ADU_DATA_DIR": str(work / "data")}
        adu = str(Path(sys.executable).parent / "adu")
        for i in range(2):
            out = work / f"adu{i}"
            t0 = time.perf_counter()
            res = subprocess.run([adu, "export", srv.dsn, "--out", str(out), "--no-validate", "--parallel", "2"],
                                 env=env, capture_output=True, text=True, check=True)
            wall = time.perf_counter() - t0
            job = re.search(r"in ([0-9.]+)s", res.stdout)
            size = sum(p.stat().st_size for p in out.rglob("*.parquet"))
            print(f"adu export (2 partitions)   {wall:6.2f} s wall, job {job.group(1) if job else '?'} s, "
                  f"{size / 1e6:6.1f} MB")
        for i in range(2):
            con = duckdb.connect(config={"autoinstall_known_extensions": False,
                                         "autoload_known_extensions": False})
            con.execute(f"LOAD '{ext_path()}'")
            dsn = srv.dsn.replace("'", "''")
            con.execute(f"ATTACH '{dsn}' AS pg (TYPE postgres, READ_ONLY)")
            target = str(work / f"duck{i}.parquet").replace("'", "''")
            t0 = time.perf_counter()
            con.execute(f"COPY (SELECT * FROM pg.public.bench) TO '{target}' (FORMAT parquet, COMPRESSION zstd)")
            wall = time.perf_counter() - t0
            con.close()
            print(f"duckdb COPY TO parquet      {wall:6.2f} s wall, "
                  f"{(work / f'duck{i}.parquet').stat().st_size / 1e6:6.1f} MB")
    finally:
        srv.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
