"""The Dask executor on a LocalCluster of two worker processes (one per test session)."""

from __future__ import annotations

import pytest
from dask_helpers import ROWS, SMALL_ROWS, SMALL_TABLES, check, export

pytestmark = pytest.mark.slow


@pytest.fixture
def on_local(local_cluster, monkeypatch) -> None:
    monkeypatch.delenv("ADU_DASK_SCHEDULER", raising=False)
    for key, value in local_cluster.items():
        monkeypatch.setenv(key, value)


def test_local_cluster_exports_the_mixed_table(on_local, pg, mixed_db, adu_store, tmp_path) -> None:
    out = tmp_path / "export"
    result = export(adu_store, mixed_db, pg.password, out, tables=("public.mixed",), parallel=4)
    workers = check(result, out, adu_store, ROWS)
    assert len(workers) >= 2, (workers, adu_store.list_partitions(result.job_id))  # two worker processes ran partitions
    assert all(w.startswith("tcp://127.0.0.1:") for w in workers), workers


def test_local_cluster_exports_200_tables(on_local, pg, mixed_db, adu_store, tmp_path) -> None:
    out = tmp_path / "export"
    result = export(adu_store, mixed_db, pg.password, out, schemas=("small",))
    assert len(result.tables) == SMALL_TABLES
    workers = check(result, out, adu_store, SMALL_TABLES * SMALL_ROWS)
    assert len(workers) >= 2, workers


def test_a_worker_that_cannot_see_the_export_directory_refuses(
    on_local, pg, mixed_db, adu_store, tmp_path, monkeypatch
) -> None:
    # the marker the tasks look for lies where no worker sees it (as if the export
    # directory were not on a shared mount)
    from adu_core.models import JobStatus
    from adu_dask.executor import DaskExecutor

    unseen = tmp_path / "not-mounted" / ".adu-dask-x"
    monkeypatch.setattr(DaskExecutor, "_marker", lambda self, task: str(unseen))
    out = tmp_path / "export"
    result = export(adu_store, mixed_db, pg.password, out, tables=("small.t000",))
    assert result.status == JobStatus.FAILED
    (table,) = result.tables
    message = table.error.message
    assert "cannot see the export directory" in message and str(unseen.parent) in message, message
    assert "mount the export directory at the same path" in message
    assert not (out / "small").exists()
