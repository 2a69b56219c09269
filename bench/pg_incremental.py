"""A delta (1% of the rows changed) against the full export of the same table (issue 17).

Run by hand (never from the tests), against a throwaway cluster (or ``--pg-url``)::

    .venv/bin/python bench/pg_incremental.py                 # the 3M-row mixed table
    .venv/bin/python bench/pg_incremental.py --rows 300000 --rounds 1

The table is bench/pg_export.py's mixed table (11 columns) with a primary key on ``id``
and an index on its cursor column ``ts`` (timestamptz). Each round:

1. ``full``: a full export with ``--cursor public.inc_mixed=ts`` (records the watermark);
2. 1% of the rows are updated with their cursor bumped past it (``ts = now()``), and the
   table analysed (as autovacuum would);
3. ``delta``: ``--after last`` (the watermark from the job store): only the changed rows;
4. ``delta-dir``: ``--after FULL_DIR``, which first verifies the full export (every file
   hashed, every footer read) — the price of not trusting the job store.

Both ways are timed in one run: *in process* (``adu_core.export`` in this long-lived
Python, as a notebook or ``adu worker`` runs jobs: no interpreter start-up) and *CLI*
(``adu export`` as a subprocess, its fixed cost — imports, opening the job store —
included). The ratio delta/full is printed for each; the target is ≤ 5% in process.
``floor``: PostgreSQL's binary COPY of the same rows (all of them, then the rows past the
watermark) to nothing, the data path's own ratio.

``--spans`` prints, for each in-process delta, the wall-clock spans of its steps (bench/spans.py:
discovery, watermarks, planning, connections, each partition's read, Parquet close, flushes,
manifest, store writes) with the thread each ran on, so what is serial and what overlaps
can be read; ``--profile FILE`` writes a cProfile of the in-process deltas. The CPU time
of this process (all threads) is printed beside each in-process wall time.

``--baseline TREE`` (another source tree, e.g. ``git archive main`` with the built C
extensions copied in) also runs, every round, a fresh interpreter of that tree and one of
this tree (alternating which goes first) doing the same in-process cycle — a warm-up
export, a full export, 1% updated, a delta ``--after last`` (``--deltas K``: K times 1%
updated and a delta) — so before/after are measured on the same load.

``--shared-buffers SIZES`` (default ``1GB,128MB``): the throwaway cluster is restarted with
each value in turn, every round (alternating which goes first), and each is reported on its
own: delta and full of the same server. The tests' cluster has 64 MB, far below a real
server's; there the ~30,000 heap pages a delta reads (one changed row a page once updates
land in the space VACUUM freed) are never in PostgreSQL's cache and each is a read() from
the OS cache. 1GB is the tuned default: PostgreSQL's documentation starts a dedicated
server at 25% of its RAM, and 1GB is 4% of this 24 GB machine's (and of the 4 GB of a
small one, 25%); the pages an application just updated are then hits, as on a real server.
128MB is PostgreSQL's own out-of-the-box value. Note that the full export's TID range scans
take no ring buffer (PostgreSQL keeps that for sequential scans), so with 1GB the whole
506 MB table is cached too and the full export's pages are hits as well. ``--explain``
prints, in the first round of each value, the delta's and half the full export's
``shared hit/read`` (EXPLAIN (ANALYZE, BUFFERS)). With ``--pg-url`` the server's own
setting is used (and printed).

Fairness: the throwaway cluster shares the disk with the exports, and the Parquet sink
syncs the file system it publishes to (``syncfs``) before writing the manifest; so after
the bench's own writes (the load, the 1% update and its VACUUM) the cluster is
checkpointed and the file system synced before anything is timed — otherwise a delta
would pay for flushing the benchmark's UPDATE, which a real source (another host) never
puts on the export's disk.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "bench")]
VENV_BIN = Path(sys.executable).parent

from pg_export import MIXED_SQL, measure  # noqa: E402

#: the throwaway cluster's shared_buffers measured by default: a tuned server's, then PostgreSQL's own default
SHARED_BUFFERS = ("1GB", "128MB")
NAME = "inc_mixed"
TABLE = f"public.{NAME}"


def make_table(pg, rows: int) -> None:
    if pg.execute("SELECT to_regclass(%s) IS NOT NULL", (TABLE,))[0][0]:
        if pg.execute(f"SELECT count(*) FROM {NAME}")[0][0] == rows:
            return
        pg.execute(f"DROP TABLE {NAME}")
    print(f"== creating {TABLE}: {rows:,} rows", flush=True)
    for lo in range(1, rows + 1, 1_000_000):
        pg.execute(MIXED_SQL.format(name=NAME, lo=lo, hi=min(rows, lo + 999_999)))
    pg.execute(f"ALTER TABLE {NAME} ADD PRIMARY KEY (id)")
    pg.execute(f"CREATE INDEX ON {NAME} (ts)")
    pg.execute(f"VACUUM ANALYZE {NAME}")


def settle(pg) -> None:
    """Flush what the bench itself wrote (see the module docstring)."""
    pg.execute("CHECKPOINT")
    os.sync()


def bump(pg, rows: int, round_no: int) -> int:
    """Update 1% of the rows (a different 1% for each ``round_no`` of 100 in a row), their
    cursor moved past the watermark."""
    every = 100
    pick = (round_no * 37 + 7) % every
    pg.execute(f"UPDATE {NAME} SET n = n + 1, ts = clock_timestamp() WHERE id % {every} = {pick}")
    pg.execute(f"VACUUM ANALYZE {NAME}")
    settle(pg)
    return rows // every


def _cpu() -> float:
    t = os.times()
    return t.user + t.system


def timed(fn, *args, **kwargs):  # type: ignore[no-untyped-def]
    """``(result, wall s, CPU s of this process)`` of ``fn(*args, **kwargs)``."""
    c0, t0 = _cpu(), time.perf_counter()
    res = fn(*args, **kwargs)
    return res, time.perf_counter() - t0, _cpu() - c0


class _Pg:
    """``pg.execute`` over psycopg2 (autocommit), for a worker that has no PgServer."""

    def __init__(self, url: str) -> None:
        import psycopg2

        self.conn = psycopg2.connect(url)
        self.conn.autocommit = True

    def execute(self, query: str, params=None):  # type: ignore[no-untyped-def]
        with self.conn.cursor() as cur:
            cur.execute(query, params)
            return cur.fetchall() if cur.description else []


def worker_cycle(url: str, work: Path, rows: int, round_no: int, parallel: int, deltas_per_round: int = 1) -> None:
    """One in-process cycle in this (fresh) interpreter: warm-up, full, then
    ``deltas_per_round`` times 1% updated and a delta; prints JSON."""
    data = work / "data"
    os.environ["ADU_DATA_DIR"] = str(data)
    os.environ.pop("ADU_STORE_URL", None)
    import adu_core as adu

    common = {"tables": [TABLE], "validate": False, "parallel": parallel, "overwrite": True}
    cursors = {TABLE: "ts"}
    adu.export(url, work / "warm", cursors=cursors, **common)
    res, full, full_cpu = timed(adu.export, url, work / "full", cursors=cursors, **common)
    pg = _Pg(url)
    deltas, cpus = [], []
    for k in range(max(1, deltas_per_round)):
        changed = bump(pg, rows, round_no * 10 + k)
        res, delta, delta_cpu = timed(adu.export, url, work / f"delta{k}", after="last", **common)
        deltas.append(delta)
        cpus.append(delta_cpu)
        if res.rows != changed:
            print(f"   ! delta exported {res.rows:,} rows, {changed:,} changed", file=sys.stderr, flush=True)
    print(json.dumps({"full": full, "delta": deltas, "full_cpu": full_cpu, "delta_cpu": cpus}))


def run_worker(
    url: str, rows: int, round_no: int, parallel: int, tree: Path | None, deltas: int = 1
) -> dict[str, Any] | None:
    """:func:`worker_cycle` in a fresh interpreter, of ``tree`` (``--baseline``) or of this one."""
    env = dict(os.environ)
    if tree is not None:
        env["PYTHONPATH"] = os.pathsep.join(
            str(d) for d in sorted([*tree.glob("packages/*/src"), *tree.glob("plugins/*/src")])
        )
    work = Path(tempfile.mkdtemp(prefix="adu-bench-incw-"))
    try:
        cmd = [sys.executable, __file__, "--worker", "--url", url, "--work", str(work)]
        cmd += ["--rows", str(rows), "--round", str(round_no), "--parallel", str(parallel), "--deltas", str(deltas)]
        proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
        if proc.returncode:
            print(f"   ! worker ({tree or 'this tree'}) failed: {proc.stderr.strip()[-800:]}", flush=True)
            return None
        return json.loads(proc.stdout.strip().splitlines()[-1])
    finally:
        shutil.rmtree(work, ignore_errors=True)


def floor(url: str, after: str | None) -> float:
    """Seconds of ``COPY (SELECT * ... [WHERE ts > after]) TO STDOUT (FORMAT binary)`` to nothing."""
    import psycopg2

    class Null:
        def write(self, data: bytes) -> int:
            return len(data)

    query = f"COPY (SELECT * FROM ONLY {TABLE}" + (" WHERE ts > %s" if after else "") + ") TO STDOUT (FORMAT binary)"
    conn = psycopg2.connect(url)
    try:
        with conn.cursor() as cur:
            sql = cur.mogrify(query, (after,)).decode() if after else query
            t0 = time.perf_counter()
            cur.copy_expert(sql, Null())
            return time.perf_counter() - t0
    finally:
        conn.close()


def configure(pg, shared_buffers: str) -> str:  # type: ignore[no-untyped-def]
    """Restart the throwaway cluster with ``shared_buffers`` (its cache starts empty)."""
    pg.execute("ALTER SYSTEM SET shared_buffers = %s", (shared_buffers,))
    pg.restart()
    return str(pg.execute("SHOW shared_buffers")[0][0])


def explain_buffers(url: str, query: str) -> str:
    """``shared hit=H read=R`` of ``query`` under EXPLAIN (ANALYZE, BUFFERS), its scan and
    the server's execution time (no rows sent)."""
    rows = _Pg(url).execute(f"EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, FORMAT JSON) {query}")
    top = rows[0][0]
    top = (json.loads(top) if isinstance(top, str) else top)[0]
    plan = node = top["Plan"]
    while node.get("Plans") and "Scan" not in node["Node Type"]:
        node = node["Plans"][0]
    return (
        f"{node['Node Type']}: shared hit={plan['Shared Hit Blocks']:,} read={plan['Shared Read Blocks']:,}, "
        f"executed in {top['Execution Time']:.1f} ms"
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rows", type=int, default=3_000_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--parallel", type=int, default=2)
    ap.add_argument("--pg-url", help="use this server (superuser URL) instead of a throwaway cluster")
    ap.add_argument(
        "--shared-buffers",
        metavar="SIZES",
        help="the throwaway cluster's shared_buffers, one or more (comma-separated), each measured every "
        f"round (default: {','.join(SHARED_BUFFERS)}; see above)",
    )
    ap.add_argument(
        "--explain", action="store_true", help="print the buffers (hit/read) of the delta's and a full read"
    )
    ap.add_argument("--spans", action="store_true", help="print the wall-clock spans of each in-process delta")
    ap.add_argument("--profile", metavar="FILE", help="write a cProfile of the in-process deltas to FILE")
    ap.add_argument("--no-cli", action="store_true", help="skip the CLI runs (in process only)")
    ap.add_argument("--baseline", metavar="TREE", help="also run TREE's in-process cycle each round (see above)")
    ap.add_argument("--deltas", type=int, default=1, help="--baseline: deltas per fresh interpreter and round")
    ap.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--work", help=argparse.SUPPRESS)
    ap.add_argument("--round", type=int, default=0, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        worker_cycle(a.url, Path(a.work), a.rows, a.round, a.parallel, a.deltas)
        return
    baseline = Path(a.baseline).resolve() if a.baseline else None
    if baseline is not None and not list(baseline.glob("packages/*/src")):
        ap.error(f"--baseline {a.baseline}: no packages/*/src there")
    if a.pg_url and a.shared_buffers is not None:
        ap.error("--shared-buffers: only for the throwaway cluster (--pg-url's server keeps its own, printed)")
    sizes = a.shared_buffers.split(",") if a.shared_buffers is not None else SHARED_BUFFERS
    configs: list[str | None] = [c.strip() for c in sizes if c.strip()]
    if a.pg_url:
        configs = [None]  # the server's own settings (printed), which this bench cannot change
    elif not configs:
        ap.error("--shared-buffers: give at least one size")
    profiler = None
    if a.profile:
        import cProfile

        profiler = cProfile.Profile()
    if a.spans:
        import spans

    from pgserver import PgServer

    if a.pg_url:
        os.environ["ADU_TEST_PG_URL"] = a.pg_url
    pg = PgServer(settings={"shared_buffers": configs[0]} if configs[0] else None).start()
    work = Path(tempfile.mkdtemp(prefix="adu-bench-inc-"))
    data = work / "data"
    os.environ["ADU_DATA_DIR"] = str(data)
    os.environ.pop("ADU_STORE_URL", None)
    env = {**os.environ, "ADU_DATA_DIR": str(data)}
    try:
        make_table(pg, a.rows)
        bumps = itertools.count()  # each update picks a different 1% of the rows
        # the first update of a freshly loaded table appends its rows together at its end
        # (~750 pages); later ones land one row a page in the space VACUUM freed, as on a
        # table updated every day: one unmeasured update first, so every delta measured
        # reads the same way (not the first configuration's first round alone)
        bump(pg, a.rows, next(bumps))
        url = pg.superuser_dsn
        version = pg.execute("SHOW server_version")[0][0]
        import adu_core as adu

        common = {"tables": [TABLE], "validate": False, "parallel": a.parallel, "overwrite": True}
        cursors = {TABLE: "ts"}
        cli = [str(VENV_BIN / "adu"), "export", url, "--table", TABLE, "--no-validate", "--parallel", str(a.parallel)]
        keys = ("full", "delta", "delta-dir", "cli full", "cli delta", "floor full", "floor delta")
        keys += ("full cpu", "delta cpu", "worker full", "worker delta", "baseline full", "baseline delta")
        keys += ("worker full cpu", "worker delta cpu", "baseline full cpu", "baseline delta cpu")
        labels = {c: str(c) if c else str(pg.execute("SHOW shared_buffers")[0][0]) for c in configs}
        times: dict[str | None, dict[str, list[float]]] = {c: {k: [] for k in keys} for c in configs}
        rows_seen: dict[str, int] = {}
        print(
            f"== PostgreSQL {version}, shared_buffers: {', '.join(labels.values())}"
            f"{' (the server given)' if a.pg_url else ''}"
            f"{' (each round, alternating which goes first)' if len(configs) > 1 else ''}",
            flush=True,
        )
        for r in range(a.rounds):
            for c in configs if r % 2 == 0 else configs[::-1]:
                if c is not None and len(configs) > 1:
                    got = configure(pg, c)
                    if got != labels[c]:
                        print(f"   ! shared_buffers {c} asked, the server says {got}", flush=True)
                    labels[c] = got
                t = times[c]
                # after a restart its cache is empty: one export first, as a server that has
                # been running (and this interpreter's imports and store, the first time)
                adu.export(url, work / "warm", cursors=cursors, **common)
                shutil.rmtree(work / "warm", ignore_errors=True)
                full = work / f"full{r}"
                res, wall, cpu = timed(adu.export, url, full, cursors=cursors, **common)
                t["full"].append(wall)
                t["full cpu"].append(cpu)
                rows_seen["full"] = res.rows
                changed = bump(pg, a.rows, next(bumps))
                mark = json.loads((full / "manifest.json").read_text())["watermarks"][TABLE]["value"]
                if a.explain and r == 0:
                    # the delta's rows (before the delta reads them) and the full export's first half
                    q = _Pg(url).conn.cursor().mogrify(f"SELECT * FROM ONLY {TABLE} WHERE ts > %s", (mark,)).decode()
                    print(f"   [{labels[c]}] delta read: {explain_buffers(url, q)}", flush=True)
                if a.spans:
                    spans.install()
                    spans.reset()
                if profiler is not None:
                    profiler.enable()
                res, wall, cpu = timed(adu.export, url, work / f"delta{r}", after="last", **common)
                if profiler is not None:
                    profiler.disable()
                if a.spans:
                    spans.uninstall()
                    print(
                        spans.timeline(
                            f"of delta {r + 1} [{labels[c]}]: {wall * 1000:.1f} ms wall, {cpu * 1000:.0f} ms CPU"
                        )
                    )
                t["delta"].append(wall)
                t["delta cpu"].append(cpu)
                rows_seen["delta"] = res.rows
                if res.rows != changed:
                    print(f"   ! delta exported {res.rows:,} rows, {changed:,} changed", flush=True)
                if a.explain and r == 0:
                    pages = pg.execute(f"SELECT pg_relation_size('{TABLE}') / 8192")[0][0]
                    q = f"SELECT * FROM ONLY {TABLE} WHERE ctid < '({pages // 2},0)'::tid"
                    print(f"   [{labels[c]}] full read (first half): {explain_buffers(url, q)}", flush=True)
                t0 = time.perf_counter()
                res = adu.export(url, work / f"deltadir{r}", after=str(full), **common)
                t["delta-dir"].append(time.perf_counter() - t0)

                t["floor full"].append(floor(url, None))
                t["floor delta"].append(floor(url, mark))
                # the CLI: a full export again, then a delta of the same rows after it
                if not a.no_cli:
                    wall, _rss, _pss, rc = measure(
                        [*cli, "--out", str(work / f"clifull{r}"), "--cursor", f"{TABLE}=ts"], env
                    )
                    t["cli full"].append(wall if rc == 0 else float("nan"))
                    bump(pg, a.rows, next(bumps))
                    wall, _rss, _pss, rc = measure([*cli, "--out", str(work / f"clidelta{r}"), "--after", "last"], env)
                    t["cli delta"].append(wall if rc == 0 else float("nan"))
                if baseline is not None:
                    order = [("worker", None), ("baseline", baseline)]
                    for label, tree in order if r % 2 == 0 else order[::-1]:
                        got_ = run_worker(url, a.rows, 100 + next(bumps) * 10, a.parallel, tree, a.deltas)
                        if got_ is not None:
                            t[f"{label} full"].append(got_["full"])
                            t[f"{label} full cpu"].append(got_["full_cpu"])
                            t[f"{label} delta"].extend(got_["delta"])
                            t[f"{label} delta cpu"].extend(got_["delta_cpu"])
                line = (
                    f"   round {r + 1} [{labels[c]}]: full {t['full'][-1]:.2f} s, delta {t['delta'][-1]:.3f} s "
                    f"({t['delta'][-1] / t['full'][-1]:.1%}; CPU {t['delta cpu'][-1]:.3f} s), "
                    f"delta after a directory {t['delta-dir'][-1]:.3f} s"
                )
                if not a.no_cli:
                    line += f"; CLI full {t['cli full'][-1]:.2f} s, CLI delta {t['cli delta'][-1]:.2f} s"
                if baseline is not None and t["worker delta"] and t["baseline delta"]:
                    line += (
                        f"; fresh interpreters: this tree {t['worker delta'][-1]:.3f} s of "
                        f"{t['worker full'][-1]:.2f} s, baseline {t['baseline delta'][-1]:.3f} s of "
                        f"{t['baseline full'][-1]:.2f} s"
                    )
                print(line, flush=True)
                for d in work.glob("*"):
                    if d.name != "data":
                        shutil.rmtree(d, ignore_errors=True)
        for c in configs:
            report(times[c], labels[c], rows_seen, a.rows, baseline is not None, not a.no_cli)
        with open("/proc/loadavg") as f:
            print(f"   load average at the end: {f.read().split()[:3]} on {os.cpu_count()} cores", flush=True)
        if profiler is not None:
            profiler.dump_stats(a.profile)
            print(f"   cProfile of the in-process deltas: {a.profile}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
        pg.stop()


def report(
    times: dict[str, list[float]], label: str, rows_seen: dict[str, int], rows: int, baseline: bool, cli: bool
) -> None:
    """The medians of one server configuration, each as a share of its full export."""
    med = {k: statistics.median(v) if v else float("nan") for k, v in times.items()}
    print(
        f"\n== {TABLE}: {rows:,} rows, delta of {rows_seen.get('delta', 0):,} rows (1%), index on ts;"
        f" shared_buffers {label}"
    )
    print(f"   {'path':<26}{'median s':>10}{'of full':>10}{'CPU s':>9}")
    for k in ("full", "delta", "delta-dir"):
        cpu = f"{med[k + ' cpu']:>9.3f}" if k + " cpu" in med else ""
        print(f"   {k + ' (in process)':<26}{med[k]:>10.3f}{med[k] / med['full']:>9.1%}{cpu}")
    if baseline:
        for who in ("worker", "baseline"):
            for k in ("full", "delta"):
                name = f"{who} {k}"
                print(
                    f"   {name.replace('worker', 'this tree'):<26}{med[name]:>10.3f}"
                    f"{med[name] / med[who + ' full']:>9.1%}{med[name + ' cpu']:>9.3f}"
                )
    if cli:
        for k in ("cli full", "cli delta"):
            print(f"   {k:<26}{med[k]:>10.3f}{med[k] / med['cli full']:>9.1%}")
    for k in ("floor full", "floor delta"):
        print(f"   {k + ' (COPY)':<26}{med[k]:>10.3f}{med[k] / med['floor full']:>9.1%}")
    ratios = [d / f for d, f in zip(times["delta"], times["full"], strict=False)]
    if ratios:
        print(
            f"   delta/full of each round: {', '.join(f'{x:.1%}' for x in ratios)} "
            f"(median {statistics.median(ratios):.1%})"
        )
    ok = med["delta"] / med["full"] <= 0.05
    print(
        f"   target: delta <= 5% of the full export in process: {'met' if ok else 'NOT met'} (shared_buffers {label})"
    )


if __name__ == "__main__":
    main()
