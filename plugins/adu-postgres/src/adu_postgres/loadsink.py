"""The PostgreSQL load sink: ``adu load DIR postgresql://…``.

Each table goes through :func:`adu_postgres.loadrun.load_table`: a staging table created
from the export's ``pg_types`` (exact types, user types recreated), its Parquet files COPYed
in binary over several connections at once by the C encoder, keys and indexes built, then
one transaction publishes it per ``--if-exists`` (:mod:`adu_postgres.loader`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

from adu_core.errors import UsageError
from adu_core.models import Partition, TableInfo
from adu_core.plugin.components import CancelToken, LoadedTable, LoadSink, Source
from adu_core.plugin.options import Option


class PostgresLoadSink(LoadSink):
    """Loads tables into PostgreSQL, atomically, with their exact types and keys."""

    name = "postgresql"
    title = "PostgreSQL"
    schemes: ClassVar[tuple[str, ...]] = ("postgresql", "postgres")
    description = "binary COPY from Arrow (C encoder), staging table, keys after data, one-transaction publish"
    option_schema = (
        Option(
            "maintenance_work_mem",
            type="size",
            default="256MB",
            help="memory the server may use to build each key and index (raised to this, never lowered)",
        ),
    )

    def check(self) -> None:
        """Reach the target (:class:`~adu_core.errors.ConnectError`, one line, no secret)."""
        from adu_postgres.connection import close_quietly, connect

        close_quietly(connect(self.url, {}, application_name="adu load"))

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
        from adu_postgres.loadrun import load_table

        files = [str(p.spec["path"]) for p in partitions if p.spec.get("path")]
        if not files:
            raise UsageError(f"{table.qualified_name}: the PostgreSQL sink loads Parquet files; this source has none")
        sent = [0]

        def progress(rows: int) -> None:
            sent[0] += rows  # several threads: a lost increment only delays the display
            report(sent[0])

        result = load_table(
            self.url,
            table,
            files,
            job_id=self.job_id,
            if_exists=self.if_exists,
            schema_map=self.schema_map,
            parallel=max(1, connections),
            options={"maintenance_work_mem": str(self.options.get("maintenance_work_mem") or "256MB")},
            expected_rows=expected_rows,
            cancel=cancel,
            progress=progress,
        )
        return LoadedTable(
            schema=result.schema,
            name=result.name,
            rows=result.rows,
            created=result.created,
            notes=(f"COPY format {result.copy_format}",),
        )
