"""The Vertica source: discovery, one epoch per job, hash-range partitions, Arrow reads."""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

import pyarrow as pa
from adu_core.errors import Cancelled, SourceError, UsageError
from adu_core.lazy import lazy_module
from adu_core.models import Partition, SourceInfo, TableInfo
from adu_core.plugin.components import CancelToken, Source
from adu_core.plugin.options import Option
from adu_core.secrets import redact_url

from adu_vertica.types import (
    DEFAULT_PROFILE,
    HASH_SPACE,
    PROFILES,
    arrow_type,
    parse_type,
    quote_ident,
    select_expr,
    to_portable,
)

if TYPE_CHECKING:
    from vertica_python import errors as verrors

    from adu_vertica import catalog, decode
    from adu_vertica import connect as vconnect
else:  # vertica-python is imported when a Vertica URL is opened, not when plugins load
    verrors = lazy_module("vertica_python.errors")
    catalog = lazy_module("adu_vertica.catalog")
    decode = lazy_module("adu_vertica.decode")
    vconnect = lazy_module("adu_vertica.connect")

log = logging.getLogger(__name__)

EPOCH_SQL = "SELECT current_epoch FROM v_monitor.system"
#: the source options (connection options as in :mod:`adu_vertica.connect`, which a URL's
#: query string may also give; the job's options win)
OPTIONS: tuple[Option, ...] = (
    Option(
        "partitioning",
        choices=("auto", "hash", "range", "none"),
        default="auto",
        help="auto: segmentation hash ranges, else primary-key hash ranges, else integer key ranges",
    ),
    Option("infinity", choices=("error", "null", "clamp"), default="error", help="TIMESTAMP ±infinity"),
    Option(
        "profile",
        choices=PROFILES,
        default=DEFAULT_PROFILE,
        help="far-side profile (the job's --profile sets it): portable or exact Parquet types",
        web=False,
    ),
    Option("password_env", help="an environment variable holding the password", web=False),
    Option("password_file", help="a file holding the password (Docker secrets)", web=False),
    Option("tlsmode", choices=("disable", "prefer", "require", "verify-ca", "verify-full"), default="prefer"),
    Option("tls_cafile", help="CA certificates for TLS", web=False),
    Option("tls_certfile", help="client certificate for TLS", web=False),
    Option("tls_keyfile", help="client key for TLS", web=False),
    Option("connection_load_balance", "bool", help="let the server redirect to a less busy node"),
    Option("backup_server_node", help="comma-separated host[:port] tried when the host is down"),
    Option("connection_timeout", "float", minimum=0, help="seconds for connecting and each socket operation"),
    Option("workload", help="passed to the server"),
    Option("session_label", help="passed to the server"),
    Option("binary_transfer", "bool", help="accepted for compatibility: results always come in binary"),
)


