"""PostgreSQL -> zstd Parquet: ADU against DuckDB's postgres extension and the binary-COPY floor.

Run by hand (never from the tests); every path runs in the same invocation, interleaved
over ``--rounds`` rounds, against the same throwaway cluster, so the ratios are fair even
on a busy machine::

    .venv/bin/python bench/pg_export.py                      # 3M-row mixed table
    .venv/bin/python bench/pg_export.py --rows 12000000      # memory must stay flat
    .venv/bin/python bench/pg_export.py --small-tables 200   # 200 tables x 5,000 rows
    .venv/bin/python bench/pg_export.py --pg-url postgresql://... # an existing server

Paths:

* ``floor``: ``COPY ... TO STDOUT (FORMAT binary)`` to /dev/null over two connections
  (ctid halves) with ``psql``: what PostgreSQL itself costs.
* ``duckdb``: DuckDB 1.4.4 + its postgres extension from the ``duckdb-ext-postgres``
  wheel (loaded from the wheel's directory, no download):
  ``COPY (SELECT * FROM pg.public.t) TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd)``.
* ``adu-read``: ADU's source alone: ``PostgresSource.read`` of two ctid partitions in two
  processes, each writing zstd Parquet with ``pyarrow.parquet.ParquetWriter``.
* ``adu``: the real thing: ``adu export --parallel 2 --no-validate`` (engine, partitions
  in two threads, Parquet sink with SHA-256, manifest, job store).
* ``adu-validate``: the same with the inferred validation rules on (the default).
* ``adu-process``, ``adu-validate-process`` (optional): the same with ``ADU_EXECUTOR=process``
  (a forked process pool instead of threads).

Optional paths (``--paths``): ``adu-read-psycopg2`` (the source reading the COPY through
psycopg2's ``copy_expert`` instead of libpq directly), ``adu-engine-fork`` and
``adu-engine-forkserver`` (the engine called from a small script, no CLI imports, pool
started with that method: shows what the CLI's imports and ``fork`` cost in memory).

Wall time is measured around each subprocess (interpreter start-up included for every
path). Peak memory is sampled every 20 ms over the whole process tree, as the sum of RSS
(pages shared by a forked pool counted once per process: an overestimate) and the sum of
PSS (shared pages split between sharers: the real footprint). The PostgreSQL server is
not part of the tree.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
VENV_BIN = Path(sys.executable).parent

MIXED_SQL = """
CREATE TABLE IF NOT EXISTS {name} (id bigint NOT NULL, i int, n numeric(12,2), t text, v varchar(64),
    ts timestamptz, d date, b bool, u uuid, j jsonb, f double precision);
INSERT INTO {name}
SELECT g, (g % 100000)::int, round((random() * 1e8)::numeric, 2), md5(g::text), 'name-' || g,
       timestamptz '2020-01-01' + g * interval '17 seconds', date '2000-01-01' + (g % 10000), g % 3 = 0,
       gen_random_uuid(), jsonb_build_object('k', g, 'tag', 'x' || (g % 97)), random() * 1000
FROM generate_series({lo}, {hi}) g;
"""


# ------------------------------------------------------------------------------- measuring


def tree_memory(pid: int) -> tuple[int, int]:
    """(sum of RSS, sum of PSS) over ``pid`` and all its descendants, in bytes.

    RSS counts pages shared between processes (a forked pool shares its parent's) once
    per process; PSS splits them between the sharers, so it adds up to real memory.
    """
    rss = pss = 0
    stack = [pid]
    while stack:
        p = stack.pop()
        try:
            with open(f"/proc/{p}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Rss:"):
                        rss += int(line.split()[1]) * 1024
                    elif line.startswith("Pss:"):
                        pss += int(line.split()[1]) * 1024
            for task in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{task}/children") as f:
                    stack.extend(int(x) for x in f.read().split())
        except (FileNotFoundError, ProcessLookupError, PermissionError):
            continue
    return rss, pss


def server_cpu(datadir: str | None) -> float:
    """CPU seconds the server's ended backends used so far (postmaster's cutime + cstime)."""
    if not datadir:
        return 0.0
    try:
        pid = int(Path(datadir, "postmaster.pid").read_text().split()[0])
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[13]) + int(fields[14])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return 0.0


def client_cpu() -> float:
    ru = resource.getrusage(resource.RUSAGE_CHILDREN)
    return ru.ru_utime + ru.ru_stime


def measure(args: list[str], env: dict[str, str] | None = None) -> tuple[float, int, int, int]:
    """(wall seconds, peak RSS sum, peak PSS sum of the process tree, return code)."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak_rss = peak_pss = 0
    while proc.poll() is None:
        rss, pss = tree_memory(proc.pid)
        peak_rss, peak_pss = max(peak_rss, rss), max(peak_pss, pss)
        time.sleep(0.02)
    wall = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.returncode:
        print(f"   ! {' '.join(args[:3])}... failed: {err.strip()[-500:]}", flush=True)
    return wall, peak_rss, peak_pss, proc.returncode


# --------------------------------------------------------------------------------- workers
# Each path runs in its own interpreter: `python pg_export.py --worker <path> ...`.


