"""PostgreSQL -> zstd Parquet: ADU against DuckDB's postgres extension and the binary-COPY floor.

Run by hand (never from the tests); every path runs in the same invocation, interleaved
over ``--rounds`` rounds, against the same throwaway cluster, so the ratios are fair even
on a busy machine::

    .venv/bin/python bench/pg_export.py                          # mixed and wide 3M-row tables
    .venv/bin/python bench/pg_export.py --tables wide --rows 12000000 --rounds 1   # memory stays flat
    .venv/bin/python bench/pg_export.py --tables none --types all --paths duckdb,adu-validate
    .venv/bin/python bench/pg_export.py --tables none --small-tables 200   # 200 tables x 5,000 rows
    .venv/bin/python bench/pg_export.py --tables none --startup             # fixed costs
    .venv/bin/python bench/pg_export.py --pg-url postgresql://... # an existing server

Tables (``bench/pg_tables.py`` generates them with ``generate_series``):

* ``mixed``: 11 columns, no primary key, random numerics (the original table);
* ``wide``: issue 19's table: bigint primary key, varchar(200) with 10% NULLs, jsonb of
  two keys, generated (not random) values, 1% of the rows updated after the load;
* ``--types``: one table per column of ``wide`` (the key and that column), for the
  per-type profile; ``--small-tables N``: N mixed tables of ``--small-rows`` rows.

Paths:

* ``floor``: ``COPY ... TO STDOUT (FORMAT binary)`` to /dev/null over two connections
  (ctid halves) with ``psql``: what PostgreSQL itself costs.
* ``duckdb``: DuckDB 1.4.4 + its postgres extension from the ``duckdb-ext-postgres``
  wheel (loaded from the wheel's directory, no download; ``scripts/bootstrap.py --bench``
  installs it): ``COPY (SELECT * FROM pg.s.t) TO 'x.parquet' (FORMAT parquet, COMPRESSION zstd)``.
* ``adu-read``: ADU's source alone: ``PostgresSource.read`` of two ctid partitions in two
  processes, each writing zstd Parquet with ``pyarrow.parquet.ParquetWriter``.
* ``adu``: the real thing: ``adu export --parallel 2 --no-validate`` (engine, partitions
  in two threads, Parquet sink with SHA-256, manifest, job store).
* ``adu-validate``: the same with the inferred validation rules on (the default).
* ``adu-process``, ``adu-validate-process`` (optional): the same with ``ADU_EXECUTOR=process``.

Optional paths: ``adu-read-psycopg2`` (the COPY read through psycopg2's ``copy_expert``),
``adu-engine-fork`` and ``adu-engine-forkserver`` (the engine from a small script, no CLI).

Printed per table: every run (wall, peak memory of the process tree, client CPU =
user+sys of the whole process tree, server CPU = the PostgreSQL backends), then medians
and the ratios to DuckDB (wall, client CPU, client + server CPU), then per column the bytes
of ADU's Parquet files against DuckDB's for the same data (from the footers' column-chunk
sizes; deterministic). On a busy machine compare the CPU ratios: wall ratios move with the
load (the load average is printed).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
VENV_BIN = Path(sys.executable).parent

import benchlib  # noqa: E402
import parquet_sizes  # noqa: E402
import pg_tables  # noqa: E402
from benchlib import measure, tree_memory  # noqa: E402,F401  (validation_pg.py uses measure)

MIXED_SQL = pg_tables.MIXED_SQL
DEFAULT_PATHS = "floor,duckdb,adu-read,adu,adu-validate"
#: ``--baseline``: the package source folders of another ADU tree, for ``*-baseline`` paths
BASELINE: list[Path] = []


# --------------------------------------------------------------------------------- workers
# Each path runs in its own interpreter: `python pg_export.py --worker <path> ...`.


def _duckdb_extension_dir() -> str:
    import importlib.util

    spec = importlib.util.find_spec("duckdb_ext")
    if spec is None or not spec.submodule_search_locations:
        raise SystemExit("duckdb-ext-postgres is not installed: run python3 scripts/bootstrap.py --bench")
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
    """The engine without the CLI, the pool started with ``mp_start``."""
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


def worker_duckdb_scan(url: str, tables: list[str], out: str) -> None:
    """DuckDB's read alone: every row into Arrow batches that are dropped."""
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
    for t in tables:
        schema, name = t.split(".")
        reader = con.execute(f'SELECT * FROM pg."{schema}"."{name}"').fetch_record_batch(32768)
        for _batch in reader:
            pass


WORKERS = {"duckdb": worker_duckdb, "duckdb-scan": worker_duckdb_scan, "adu-read": worker_adu_read}


# ---------------------------------------------------------------------------------- paths