class VerticaSource(Source):
    """Vertica through vertica-python.

    Source options (besides the connection options of :mod:`adu_vertica.connect`):
    ``partitioning``: ``auto`` (segmentation hash ranges, else primary-key hash ranges,
    else integer key ranges), ``hash``, ``range`` or ``none``; ``infinity``: what
    TIMESTAMP ``±infinity`` becomes: ``error`` (default: the table fails, naming the
    column), ``null`` or ``clamp`` (to 0001-01-01 / 9999-12-31 23:59:59.999999);
    ``profile``: the far-side profile (``portable``, the default, or ``exact``; set from
    the job's ``--profile``): which Arrow types UUID, TIME, TIMETZ, NUMERIC beyond
    precision 38 and the ARRAY/SET/ROW holding them get (see :mod:`adu_vertica.types`).
    """

    name: ClassVar[str] = "vertica"
    schemes: ClassVar[tuple[str, ...]] = ("vertica",)
    description: ClassVar[str] = "Vertica (vertica-python; epoch-consistent, segmentation-parallel)"
    title: ClassVar[str] = "Vertica"
    option_schema: ClassVar[tuple[Option, ...]] = OPTIONS

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        super().__init__(url, options)  # checks the options against OPTIONS
        self.partitioning = str(self.options.get("partitioning", "auto"))
        if self.partitioning not in ("auto", "hash", "range", "none"):
            raise UsageError("partitioning must be auto, hash, range or none")
        self.infinity = str(self.options.get("infinity", "error"))
        if self.infinity not in ("error", "null", "clamp"):
            raise UsageError("infinity must be error, null or clamp")
        self.profile = str(self.options.get("profile", DEFAULT_PROFILE))
        if self.profile not in PROFILES:
            raise UsageError("profile must be portable or exact")
        vconnect.connection_options(url, self.options)  # validate the URL early (and remember the secret)
        self._conn: Any = None
        self._server_version: str | None = None

    def __repr__(self) -> str:
        return f"VerticaSource({redact_url(self.url)!r})"

    # ----------------------------------------------------------------- connections
    def _connection(self) -> Any:
        if self._conn is None or self._conn.closed():
            self._conn = vconnect.connect(self.url, self.options)
            self._server_version = str(self._conn.parameters.get("server_version") or "") or None
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                self._conn.close()
            self._conn = None

    # ----------------------------------------------------------------- coordinator
    def info(self) -> SourceInfo:
        self._connection()
        return SourceInfo(url=redact_url(self.url), kind=self.name, server_version=self._server_version)

    def discover(self, *, include_views: bool = False, include_foreign: bool = False) -> list[TableInfo]:
        conn = self._connection()
        try:
            return catalog.discover(conn, include_views=include_views, profile=self.profile)
        except verrors.Error as e:
            raise vconnect.source_error(e, "discovery from v_catalog failed") from None

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[dict[str, Any]]:
        """The job's epoch: the latest closed epoch when the job starts.

        ``AT EPOCH n`` then reads exactly what was committed up to ``n`` in every partition:
        rows deleted or updated later are read as they were at ``n``. Vertica keeps that
        history back to the Ancient History Mark only; a partition read after the AHM
        has moved past ``n`` fails with one clear line (:func:`adu_vertica.connect.source_error`)
        rather than reading a different point in time.
        """
        conn = self._connection()
        try:
            rows = catalog.query(conn, EPOCH_SQL)
        except verrors.Error as e:
            raise vconnect.source_error(e, "cannot read the current epoch") from None
        current = int(rows[0][0])
        yield {"epoch": current - 1, "taken_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}

    def partitions(self, table: TableInfo, *, target: int) -> list[Partition]:
        target = max(1, int(target))
        mode = self.partitioning
        names = [c.name for c in table.columns]
        seg_cols = table.properties.get("segmentation_columns")
        if table.properties.get("readable") is False:
            target = 1  # no planning query on a table the user cannot read: its read fails alone
        if target > 1 and mode in ("auto", "hash"):
            cols = seg_cols or (list(table.primary_key) if table.primary_key else None)
            if cols and all(c in names for c in cols):
                return self._hash_partitions(table, cols, target, "segmentation" if seg_cols else "primary_key")
        if target > 1 and mode in ("auto", "range"):
            key = self._range_key(table)
            if key:
                parts = self._range_partitions(table, key, target)
                if parts:
                    return parts
        return [Partition(table=table, index=0, count=1, spec={"kind": "whole"}, estimated_rows=table.row_estimate)]

    def _hash_partitions(self, table: TableInfo, cols: list[str], target: int, basis: str) -> list[Partition]:
        bounds = [HASH_SPACE * i // target for i in range(target + 1)]
        est = table.row_estimate // target if table.row_estimate is not None else None
        return [
            Partition(
                table=table,
                index=i,
                count=target,
                estimated_rows=est,
                spec={
                    "kind": "hash",
                    "basis": basis,
                    "columns": list(cols),
                    "lo": None if i == 0 else bounds[i],
                    "hi": None if i == target - 1 else bounds[i + 1],
                },
            )
            for i in range(target)
        ]

    @staticmethod
    def _range_key(table: TableInfo) -> str | None:
        for name in list(table.primary_key[:1]) + [c.name for c in table.columns]:
            col = table.column(name)
            if parse_type(col.source_type).kind == "int":
                return name
        return None

    def _range_partitions(self, table: TableInfo, key: str, target: int) -> list[Partition]:
        q = quote_ident(key)
        sql = f"SELECT MIN({q}), MAX({q}) FROM {quote_ident(table.schema)}.{quote_ident(table.name)}"
        try:
            lo, hi = catalog.query(self._connection(), sql)[0]
        except verrors.Error as e:
            raise vconnect.source_error(e, f"{table.qualified_name}: cannot plan key ranges") from None
        if lo is None or hi is None or hi <= lo:
            return []
        step = max(1, (hi - lo + target) // target)
        bounds = [lo + step * i for i in range(target + 1)]
        est = table.row_estimate // target if table.row_estimate is not None else None
        return [
            Partition(
                table=table,
                index=i,
                count=target,
                estimated_rows=est,
                spec={
                    "kind": "range",
                    "column": key,
                    "lo": None if i == 0 else bounds[i],
                    "hi": None if i == target - 1 else bounds[i + 1],
                },
            )
            for i in range(target)
        ]

    # ----------------------------------------------------------------- worker
    @staticmethod
    def partition_sql(partition: Partition, epoch: int | None) -> str:
        """The statement one partition runs (identifiers quoted; numbers are ints)."""
        table = partition.table
        vtypes = [parse_type(c.source_type) for c in table.columns]
        select = ", ".join(select_expr(c.name, vt) for c, vt in zip(table.columns, vtypes, strict=True))
        sql = f"SELECT {select} FROM {quote_ident(table.schema)}.{quote_ident(table.name)}"
        spec = partition.spec
        conds: list[str] = []
        if spec.get("kind") == "hash":
            expr = "HASH(" + ", ".join(quote_ident(c) for c in spec["columns"]) + ")"
        elif spec.get("kind") == "range":
            expr = quote_ident(spec["column"])
        else:
            expr = ""
        if expr:
            if spec.get("lo") is not None:
                conds.append(f"{expr} >= {int(spec['lo'])}")
            if spec.get("hi") is not None:
                conds.append(f"{expr} < {int(spec['hi'])}")
            if spec.get("kind") == "range" and spec.get("lo") is None:
                conds = [f"({' AND '.join(conds)} OR {expr} IS NULL)"] if conds else conds
        if conds:
            sql += " WHERE " + " AND ".join(conds)
        if epoch is not None:
            sql = f"AT EPOCH {int(epoch)} {sql}"
        return sql

    def read(
        self,
        partition: Partition,
        *,
        snapshot: Mapping[str, Any],
        batch_rows: int,
        cancel: CancelToken,
    ) -> Iterator[pa.RecordBatch]:
        table = partition.table
        epoch = snapshot.get("epoch")
        sql = self.partition_sql(partition, int(epoch) if epoch is not None else None)
        schema = table.arrow_schema()
        vtypes = [parse_type(c.source_type) for c in table.columns]
        # the wire is decoded into the exact profile's types, then turned into the columns'
        # (portable) ones where they differ (:func:`adu_vertica.types.to_portable`)
        exact = pa.schema([f.with_type(arrow_type(vt)) for f, vt in zip(schema, vtypes, strict=True)])
        convert = [i for i, (f, e) in enumerate(zip(schema, exact, strict=True)) if f.type != e.type]
        what = f"{partition.label}"
        try:
            conn = vconnect.connect(self.url, self.options)
        except SourceError as e:
            raise SourceError(str(e), sqlstate=e.sqlstate, retryable=e.sqlstate != "28000") from None
        cancelled = False
        try:
            for batch in decode.stream_query(
                conn,
                sql,
                exact if convert else schema,
                vtypes,
                batch_rows=max(1, batch_rows),
                should_stop=cancel.is_set,
                infinity=self.infinity,
            ):
                if convert:
                    arrays = list(batch.columns)
                    for i in convert:
                        arrays[i] = to_portable(arrays[i], vtypes[i])
                    batch = pa.RecordBatch.from_arrays(arrays, schema=schema)
                yield batch
                if cancel.is_set():
                    break
            cancelled = cancel.is_set()
        except decode.WireError as e:
            raise vconnect.source_error(e, what, epoch=int(epoch) if epoch is not None else None) from None
        except (decode.ConnectionLost, verrors.ConnectionError, OSError) as e:
            raise SourceError(f"{what}: connection to Vertica lost mid-export ({e})", retryable=True) from None
        except (ValueError, pa.ArrowException, verrors.Error) as e:
            raise SourceError(f"{what}: cannot decode the result: {e}") from None
        finally:
            if cancelled:
                with contextlib.suppress(Exception):
                    conn.cancel()  # CancelRequest on a new connection: the server stops the query
            with contextlib.suppress(Exception):
                if cancelled:
                    conn.close_socket()
                else:
                    conn.close()
        if cancelled:
            raise Cancelled(f"{what}: cancelled")
