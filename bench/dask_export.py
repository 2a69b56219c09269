"""The Dask executor's overhead: the same export on the thread executor and on Dask, side by side.

Run by hand (never from the tests)::

    .venv/bin/python bench/dask_export.py                      # 3M-row mixed table, 200 tables x 5,000 rows
    .venv/bin/python bench/dask_export.py --rows 300000 --rounds 1   # a quick look
    .venv/bin/python bench/dask_export.py --cold               # also Dask with a LocalCluster started per job
    .venv/bin/python bench/dask_export.py --scheduler tcp://host:8786   # Dask on an existing cluster

On one 2-core machine a cluster cannot be faster than threads: what is measured is what
Dask costs. Every path runs in this one process (the coordinator), interleaved over
``--rounds`` rounds against the same throwaway PostgreSQL cluster:

* ``thread``: ``ADU_EXECUTOR=thread``, ``--parallel 2`` (the default for PostgreSQL);
* ``dask``: ``ADU_EXECUTOR=dask`` on a LocalCluster of two single-threaded worker
  processes, started once before the first round and kept warm (what ``adu worker`` and
  ``adu serve`` do: the cluster lives as long as the process);
* ``dask-cold`` (``--cold``): a LocalCluster started and closed for each job (what one
  ``adu export`` costs from scratch).

Each job validates (the default) and writes zstd Parquet with its manifest. Printed per
table set: every run (wall s, CPU s of this process and all its children, the Dask worker
processes included, CPU s of the PostgreSQL backends that ended), then medians and the
ratios to ``thread``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

import benchlib  # noqa: E402
import pg_tables  # noqa: E402


def tree_cpu() -> tuple[float, float]:
    """User + system CPU seconds of this process (the coordinator, with the LocalCluster's
    scheduler) and of its descendants (the Dask workers), live or waited for."""
    import psutil

    me = psutil.Process()
    t = me.cpu_times()
    own = t.user + t.system
    children = t.children_user + t.children_system
    for child in me.children(recursive=True):
        try:
            c = child.cpu_times()
            children += c.user + c.system
        except psutil.Error:
            continue
    return own, children


def run_job(url: str, password: str, tables: list[str], out: Path, executor: str, parallel: int) -> float:
    from adu_core import config
    from adu_core.engine import submit_and_run
    from adu_core.models import JobSpec, JobStatus, TableSelection
    from adu_core.store import Store

    settings = config.load()
    store = Store.from_settings(settings)
    try:
        spec = JobSpec(source=url, target=str(out), selection=TableSelection(tables=tuple(tables)), parallel=parallel)
        start = time.perf_counter()
        result = submit_and_run(store, spec, password=password, settings=settings, executor=executor)
        wall = time.perf_counter() - start
        if result.status != JobStatus.SUCCEEDED:
            raise SystemExit(f"{executor}: job {result.job_id} {result.status.value}: {result.error}")
        return wall
    finally:
        store.dispose()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=3_000_000, help="rows of the mixed table (0: none)")
    ap.add_argument("--small-tables", type=int, default=200)
    ap.add_argument("--small-rows", type=int, default=5000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--cold", action="store_true", help="also Dask with a LocalCluster per job")
    ap.add_argument("--scheduler", help="run the dask path on this scheduler instead of a LocalCluster")
    ap.add_argument("--pg-url", help="use this server (superuser URL) instead of a throwaway cluster")
    a = ap.parse_args()

    from pgserver import PgServer

    work = Path(tempfile.mkdtemp(prefix="adu-dask-bench-"))
    os.environ.update(
        ADU_DATA_DIR=str(work / "data"),
        ADU_DASK_WORKERS=str(a.parallel),
        ADU_DASK_THREADS="1",
    )
    os.environ.pop("ADU_STORE_URL", None)
    if a.scheduler:
        os.environ["ADU_DASK_SCHEDULER"] = a.scheduler
    if a.pg_url:
        os.environ["ADU_TEST_PG_URL"] = a.pg_url
    pg = PgServer().start()
    datadir = str(pg.datadir) if pg.datadir else None
    try:
        url = pg.superuser_dsn
        sets: list[tuple[str, list[str]]] = []
        if a.rows:
            sets.append((f"mixed {a.rows:,} rows", [pg_tables.make_mixed(pg, a.rows)]))
        if a.small_tables:
            names = pg_tables.make_small(pg, a.small_tables, a.small_rows)
            sets.append((f"{a.small_tables} tables x {a.small_rows:,} rows", names))

        from adu_dask import cluster
        from adu_dask.settings import DaskSettings

        t0 = time.perf_counter()
        cluster.client_for(DaskSettings.from_env(os.environ), a.parallel).wait_for_workers(a.parallel)
        print(f"Dask cluster up in {time.perf_counter() - t0:.1f} s ({a.scheduler or 'LocalCluster'})", flush=True)
        paths = ["thread", "dask"] + (["dask-cold"] if a.cold else [])
        print(benchlib.machine_load(), flush=True)
        for label, tables in sets:
            results: dict[str, list[benchlib.Run]] = {p: [] for p in paths}
            print(f"\n== {label}", flush=True)
            for rnd in range(a.rounds):
                for path in paths:
                    out = work / f"out-{path}"
                    shutil.rmtree(out, ignore_errors=True)
                    if path == "dask-cold":
                        cluster.close_all()
                    (own0, kids0), scpu0 = tree_cpu(), benchlib.server_cpu(datadir)
                    start = time.perf_counter()
                    run_job(url, pg.password, tables, out, "thread" if path == "thread" else "dask", a.parallel)
                    if path == "dask-cold":
                        cluster.close_all()  # its cost is part of the job
                    wall = time.perf_counter() - start
                    own1, kids1 = tree_cpu()
                    own, kids, scpu = own1 - own0, kids1 - kids0, benchlib.server_cpu(datadir) - scpu0
                    results[path].append((wall, 0, 0, own + kids, scpu))
                    print(
                        f"   round {rnd + 1} {path:10s} {wall:7.2f} s  cpu {own + kids:6.2f} s "
                        f"(coordinator {own:.2f}, workers {kids:.2f})  server cpu {scpu:6.2f} s",
                        flush=True,
                    )
                if a.cold:  # warm again for the next round's dask path
                    cluster.client_for(DaskSettings.from_env(os.environ), a.parallel).wait_for_workers(a.parallel)
            report(results)
    finally:
        from adu_dask import cluster

        cluster.close_all()
        pg.stop()
        shutil.rmtree(work, ignore_errors=True)


def report(results: dict[str, list[benchlib.Run]]) -> None:
    base = results["thread"]
    bw = statistics.median(r[0] for r in base)
    bc = statistics.median(r[3] for r in base)
    head = f"{'path':10s} {'median s':>9s} {'cpu s':>7s} {'server cpu':>10s} {'wall/thread':>12s} {'cpu/thread':>11s}"
    print("   " + head)
    for path, runs in results.items():
        w = statistics.median(r[0] for r in runs)
        c = statistics.median(r[3] for r in runs)
        s = statistics.median(r[4] for r in runs)
        print(f"   {path:10s} {w:9.2f} {c:7.2f} {s:10.2f} {w / bw:11.2f}x {c / bc:10.2f}x", flush=True)


if __name__ == "__main__":
    main()
