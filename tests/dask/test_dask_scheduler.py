"""The Dask executor on a scheduler and ``dask worker`` processes started as real
subprocesses on loopback (one cluster per test session): exports, where partitions ran,
and a worker killed mid-export."""

from __future__ import annotations

import os
import signal
import threading
import time

import pyarrow.dataset as ds
import pytest
from dask_helpers import ROWS, SMALL_ROWS, SMALL_TABLES, check, export

pytestmark = pytest.mark.slow


def test_scheduler_exports_the_mixed_table_on_two_workers(on_scheduler, pg, mixed_db, adu_store, tmp_path) -> None:
    out = tmp_path / "export"
    result = export(adu_store, mixed_db, pg.password, out, tables=("public.mixed",), parallel=4)
    workers = check(result, out, adu_store, ROWS)
    with on_scheduler.client() as client:
        addresses = set(client.scheduler_info(n_workers=-1)["workers"])
    assert len(workers) >= 2 and workers <= addresses, (workers, addresses)


def test_scheduler_exports_200_tables(on_scheduler, pg, mixed_db, adu_store, tmp_path) -> None:
    out = tmp_path / "export"
    result = export(adu_store, mixed_db, pg.password, out, schemas=("small",), parallel=4)
    assert len(result.tables) == SMALL_TABLES
    workers = check(result, out, adu_store, SMALL_TABLES * SMALL_ROWS)
    assert len(workers) >= 2, workers


def test_jobs_show_names_the_workers(on_scheduler, pg, mixed_db, adu_store, adu_settings, tmp_path) -> None:
    from adu_cli.main import cli
    from click.testing import CliRunner

    out = tmp_path / "export"
    result = export(adu_store, mixed_db, pg.password, out, schemas=("small",), parallel=2)
    workers = check(result, out, adu_store, SMALL_TABLES * SMALL_ROWS)
    shown = CliRunner().invoke(cli, ["jobs", "show", result.job_id], catch_exceptions=False)
    assert shown.exit_code == 0, shown.output
    assert "ran on tcp://127.0.0.1:" in shown.output
    assert all(w in shown.output for w in workers)


def test_a_killed_worker_still_gives_an_exact_verified_export(on_scheduler, pg, mixed_db, adu_store, tmp_path) -> None:
    """SIGKILL a third worker while it runs a partition: the scheduler reruns that
    partition on the others; the export is exact (no row lost, none twice) and verifies."""
    victim = on_scheduler.add_worker("victim")
    on_scheduler.wait(3)
    with on_scheduler.client() as client:
        (address,) = [a for a, w in client.scheduler_info(n_workers=-1)["workers"].items() if w["name"] == "victim"]
        out = tmp_path / "export"
        box: dict = {}

        def run() -> None:
            box["result"] = export(
                adu_store, mixed_db, pg.password, out, tables=("public.mixed",), parallel=3, partition_mb=4
            )

        job = threading.Thread(target=run)
        job.start()
        killed_key = None
        deadline = time.monotonic() + 120
        while killed_key is None and time.monotonic() < deadline and job.is_alive():
            running = [k for k in client.processing().get(address, ()) if str(k).startswith("adu-")]
            if running:
                time.sleep(0.1)  # into its COPY
                os.kill(victim.pid, signal.SIGKILL)
                killed_key = str(running[0])
            else:
                time.sleep(0.02)
        job.join(timeout=600)
    assert killed_key is not None, "the victim worker never ran a partition:\n" + on_scheduler.log("victim")
    victim.wait(10)
    result = box["result"]
    check(result, out, adu_store, ROWS)
    index = int(killed_key.rsplit("-p", 1)[1])
    (part,) = [p for p in adu_store.list_partitions(result.job_id) if p.index == index]
    assert part.worker != address and part.status == "succeeded", part  # it ran again elsewhere
    ids = ds.dataset(out / "public" / "mixed").to_table(columns=["id"]).column("id")
    assert len(ids) == ROWS and len(set(ids.to_pylist())) == ROWS  # no row twice
