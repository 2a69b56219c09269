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
from adu_core.plugin.components import CancelToken, ChainDecision, LoadChain, LoadedTable, LoadSink, Source
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
        Option(
            "key_workers",
            type="int",
            minimum=0,
            help="parallel workers the server may use for each key and index build"
            " (max_parallel_maintenance_workers; default: the server's own setting); 0: one backend",
        ),
    )

    def _build_options(self) -> dict[str, object]:
        """The key and index builds' settings, from the sink's options."""
        return {
            "maintenance_work_mem": str(self.options.get("maintenance_work_mem") or "256MB"),
            "key_workers": None if self.options.get("key_workers") is None else int(self.options["key_workers"]),
        }

    def begin_chain(self, chain: LoadChain) -> ChainDecision:
        """The target's ``adu_load_state`` decides (:func:`adu_postgres.loadstate.decide`):
        apply a base or the delta that continues the last export applied from that source,
        skip the same export again, refuse anything else (:class:`LoadError`, naming both)."""
        from adu_postgres import loadstate
        from adu_postgres.connection import close_quietly, connect

        conn = connect(self.url, {}, application_name="adu load state")
        try:
            with conn.cursor() as cur:
                d = loadstate.decide(cur, chain.source, chain.manifest_sha256, chain.previous_sha256)
        finally:
            close_quietly(conn)
        decision = ChainDecision(apply=d.apply, message=d.message, position=d.position, done=d.done)
        self._chain: tuple[LoadChain, ChainDecision] | None = (chain, decision)
        return decision

    def end_chain(self, chain: LoadChain, decision: ChainDecision) -> None:
        """The export is now the source's last one applied to the target."""
        from adu_postgres import loadstate
        from adu_postgres.connection import close_quietly, connect

        conn = connect(self.url, {}, application_name="adu load state")
        try:
            with conn.cursor() as cur:
                cur.execute("BEGIN")
                loadstate.record_head(
                    cur, chain.source, chain.manifest_sha256, chain.previous_sha256, decision.position, chain.job_id
                )
                cur.execute("COMMIT")
        finally:
            close_quietly(conn)

    def _chained(
        self, table: TableInfo, files: list[str], *, expected_rows: int | None, connections: int
    ) -> LoadedTable | None:
        """A table of a delta: merged by key, appended without one, replaced when the
        delta holds it whole; its state row written in the same transaction. None when
        the job is not a delta (the plain path)."""
        chain = getattr(self, "_chain", None)
        props = table.properties or {}
        if chain is None or not props.get("delta"):
            return None
        from typing import Any

        from adu_postgres import loadstate
        from adu_postgres.chainload import APPEND, MERGE, REPLACE, ChainedLoad, _load

        link, decision = chain
        cursor = props.get("cursor") or {}
        mode = REPLACE if not cursor or cursor.get("after") is None else MERGE if table.primary_key else APPEND

        def record(cur: Any) -> None:
            loadstate.record_table(cur, link.source, table.qualified_name, link.manifest_sha256, decision.position)

        load = ChainedLoad(
            self.url,
            table,
            mode=mode,
            record=record,
            job_id=self.job_id,
            schema_map=self.schema_map,
            options=self._build_options(),
        )
        result = _load(load, files, max(1, connections), expected_rows or 0)
        return LoadedTable(
            schema=result.schema,
            name=result.name,
            rows=result.rows,
            created=result.created,
            notes=(f"delta: {mode}", f"COPY format {result.copy_format}"),
        )

    def check_loaded(self, table: TableInfo, loaded: LoadedTable) -> str | None:
        """A table an earlier run of this job published: still there, with the rows it
        loaded (exactly, or at least them for ``append`` and a delta)."""
        from psycopg2 import sql

        from adu_postgres.connection import close_quietly, connect

        conn = connect(self.url, {}, application_name="adu load check")
        try:
            with conn.cursor() as cur:
                ident = sql.Identifier(loaded.schema, loaded.name)
                cur.execute("SELECT to_regclass(%s) IS NOT NULL", (ident.as_string(cur),))
                if not cur.fetchone()[0]:
                    return f"{loaded.schema}.{loaded.name} is not on the target"
                cur.execute(sql.SQL("SELECT count(*) FROM {}").format(ident))
                rows = int(cur.fetchone()[0])
        finally:
            close_quietly(conn)
        at_least = self.if_exists == "append" or bool((table.properties or {}).get("delta"))
        if rows < loaded.rows or (rows != loaded.rows and not at_least):
            return f"{loaded.schema}.{loaded.name} holds {rows} rows, {loaded.rows} were loaded"
        return None

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
        chained = self._chained(table, files, expected_rows=expected_rows, connections=connections)
        if chained is not None:
            report(chained.rows)
            return chained
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
            options=self._build_options(),
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
