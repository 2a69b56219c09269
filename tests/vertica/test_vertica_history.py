"""A job's epoch, Vertica's history and its limits, and privileges per user.

An export reads ``AT EPOCH n`` in every partition: rows deleted or updated after ``n``
are read as they were at ``n``, rows inserted after it are not. The history stops at the
Ancient History Mark: a read of an epoch older than it fails, and ADU says so in one
line. A user without SELECT on a table sees it marked unreadable at discovery (one
warning line) and its export fails alone, in one line.

Everything goes through ADU's Vertica source (or the job engine) and the real
vertica-python driver; the DML is real SQL sent through the driver.
"""

from __future__ import annotations

import decimal
import logging
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.engine import submit_and_run
from adu_core.errors import SourceError
from adu_core.models import JobSpec, JobStatus, TableInfo, TableSelection, TableStatus
from adu_core.plugin.components import NeverCancelled
from adu_core.secrets import url_password
from adu_vertica import VerticaSource
from vertica_engine import ColumnDef, TableDef
from vertica_env import VerticaEnv
from vertica_tables import BIG_ROWS, SCHEMA, plain_table

D = decimal.Decimal
LEDGER = [(i, D(i) * 10, f"row {i}") for i in range(1, 7)]
BEFORE = [(i, D(f"{i * 10}.00"), f"row {i}") for i in range(1, 7)]


def _ledger(vertica: VerticaEnv, name: str) -> TableDef:
    t = TableDef(
        SCHEMA,
        name,
        [ColumnDef("id", "int", False), ColumnDef("amount", "numeric(10,2)"), ColumnDef("note", "varchar(20)")],
        list(LEDGER),
        primary_key=("id",),
        segmented_by=("id",),
    )
    vertica.create(t)
    return t


def _changes(name: str) -> list[str]:
    q = f'"{SCHEMA}"."{name}"'
    return [
        f"DELETE FROM {q} WHERE id IN (2, 3)",
        f"UPDATE {q} SET amount = amount * 10, note = 'changed' WHERE id >= 5",
        f"INSERT INTO {q} VALUES (7, 70.00, 'new')",
        "COMMIT",
    ]


AFTER = [(1, D("10.00"), "row 1"), (4, D("40.00"), "row 4"), (5, D("500.00"), "changed"), (6, D("600.00"), "changed")]
AFTER.append((7, D("70.00"), "new"))


def _table(src: VerticaSource, name: str) -> TableInfo:
    return next(t for t in src.discover() if t.qualified_name == f"{SCHEMA}.{name}")


def _rows(src: VerticaSource, table: TableInfo, snap: dict[str, Any], target: int = 3) -> list[tuple[Any, ...]]:
    batches = []
    for part in src.partitions(table, target=target):
        batches += list(src.read(part, snapshot=snap, batch_rows=2, cancel=NeverCancelled()))
    rows = pa.Table.from_batches(batches, schema=table.arrow_schema()).sort_by("id").to_pylist()
    return [tuple(r.values()) for r in rows]


def test_partitions_read_deleted_and_updated_rows_as_they_were_at_the_job_epoch(vertica: VerticaEnv) -> None:
    _ledger(vertica, "ledger")
    src = VerticaSource(vertica.url)
    try:
        table = _table(src, "ledger")
        with src.snapshot() as snap:
            vertica.sql(*_changes("ledger"))  # committed after the job's epoch was taken
            assert _rows(src, table, snap) == BEFORE
        with src.snapshot() as later:  # a new job reads the new state
            assert later["epoch"] > snap["epoch"]
            assert _rows(src, table, later) == AFTER
    finally:
        src.close()


def test_export_job_reads_its_epoch_while_rows_change(
    vertica: VerticaEnv, tmp_path: Any, adu_store: Any, adu_settings: Any
) -> None:
    server = vertica.require_fake("changes rows at a chosen point of the job")
    _ledger(vertica, "ledger_job")
    server.cluster.faults.before_historical = ("ledger_job", lambda: vertica.sql(*_changes("ledger_job")))
    out = tmp_path / "out"
    spec = JobSpec(
        source=vertica.url, target=str(out), parallel=2, selection=TableSelection(tables=(f"{SCHEMA}.ledger_job",))
    )
    result = submit_and_run(
        adu_store, spec, password=url_password(spec.source), settings=adu_settings, mp_start="forkserver"
    )
    assert server.cluster.faults.before_historical is None  # the rows changed mid-job
    assert result.status == JobStatus.SUCCEEDED, [t.error for t in result.tables]
    got = pq.read_table(out / SCHEMA / "ledger_job").sort_by("id")
    assert [tuple(r.values()) for r in got.to_pylist()] == BEFORE