def _duckdb_extension_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("duckdb-ext-postgres is not installed")
    return str(Path(next(iter(spec.submodule_search_locations))) / "extensions")


def worker_duckdb(url: str, tables: list[str], out: str) -> None:
    import duckdb

    con = duckdb.connect(
        config={
            "extension_directory": _duckdb_extension_dir(),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    con.execute("LOAD postgres")
    literal = url.replace("'", "''")
    con.execute(f"ATTACH '{literal}' AS pg (TYPE postgres, READ_ONLY)")
    for i, t in enumerate(tables):
        schema, name = t.split(".")
        target = str(Path(out) / f"duck{i}.parquet")
        con.execute(f'COPY (SELECT * FROM pg."{schema}"."{name}") TO \'{target}\' (FORMAT parquet, COMPRESSION zstd)')


def _adu_read_partition(url: str, part, out: str) -> int:
    import pyarrow.parquet as pq
    from adu_core.plugin.components import NeverCancelled
    from adu_postgres.source import PostgresSource

    source = PostgresSource(url, {})
    writer = pq.ParquetWriter(
        str(Path(out) / f"adu-{part.table.name}-{part.index}.parquet"),
        part.table.arrow_schema(),
        compression="zstd",
        compression_level=1,
        use_dictionary=False,
    )
    n = 0
    for batch in source.read(part, snapshot={}, batch_rows=32768, cancel=NeverCancelled()):
        writer.write_batch(batch)
        n += batch.num_rows
    writer.close()
    source.close()
    return n


def worker_adu_engine(url: str, tables: list[str], out: str, mp_start: str) -> None:
    """The engine without the CLI: only what an export needs is imported before the pool
    starts, and the pool starts with ``mp_start``."""
    from adu_core import config
    from adu_core.engine import submit_and_run
    from adu_core.models import JobSpec, TableSelection
    from adu_core.secrets import url_password
    from adu_core.store import Store

    settings = config.load()
    store = Store.from_settings(settings)
    spec = JobSpec(
        source=url,
        target=str(Path(out) / "export"),
        selection=TableSelection(tables=tuple(tables)),
        parallel=2,
        validate=False,
    )
    result = submit_and_run(store, spec, password=url_password(url), settings=settings, mp_start=mp_start)
    if result.status.value != "succeeded":
        raise SystemExit(f"job {result.status.value}")


def worker_adu_read(url: str, tables: list[str], out: str) -> None:
    from concurrent.futures import ProcessPoolExecutor

    from adu_postgres.source import PostgresSource

    source = PostgresSource(url, {})
    wanted = set(tables)
    parts = [p for t in source.discover() if t.qualified_name in wanted for p in source.partitions(t, target=2)]
    source.close()
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_adu_read_partition, [url] * len(parts), parts, [out] * len(parts)))


# -------------------------------------------------------------------------------- main


