"""The Dask executor on a LocalCluster of two worker processes (one per test session)."""

from __future__ import annotations

import pytest
from conftest import ROWS, SMALL_ROWS, SMALL_TABLES
from helpers import check, export

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