def path_command(path: str, url: str, tables: list[str], pg, out: str) -> tuple[list[str], dict[str, str]]:
    """The command (and environment) that runs ``path`` on ``tables``, writing into ``out``."""
    env = dict(os.environ, ADU_DATA_DIR=str(Path(out) / "data"))
    if path == "floor":
        schema, name = tables[0].split(".")
        pages = pg.execute("SELECT pg_relation_size(%s::regclass) / 8192", (tables[0],))[0][0]
        half = pages // 2 + 1
        psql = str(Path(pg.bin or "/usr/lib/postgresql/15/bin") / "psql")
        script = " & ".join(
            f"{psql} '{url}' -qAt -c \"COPY (SELECT * FROM {schema}.{name} WHERE {cond}) "
            f'TO STDOUT (FORMAT binary)" > /dev/null'
            for cond in (f"ctid < '({half},0)'", f"ctid >= '({half},0)'")
        )
        return ["bash", "-c", script + " & wait"], env
    if path in ("duckdb", "adu-read", "adu-read-psycopg2", "adu-engine-fork", "adu-engine-forkserver"):
        worker = "adu-read" if path == "adu-read-psycopg2" else path
        if path == "adu-read-psycopg2":
            env["ADU_PG_COPY"] = "psycopg2"
        cmd = [sys.executable, __file__, "--worker", worker, "--url", url, "--out", out]
        return [*cmd, "--tables", ",".join(tables)], env
    if path.endswith("-baseline"):  # the same command on another source tree (--baseline)
        path = path.removesuffix("-baseline")
        env["PYTHONPATH"] = os.pathsep.join(str(d) for d in BASELINE)
    args = [str(VENV_BIN / "adu"), "export", url, "--out", str(Path(out) / "export"), "--parallel", "2"]
    for t in tables:
        args += ["--table", t]
    if path in ("adu", "adu-process"):
        args.append("--no-validate")
    if path.endswith("-process"):
        env["ADU_EXECUTOR"] = "process"
    return args, env


def run_rounds(
    label: str, tables: list[str], paths: list[str], rounds: int, url: str, pg, datadir: str | None, sizes: bool
) -> dict[str, list[benchlib.Run]]:
    """Every path ``rounds`` times, interleaved; the runs, and (``sizes``) the per-column
    size table of round 1's ADU and DuckDB files."""
    print(f"\n== {label}: {rounds} round(s), paths {', '.join(paths)}; {benchlib.machine_load()}", flush=True)
    results: dict[str, list[benchlib.Run]] = {p: [] for p in paths}
    kept: dict[str, dict[str, list]] = {}
    for r in range(rounds):
        for path in paths:
            if path == "floor" and len(tables) > 1:
                continue
            out = tempfile.mkdtemp(prefix=f"adu-bench-{path}-")
            try:
                cmd, env = path_command(path, url, tables, pg, out)
                run, rc = benchlib.measure_cpu(cmd, env, datadir)
                if rc == 0:
                    results[path].append(run)
                    if sizes and r == 0 and path in ("duckdb", "adu", "adu-validate") and len(tables) == 1:
                        kept[path] = parquet_sizes.column_sizes(parquet_sizes.parquet_files(out))
            finally:
                shutil.rmtree(out, ignore_errors=True)
                # every path starts on a clean page cache: DuckDB never flushes its files, and
                # the path after it paid for writing them back in its own fsyncs and syncfs
                # (200 small tables: up to 2.5 s of the next path's wall time on a busy disk)
                os.sync()
            wall, rss, pss, ccpu, scpu = run
            print(
                f"   round {r + 1} {path:13s} {wall:7.2f} s  peak RSS {rss / 2**20:6.0f} MB"
                f"  PSS {pss / 2**20:6.0f} MB  CPU client {ccpu:5.2f} s server {scpu:5.2f} s",
                flush=True,
            )
    benchlib.report(results)
    adu_sizes = kept.get("adu") or kept.get("adu-validate")
    if adu_sizes and "duckdb" in kept:
        print("   file size per column (round 1; compressed column chunks from the footers):")
        parquet_sizes.compare(adu_sizes, kept["duckdb"])
    return results


def run_startup(url: str, pg, rounds: int, datadir: str | None) -> None:
    """Fixed costs: the interpreter alone, ``adu --help``, a 1-row table's export (ADU, and
    DuckDB's whole Python process: import, load the extension, attach, copy)."""
    table = pg_tables.make_one_row(pg)
    commands = {
        "python -c pass": ([sys.executable, "-c", "pass"], None),
        "adu --help": ([str(VENV_BIN / "adu"), "--help"], None),
    }
    exports = [("duckdb 1 row", "duckdb"), ("adu 1 row", "adu-validate")]
    if BASELINE:
        env = dict(os.environ, PYTHONPATH=os.pathsep.join(str(d) for d in BASELINE))
        commands["adu --help, baseline"] = ([str(VENV_BIN / "adu"), "--help"], env)
        exports.append(("adu 1 row, baseline", "adu-validate-baseline"))
    print(f"\n== start-up: {rounds} round(s); {benchlib.machine_load()}", flush=True)
    # ADU's 1-row exports run twice: into a new job store, then again into that one
    again = [f"{label}, existing store" for label, path in exports if path != "duckdb"]
    results: dict[str, list[benchlib.Run]] = {k: [] for k in [*commands, *(e[0] for e in exports), *again]}
    for _ in range(rounds):
        for label, (cmd, env) in commands.items():
            run, rc = benchlib.measure_cpu(cmd, env, None)
            if rc == 0:
                results[label].append(run)
        for label, path in exports:
            out = tempfile.mkdtemp(prefix="adu-bench-startup-")
            second = tempfile.mkdtemp(prefix="adu-bench-startup-")
            try:
                cmd, env = path_command(path, url, [table], pg, out)
                run, rc = benchlib.measure_cpu(cmd, env, datadir)
                if rc == 0:
                    results[label].append(run)
                if path != "duckdb":  # a second export into the job store the first one created
                    cmd, env2 = path_command(path, url, [table], pg, second)
                    env2["ADU_DATA_DIR"] = env["ADU_DATA_DIR"]
                    run, rc = benchlib.measure_cpu(cmd, env2, datadir)
                    if rc == 0:
                        results[f"{label}, existing store"].append(run)
            finally:
                shutil.rmtree(out, ignore_errors=True)
                shutil.rmtree(second, ignore_errors=True)
    benchlib.report(results, base="duckdb 1 row")


