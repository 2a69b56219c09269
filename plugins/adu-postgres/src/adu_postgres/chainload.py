"""Apply an export — a full one (a base) or a delta — to a PostgreSQL target, in chain order.

What the load job's PostgreSQL sink does with an incremental export (issue 17), usable on
its own (scripts, tests)::

    result = apply_export("postgresql://loader@warehouse/copy", "/media/usb/n2", job_id=job)
    print(result.message)        # "delta 2 after manifest 3f…", or "... nothing to do"

* The target's ``adu_load_state`` (:mod:`adu_postgres.loadstate`) decides first: a delta
  whose ``previous`` is not the last manifest applied from that source is refused
  (:class:`~adu_postgres.loaderror.LoadError`); the same manifest twice is a no-op.
* Each table goes through a staging table (:class:`~adu_postgres.loader.TableLoad`), then
  one transaction per table: a delta's table with a cursor and a primary key is *merged*
  (``INSERT … ON CONFLICT (key) DO UPDATE``, or ``DELETE`` + ``INSERT`` when the target
  has no unique index on the key); one without a key is *appended*; a table the delta
  holds whole (no cursor, or no previous watermark) and every table of a base replace the
  target's rows (truncate and insert; created when missing). The table's state row is
  written in that same transaction, so a load stopped half-way is completed by loading the
  same export again, without applying any table twice.
* The head row is written last: the export is then the source's last applied one.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import queue
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import attrs
import psycopg2
import pyarrow.parquet as pq
from adu_core.errors import UsageError
from adu_core.manifest import MANIFEST_NAME, Manifest, ManifestTable, load_manifest
from adu_core.models import ColumnInfo, TableInfo
from psycopg2 import sql

from adu_postgres import loadstate
from adu_postgres.connection import close_quietly, connect
from adu_postgres.loader import LoadResult, TableLoad
from adu_postgres.loaderror import LoadError
from adu_postgres.loadrun import DEFAULT_BATCH_ROWS, Part, _load_parts, plan_parts

#: how a table of an export is applied
MERGE, APPEND, REPLACE = "merge", "append", "replace"


def table_mode(manifest: Manifest, entry: ManifestTable) -> str:
    """``merge`` (a delta's rows past a watermark, with a key), ``append`` (the same
    without a key) or ``replace`` (a base's table, or one a delta holds whole)."""
    if manifest.previous is None or entry.cursor is None or entry.cursor.after is None:
        return REPLACE
    return MERGE if entry.primary_key else APPEND


class ChainedLoad(TableLoad):
    """A :class:`TableLoad` whose publish merges, appends or replaces, and records the
    table's state row in the same transaction (``record``)."""

    def __init__(self, url: str, table: TableInfo, *, mode: str, record: Callable[[Any], None], **kw: Any) -> None:
        super().__init__(url, table, if_exists="truncate" if mode == REPLACE else "append", **kw)
        self.mode = mode
        self.record = record

    def _unique_key(self, cur: Any) -> bool:
        """Whether the target has a unique index on exactly the primary key's columns."""
        cur.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = %s::regclass AND i.indisunique"
            " AND i.indpred IS NULL AND i.indexprs IS NULL AND (SELECT array_agg(a.attname::text ORDER BY"
            " a.attname::text) FROM pg_attribute a WHERE a.attrelid = i.indrelid AND a.attnum = ANY(i.indkey))"
            " = %s::text[])",
            (self._ident().as_string(cur), sorted(self.table.primary_key)),
        )
        return bool(cur.fetchone()[0])

    def _insert(self, cur: Any) -> None:
        cols = sql.SQL(", ").join(sql.Identifier(c.name) for c in self.table.columns)
        target, stage = self._ident(), self._ident(self.stage)
        key = list(self.table.primary_key)
        upsert = self.mode == MERGE and key and self._unique_key(cur)
        cur.execute("BEGIN")
        try:
            mode = "ACCESS EXCLUSIVE" if self.mode == REPLACE else "ROW EXCLUSIVE"
            cur.execute(sql.SQL("LOCK TABLE {} IN {} MODE").format(target, sql.SQL(mode)))
            if self.mode == REPLACE:
                cur.execute(sql.SQL("TRUNCATE {}").format(target))
            elif self.mode == MERGE and not upsert:
                match = sql.SQL(" AND ").join(sql.SQL("t.{k} = s.{k}").format(k=sql.Identifier(k)) for k in key)
                cur.execute(sql.SQL("DELETE FROM {} AS t USING {} AS s WHERE {}").format(target, stage, match))
            insert = sql.SQL("INSERT INTO {} ({}) SELECT {} FROM {}").format(target, cols, cols, stage)
            if upsert:
                rest = [c.name for c in self.table.columns if c.name not in key]
                keys = sql.SQL(", ").join(sql.Identifier(k) for k in key)
                if rest:
                    sets = sql.SQL(", ").join(sql.SQL("{c} = EXCLUDED.{c}").format(c=sql.Identifier(c)) for c in rest)
                    insert = sql.SQL("{} ON CONFLICT ({}) DO UPDATE SET {}").format(insert, keys, sets)
                else:
                    insert = sql.SQL("{} ON CONFLICT ({}) DO NOTHING").format(insert, keys)
            cur.execute(insert)
            self.record(cur)
            cur.execute("COMMIT")
        except psycopg2.Error as exc:
            with contextlib.suppress(psycopg2.Error):
                cur.execute("ROLLBACK")
            raise self._fail(exc, f"{self.mode} into", "publishing") from None

    def _swap(self, cur: Any, existed: bool) -> None:
        super()._swap(cur, existed)  # a table the target did not have yet: created with these rows
        cur.execute("BEGIN")
        self.record(cur)
        cur.execute("COMMIT")