def make_data(pg, rows: int, small_tables: int, small_rows: int) -> list[list[str]]:
    """Create the benchmark tables (if missing); return the table lists to export."""
    jobs = []
    if rows:
        name = f"mixed_{rows}"
        have = pg.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{name}",))[0][0]
        if not have:
            print(f"creating public.{name} ({rows:,} rows)...", flush=True)
            step = 1_000_000
            for lo in range(1, rows + 1, step):
                pg.execute(MIXED_SQL.format(name=name, lo=lo, hi=min(rows, lo + step - 1)))
            pg.execute(f"VACUUM ANALYZE {name}")
        size = pg.execute("SELECT pg_size_pretty(pg_total_relation_size(%s::regclass))", (name,))[0][0]
        print(f"public.{name}: {rows:,} rows, {size}", flush=True)
        jobs.append([f"public.{name}"])
    if small_tables:
        pg.execute("CREATE SCHEMA IF NOT EXISTS small")
        names = [f"small.t{i:03d}" for i in range(small_tables)]
        for n in names:
            if not pg.execute("SELECT to_regclass(%s) IS NOT NULL", (n,))[0][0]:
                pg.execute(MIXED_SQL.format(name=n, lo=1, hi=small_rows))
        pg.execute("ANALYZE")
        print(f"small: {small_tables} tables x {small_rows:,} rows", flush=True)
        jobs.append(names)
    return jobs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=3_000_000, help="rows of the mixed table (0: none)")
    ap.add_argument("--small-tables", type=int, default=0, help="also N tables of --small-rows rows")
    ap.add_argument("--small-rows", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--paths", default="floor,duckdb,adu-read,adu,adu-validate")
    ap.add_argument("--pg-url", help="use this server (superuser URL) instead of a throwaway cluster")
    ap.add_argument("--pg-datadir", help="data directory of --pg-url's server (for its CPU time)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--tables", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.worker:
        tables = a.tables.split(",")
        if a.worker.startswith("adu-engine-"):
            worker_adu_engine(a.url, tables, a.out, a.worker.removeprefix("adu-engine-"))
        else:
            {"duckdb": worker_duckdb, "adu-read": worker_adu_read}[a.worker](a.url, tables, a.out)
        return

    from pgserver import PgServer

    if a.pg_url:
        os.environ["ADU_TEST_PG_URL"] = a.pg_url
    pg = PgServer().start()
    datadir = a.pg_datadir or (str(pg.datadir) if pg.datadir else None)
    try:
        url = pg.superuser_dsn
        jobs = make_data(pg, a.rows, a.small_tables, a.small_rows)
        paths = [p.strip() for p in a.paths.split(",") if p.strip()]
        for tables in jobs:
            label = tables[0] if len(tables) == 1 else f"{len(tables)} tables"
            print(f"\n== {label}: {a.rounds} round(s), paths {', '.join(paths)}", flush=True)
            results: dict[str, list[tuple[float, int, int, float, float]]] = {p: [] for p in paths}
            for r in range(a.rounds):
                for path in paths:
                    if path == "floor" and len(tables) > 1:
                        continue
                    cpu0, srv0 = client_cpu(), server_cpu(datadir)
                    wall, rss, pss, rc = run_path(path, url, tables, pg)
                    time.sleep(0.3)  # let the backends exit so the postmaster accounts for them
                    ccpu, scpu = client_cpu() - cpu0, server_cpu(datadir) - srv0
                    if rc == 0:
                        results[path].append((wall, rss, pss, ccpu, scpu))
                    print(
                        f"   round {r + 1} {path:13s} {wall:7.2f} s  peak RSS {rss / 2**20:6.0f} MB"
                        f"  PSS {pss / 2**20:6.0f} MB  CPU client {ccpu:5.2f} s server {scpu:5.2f} s",
                        flush=True,
                    )
            report(results)
    finally:
        pg.stop()


def run_path(path: str, url: str, tables: list[str], pg) -> tuple[float, int, int, int]:
    out = tempfile.mkdtemp(prefix=f"adu-bench-{path}-")
    try:
        if path == "floor":
            (schema, name) = tables[0].split(".")
            pages = pg.execute("SELECT pg_relation_size(%s::regclass) / 8192", (tables[0],))[0][0]
            half = pages // 2 + 1
            psql = str(Path(pg.bin or "/usr/lib/postgresql/15/bin") / "psql")
            script = " & ".join(
                f"{psql} '{url}' -qAt -c \"COPY (SELECT * FROM {schema}.{name} WHERE {cond}) "
                f'TO STDOUT (FORMAT binary)" > /dev/null'
                for cond in (f"ctid < '({half},0)'", f"ctid >= '({half},0)'")
            )
            return measure(["bash", "-c", script + " & wait"])
        if path in ("duckdb", "adu-read", "adu-read-psycopg2", "adu-engine-fork", "adu-engine-forkserver"):
            worker = "adu-read" if path == "adu-read-psycopg2" else path
            env = dict(os.environ, ADU_DATA_DIR=str(Path(out) / "data"))
            if path == "adu-read-psycopg2":
                env["ADU_PG_COPY"] = "psycopg2"
            cmd = [sys.executable, __file__, "--worker", worker, "--url", url, "--out", out]
            return measure([*cmd, "--tables", ",".join(tables)], env=env)
        env = dict(os.environ, ADU_DATA_DIR=str(Path(out) / "data"))
        args = [str(VENV_BIN / "adu"), "export", url, "--out", str(Path(out) / "export"), "--parallel", "2"]
        for t in tables:
            args += ["--table", t]
        if path in ("adu", "adu-process"):
            args.append("--no-validate")
        if path.endswith("-process"):
            env["ADU_EXECUTOR"] = "process"
        return measure(args, env=env)
    finally:
        shutil.rmtree(out, ignore_errors=True)


def report(results: dict[str, list[tuple[float, int, int, float, float]]]) -> None:
    """Medians per path; ratios against DuckDB for wall time and for total CPU (client +
    server), which a busy machine disturbs much less than wall time."""
    base = results.get("duckdb") or []
    base_wall = statistics.median(r[0] for r in base) if base else None
    base_cpu = statistics.median(r[3] + r[4] for r in base) if base else None
    print(
        f"   {'path':13s} {'median s':>9s} {'min s':>7s} {'RSS MB':>7s} {'PSS MB':>7s}"
        f" {'client cpu':>10s} {'server cpu':>10s} {'wall/duckdb':>11s} {'cpu/duckdb':>10s}"
    )
    for path, runs in results.items():
        if not runs:
            continue
        med = statistics.median(r[0] for r in runs)
        best = min(r[0] for r in runs)
        rss = max(r[1] for r in runs) / 2**20
        pss = max(r[2] for r in runs) / 2**20
        ccpu = statistics.median(r[3] for r in runs)
        scpu = statistics.median(r[4] for r in runs)
        wr = f"{med / base_wall:10.2f}x" if base_wall else ""
        cr = f"{(ccpu + scpu) / base_cpu:9.2f}x" if base_cpu else ""
        print(
            f"   {path:13s} {med:9.2f} {best:7.2f} {rss:7.0f} {pss:7.0f} {ccpu:10.2f} {scpu:10.2f} {wr:>11s} {cr:>10s}",
            flush=True,
        )


if __name__ == "__main__":
    main()