# -------------------------------------------------------------------------------- main


def make_data(pg, rows: int, small_tables: int, small_rows: int, kinds: tuple[str, ...] = ("mixed",)):
    """Create the benchmark tables (if missing); return the table lists to export."""
    jobs = []
    if rows:
        for kind in kinds:
            jobs.append([pg_tables.make_mixed(pg, rows) if kind == "mixed" else pg_tables.make_wide(pg, rows)])
    if small_tables:
        jobs.append(pg_tables.make_small(pg, small_tables, small_rows))
    return jobs


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--tables", default="mixed,wide", help="mixed, wide, both (comma-separated) or none")
    ap.add_argument("--rows", type=int, default=3_000_000, help="rows of the mixed and wide tables")
    ap.add_argument("--types", help="per-type tables: 'all' or columns of the wide table (qty,amount,...)")
    ap.add_argument("--type-rows", type=int, default=3_000_000)
    ap.add_argument("--small-tables", type=int, default=0, help="also N tables of --small-rows rows")
    ap.add_argument("--small-rows", type=int, default=5000)
    ap.add_argument("--startup", action="store_true", help="also the start-up figures")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--paths", default=DEFAULT_PATHS)
    ap.add_argument("--no-sizes", action="store_true", help="skip the per-column file-size table")
    ap.add_argument("--pg-url", help="use this server (superuser URL) instead of a throwaway cluster")
    ap.add_argument("--pg-datadir", help="data directory of --pg-url's server (for its CPU time)")
    ap.add_argument(
        "--baseline",
        help="another ADU source tree (e.g. `git worktree add /tmp/base main`, its C decoder built in place): "
        "paths ending in -baseline (adu-baseline, adu-validate-baseline) run `adu export` from it, "
        "before/after in the same run",
    )
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()

    if a.worker:
        tables = a.tables.split(",")
        if a.worker.startswith("adu-engine-"):
            worker_adu_engine(a.url, tables, a.out, a.worker.removeprefix("adu-engine-"))
        else:
            WORKERS[a.worker](a.url, tables, a.out)
        return

    if a.baseline:
        base = Path(a.baseline)
        BASELINE[:] = sorted([*base.glob("packages/*/src"), *base.glob("plugins/*/src")])
        if not BASELINE:
            ap.error(f"--baseline {a.baseline}: no packages/*/src or plugins/*/src there")

    from pgserver import PgServer

    if a.pg_url:
        os.environ["ADU_TEST_PG_URL"] = a.pg_url
    pg = PgServer().start()
    datadir = a.pg_datadir or (str(pg.datadir) if pg.datadir else None)
    try:
        url = pg.superuser_dsn
        kinds = tuple(k.strip() for k in a.tables.split(",") if k.strip() and k.strip() != "none")
        jobs = make_data(pg, a.rows, a.small_tables, a.small_rows, kinds)
        if a.types:
            only = None if a.types == "all" else [c.strip() for c in a.types.split(",")]
            jobs += [[t] for t in pg_tables.make_types(pg, a.type_rows, only)]
        paths = [p.strip() for p in a.paths.split(",") if p.strip()]
        cpu: dict[str, tuple[float, float]] = {}
        for tables in jobs:
            label = tables[0] if len(tables) == 1 else f"{len(tables)} tables"
            results = run_rounds(label, tables, paths, a.rounds, url, pg, datadir, not a.no_sizes)
            if results.get("duckdb"):
                adu = results.get("adu-validate") or results.get("adu") or []
                if adu:
                    cpu[label] = (
                        statistics.median(r[3] for r in adu),
                        statistics.median(r[3] for r in results["duckdb"]),
                    )
        if len(cpu) > 1:
            print("\n== client CPU, ADU (validation on when measured) against DuckDB, per table:")
            for label, (mine, theirs) in cpu.items():
                print(f"   {label:36s} ADU {mine:6.2f} s  DuckDB {theirs:6.2f} s  {mine / theirs:5.2f}x")
        if a.startup:
            run_startup(url, pg, a.rounds, datadir)
    finally:
        pg.stop()


if __name__ == "__main__":
    main()
