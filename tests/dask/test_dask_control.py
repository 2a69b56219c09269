"""The Dask executor under control: progress while tasks run, cancel reaching a running
COPY, and the per-source connection cap (worker resources), on the session's scheduler
and ``dask worker`` subprocesses."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from adu_core.errors import UsageError
from adu_core.models import JobStatus, TableStatus
from dask_helpers import SMALL_ROWS, SMALL_TABLES, check, export

pytestmark = pytest.mark.slow

SLOW_ROWS = 200_000


@pytest.fixture(scope="module")
def slow_view(mixed_db) -> Iterator[str]:
    """A view the server produces slowly (half a millisecond a row: 100 s in all), so a
    cancel always finds its COPY running."""
    mixed_db.execute(
        "CREATE FUNCTION public.slowly(g int) RETURNS int LANGUAGE sql VOLATILE AS "
        "'SELECT pg_sleep(0.0005); SELECT g';"
        f"CREATE VIEW public.slow AS SELECT public.slowly(g) AS id, md5(g::text) AS t "
        f"FROM generate_series(1, {SLOW_ROWS}) g"
    )
    try:
        yield "public.slow"
    finally:
        mixed_db.execute("DROP VIEW IF EXISTS public.slow; DROP FUNCTION IF EXISTS public.slowly(int)")


def _copies(pg: Any, dbname: str) -> list[str]:
    rows = pg.execute(
        "SELECT query FROM pg_stat_activity WHERE datname = %s AND state = 'active' AND query ILIKE 'COPY%%'",
        (dbname,),
    )
    return [r[0] for r in rows]


def test_progress_flows_while_tasks_run_and_cancel_stops_the_copy(
    on_scheduler, pg, mixed_db, slow_view, adu_store, tmp_path, monkeypatch
) -> None:
    monkeypatch.setenv("ADU_BATCH_ROWS", "500")  # a progress message every quarter of a second
    out = tmp_path / "export"
    box: dict = {}
    job = threading.Thread(
        target=lambda: box.update(
            result=export(adu_store, mixed_db, pg.password, out, tables=(slow_view,), include_views=True)
        )
    )
    job.start()
    seen_rows = 0
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and job.is_alive():
        jobs = adu_store.list_jobs()
        if jobs and jobs[0].status == JobStatus.RUNNING:
            tables = adu_store.list_tables(jobs[0].id)
            seen_rows = sum(t.rows for t in tables)
            if seen_rows > 0 and all(t.status == TableStatus.RUNNING for t in tables):
                assert _copies(pg, mixed_db.name), "the partition's COPY runs on the server"
                adu_store.request_cancel(jobs[0].id)
                break
        time.sleep(0.05)
    job.join(timeout=300)
    assert not job.is_alive()
    # progress (rows) reached the store from the Dask worker while its task ran
    assert 0 < seen_rows < SLOW_ROWS, seen_rows
    result = box["result"]
    assert result.status == JobStatus.CANCELLED, result
    (part,) = adu_store.list_partitions(result.job_id)
    assert part.status == "cancelled" and part.worker.startswith("tcp://127.0.0.1:"), part
    assert _copies(pg, mixed_db.name) == []  # the worker stopped its COPY on the server
    assert not (out / "public" / "slow").exists()


def test_the_cluster_never_opens_more_source_connections_than_its_resource_units(
    on_scheduler, pg, mixed_db, adu_store, tmp_path
) -> None:
    """Each worker has two threads but one unit of ``adu-connections``: the 200 tables
    (parallel 8) run one partition per worker at a time, on one reading connection per
    worker (besides the coordinator's snapshot and catalog connections)."""
    readers: set[int] = set()
    peak = [0]
    stop = threading.Event()

    def watch() -> None:
        while not stop.is_set():
            pids = [
                r[0]
                for r in pg.execute(
                    "SELECT pid FROM pg_stat_activity WHERE datname = %s AND application_name = 'adu reader'",
                    (mixed_db.name,),
                )
            ]
            readers.update(pids)
            peak[0] = max(peak[0], len(pids))
            time.sleep(0.01)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        out = tmp_path / "export"
        result = export(adu_store, mixed_db, pg.password, out, schemas=("small",), parallel=8)
    finally:
        stop.set()
        watcher.join()
    workers = check(result, out, adu_store, SMALL_TABLES * SMALL_ROWS)
    assert len(workers) == 2, workers
    # one reading connection per worker, opened once and reused by its partitions
    assert 1 <= peak[0] <= 2 and 1 <= len(readers) <= 2, (peak[0], readers)


def test_a_resource_no_worker_declares_is_refused(on_scheduler, pg, mixed_db, adu_store, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("ADU_DASK_RESOURCE", "gpu-slots")
    with pytest.raises(UsageError, match=r"no Dask worker declares the resource 'gpu-slots'"):
        export(adu_store, mixed_db, pg.password, tmp_path / "export", tables=("small.t000",))
    (job,) = adu_store.list_jobs()
    assert job.status == JobStatus.FAILED
