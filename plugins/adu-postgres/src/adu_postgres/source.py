"""The PostgreSQL source: discovery, one snapshot per job, ctid partitions, binary COPY.

Source options (``JobSpec.source_options``):

``infinity`` (``extreme`` | ``error`` | ``null`` | ``clamp``; default ``extreme``)
    What to do with ``±infinity`` in ``date``/``timestamp``/``timestamptz``. ``extreme``
    writes the type's extreme value, DuckDB's convention (timestamps ``INT64_MAX`` /
    ``-INT64_MAX`` microseconds, dates ``INT32_MAX`` / ``-INT32_MAX`` days; DuckDB reads
    them back as ``infinity``), recorded in the field metadata ``adu.infinity``; a finite
    timestamp after 294246-12-31 (Arrow counts microseconds from 1970 in 64 bits) makes
    the column fall back to exact text. ``error`` fails the table naming the column;
    ``null`` writes NULL; ``clamp`` writes 9999-12-31 23:59:59.999999 for ``infinity``
    and 0001-01-01 00:00:00 for ``-infinity``. Never wrapped garbage.
``numeric`` (``decimal`` | ``text``; default ``decimal``)
    ``numeric(p,s)`` columns become decimal128/decimal256 by default; a ``NaN`` in such a
    column (Parquet decimals have no NaN) makes that column fall back to its exact
    PostgreSQL text for the table (recorded as ``fallback: text`` in the manifest and a
    WARNING event of the job). ``text`` exports every numeric as its exact PostgreSQL
    text. Unconstrained ``numeric`` is always exact text.
``uuid`` (``bytes`` | ``text``; default ``bytes``)
    ``bytes``: ``uuid`` as its 16 bytes (in the portable profile a plain
    FIXED_LEN_BYTE_ARRAY(16), ``adu.encoding = uuid-bytes``, which Spark reads as binary;
    in the exact profile with Parquet's UUID type). ``text``: its 36-character text,
    human-readable in every reader, ~16% more bytes for the column.
``statement_timeout``, ``lock_timeout``
    Set on every connection (PostgreSQL units: ``30s``, ``5min``, milliseconds as a
    number). The export only takes ACCESS SHARE locks (plain SELECTs).
``password_file``
    A file whose first line is the password (also as the URL parameter ``password_file``).
``partition_mb`` (default 64)
    Tables smaller than this are read as one partition; bigger ones are split into ctid
    page ranges of at least this size (up to the engine's target count).
``connect_timeout``
    Seconds (libpq's ``connect_timeout``).

Cursor columns (incremental exports): the watermark is ``max(column)::text`` read in the
job's snapshot; a delta reads ``column > 'watermark'`` (an untyped literal, which
PostgreSQL reads in the column's own type, so the comparison is the column's ordering) and
is planned by the planner's estimate of those rows, so a small delta of a big table is one
index scan. A delta that fits one ctid range but holds at least :data:`DELTA_SPLIT_ROWS`
rows per partition is split in ranges of its cursor column instead (``column < b`` /
``column >= b``, ``b`` a value of the column between the delta's least and greatest
cursor): changed rows are scattered over the table, each costs a page read, and two
backends fetch them in about half the time of one.

Connections (each costs a round of TLS and a server process: ~8 ms, one after the other
before): :meth:`PostgresSource.warm_up` opens the coordinator's connection, the snapshot's
and spare readers' in the background, all at once, while discovery waits only for the
first; while the partitions run (:meth:`PostgresSource.lend`), the partitions read in the
coordinator's process use the coordinator's connection and the spares before opening their
own. The snapshot's session itself never reads: a reader's backend may be terminated (and
the partition retried), the snapshot's must live as long as the job. A job of one named
table opens its spares only once its plan says how many partitions it reads at a time (a
1-partition job, none: two connections in all).
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any, ClassVar

import attrs
import psycopg2
import pyarrow as pa
from adu_core.errors import Cancelled, ColumnFallback, SourceError, UsageError
from adu_core.models import Partition, SourceInfo, TableInfo
from adu_core.plugin.components import CancelToken, CursorBounds, Source, cursor_filter
from adu_core.plugin.options import Option
from adu_core.secrets import redact_url
from psycopg2 import sql

from adu_postgres import catalog
from adu_postgres import types as t
from adu_postgres.arrays import LIST_ENCODING, ArrayShapeError, convert_batch, wire_schema
from adu_postgres.connection import (
    close_quietly,
    connect,
    server_version,
    source_error,
)
from adu_postgres.copystream import CopyCancelled, PgCopyError, libpq_functions, stream_copy
from adu_postgres.lending import LENDERS, LENDERS_LOCK, Lender, future_conn, in_background
from adu_postgres.types import DEFAULT_INFINITY, DEFAULT_PROFILE, DEFAULT_UUID, FALLBACK_MARK

#: the source options (the module docstring says more)
OPTIONS: tuple[Option, ...] = (
    Option(
        "infinity",
        choices=("extreme", "error", "null", "clamp"),
        default=DEFAULT_INFINITY,
        help="±infinity dates/timestamps: the type's extreme value as DuckDB writes it, fail the table, NULL, or clamp",
    ),
    Option(
        "numeric",
        choices=("decimal", "text"),
        default="decimal",
        help="numeric(p,s) as decimal128/256, or every numeric as exact text",
    ),
    Option(
        "arrays",
        choices=("text", "list"),
        default="text",
        help="1-D arrays of integers, floats, oids and booleans as typed Parquet lists, or exact text",
    ),
    Option(
        "uuid",
        choices=("bytes", "text"),
        default=DEFAULT_UUID,
        help="uuid as its 16 bytes (the portable profile: no UUID annotation) or its 36-character text",
    ),
    Option(
        "profile",
        choices=("portable", "exact"),
        default=DEFAULT_PROFILE,
        help="far-side profile (the job's --profile sets it): portable or exact Parquet types",
        web=False,
    ),
    Option("statement_timeout", help="set on every connection (PostgreSQL units: 30s, 5min; ms as a number)"),
    Option("lock_timeout", help="set on every connection (PostgreSQL units)"),
    Option("password_file", help="a file whose first line is the password", web=False),
    Option(
        "partition_mb",
        "float",
        default=64,
        help="tables smaller than this are one partition; bigger ones are split in ctid ranges of this size",
    ),
    Option("connect_timeout", "int", minimum=0, help="seconds (libpq's connect_timeout)"),
)
PAGE = 8192
#: rows (the planner's estimate) each partition of a small delta split in cursor ranges holds at least
DELTA_SPLIT_ROWS = 10_000
_COLUMN_RE = re.compile(r"^column (\d+): ")


class PostgresSource(Source):
    """PostgreSQL tables through parallel binary COPY, decoded in C, from one snapshot."""

    name: ClassVar[str] = "postgresql"
    schemes: ClassVar[tuple[str, ...]] = ("postgresql", "postgres")
    description: ClassVar[str] = "PostgreSQL: binary COPY over ctid ranges, exact types, one snapshot per job"
    title: ClassVar[str] = "PostgreSQL"
    option_schema: ClassVar[tuple[Option, ...]] = OPTIONS
    supports_cursors: ClassVar[bool] = True
    discover_matches: ClassVar[bool] = True

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)  # checks the options against OPTIONS
        self.partition_bytes = int(float(self.options.get("partition_mb", 64)) * 1024 * 1024)
        if self.partition_bytes < PAGE:
            raise UsageError("source option partition_mb is too small")
        self._conn: Any = None
        #: a connection kept (idle, no transaction) between partitions read by this process
        self._reader: Any = None
        self._version: tuple[str, int] | None = None
        #: connections being opened in the background (:meth:`warm_up`)
        self._conn_future: cf.Future[Any] | None = None
        self._snapshot_future: cf.Future[Any] | None = None
        #: spare reader connections being opened (:meth:`warm_up`, lent by :meth:`lend`)
        self._spares: list[cf.Future[Any]] = []
        #: the id of the snapshot this source holds (:meth:`snapshot`)
        self._snapshot_id = ""

    @property
    def reads_release_gil(self) -> bool:
        """True when the C decoder reads the COPY straight from libpq (GIL released for
        the whole COPY); False for the per-row psycopg2 path."""
        return libpq_functions() is not None

    # -- coordinator -----------------------------------------------------------------------

    def _coordinator(self) -> Any:
        if (self._conn is None or self._conn.closed) and self._conn_future is not None:
            fut, self._conn_future = self._conn_future, None
            self._conn = fut.result()  # a failed connect raises here, as connect() would
        if self._conn is None or self._conn.closed:
            self._conn = connect(self.url, self.options, application_name="adu")
        return self._conn

    def warm_up(self, readers: int = 0) -> None:
        """Open the coordinator's and the snapshot's connections, and ``readers`` spare
        connections for the partitions of this process, in the background now (lent to the
        partitions by :meth:`lend`; closed unused by :meth:`close`). Called again inside
        :meth:`snapshot`, it opens the spares missing (up to ``readers``) and nothing else."""

        def opener(name: str) -> Callable[[], Any]:
            return lambda: connect(self.url, self.options, application_name=name)

        if self._conn_future is None and (self._conn is None or self._conn.closed):
            self._conn_future = in_background(opener("adu"))
        if self._snapshot_future is None and not self._snapshot_id:  # again inside snapshot(): spares only
            self._snapshot_future = in_background(opener("adu snapshot"))
        while len(self._spares) < readers:
            self._spares.append(in_background(opener("adu reader")))

    def _lend_key(self, snapshot_id: str) -> tuple[str, str, str]:
        return (self.url, repr(sorted(self.options.items())), snapshot_id)

    @contextlib.contextmanager
    def lend(self) -> Iterator[None]:
        """While the partitions run, the partitions read in this process use the
        coordinator's connection and the spare readers before opening their own. The
        coordinator's connection comes back at the end (a planning query in between opens
        another); the spares are closed."""
        free: list[Any] = [*self._spares]
        self._spares = []
        if self._conn is not None and not self._conn.closed:
            free.insert(0, self._conn)
            self._conn = None
        if not self._snapshot_id or not free:
            for item in free:
                self._keep_or_close(item)
            yield
            return
        lender = Lender(free)
        key = self._lend_key(self._snapshot_id)
        with LENDERS_LOCK:
            LENDERS[key] = lender
        try:
            yield
        finally:
            with LENDERS_LOCK:
                if LENDERS.get(key) is lender:
                    del LENDERS[key]
            with lender.lock:
                lender.open = False
                left, lender.free = lender.free, []
            for item in left:
                self._keep_or_close(item)

    def _keep_or_close(self, item: Any) -> None:
        """A connection back from the readers: the coordinator's again if it has none."""
        conn = future_conn(item) if isinstance(item, cf.Future) else item
        if conn is not None and self._conn is None and not conn.closed:
            self._conn = conn
        else:
            close_quietly(conn)

    def _borrow(self, snapshot_id: str) -> tuple[Lender, Any] | None:
        if not snapshot_id:
            return None
        with LENDERS_LOCK:
            lender = LENDERS.get(self._lend_key(snapshot_id))
        conn = lender.borrow() if lender is not None else None
        return (lender, conn) if lender is not None and conn is not None else None

    def _server_version(self) -> tuple[str, int]:
        if self._version is None:
            self._version = server_version(self._coordinator())
        return self._version

    def info(self) -> SourceInfo:
        version, _num = self._server_version()
        return SourceInfo(url=redact_url(self.url), kind=self.name, server_version=version)

    def discover(
        self,
        *,
        include_views: bool = False,
        include_foreign: bool = False,
        match: Callable[[str, str], bool] | None = None,
    ) -> list[TableInfo]:
        conn = self._coordinator()
        try:
            return catalog.discover(
                conn,
                self.options,
                include_views=include_views,
                include_foreign=include_foreign,
                match=match,
                side=self._idle_snapshot_connection(),
            )
        except psycopg2.Error as exc:
            raise source_error(exc, context="discovery") from None

    def _idle_snapshot_connection(self) -> Any:
        """The snapshot's connection :meth:`warm_up` opened, when it is open and idle (no
        snapshot taken yet), or None: discovery reads some of the catalog on it meanwhile."""
        fut = self._snapshot_future
        if fut is None or not fut.done() or fut.exception() is not None:
            return None
        conn = fut.result()
        return conn if not conn.closed else None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[dict[str, Any]]:
        """A REPEATABLE READ transaction exporting its snapshot for the whole job."""
        fut, self._snapshot_future = self._snapshot_future, None
        conn = fut.result() if fut is not None else None
        if conn is None or conn.closed:
            conn = connect(self.url, self.options, application_name="adu snapshot")
        try:
            with conn.cursor() as cur:
                cur.execute(  # one round trip: the transaction and what it exports
                    "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY;"
                    " SELECT pg_export_snapshot(),"
                    " (CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()"
                    "  ELSE pg_current_wal_lsn() END)::text,"
                    " to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'),"
                    " txid_current_snapshot()::text,"
                    " current_setting('server_version')"
                )
                snap, lsn, now, txids, version = cur.fetchone()
        except psycopg2.Error as exc:
            close_quietly(conn)
            raise source_error(exc, context="exporting a snapshot") from None
        self._snapshot_id = str(snap)
        token = {
            "snapshot": snap,
            "lsn": lsn,
            "server_time": now,
            "txid_snapshot": txids,
            "isolation": "repeatable read",
            "server_version": version,
        }
        try:
            yield token
        finally:
            self._snapshot_id = ""
            with contextlib.suppress(Exception):
                conn.rollback()
            close_quietly(conn)

    @staticmethod
    def _relation(table: TableInfo) -> sql.Composable:
        """The table as the reads see it: ``ONLY`` for a plain table or materialized view
        (its inheritance children are tables of their own), the parent of a partitioned one."""
        rel = sql.SQL("{}.{}").format(sql.Identifier(table.schema), sql.Identifier(table.name))
        return sql.SQL("ONLY {}").format(rel) if table.properties.get("relkind", "r") in ("r", "m") else rel

    def cursor_bounds(
        self, table: TableInfo, column: str, *, after: str | None, snapshot: Mapping[str, Any]
    ) -> CursorBounds:
        """``max(column)`` (past ``after``, an untyped literal PostgreSQL reads in the
        column's own type) and the count of NULL cursors, in the job's snapshot: one query of
        two index lookups when the column is indexed."""
        col = sql.Identifier(column)
        rel = self._relation(table)
        top = sql.SQL("SELECT max({})::text FROM {}").format(col, rel)
        if after is not None:
            top = sql.SQL("{} WHERE {} > {}").format(top, col, sql.Literal(after))
        nulls = sql.SQL("SELECT count(*) FROM {} WHERE {} IS NULL").format(rel, col)
        both = sql.SQL("SELECT ({}), ({})").format(top, nulls)
        conn = self._coordinator()  # autocommit: one short transaction on the job's snapshot
        try:
            with conn.cursor() as cur:
                try:  # one round trip: the transaction, its snapshot and the query
                    cur.execute(sql.SQL("{}; {}").format(_begin_in(snapshot), both))
                    row = cur.fetchone()
                finally:
                    cur.execute("ROLLBACK")
        except psycopg2.Error as exc:
            if exc.pgcode in ("42883", "42804", "22P02", "22007", "22008"):  # no max(), bad literal
                raise UsageError(
                    f"{table.qualified_name}.{column} ({table.column(column).source_type}) cannot be a cursor "
                    f"column: {str(exc).splitlines()[0]}"
                ) from None
            raise source_error(exc, context=f"reading the watermark of {table.qualified_name}") from None
        return CursorBounds(watermark=row[0] if row else None, null_rows=int(row[1] or 0) if row else 0)

    def _delta_rows(self, table: TableInfo, column: str, after: str) -> int | None:
        """The planner's estimate of the rows past ``after`` (None when it cannot tell)."""
        query = sql.SQL("EXPLAIN (FORMAT JSON) SELECT 1 FROM {} WHERE {} > {}").format(
            self._relation(table), sql.Identifier(column), sql.Literal(after)
        )
        with self._coordinator().cursor() as cur:
            cur.execute(query)
            row = cur.fetchone()
        plan: Any = row[0] if row else None
        try:
            if isinstance(plan, str):
                import json

                plan = json.loads(plan)
            return int(plan[0]["Plan"]["Plan Rows"])
        except (TypeError, KeyError, IndexError, ValueError):
            return None

    def _pages(self, described: Mapping[str, Any], schema: str, name: str) -> int:
        """The relation's size in pages as the job's discovery read it a moment ago
        (``pages``), else asked now: a round trip per table, 0.1 s for 200 small tables
        before any data moves. The first and last page ranges are open, so pages added
        since are read all the same."""
        known = described.get("pages")
        return int(known) if known is not None else self._relation_pages(schema, name)

    def _relation_pages(self, schema: str, name: str) -> int:
        with self._coordinator().cursor() as cur:
            cur.execute(
                "SELECT pg_relation_size(c.oid) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = %s AND c.relname = %s",
                (schema, name),
            )
            row = cur.fetchone()
        return int(row[0]) // PAGE if row else 0

    def partitions(self, table: TableInfo, *, target: int) -> list[Partition]:
        target = max(1, int(target))
        relkind = table.properties.get("relkind", "r")
        _, version_num = self._server_version()
        ranges_ok = version_num >= 140000  # TID range scans
        specs: list[tuple[dict[str, Any], int | None]] = []
        try:
            if relkind == "p" and not self._leaves_readable(table):
                # SELECT on the parent does not grant it on the leaves: read through the parent
                specs.append(({"relation": [table.schema, table.name], "only": False}, table.row_estimate))
            elif relkind == "p":
                leaves = table.properties.get("leaves", [])
                sizes = [self._pages(leaf, leaf["schema"], leaf["name"]) for leaf in leaves]
                total = sum(sizes) or 1
                for leaf, pages in zip(leaves, sizes, strict=True):
                    est = leaf.get("row_estimate")
                    if leaf.get("relkind", "r") == "f":  # a foreign leaf: one scan through its FDW
                        specs.append(({"relation": [leaf["schema"], leaf["name"]], "only": False}, est))
                        continue
                    share = max(1, round(target * pages / total))
                    for spec, frac in self._page_ranges(pages, share, ranges_ok):
                        spec["relation"] = [leaf["schema"], leaf["name"]]
                        specs.append((spec, round(est * frac) if est is not None else None))
            elif relkind in ("r", "m"):
                pages = self._pages(table.properties, table.schema, table.name)
                est = table.row_estimate
                delta = cursor_filter(table)
                past = None
                if delta is not None and pages:
                    # a delta reads only the rows past the watermark (through the cursor's
                    # index): plan by their share of the table, not by its size
                    past = self._delta_rows(table, *delta)
                    if past is not None:
                        pages = int(pages * min(1.0, past / max(1, est or past or 1)))
                        est = past
                ranges = self._page_ranges(pages, target, ranges_ok and relkind == "r")
                if delta is not None and past is not None and len(ranges) == 1:
                    ranges = self._cursor_ranges(table, *delta, parts=min(target, past // DELTA_SPLIT_ROWS)) or ranges
                for spec, frac in ranges:
                    spec["relation"] = [table.schema, table.name]
                    specs.append((spec, round(est * frac) if est is not None else None))
            else:
                specs.append(({"relation": [table.schema, table.name], "only": False}, table.row_estimate))
        except psycopg2.Error as exc:
            raise source_error(exc, context=f"planning {table.qualified_name}") from None
        if not specs:  # a partitioned table without leaves: read the (empty) parent
            specs.append(({"relation": [table.schema, table.name], "only": False}, 0))
        n = len(specs)
        return [
            Partition(table=table, index=i, count=n, spec=spec, estimated_rows=est)
            for i, (spec, est) in enumerate(specs)
        ]

    def _cursor_ranges(
        self, table: TableInfo, column: str, after: str, *, parts: int
    ) -> list[tuple[dict[str, Any], float]]:
        """``parts`` ranges of the cursor column covering a delta (``column > after``), split
        at values of the column evenly spaced between the delta's least and greatest; [] when
        ``parts`` < 2, or the column's type has no such arithmetic (text...), or the split
        points are not distinct.

        The split points are read outside the job's snapshot (they only cut the value range:
        every row past ``after`` is in exactly one range whatever they are); each is a value
        of the column (its own text form), so it reads back exactly.
        """
        if parts < 2:
            return []
        col = sql.Identifier(column)
        rel = self._relation(table)
        # the delta's least and greatest cursor read once; one cut (an index lookup) per fraction
        query = sql.SQL(
            "SELECT (SELECT min({col})::text FROM {rel} WHERE {col} > {after}"
            " AND {col} >= s.lo + (s.hi - s.lo) * f.frac)"
            " FROM (SELECT min({col}) AS lo, max({col}) AS hi FROM {rel} WHERE {col} > {after}) AS s,"
            " unnest(%s::float8[]) WITH ORDINALITY AS f(frac, k) ORDER BY f.k"
        ).format(col=col, rel=rel, after=sql.Literal(after))
        try:
            with self._coordinator().cursor() as cur:
                cur.execute(query, ([k / parts for k in range(1, parts)],))
                cuts = [row[0] for row in cur.fetchall()]
        except psycopg2.Error:  # no "-" or "*" for the column's type: one range
            return []
        if len(cuts) != parts - 1 or None in cuts or len(set(cuts)) != len(cuts):
            return []
        bounds: list[str | None] = [None, *cuts, None]
        out = []
        for lo, hi in itertools.pairwise(bounds):
            out.append(({"only": True, "cursor_from": lo, "cursor_below": hi}, 1.0 / parts))
        return out

    def _leaves_readable(self, table: TableInfo) -> bool:
        leaves = table.properties.get("leaves", [])
        if not leaves:
            return True
        with self._coordinator().cursor() as cur:
            cur.execute(
                "SELECT bool_and(has_table_privilege(c.oid, 'SELECT')) FROM pg_class c"
                " JOIN pg_namespace n ON n.oid = c.relnamespace"
                " JOIN unnest(%s::text[], %s::text[]) AS l(s, r) ON n.nspname = l.s AND c.relname = l.r",
                ([leaf["schema"] for leaf in leaves], [leaf["name"] for leaf in leaves]),
            )
            row = cur.fetchone()
        return bool(row and row[0])

    def _page_ranges(self, pages: int, target: int, ranges_ok: bool) -> list[tuple[dict[str, Any], float]]:
        """``target`` (or fewer) ctid page ranges covering a relation of ``pages`` pages.

        The first range has no lower bound and the last no upper bound, so rows on pages
        added after planning are still read (exactly once).
        """
        per_part = max(1, self.partition_bytes // PAGE)
        n = min(target, max(1, pages // per_part)) if ranges_ok else 1
        if n <= 1:
            return [({"only": True}, 1.0)]
        step = -(-pages // n)
        out = []
        for i in range(n):
            lo = i * step if i > 0 else None
            hi = (i + 1) * step if i < n - 1 else None
            out.append(({"only": True, "lo": lo, "hi": hi}, 1.0 / n))
        return out

    # -- worker ----------------------------------------------------------------------------

    def copy_query(self, partition: Partition) -> sql.Composed:
        """The ``COPY (SELECT ...) TO STDOUT (FORMAT binary)`` statement of ``partition``."""
        table = partition.table
        plan = table.properties["read_plan"]
        exprs = []
        for col, p in zip(table.columns, plan, strict=True):
            exprs.append(_expression(str(col.properties.get("original_name") or col.name), p[4]))
        schema, name = partition.spec.get("relation", [table.schema, table.name])
        rel = sql.SQL("{}.{}").format(sql.Identifier(schema), sql.Identifier(name))
        if partition.spec.get("only", False):
            rel = sql.SQL("ONLY {}").format(rel)
        conds = []
        if partition.spec.get("lo") is not None:
            conds.append(sql.SQL("ctid >= {}::tid").format(sql.Literal(f"({int(partition.spec['lo'])},0)")))
        if partition.spec.get("hi") is not None:
            conds.append(sql.SQL("ctid < {}::tid").format(sql.Literal(f"({int(partition.spec['hi'])},0)")))
        delta = cursor_filter(table)
        if delta is not None:  # only the rows past the previous watermark, compared in the column's type
            cursor = sql.Identifier(delta[0])
            conds.append(sql.SQL("{} > {}").format(cursor, sql.Literal(delta[1])))
            # a small delta split in ranges of its cursor (see _cursor_ranges)
            if partition.spec.get("cursor_from") is not None:
                conds.append(sql.SQL("{} >= {}").format(cursor, sql.Literal(str(partition.spec["cursor_from"]))))
            if partition.spec.get("cursor_below") is not None:
                conds.append(sql.SQL("{} < {}").format(cursor, sql.Literal(str(partition.spec["cursor_below"]))))
        select = sql.SQL("SELECT {} FROM {}").format(sql.SQL(", ").join(exprs) if exprs else sql.SQL(""), rel)
        if conds:
            select = sql.SQL("{} WHERE {}").format(select, sql.SQL(" AND ").join(conds))
        return sql.SQL("COPY ({}) TO STDOUT (FORMAT binary)").format(select)

    def read(
        self,
        partition: Partition,
        *,
        snapshot: Mapping[str, Any],
        batch_rows: int,
        cancel: CancelToken,
    ) -> Iterator[pa.RecordBatch]:
        table = partition.table
        if cancel.is_set():
            raise Cancelled(f"{partition.label} cancelled")
        plan = table.properties.get("read_plan")
        if plan is None or len(plan) != len(table.columns):
            raise SourceError(f"{table.qualified_name}: no read plan (was the table discovered by this plugin?)")
        specs = [(int(p[0]), int(p[1]), int(p[2]), int(p[3])) for p in plan]
        schema = table.arrow_schema()
        lists = [i for i, c in enumerate(table.columns) if (c.properties or {}).get("encoding") == LIST_ENCODING]
        key = str(snapshot.get("snapshot") or "")
        # a worker reads many partitions over one connection (connecting costs more than a
        # small table); each read is its own transaction on the job's snapshot, so no lock
        # outlives the partition that took it
        reused, self._reader = self._reader, None
        conn = None
        user = None
        context = f"reading {partition.label}"
        done = False
        # a connection of the coordinator's, while it lends them (see lend())
        loan = self._borrow(key) if reused is None or reused.closed else None
        try:
            conn = reused if reused is not None and not reused.closed else None
            if loan is not None:
                conn = loan[1]
            if conn is None:
                close_quietly(reused)
                conn = connect(self.url, self.options, application_name="adu reader")
            with conn.cursor() as cur:
                cur.execute(_begin_in(snapshot))  # one round trip
            user = conn.info.user if hasattr(conn, "info") else None
            query = self.copy_query(partition).as_string(conn)
            # arrays=list: the COPY sends those columns as text, each batch makes them lists
            wire = wire_schema(schema, lists) if lists else schema
            copy = stream_copy(conn, query, wire, specs, batch_rows=batch_rows, cancel=cancel)
            with contextlib.closing(copy):  # stopped early: the COPY stops before the connection goes
                for batch in copy:
                    yield convert_batch(batch, schema, lists) if lists else batch
            done = True
        except CopyCancelled:
            raise Cancelled(f"{partition.label} cancelled") from None
        except (psycopg2.Error, PgCopyError) as exc:
            raise source_error(exc, context=context, user=user) from None
        except OverflowError as exc:
            fallback = self._fallback_column(table, str(exc))
            if fallback is not None:
                raise ColumnFallback(
                    f"{context}: {self._column_message(table, str(exc))}", columns=(fallback,)
                ) from None
            raise SourceError(f"{context}: {self._column_message(table, str(exc))}") from None
        except ArrayShapeError as exc:
            raise SourceError(f"{context}: {exc}; source option arrays=text (the default) exports it exactly") from None
        finally:
            reusable = _read_ended(conn, done)
            if loan is not None:  # back to the coordinator's lender; closed there when broken
                loan[0].give_back(conn, broken=not reusable)
            elif reusable:
                self._reader = conn  # for this process's next partition
            else:
                close_quietly(conn)

    @staticmethod
    def _fallback_column(table: TableInfo, message: str) -> str | None:
        """The column a decoder error asks to read as text (see ``types.FALLBACK_MARK``)."""
        m = _COLUMN_RE.match(message)
        if m and message[m.end() :].startswith(FALLBACK_MARK) and int(m.group(1)) < len(table.columns):
            return table.columns[int(m.group(1))].name
        return None

    def fallback(self, table: TableInfo, columns: Sequence[str]) -> TableInfo | None:
        """``table`` with ``columns`` read as PostgreSQL's exact text (``col::text``)."""
        plan = [list(p) for p in table.properties.get("read_plan", [])]
        cols = list(table.columns)
        wanted = set(columns)
        changed = False
        for i, col in enumerate(cols):
            if col.name not in wanted or plan[i][4]:
                continue
            props = {k: v for k, v in col.properties.items() if k not in ("infinity", "field_metadata")}
            props.update(encoding=t.TEXT_ENCODING, fallback="text")
            cols[i] = attrs.evolve(col, arrow_type=pa.string(), properties=props)
            plan[i] = [t.KIND_TEXT, 0, 0, 0, True]
            changed = True
        if not changed:
            return None
        return attrs.evolve(table, columns=tuple(cols), properties={**table.properties, "read_plan": plan})

    @staticmethod
    def _column_message(table: TableInfo, message: str) -> str:
        m = _COLUMN_RE.match(message)
        if m and int(m.group(1)) < len(table.columns):
            col = table.columns[int(m.group(1))]
            return f"column {col.name!r} ({col.source_type}): {message[m.end() :].removeprefix(FALLBACK_MARK)}"
        return message

    def close(self) -> None:
        for fut in (self._conn_future, self._snapshot_future, *self._spares):
            if fut is not None:  # closed when it is made: never waited for (an unreachable host)
                fut.add_done_callback(lambda f: close_quietly(future_conn(f)))
        self._conn_future = self._snapshot_future = None
        self._spares = []
        close_quietly(self._conn)
        self._conn = None
        close_quietly(self._reader)
        self._reader = None


def _read_ended(conn: Any, done: bool) -> bool:
    """End a read's transaction (``COMMIT``); whether its connection can read again: not
    after a failed or stopped read, nor when the commit fails."""
    if not done or conn is None or conn.closed:
        return False
    try:
        with conn.cursor() as cur:
            cur.execute("COMMIT")
    except psycopg2.Error:
        return False
    return True


def _begin_in(snapshot: Mapping[str, Any]) -> sql.Composable:
    """``BEGIN`` a read-only REPEATABLE READ transaction on the job's snapshot (when the
    token names one), as one statement string: one round trip."""
    begin = sql.SQL("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
    key = str(snapshot.get("snapshot") or "")
    return sql.SQL("{}; SET TRANSACTION SNAPSHOT {}").format(begin, sql.Literal(key)) if key else begin


def _expression(name: str, how: Any) -> sql.Composable:
    """The COPY query's expression of a column read as ``how`` says (the plan's 5th entry):
    false: the column itself (binary); true: ``::text``; an output function's name
    (``inet_out``, ``xml_out``: :data:`adu_postgres.types.OUTPUT_FUNCTIONS`): PostgreSQL's
    own text where the ``::text`` cast differs from it; ``"placeholder"``: ``NULL::boolean``
    (a table without columns)."""
    if how == "placeholder":
        return sql.SQL("NULL::boolean")
    ident = sql.Identifier(name)
    if how in t.OUTPUT_FUNCTIONS.values():
        return sql.SQL("textin({}({}))").format(sql.SQL(how), ident)
    return sql.SQL("{}::text").format(ident) if how else ident


def table_by_name(tables: Sequence[TableInfo], qualified_name: str) -> TableInfo:
    """The table called ``schema.name`` in ``tables`` (a helper for scripts and tests)."""
    for tbl in tables:
        if tbl.qualified_name == qualified_name:
            return tbl
    raise KeyError(qualified_name)