@attrs.frozen
class ApplyResult:
    """What :func:`apply_export` did.

    :param applied: False when the export was already the source's last one (a no-op).
    :param position: its place in the chain (0: a base).
    """

    applied: bool
    message: str
    manifest_sha256: str
    position: int
    tables: tuple[tuple[str, str, LoadResult | None], ...] = ()


def _table_info(root: Path, entry: ManifestTable) -> tuple[TableInfo, list[str]]:
    files = [str(root / f.path) for f in entry.files]
    arrow = pq.read_schema(files[0]) if files else None
    columns = tuple(
        ColumnInfo(
            name=c.name,
            source_type=c.source_type or "",
            arrow_type=arrow.field(i).type if arrow is not None else _arrow_type(c.arrow_type),
            nullable=c.nullable,
        )
        for i, c in enumerate(entry.columns)
    )
    props = {"pg_types": entry.extra["pg_types"]} if "pg_types" in entry.extra else {}
    return (
        TableInfo(entry.schema, entry.name, columns, primary_key=entry.primary_key, ddl=entry.ddl, properties=props),
        files,
    )


def _arrow_type(name: str) -> Any:
    import pyarrow as pa

    try:
        return pa.type_for_alias(name)
    except ValueError:
        return pa.string()


def _load(
    load: ChainedLoad, files: list[str], parallel: int, expected_rows: int, batch_rows: int = DEFAULT_BATCH_ROWS
) -> LoadResult:
    load.prepare()
    try:
        todo: queue.Queue[Part] = queue.Queue()
        for part in plan_parts(files, max(1, parallel)) if files else []:
            todo.put(part)
        errors: list[BaseException] = []
        stop = threading.Event()
        threads = (
            [
                threading.Thread(target=_load_parts, args=(load, todo, errors, stop, batch_rows), name=f"adu-load-{i}")
                for i in range(max(1, min(parallel, todo.qsize())))
            ]
            if files
            else []
        )
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        return load.publish(expected_rows=expected_rows)
    except BaseException:
        load.discard()
        raise


def apply_export(
    url: str,
    directory: str | os.PathLike[str],
    *,
    job_id: str,
    parallel: int = 2,
    options: Mapping[str, Any] | None = None,
    schema_map: Mapping[str, str] | None = None,
    state_schema: str = loadstate.STATE_SCHEMA,
    verify: bool = True,
) -> ApplyResult:
    """Apply the export in ``directory`` to the target at ``url`` (see the module docstring).

    :param verify: check the export first (every file against its manifest).
    :raises LoadError: the chain refuses it (a gap, a repeat, a swap), or a table failed
        (the tables applied before it stay applied, and recorded: loading the same export
        again completes it).
    :raises UsageError: the directory does not verify.
    """
    root = Path(directory)
    if verify:
        from adu_core.verify import verify_export

        report = verify_export(root)
        if not report.ok:
            bad = next((line for line in report.lines() if not line.startswith("ok ")), "mismatch")
            raise UsageError(f"{root} does not verify ({bad.strip()}); run adu verify {root}")
    manifest = load_manifest(root)
    sha = hashlib.sha256((root / MANIFEST_NAME).read_bytes()).hexdigest()
    source = manifest.source.url
    previous = manifest.previous.manifest_sha256 if manifest.previous is not None else None
    conn = connect(url, options or {}, application_name="adu load state")
    try:
        conn.autocommit = True
        with conn.cursor() as cur:
            decision = loadstate.decide(cur, source, sha, previous, state_schema)
        if not decision.apply:
            return ApplyResult(False, decision.message, sha, decision.position)
        applied: list[tuple[str, str, LoadResult | None]] = []
        for entry in manifest.tables:
            if not entry.succeeded:
                raise LoadError(f"{entry.qualified_name} failed in the export ({entry.error}): it cannot be applied")
            mode = table_mode(manifest, entry)
            if entry.qualified_name in decision.done:
                applied.append((entry.qualified_name, "already applied", None))
                continue
            table, files = _table_info(root, entry)

            def record(cur: Any, name: str = entry.qualified_name) -> None:
                loadstate.record_table(cur, source, name, sha, decision.position, state_schema)

            load = ChainedLoad(
                url, table, mode=mode, record=record, job_id=job_id, schema_map=schema_map, options=options
            )
            applied.append((entry.qualified_name, mode, _load(load, files, parallel, entry.rows)))
        with conn.cursor() as cur:
            cur.execute("BEGIN")
            loadstate.record_head(cur, source, sha, previous, decision.position, job_id, state_schema)
            cur.execute("COMMIT")
        return ApplyResult(True, decision.message, sha, decision.position, tuple(applied))
    finally:
        close_quietly(conn)