def test_epoch_older_than_the_ancient_history_mark_is_one_clear_line(vertica: VerticaEnv) -> None:
    _ledger(vertica, "ledger_ahm")
    src = VerticaSource(vertica.url)
    try:
        table = _table(src, "ledger_ahm")
        with src.snapshot() as snap:
            vertica.sql(*_changes("ledger_ahm"), "SELECT MAKE_AHM_NOW()")  # history before it may go
            part = src.partitions(table, target=1)[0]
            with pytest.raises(SourceError) as info:
                list(src.read(part, snapshot=snap, batch_rows=10, cancel=NeverCancelled()))
    finally:
        src.close()
    message = str(info.value)
    assert "\n" not in message and not info.value.retryable
    assert f"epoch {snap['epoch']}" in message and "Ancient History Mark" in message
    assert "Export again" in message and "ledger_ahm" in message


def test_ahm_advancing_mid_job_fails_its_tables_in_one_line(
    vertica: VerticaEnv, tmp_path: Any, adu_store: Any, adu_settings: Any
) -> None:
    server = vertica.require_fake("advances the AHM at a chosen point of the job")
    server.cluster.faults.before_historical = ("events", server.advance_ahm)
    out = tmp_path / "out"
    spec = JobSpec(
        source=vertica.url,
        target=str(out),
        parallel=2,
        selection=TableSelection(tables=(f"{SCHEMA}.events", f"{SCHEMA}.plain")),
    )
    result = submit_and_run(
        adu_store, spec, password=url_password(spec.source), settings=adu_settings, mp_start="forkserver"
    )
    assert server.cluster.faults.before_historical is None
    by = {t.qualified_name: t for t in result.tables}
    events = by[f"{SCHEMA}.events"]
    assert events.status == TableStatus.FAILED and events.error is not None
    assert "Ancient History Mark" in events.error.message and "\n" not in events.error.message
    assert "no longer keeps epoch" in events.error.message and "Export again" in events.error.message
    plain = by[f"{SCHEMA}.plain"]  # read before or after the AHM moved: whole, or failed the same way
    assert plain.status == TableStatus.SUCCEEDED or "Ancient History Mark" in (
        plain.error.message if plain.error else ""
    )
    assert result.status in (JobStatus.FAILED, JobStatus.PARTIAL)


def test_discovery_marks_tables_the_user_cannot_read(vertica: VerticaEnv, caplog: pytest.LogCaptureFixture) -> None:
    url = vertica.deny(plain_table())
    src = VerticaSource(url)
    try:
        with caplog.at_level(logging.WARNING, logger="adu_vertica.catalog"):
            tables = {t.name: t for t in src.discover() if t.schema == SCHEMA}
        assert tables["plain"].properties["readable"] is False
        assert tables["events"].properties["readable"] is True
        warnings = [r.getMessage() for r in caplog.records if "SELECT privilege" in r.getMessage()]
        assert len(warnings) == 1 and f"{SCHEMA}.plain" in warnings[0] and f"{SCHEMA}.events" not in warnings[0]
        # no planning query on it (a key-range plan would need SELECT): one partition, one failure
        parts = src.partitions(tables["plain"], target=3)
        assert [p.spec["kind"] for p in parts] == ["whole"]
        with src.snapshot() as snap, pytest.raises(SourceError) as info:
            list(src.read(parts[0], snapshot=snap, batch_rows=100, cancel=NeverCancelled()))
        assert info.value.sqlstate == "42501" and "\n" not in str(info.value) and "plain" in str(info.value)
    finally:
        src.close()


def test_export_as_a_user_without_select_on_one_table(
    vertica: VerticaEnv, tmp_path: Any, adu_store: Any, adu_settings: Any
) -> None:
    url = vertica.deny(plain_table())
    out = tmp_path / "out"
    spec = JobSpec(
        source=url,
        target=str(out),
        parallel=2,
        selection=TableSelection(tables=(f"{SCHEMA}.plain", f"{SCHEMA}.events")),
    )
    result = submit_and_run(adu_store, spec, password=url_password(url), settings=adu_settings, mp_start="forkserver")
    assert result.status == JobStatus.PARTIAL
    by = {t.qualified_name: t for t in result.tables}
    failed = by[f"{SCHEMA}.plain"]
    assert failed.status == TableStatus.FAILED and failed.error is not None
    assert failed.error.sqlstate == "42501" and "SELECT privilege" in failed.error.message
    assert "\n" not in failed.error.message
    assert by[f"{SCHEMA}.events"].status == TableStatus.SUCCEEDED and by[f"{SCHEMA}.events"].rows == BIG_ROWS
