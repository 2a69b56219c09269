"""The Vertica load sink: ``adu load DIR vertica://…``.

Each table goes through :mod:`adu_vertica.load`: a staging table from the type map of
:mod:`adu_vertica.typemap` (each source type to Vertica's closest exact type; what has
none is kept as text and named in the job report), one ``COPY … FROM STDIN NATIVE`` per
Parquet file through vertica-python (several files at once, each on its own connection),
then one atomic publish per ``--if-exists``.

Proven against ADU's wire-protocol test server only (tests/vertica): the COPY
sub-protocol (CopyInResponse / CopyData / CopyDone / CopyFail) and the NATIVE format as
Vertica's documentation describes them; no real Vertica server runs in CI.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
from collections.abc import Callable, Sequence
from typing import ClassVar

import pyarrow.parquet as pq
from adu_core.errors import Cancelled
from adu_core.models import Partition, TableInfo
from adu_core.plugin.components import CancelToken, LoadedTable, LoadSink, Source

BATCH_ROWS = 32768


class VerticaLoadSink(LoadSink):
    """Loads tables into Vertica: staging table, NATIVE COPY, atomic publish."""

    name = "vertica"
    title = "Vertica"
    schemes: ClassVar[tuple[str, ...]] = ("vertica",)
    description = "COPY FROM STDIN NATIVE through vertica-python, staging table, atomic publish (test server only)"

    def check(self) -> None:
        from adu_vertica.connect import connect

        connect(self.url, {}).close()

    def load_table(
        self,
        table: TableInfo,
        source: Source,
        partitions: Sequence[Partition],
        *,
        expected_rows: int | None,
        connections: int,
        cancel: CancelToken,
        report: Callable[[int], None],
    ) -> LoadedTable:
        from adu_vertica.load import begin_table, copy_batches, discard_table, publish_table

        files = [str(p.spec["path"]) for p in partitions if p.spec.get("path")]
        arrow_schema = pq.read_schema(files[0]) if files else table.arrow_schema()
        schema = self.target_schema(table.schema)
        staged = begin_table(
            self.url,
            schema=schema,
            table=table.name,
            arrow_schema=arrow_schema,
            if_exists=self.if_exists,
            primary_key=table.primary_key,
            job_id=self.job_id,
        )
        sent = [0]

        def batches(part: Partition):  # type: ignore[no-untyped-def]
            for batch in source.read(part, snapshot={}, batch_rows=BATCH_ROWS, cancel=cancel):
                if cancel.is_set():
                    raise Cancelled(f"loading {schema}.{table.name} was cancelled; the target is unchanged")
                sent[0] += batch.num_rows
                report(sent[0])
                yield batch

        try:
            with cf.ThreadPoolExecutor(max_workers=max(1, min(connections, len(partitions)))) as pool:
                rows = sum(pool.map(lambda p: copy_batches(self.url, staged, batches(p)), partitions))
            if cancel.is_set():
                raise Cancelled(f"loading {schema}.{table.name} was cancelled; the target is unchanged")
            result = publish_table(self.url, staged, expected_rows=expected_rows if expected_rows is not None else rows)
        except BaseException:
            with contextlib.suppress(Exception):
                discard_table(self.url, staged)
            raise
        return LoadedTable(
            schema=result.schema,
            name=result.table,
            rows=result.rows,
            created=result.action in ("created", "replaced"),
            text_columns=tuple(result.text_columns),
            notes=(result.action,),
        )
