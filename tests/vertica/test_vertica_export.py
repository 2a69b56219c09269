"""Whole export jobs from Vertica through the ADU engine (process pool) to Parquet."""

from __future__ import annotations

import json
import os
from typing import Any

import pyarrow.parquet as pq
from adu_core.engine import submit_and_run
from adu_core.models import JobSpec, JobStatus, TableSelection, TableStatus
from adu_core.secrets import url_password
from adu_core.verify import verify_export
from vertica_env import VerticaEnv
from vertica_tables import BIG_ROWS, SCHEMA, TYPES_ROWS


def _rows(out: Any, table: str) -> list[int]:
    base = os.path.join(out, SCHEMA, table)
    ids: list[int] = []
    for f in sorted(os.listdir(base)):
        ids += pq.read_table(os.path.join(base, f), columns=["id"]).column(0).to_pylist()
    return ids


def test_export_job_is_epoch_consistent_and_verifiable(
    vertica: VerticaEnv, tmp_path: Any, adu_store: Any, adu_settings: Any
) -> None:
    out = tmp_path / "out"
    spec = JobSpec(
        source=vertica.url,
        target=str(out),
        parallel=2,
        selection=TableSelection(tables=(f"{SCHEMA}.events", f"{SCHEMA}.all_types")),
    )
    result = submit_and_run(
        adu_store, spec, password=url_password(spec.source), settings=adu_settings, mp_start="forkserver"
    )
    assert result.status == JobStatus.SUCCEEDED, [t.error for t in result.tables]
    assert {t.qualified_name: t.rows for t in result.tables} == {
        f"{SCHEMA}.events": BIG_ROWS,
        f"{SCHEMA}.all_types": len(TYPES_ROWS),
    }
    manifest = json.loads((out / "manifest.json").read_text())
    assert isinstance(manifest["source"]["consistency"]["epoch"], int)
    assert "***" in manifest["source"]["url"] or ":" not in manifest["source"]["url"].split("@")[0][10:]
    ids = _rows(out, "events")
    assert len(ids) == BIG_ROWS and len(set(ids)) == BIG_ROWS
    assert verify_export(str(out)).ok


def test_lost_node_is_retried_by_the_engine_without_duplicates(
    vertica: VerticaEnv, tmp_path: Any, adu_store: Any, adu_settings: Any
) -> None:
    server = vertica.require_fake("drops a connection mid-result")
    server.cluster.faults.drop_table = "events"
    server.cluster.faults.drop_after_rows = 3000
    out = tmp_path / "out"
    spec = JobSpec(
        source=vertica.url, target=str(out), parallel=2, selection=TableSelection(tables=(f"{SCHEMA}.events",))
    )
    result = submit_and_run(
        adu_store, spec, password=url_password(spec.source), settings=adu_settings, mp_start="forkserver"
    )
    assert server.cluster.faults.drop_after_rows is None  # the fault fired
    assert result.status == JobStatus.SUCCEEDED, [t.error for t in result.tables]
    ids = _rows(out, "events")
    assert len(ids) == BIG_ROWS and len(set(ids)) == BIG_ROWS


def test_table_without_privilege_fails_and_the_others_go_on(
    vertica: VerticaEnv, tmp_path: Any, adu_store: Any, adu_settings: Any
) -> None:
    from vertica_tables import secret_table

    url = vertica.deny(secret_table())
    out = tmp_path / "out"
    spec = JobSpec(
        source=url,
        target=str(out),
        parallel=2,
        selection=TableSelection(tables=(f"{SCHEMA}.payroll", f"{SCHEMA}.plain")),
    )
    result = submit_and_run(
        adu_store, spec, password=url_password(spec.source), settings=adu_settings, mp_start="forkserver"
    )
    assert result.status == JobStatus.PARTIAL
    by = {t.qualified_name: t for t in result.tables}
    failed = by[f"{SCHEMA}.payroll"]
    assert failed.status == TableStatus.FAILED
    assert failed.error is not None and failed.error.sqlstate == "42501"
    assert "SELECT privilege" in failed.error.message
    assert by[f"{SCHEMA}.plain"].status == TableStatus.SUCCEEDED and by[f"{SCHEMA}.plain"].rows == 1000
