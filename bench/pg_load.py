"""ADU-exported Parquet -> PostgreSQL: ADU's loader against DuckDB, ADBC and the COPY floor.

Run by hand (never from the tests); every path runs in the same invocation, interleaved
over ``--rounds`` rounds, against the same throwaway cluster::

    .venv/bin/python bench/pg_load.py                       # the 3M-row mixed table
    .venv/bin/python bench/pg_load.py --rows 12000000       # memory must stay flat
    .venv/bin/python bench/pg_load.py --paths adu:1,adu:2,adu:3,adu:4   # how many connections pay
    .venv/bin/python bench/pg_load.py --table net --paths adu:2,adu-text:2  # inet/cidr/macaddr

The source is bench/pg_export.py's mixed table (11 columns) with a primary key on ``id``,
exported once by ``adu export --parallel 2 --no-validate``. Each path loads it into an
empty table of a second database (dropped, then ``CHECKPOINT``, before every run):

* ``adu-kwK:N``: the same with the key built by K parallel workers (sink option
  ``key_workers``; ``adu:N`` uses the default, the server's own setting: 2 workers).
* ``adu:N``: ADU's loader (:func:`adu_postgres.loadrun.load_table`), N connections COPYing
  into the staging table at once, then the primary key built and the table published.
* ``duckdb``: DuckDB 1.4.4 + its postgres extension (``duckdb-ext-postgres`` wheel, no
  download): ``CREATE TABLE pg.public.t AS SELECT * FROM read_parquet([...])``. No key.
* ``adbc``: ``adbc_driver_postgresql`` ``adbc_ingest(mode="create")`` of the files'
  batches (streamed). No key.
* ``cli:N``: the user's command, ``adu load DIR URL --parallel N``: the export verified
  first (every file's SHA-256, footers), the job recorded in a store, then ``adu:N``'s path.
* ``adu-text:N``: the same, the rows sent in COPY's text format (the route of tables that
  hold a value exported as PostgreSQL text).
* ``rewrite``: what the other lossless route for such tables would add to ``adu:2``: one
  rewrite of the loaded table casting a text column to its type (``ALTER TABLE ... ALTER
  COLUMN j TYPE jsonb USING j::text::jsonb``); only the rewrite is timed.
* ``adu-baseline:N`` / ``cli-baseline:N``: ``adu:N`` / ``cli:N`` run from the source tree
  given by ``--baseline`` (e.g. an unpacked ``git archive main`` whose C codecs are built in
  place): before and after a change, in the same run.
* ``floor``: PostgreSQL's own ``COPY t FROM '<file>' (FORMAT binary)``, server-side, one
  backend, from a binary COPY file of the same rows, into a table created beforehand. No key.
* ``floor-text``: the floor with every ``jsonb`` column created as ``text`` (what DuckDB's
  table holds instead): the share of the server's work that parsing jsonb is.
* ``floor-socket``: the same file sent by ``psql``'s ``\\copy`` over the URL's connection: the
  server's work when the rows come through a socket, as every client's do.
* ``key``: the floor's load (not timed), then only ``ALTER TABLE ... ADD PRIMARY KEY``, with
  ADU's settings (``maintenance_work_mem`` 256MB, the server's parallel workers).
* ``read``: the client's least work: reading the export's Parquet batches, nothing sent.

With ``floor-socket`` (or ``floor``), ``key`` and ``read`` in the run, the report adds the
**bound**: the rows' server CPU through a socket plus the reading's client CPU, over the
machine's cores (both busy all along), plus the key's wall time (PostgreSQL builds it only
once every row is in): what no lossless loader of this table with its key can beat on this
machine, whatever its encoder costs (taken as zero), next to DuckDB's wall.

Wall time is measured around each subprocess (interpreter start-up included); the
``cpu/<peer>`` columns compare client + server CPU, which a busy machine disturbs less;
``WAL MB`` is the WAL the server wrote during the run (``pg_current_wal_lsn()`` before and
after). Peak memory
is sampled every 20 ms over the client's whole process tree (sum of RSS and of PSS); the
server is not part of it, its CPU is reported separately (the postmaster's children).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]
VENV_BIN = Path(sys.executable).parent

from benchlib import client_cpu, measure, server_cpu  # noqa: E402
from pg_tables import MIXED_SQL, NET_SQL  # noqa: E402

TARGET_DB = "loadtarget"
#: where the ``read`` worker leaves the CPU seconds of its reading (next to the export)
READ_CPU = "read-cpu.txt"
#: ``--baseline``: the package source folders of another ADU tree, for ``*-baseline`` paths
BASELINE: list[Path] = []


# --------------------------------------------------------------------------------- workers


def worker_adu(
    url: str, export_dir: str, parallel: int, text_format: bool = False, key_workers: int | None = None
) -> None:
    import pyarrow.parquet as pq
    from adu_core.models import ColumnInfo, TableInfo
    from adu_postgres.loadrun import load_table

    out = Path(export_dir)
    entry = json.loads((out / "manifest.json").read_text())["tables"][0]
    files = [str(out / f["path"]) for f in entry["files"]]
    schema = pq.read_schema(files[0])
    pg_types = json.loads((out.parent / "pg_types.json").read_text())
    table = TableInfo(
        schema=entry["schema"],
        name=entry["name"],
        columns=tuple(
            ColumnInfo(c["name"], c["source_type"], f.type, c["nullable"])
            for f, c in zip(schema, entry["columns"], strict=True)
        ),
        primary_key=tuple(entry["primary_key"]),
        properties={"pg_types": pg_types},
    )
    result = load_table(
        url,
        table,
        files,
        job_id="bench",
        parallel=parallel,
        expected_rows=entry["rows"],
        text_format=text_format or None,
        options=None if key_workers is None else {"key_workers": key_workers},
    )
    assert result.rows == entry["rows"]


def worker_duckdb(url: str, export_dir: str, name: str) -> None:
    import duckdb
    from pg_export import _duckdb_extension_dir

    files = sorted(str(p) for p in Path(export_dir).rglob("*.parquet"))
    con = duckdb.connect(
        config={
            "extension_directory": _duckdb_extension_dir(),
            "autoinstall_known_extensions": False,
            "autoload_known_extensions": False,
        }
    )
    con.execute("LOAD postgres")
    con.execute(f"ATTACH '{url}' AS pg (TYPE postgres)")
    listing = ", ".join(f"'{f}'" for f in files)
    con.execute(f'CREATE TABLE pg.public."{name}" AS SELECT * FROM read_parquet([{listing}])')


def worker_read(url: str, export_dir: str, name: str) -> None:
    """The export's batches read as ADU's loader reads them, nothing sent; the CPU of the
    reading alone (no interpreter start-up) is written to ``READ_CPU`` for the report."""
    import pyarrow.parquet as pq
    from adu_postgres.loadrun import DEFAULT_BATCH_ROWS, READ_BUFFER

    t0 = os.times()
    for f in sorted(Path(export_dir).rglob("*.parquet")):
        pf = pq.ParquetFile(f, buffer_size=READ_BUFFER, pre_buffer=False)
        for _ in pf.iter_batches(batch_size=DEFAULT_BATCH_ROWS, use_threads=False):
            pass
    t1 = os.times()
    Path(export_dir).parent.joinpath(READ_CPU).write_text(str(t1.user + t1.system - t0.user - t0.system))


def worker_adbc(url: str, export_dir: str, name: str) -> None:
    import adbc_driver_postgresql.dbapi as adbc
    import pyarrow.dataset as ds

    files = sorted(str(p) for p in Path(export_dir).rglob("*.parquet"))
    reader = ds.dataset(files, format="parquet").scanner(batch_size=65536).to_reader()
    with adbc.connect(url) as conn, conn.cursor() as cur:
        cur.adbc_ingest(name, reader, mode="create")
        conn.commit()


# ---------------------------------------------------------------------------------- set-up


def make_source(pg, rows: int, shape: str = "mixed") -> str:
    name = f"{shape}_load_{rows}"
    table_sql = NET_SQL if shape == "net" else MIXED_SQL
    if not pg.execute("SELECT to_regclass(%s) IS NOT NULL", (f"public.{name}",))[0][0]:
        print(f"creating public.{name} ({rows:,} rows)...", flush=True)
        for lo in range(1, rows + 1, 1_000_000):
            pg.execute(table_sql.format(name=name, lo=lo, hi=min(rows, lo + 999_999)))
        pg.execute(f"ALTER TABLE {name} ADD PRIMARY KEY (id)")
        pg.execute(f"VACUUM ANALYZE {name}")
    size = pg.execute("SELECT pg_size_pretty(pg_total_relation_size(%s::regclass))", (name,))[0][0]
    print(f"public.{name}: {rows:,} rows, {size} with its key", flush=True)
    return name


def export_once(pg, name: str, work: Path) -> Path:
    from adu_postgres.source import PostgresSource

    out = work / "export"
    env = dict(os.environ, ADU_DATA_DIR=str(work / "store"))
    args = [str(VENV_BIN / "adu"), "export", pg.superuser_dsn, "--out", str(out), "--table", f"public.{name}"]
    subprocess.run([*args, "--parallel", "2", "--no-validate"], env=env, check=True, capture_output=True)
    source = PostgresSource(pg.superuser_dsn, {})
    table = next(t for t in source.discover() if t.name == name)
    source.close()
    (work / "pg_types.json").write_text(json.dumps(table.properties["pg_types"]))
    files = list(out.rglob("*.parquet"))
    print(f"exported: {len(files)} file(s), {sum(f.stat().st_size for f in files) / 2**20:.0f} MB", flush=True)
    return out


def floor_file(pg, name: str) -> str:
    """A binary COPY file of the rows, where the server can read it."""
    path = str(Path(pg.base or tempfile.gettempdir()) / f"{name}.pgcopy")
    if not os.path.exists(path):
        pg.execute(f"COPY {name} TO '{path}' (FORMAT binary)")
    return path


def reset_target(pg, url: str, name: str, source_name: str, path: str) -> None:
    pg.execute(f'DROP TABLE IF EXISTS "{name}"', dbname=TARGET_DB)
    if path in ("floor", "floor-text", "floor-socket", "key"):
        jsonb = "'text'" if path == "floor-text" else "'jsonb'"
        cols = pg.execute(
            "SELECT string_agg(quote_ident(attname) || ' ' || CASE WHEN atttypid = 'jsonb'::regtype THEN "
            + jsonb
            + " ELSE format_type(atttypid, atttypmod) END, ', ' ORDER BY attnum)"
            " FROM pg_attribute WHERE attrelid = %s::regclass AND attnum > 0 AND NOT attisdropped",
            (source_name,),
        )[0][0]
        pg.execute(f'CREATE TABLE "{name}" ({cols})', dbname=TARGET_DB)
    if path == "key":  # the rows, not timed: the path times the key alone
        pg.execute(f"COPY \"{name}\" FROM '{floor_file(pg, source_name)}' (FORMAT binary)", dbname=TARGET_DB)
    pg.execute("CHECKPOINT")


def run_path(path: str, pg, url: str, export_dir: Path, name: str, floor_path: str) -> tuple[float, int, int, int]:
    env = dict(os.environ)
    me = [sys.executable, __file__, "--url", url, "--out", str(export_dir), "--name", name]
    psql = str(Path(pg.bin or "/usr/lib/postgresql/15/bin") / "psql")
    if "-baseline" in path:  # the same path on another source tree (--baseline)
        path = path.replace("-baseline", "")
        env["PYTHONPATH"] = os.pathsep.join(str(d) for d in BASELINE)
    if path.startswith("adu"):
        parallel = path.split(":")[1] if ":" in path else "2"
        text = ["--text"] if path.startswith("adu-text") else []
        if path.startswith("adu-kw"):  # adu-kwK:N: the key built with K parallel workers
            text += ["--key-workers", path.split(":")[0].removeprefix("adu-kw")]
        return measure([*me, "--worker", "adu", "--parallel", parallel, *text], env=env)
    if path.startswith("cli"):  # the user's command: verification, the job store, the load job
        parallel = path.split(":")[1] if ":" in path else "2"
        cli_env = dict(env, ADU_DATA_DIR=str(export_dir.parent / "load-store"))
        return measure([str(VENV_BIN / "adu"), "load", str(export_dir), url, "--parallel", parallel], env=cli_env)
    if path == "rewrite":
        subprocess.run([*me, "--worker", "adu", "--parallel", "2"], env=env, check=True)
        pg.execute("CHECKPOINT")
        alter = f'ALTER TABLE "{name}" ALTER COLUMN j TYPE jsonb USING j::text::jsonb'
        return measure([psql, url, "-qAt", "-c", alter])
    if path in ("duckdb", "adbc", "read"):
        return measure([*me, "--worker", path], env=env)
    if path == "key":  # the rows are in (reset_target): the key alone
        key = f'ALTER TABLE "{name}" ADD PRIMARY KEY (id)'
        return measure([psql, url, "-qAt", "-c", "SET maintenance_work_mem = '256MB'", "-c", key])
    if path == "floor-socket":
        return measure([psql, url, "-qAt", "-c", f"\\copy \"{name}\" FROM '{floor_path}' (FORMAT binary)"])
    return measure([psql, url, "-qAt", "-c", f"COPY \"{name}\" FROM '{floor_path}' (FORMAT binary)"])


def report(results: dict[str, list[tuple[float, int, int, float, float, float]]]) -> None:
    def med(path: str, i: int) -> float | None:
        runs = results.get(path) or []
        return statistics.median(r[i] for r in runs) if runs else None

    peers = [p for p in ("duckdb", "adbc", "floor") if results.get(p)]
    head = f"   {'path':10s} {'median s':>9s} {'min s':>7s} {'RSS MB':>7s} {'PSS MB':>7s} {'client cpu':>10s}"
    print(
        head
        + f" {'server cpu':>10s} {'WAL MB':>7s}"
        + "".join(f" {'/' + p:>8s}" for p in peers)
        + "".join(f" {'cpu/' + p:>10s}" for p in peers if p != "floor")
    )
    for path, runs in results.items():
        if not runs:
            continue
        wall = statistics.median(r[0] for r in runs)
        line = (
            f"   {path:10s} {wall:9.2f} {min(r[0] for r in runs):7.2f} {max(r[1] for r in runs) / 2**20:7.0f}"
            f" {max(r[2] for r in runs) / 2**20:7.0f} {med(path, 3):10.2f} {med(path, 4):10.2f}"
            f" {(med(path, 5) or 0.0) / 2**20:7.0f}"
        )
        for p in peers:
            base = med(p, 0)
            line += f" {wall / base:7.2f}x" if base else ""
        cpu = (med(path, 3) or 0.0) + (med(path, 4) or 0.0)
        for p in peers:  # client + server CPU against a peer's: what contention disturbs least
            base_cpu = (med(p, 3) or 0.0) + (med(p, 4) or 0.0)
            line += f" {cpu / base_cpu:9.2f}x" if p != "floor" and base_cpu else ""
        print(line, flush=True)
    rows = "floor-socket" if results.get("floor-socket") else "floor"
    server, client, key = med(rows, 4), med("read", 3), med("key", 0)
    if server is not None and client is not None and key is not None:
        cores = os.cpu_count() or 1
        bound = (server + client) / cores + key
        duck = med("duckdb", 0)
        versus = f" = {bound / duck:.2f}x DuckDB's {duck:.2f} s" if duck else ""
        print(
            f"   bound: ({rows} server {server:.2f} + read {client:.2f} s of CPU) / {cores} cores"
            f" + key {key:.2f} s = {bound:.2f} s at the least for a lossless load with its key{versus}",
            flush=True,
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument(
        "--table",
        choices=("mixed", "net"),
        default="mixed",
        help="mixed: the 11-column mixed table; net: its kind with inet, cidr and macaddr columns",
    )
    ap.add_argument("--paths", default="floor,duckdb,adbc,adu:2,cli:2")
    ap.add_argument("--pg-url", help="use this server (superuser URL) instead of a throwaway cluster")
    ap.add_argument("--pg-datadir", help="data directory of --pg-url's server (for its CPU time)")
    ap.add_argument(
        "--baseline",
        help="another ADU source tree (packages/*/src, plugins/*/src, C codecs built in place): "
        "paths adu-baseline:N and cli-baseline:N run from it",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    ap.add_argument("--name", help=argparse.SUPPRESS)
    ap.add_argument("--parallel", type=int, default=2, help=argparse.SUPPRESS)
    ap.add_argument("--text", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--key-workers", type=int, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker == "adu":
        return worker_adu(a.url, a.out, a.parallel, a.text, a.key_workers)
    if a.worker:
        return {"duckdb": worker_duckdb, "adbc": worker_adbc, "read": worker_read}[a.worker](a.url, a.out, a.name)

    if a.baseline:
        base = Path(a.baseline)
        BASELINE[:] = sorted([*base.glob("packages/*/src"), *base.glob("plugins/*/src")])
        if not BASELINE:
            ap.error(f"--baseline {a.baseline}: no packages/*/src or plugins/*/src there")

    from pgserver import PgServer

    if a.pg_url:
        os.environ["ADU_TEST_PG_URL"] = a.pg_url
    pg = PgServer().start()
    work = Path(tempfile.mkdtemp(prefix="adu-bench-load-"))
    try:
        datadir = a.pg_datadir or (str(pg.datadir) if pg.datadir else None)
        source = make_source(pg, a.rows, a.table)
        export_dir = export_once(pg, source, work)
        if not pg.execute("SELECT 1 FROM pg_database WHERE datname = %s", (TARGET_DB,)):
            pg.execute(f"CREATE DATABASE {TARGET_DB}")
        url = pg.superuser_dsn.rsplit("/", 1)[0] + "/" + TARGET_DB
        paths = [p.strip() for p in a.paths.split(",") if p.strip()]
        floor_path = floor_file(pg, source) if {"floor", "floor-text", "floor-socket", "key"} & set(paths) else ""
        print(f"\n== load {source}: {a.rounds} round(s), paths {', '.join(paths)}", flush=True)
        results: dict[str, list[tuple[float, int, int, float, float, float]]] = {p: [] for p in paths}
        for r in range(a.rounds):
            for path in paths:
                reset_target(pg, url, source, source, path)
                lsn0 = pg.execute("SELECT pg_current_wal_lsn()")[0][0]
                cpu0, srv0 = client_cpu(), server_cpu(datadir)
                wall, rss, pss, rc = run_path(path, pg, url, export_dir, source, floor_path)
                time.sleep(0.3)  # let the backends exit so the postmaster accounts for them
                ccpu, scpu = client_cpu() - cpu0, server_cpu(datadir) - srv0
                if path == "read" and rc == 0:  # the reading alone, not the interpreter's start
                    ccpu = float((export_dir.parent / READ_CPU).read_text())
                wal = float(pg.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), %s)", (lsn0,))[0][0])
                rows = (
                    0
                    if rc != 0 or path == "read"
                    else pg.execute(f'SELECT count(*) FROM "{source}"', dbname=TARGET_DB)[0][0]
                )
                if rc == 0 and (rows == a.rows or path == "read"):
                    results[path].append((wall, rss, pss, ccpu, scpu, wal))
                elif rc == 0:
                    print(f"   ! {path}: {rows} rows loaded, expected {a.rows}", flush=True)
                print(
                    f"   round {r + 1} {path:10s} {wall:7.2f} s  peak RSS {rss / 2**20:6.0f} MB"
                    f"  PSS {pss / 2**20:6.0f} MB  CPU client {ccpu:5.2f} s server {scpu:5.2f} s"
                    f"  WAL {wal / 2**20:5.0f} MB",
                    flush=True,
                )
        report(results)
        with open("/proc/loadavg") as f:
            print(f"   load average at the end: {f.read().split()[:3]} on {os.cpu_count()} cores", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
        pg.stop()


if __name__ == "__main__":
    main()
