"""The component interfaces plugins implement: sources, sinks, validators and executors.

Arrow is the only currency: a source yields :class:`pyarrow.RecordBatch` streams whose
schema is :meth:`adu_core.models.TableInfo.arrow_schema`; validators look at those
batches; sinks write them.

Where each method runs matters, because partitions run in worker processes:

* *coordinator* methods run once per job in the process that runs the job;
* *worker* methods run in a pool process; their arguments and results are pickled, so
  they take and return plain data (attrs models, Arrow objects, dicts).

A component instance is built in each process from its class and its (picklable)
constructor arguments; a worker never receives a live connection.

Every component class declares its options (``option_schema``, see
:mod:`adu_core.plugin.options`); the base constructors check the options they are given
against it, so a subclass receives typed, known options only.
"""

from __future__ import annotations

import abc
import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar, Protocol, Self
from urllib.parse import urlsplit

import attrs

from adu_core.models import (
    CheckResult,
    FileResult,
    Partition,
    PartitionResult,
    SourceInfo,
    TableInfo,
    ValidationReport,
)
from adu_core.plugin.options import DISCOVERY_OPTIONS, VALIDATION_OPTIONS, Option, check_options

if TYPE_CHECKING:
    import pyarrow as pa
    import pyarrow.dataset

    from adu_core.manifest.model import Manifest, ManifestTable

if TYPE_CHECKING:
    from concurrent.futures import Future

    from adu_core.config import Settings
    from adu_core.engine.partition import PartitionProgress, PartitionTask
    from adu_core.plugin.manager import Plugins


class CancelToken(Protocol):
    """What a worker checks between batches (a ``multiprocessing.Event`` fits)."""

    def is_set(self) -> bool: ...

    def wait(self, timeout: float | None = None) -> bool: ...


class NeverCancelled:
    """A :class:`CancelToken` that is never set (for direct calls and tests)."""

    def is_set(self) -> bool:
        return False

    def wait(self, timeout: float | None = None) -> bool:
        return False


# ----------------------------------------------------------------------------- sources

#: ``TableInfo.properties`` key the engine sets on a table exported with a cursor column:
#: ``{"column", "source_type", "after", "watermark", "null_rows"}``. A source's
#: :meth:`Source.read` must read only the rows whose cursor is greater than ``after``
#: when ``after`` is not None (:func:`cursor_filter` gives both).
CURSOR_PROPERTY = "cursor"


def cursor_filter(table: TableInfo) -> tuple[str, str] | None:
    """``(column, after)`` when ``table`` is read as a delta (only ``column > after``)."""
    cursor = table.properties.get(CURSOR_PROPERTY)
    if not isinstance(cursor, Mapping) or cursor.get("after") is None:
        return None
    return str(cursor["column"]), str(cursor["after"])


@attrs.frozen
class CursorBounds:
    """What :meth:`Source.cursor_bounds` found in the job's snapshot.

    :param watermark: the greatest cursor value (its text form in the source's own type),
        None when no row has one (past ``after``, for a delta).
    :param null_rows: rows of the table whose cursor is NULL.
    """

    watermark: str | None
    null_rows: int


class Source(abc.ABC):
    """A data source opened from a URL.

    :param url: the source URL, password included (never store or log it).
    :param options: source options from the job spec (``JobSpec.source_options``).
    """

    #: registered name, e.g. ``postgresql``.
    name: ClassVar[str]
    #: URL schemes this source opens, e.g. ``("postgresql", "postgres")``.
    schemes: ClassVar[tuple[str, ...]]
    #: one line shown by ``adu plugins``.
    description: ClassVar[str] = ""
    #: how messages and the web form name it (``PostgreSQL``); default: :attr:`name`.
    title: ClassVar[str] = ""
    #: the options it takes (``--source-option KEY=VALUE``), besides the discovery
    #: options every source takes (:data:`~adu_core.plugin.options.DISCOVERY_OPTIONS`).
    option_schema: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, url: str, options: Mapping[str, Any] | None = None) -> None:
        self.url = url
        self.options: Mapping[str, Any] = self.check_options(options)

    @classmethod
    def label(cls) -> str:
        """:attr:`title`, or :attr:`name` when there is none."""
        return cls.title or cls.name

    @classmethod
    def all_options(cls) -> tuple[Option, ...]:
        """Every option a job may give this source: the discovery options, then its own."""
        return DISCOVERY_OPTIONS + cls.option_schema

    @classmethod
    def check_options(cls, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """``options`` checked against :meth:`all_options` (typed values).

        :raises adu_core.errors.UsageError: an unknown key or a bad value, in one line
            naming what is allowed.
        """
        return check_options(cls.all_options(), options, what="source option", owner=cls.label())

    @classmethod
    def accepts(cls, url: str) -> bool:
        """Coordinator: whether this source opens ``url`` (the host asks every source and
        opens the URL with the one that accepts it). Default: the URL's scheme is one of
        :attr:`schemes`. Override to accept more (a bare file path of your format); keep
        it cheap and free of side effects.
        """
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            return False
        return bool(scheme) and scheme in cls.schemes

    @property
    def reads_release_gil(self) -> bool:
        """Coordinator: True when :meth:`read` spends its time outside the GIL (decoding
        in C, a native engine), so the engine's ``auto`` executor runs the partitions as
        threads of one process: no pool start-up, no pickled results, one copy of the
        imported libraries. False (the default) gives each partition a pool process.

        With threads, each thread opens its own source object (one connection per
        thread), exactly as a pool process would.
        """
        return False

    @abc.abstractmethod
    def info(self) -> SourceInfo:
        """Coordinator: server version and the URL without password."""

    #: :meth:`discover` takes ``match``, a ``(schema, name) -> bool`` filter applied before
    #: columns and keys are read: a job exporting a few tables of a large catalog reads the
    #: columns of those tables only (the host then selects from what it returns)
    discover_matches: ClassVar[bool] = False

    @abc.abstractmethod
    def discover(self, *, include_views: bool = False, include_foreign: bool = False) -> list[TableInfo]:
        """Coordinator: every exportable table, with columns, keys and estimates.

        A source that sets :attr:`discover_matches` also takes ``match`` (keyword,
        default None): then only tables for which ``match(schema, name)`` is true need be
        returned.

        Raise :class:`adu_core.errors.ConnectError` when the source cannot be reached or
        refuses the credentials.
        """

    @contextlib.contextmanager
    def snapshot(self) -> Iterator[dict[str, Any]]:
        """Coordinator: hold one consistent point in time for the whole job.

        Yields a picklable token passed to every :meth:`read`; the point in time stays
        valid until the context exits. The token also goes into the manifest's
        ``source.consistency`` (so it must not hold a secret). The default holds nothing.
        """
        yield {}

    def warm_up(self, readers: int = 0) -> None:  # noqa: B027 - optional hook for subclasses
        """Coordinator, before :meth:`discover`: a hint that the job will go on to take a
        :meth:`snapshot` and read partitions, ``readers`` of them at a time in this process
        beside the coordinator's own connection (see :meth:`lend`), so a source may start
        opening what it needs now, in the background (connections: their opening then
        overlaps discovery). The engine may call it again inside :meth:`snapshot`, before
        :meth:`lend`, with the readers its plan needs (a job of one named table asks for
        none before it knows its partitions): open what is missing for ``readers``, never a
        second snapshot. Whatever it opened and did not use is released by :meth:`close`.
        Default: nothing."""

    @contextlib.contextmanager
    def lend(self) -> Iterator[None]:
        """Coordinator, inside :meth:`snapshot`, around the running of the job's partitions:
        while it is open the coordinator makes no call on this source that uses the source
        (only :meth:`fallback`, which must not), so the partitions read in this process
        (:meth:`read` on the executor's threads) may use what this object holds open — its
        connections, those :meth:`warm_up` opened — instead of opening their own (never
        what holds the snapshot: a reader may be terminated and retried, the snapshot may
        not). It exits after every partition has ended. Default: nothing is lent."""
        yield

    #: True when the source supports cursor columns (:meth:`cursor_bounds`, and
    #: :meth:`read` honouring :func:`cursor_filter`): incremental exports.
    supports_cursors: ClassVar[bool] = False

    def cursor_bounds(
        self, table: TableInfo, column: str, *, after: str | None, snapshot: Mapping[str, Any]
    ) -> CursorBounds:
        """Coordinator, inside :meth:`snapshot`: the greatest value of ``column`` in the
        job's snapshot (past ``after`` when it is not None, compared in the source's own
        type) and how many rows have none. Cheap with an index on the column.

        :raises adu_core.errors.UsageError: the column cannot be a cursor (no ordering),
            or this source does not support cursors (the default).
        """
        from adu_core.errors import UsageError

        raise UsageError(f"the {self.label()} source does not support cursor columns (incremental exports)")

    @abc.abstractmethod
    def partitions(self, table: TableInfo, *, target: int) -> list[Partition]:
        """Coordinator: split ``table`` into about ``target`` partitions (at least one).

        A table read as a delta (:func:`cursor_filter`) may be planned by how many rows
        pass the filter rather than by its size."""

    @abc.abstractmethod
    def read(
        self,
        partition: Partition,
        *,
        snapshot: Mapping[str, Any],
        batch_rows: int,
        cancel: CancelToken,
    ) -> Iterator[pa.RecordBatch]:
        """Worker: stream the rows of ``partition`` as batches of ``table.arrow_schema()``.

        Check ``cancel`` between batches and stop the server-side work when it is set.
        Raise :class:`adu_core.errors.SourceError` (``retryable=True`` for a dropped
        connection) on failure; the engine retries retryable errors and the sink throws
        away what the failed attempt wrote, so a retry never duplicates rows.
        """

    def fallback(self, table: TableInfo, columns: Sequence[str]) -> TableInfo | None:
        """Coordinator: ``table`` read with ``columns`` as exact text, or None when the
        source cannot do that (the table then fails).

        Called when a partition raised :class:`adu_core.errors.ColumnFallback` (a value
        no Arrow/Parquet type of the column holds): the engine discards what the table
        wrote and reads every partition again from the returned table. Mark each such
        column's properties with ``fallback`` (the manifest records it). The default: None.
        """
        return None

    def close(self) -> None:  # noqa: B027 - optional hook for subclasses
        """Release connections (called in every process that opened the source)."""


# ------------------------------------------------------------------------------- sinks


class PartitionWriter(abc.ABC):
    """Worker: writes the batches of one partition to staging files."""

    @abc.abstractmethod
    def write(self, batch: pa.RecordBatch) -> int:
        """Write one batch; return the bytes written so far (for progress)."""

    @abc.abstractmethod
    def close(self) -> list[FileResult]:
        """Finish the staging files and return them (staging paths, rows, bytes, sha256)."""

    @abc.abstractmethod
    def abort(self) -> None:
        """Remove whatever this writer wrote."""


@attrs.frozen
class FileCheck:
    """What a sink found inside one published file (:meth:`Sink.check_file`).

    :param rows: the rows the file holds, read from the file itself; None when the sink
        cannot tell (the manifest's count stands, vouched for by the SHA-256).
    :param problems: what is wrong, each a phrase that follows the file's path in the
        report (``is not a readable Parquet file (...)``).
    :param rows_from: where the rows were counted, for the report (``its footer``).
    """

    rows: int | None = None
    problems: tuple[str, ...] = ()
    rows_from: str = "the file"


class Sink(abc.ABC):
    """Where exported tables go, published atomically.

    :param target: the output directory (or the sink's own target string).
    :param options: sink options (``JobSpec.sink_options``); validate them in ``__init__``
        and raise :class:`adu_core.errors.UsageError` on a bad one.
    :param job_id: the job's id, recorded in every file's metadata.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: how messages and the web form name it; default: :attr:`name`.
    title: ClassVar[str] = ""
    #: the options it takes (``--sink-option KEY=VALUE``).
    option_schema: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, target: str, options: Mapping[str, Any] | None = None, *, job_id: str) -> None:
        self.target = target
        self.options: Mapping[str, Any] = self.check_options(options)
        self.job_id = job_id

    @classmethod
    def label(cls) -> str:
        """:attr:`title`, or :attr:`name` when there is none."""
        return cls.title or cls.name

    @classmethod
    def all_options(cls) -> tuple[Option, ...]:
        """Every option a job may give this sink: its :attr:`option_schema`."""
        return cls.option_schema

    @classmethod
    def check_options(cls, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """``options`` checked against :meth:`all_options` (typed values).

        :raises adu_core.errors.UsageError: an unknown key or a bad value, in one line.
        """
        return check_options(cls.all_options(), options, what="sink option", owner=cls.label())

    @classmethod
    def check_file(cls, path: Path, table: ManifestTable, *, quarantine: bool = False) -> FileCheck:
        """Far side (``adu verify``, no job and no target): look inside one published file
        of ``table``, already hashed, and say how many rows it holds and what is wrong
        with it (an unreadable file, a schema that differs from ``table.columns``).

        Runs on verify's thread pool, one call per file at once: keep it thread-safe and
        read only what it needs (a footer, not the data). Default: nothing is checked
        beyond the SHA-256 (rows None).

        :param quarantine: a quarantine file (its rows broke checks; it carries one more
            column, ``_adu_failed_checks``, after the table's).
        """
        return FileCheck()

    @classmethod
    def open_files(cls, paths: Sequence[Path]) -> pyarrow.dataset.Dataset:
        """Far side: published files of one table (all in this sink's format, already
        checked to lie inside the export) as one pyarrow dataset, read lazily: what
        ``adu.open_export`` hands out (as a dataset, a polars LazyFrame, a DuckDB
        relation), ``adu inspect`` and the web preview show. Default: these files cannot
        be read back (:class:`~adu_core.errors.UsageError`).
        """
        from adu_core.errors import UsageError

        raise UsageError(f"the {cls.label()} sink cannot read its files back")

    def shared_directory(self) -> Path | None:
        """The local directory every worker of the job writes into (its staging), or None
        when workers write elsewhere (a database). An executor that runs partitions on
        other hosts (Dask) writes a marker file there and each task refuses to run when it
        cannot see it: such a directory must be on storage every worker mounts at the
        same path. Valid after :meth:`prepare`."""
        return None

    @abc.abstractmethod
    def prepare(self, *, overwrite: bool, retry: bool = False) -> None:
        """Coordinator, before any data: check the target is writable and not already an
        export (unless ``overwrite``; ``retry`` keeps the published tables of an earlier
        attempt of the same job). Raise :class:`UsageError` otherwise."""

    @abc.abstractmethod
    def open_partition(self, partition: Partition, *, attempt: int = 1, quarantine: bool = False) -> PartitionWriter:
        """Worker: a writer for ``partition`` (``quarantine``: for rows that broke checks,
        whose batches carry an extra ``_adu_failed_checks`` column)."""

    @abc.abstractmethod
    def publish_table(
        self, table: TableInfo, results: Sequence[PartitionResult]
    ) -> tuple[list[FileResult], list[FileResult]]:
        """Coordinator: move the staged files of a complete table into place, atomically.

        Returns the published data files and quarantine files (paths relative to the
        target). Replaces what an earlier attempt published for the same table.
        """

    @abc.abstractmethod
    def discard_table(self, table: TableInfo) -> None:
        """Coordinator: throw away the staged files of a table that failed."""

    def sync_staged(self, results: Sequence[PartitionResult]) -> None:  # noqa: B027 - optional hook
        """Coordinator, optional: make the staged files of ``results`` (the partitions that
        came back at one moment, before they are recorded done) durable in one go. :meth:`publish_table` must make
        its files durable before it publishes them whether or not this ran; a sink whose
        workers leave that to the coordinator can flush many files here at once (one
        ``syncfs`` instead of an ``fsync`` per file). Errors are ignored (publishing then
        syncs file by file and reports its own)."""

    @abc.abstractmethod
    def staged_files(self, table: TableInfo, results: Sequence[PartitionResult]) -> list[str]:
        """Coordinator: absolute paths of the staged data files (for table-wide checks)."""

    @abc.abstractmethod
    def finalize(self, manifest: Manifest, *, sign_key: str | None = None) -> str:
        """Coordinator, last: write the manifest (and its signature, with the private key
        in file ``sign_key``) with :func:`adu_core.manifest.write_manifest`; return its
        path."""

    @abc.abstractmethod
    def read_manifest(self) -> Manifest | None:
        """The manifest already in the target (:func:`adu_core.manifest.load_manifest`),
        or None (used to merge a retry)."""

    def close(self) -> None:  # noqa: B027 - optional hook for subclasses
        """Remove staging leftovers of this job."""

    def abandon(self) -> None:  # noqa: B027 - optional hook for subclasses
        """Any process, after the process running this job died (its lease expired):
        remove what that attempt staged. Must leave alone staging a live process still
        uses, and what is the user's data (an overwritten export kept until the job ends)."""

    def check_published(self, entries: Sequence[Mapping[str, Any]]) -> dict[tuple[str, str], list[str]]:
        """Coordinator, before a retry: check that the tables an earlier attempt published
        are still there as its manifest ``entries`` describe them. Returns the problems of
        each ``(schema, name)`` that does not check (absent: it checks). The default checks
        nothing: a sink that cannot check trusts what it published."""
        return {}

    def unpublish_table(self, schema: str, name: str) -> None:  # noqa: B027 - optional hook for subclasses
        """Coordinator: take a table an earlier attempt published out of the target (it
        failed in this one), so the manifest describes every table the target holds."""


# -------------------------------------------------------------------------- load sinks

#: what ``--if-exists`` may say (``fail`` is the default): see :class:`LoadSink`.
IF_EXISTS = ("fail", "replace", "truncate", "append")

#: the options every load sink takes (``adu load --if-exists``); ``schema_map`` (a mapping
#: source schema -> target schema) is checked apart, as it is not a scalar.
LOAD_OPTIONS: tuple[Option, ...] = (
    Option(
        "if_exists",
        choices=IF_EXISTS,
        default="fail",
        help="a table already on the target: fail, replace it, truncate it first, or append to it",
    ),
)


@attrs.frozen
class LoadedTable:
    """A table a load sink has published on its target.

    :param schema: the target schema (after ``schema_map``).
    :param name: the target table.
    :param rows: rows loaded (checked against the export's count before publishing).
    :param created: the table did not exist before this load.
    :param text_columns: columns the target has no exact type for, kept as text (the job
        report names them).
    :param notes: anything else the job report should say (``COPY format binary``).
    """

    schema: str
    name: str
    rows: int
    created: bool = True
    text_columns: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "rows": self.rows,
            "created": self.created,
            "text_columns": list(self.text_columns),
            "notes": list(self.notes),
        }


@attrs.frozen
class LoadChain:
    """An export that is a link of a chain of repeated transfers (it has watermarks or a
    ``previous``), as a load sees it.

    :param source: the exported source (the manifest's ``source.url``, no password).
    :param manifest_sha256: SHA-256 of the export's ``manifest.json``.
    :param previous_sha256: the manifest a delta continues; None for a full export (a base).
    :param job_id: the load job's id.
    """

    source: str
    manifest_sha256: str
    previous_sha256: str | None
    job_id: str


@attrs.frozen
class ChainDecision:
    """What a load sink decided for a :class:`LoadChain` (see :meth:`LoadSink.begin_chain`).

    :param apply: False when the target already holds this export (a no-op that says so).
    :param message: what happens, for the job's report (``delta 2 after manifest 3f…``).
    :param position: the export's place in the chain once applied (0: a base).
    :param done: tables an interrupted earlier load of the same export already applied.
    """

    apply: bool
    message: str
    position: int = 0
    done: frozenset[str] = frozenset()


class LoadSink(abc.ABC):
    """The far side of the gap: a database an export is loaded into (``adu load``).

    The load job's coordinator opens the export with its source (the Parquet plugin's
    export source, which verifies every file first), then calls :meth:`load_table` for
    each table, several tables at once on threads of one process: each call must use its
    own connections. A table is published atomically: a failure, a cancel or a kill
    leaves the target as it was, and loading it again never duplicates rows.

    ``if_exists`` (:data:`IF_EXISTS`) says what happens to a table already on the target:
    ``fail`` (the default: refused before any row moves), ``replace`` (swapped in one
    transaction), ``truncate`` (emptied and filled in one transaction) or ``append``
    (inserted in one transaction).

    :param url: the target's URL, password included (never store or log it).
    :param options: the sink options of the job, ``if_exists`` and ``schema_map``
        included (see :meth:`check_options`).
    :param job_id: the load job's id (names staging tables).
    """

    #: registered name, e.g. ``postgresql``.
    name: ClassVar[str]
    #: URL schemes this sink writes to, e.g. ``("postgresql", "postgres")``.
    schemes: ClassVar[tuple[str, ...]]
    description: ClassVar[str] = ""
    #: how messages name it; default: :attr:`name`.
    title: ClassVar[str] = ""
    #: the options it takes besides :data:`LOAD_OPTIONS` and ``schema_map``.
    option_schema: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, url: str, options: Mapping[str, Any] | None = None, *, job_id: str) -> None:
        self.url = url
        self.options: Mapping[str, Any] = self.check_options(options)
        self.job_id = job_id

    @property
    def if_exists(self) -> str:
        return str(self.options.get("if_exists") or "fail")

    @property
    def schema_map(self) -> Mapping[str, str]:
        return dict(self.options.get("schema_map") or {})

    def target_schema(self, schema: str) -> str:
        """Where a table of source schema ``schema`` goes."""
        return self.schema_map.get(schema, schema)

    @classmethod
    def label(cls) -> str:
        return cls.title or cls.name

    @classmethod
    def all_options(cls) -> tuple[Option, ...]:
        return LOAD_OPTIONS + cls.option_schema

    @classmethod
    def check_options(cls, options: Mapping[str, Any] | None) -> dict[str, Any]:
        """``options`` checked (typed values); ``schema_map`` must map names to names.

        :raises adu_core.errors.UsageError: an unknown key or a bad value, in one line.
        """
        from adu_core.errors import UsageError

        rest = dict(options or {})
        mapping = rest.pop("schema_map", None) or {}
        if not isinstance(mapping, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and k and v for k, v in mapping.items()
        ):
            raise UsageError("schema_map must map source schema names to target schema names")
        out = check_options(cls.all_options(), rest, what="load option", owner=cls.label())
        if mapping:
            out["schema_map"] = dict(mapping)
        return out

    @classmethod
    def accepts(cls, url: str) -> bool:
        """Whether this sink writes to ``url`` (default: its scheme is one of :attr:`schemes`)."""
        try:
            scheme = urlsplit(url).scheme.lower()
        except ValueError:
            return False
        return bool(scheme) and scheme in cls.schemes

    def check(self) -> None:  # noqa: B027 - optional hook for subclasses
        """Coordinator, before any table: reach the target and check the credentials
        (raise :class:`adu_core.errors.ConnectError`)."""

    def begin_chain(self, chain: LoadChain) -> ChainDecision:
        """Coordinator, before any table of an export that is a link of a chain: decide
        from what the target records whether to apply it (a base, or the delta that
        continues the last export applied), skip it (already applied) or refuse it (raise
        :class:`adu_core.errors.AduError` naming both manifests). Default: a base is loaded
        as any export; a delta is refused (this sink cannot merge one)."""
        if chain.previous_sha256 is not None:
            from adu_core.errors import UsageError

            raise UsageError(f"the {self.label()} load sink cannot apply a delta (an incremental export)")
        return ChainDecision(apply=True, message="a full export")

    def end_chain(self, chain: LoadChain, decision: ChainDecision) -> None:  # noqa: B027 - optional hook
        """Coordinator, after every table of the export loaded: record that the target now
        holds it (the next delta must continue it)."""

    def check_loaded(self, table: TableInfo, loaded: LoadedTable) -> str | None:
        """Coordinator, when a load job runs again (requeued after its worker died, or
        ``adu jobs retry``): ``table`` of the export was published by an earlier run of
        this job as ``loaded`` (what the job store recorded). Return what is wrong with it
        on the target (it is then loaded again), or None when it is there as recorded (it
        is kept, not loaded twice). Default: None (the sink cannot look)."""
        return None

    @abc.abstractmethod
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
        """Coordinator thread: load ``table`` and publish it atomically.

        :param table: the table as the export describes it (source types, keys, and the
            export's facts in ``properties``: ``pg_types`` for PostgreSQL).
        :param source: the opened export; ``source.read(partition, ...)`` streams a
            partition's batches. Partitions of the Parquet export source also carry their
            file in ``partition.spec["path"]`` for sinks that read Parquet themselves.
        :param expected_rows: the row count the export recorded (the sink refuses to
            publish another count).
        :param connections: how many connections this table may use at once.
        :param cancel: set when the job must stop: stop and leave the target unchanged.
        :param report: call with the rows sent so far (progress).
        :raises adu_core.errors.AduError: the table failed (one line; target unchanged).
        """

    def close(self) -> None:  # noqa: B027 - optional hook for subclasses
        """Release what the sink holds."""


RegisterLoadSink = Callable[[type[LoadSink]], None]


# -------------------------------------------------------------------------- validators


@attrs.define
class BatchVerdict:
    """What a validator found in one batch.

    :param failed: a boolean array, True for each row that broke at least one check;
        None when every row passed.
    :param reasons: for each row, the names of the checks it broke (a ``list<string>``
        array aligned with the batch); None when every row passed.
    """

    failed: pa.BooleanArray | None = None
    reasons: pa.Array | None = None


class TableValidator(abc.ABC):
    """Worker and coordinator: the checks of one table. Must be picklable.

    In a worker, :meth:`validate` is called for every batch and accumulates counts and
    samples; :meth:`partial` returns them (picklable). The coordinator then calls
    :meth:`merge` on every partition's partial and :meth:`check_table` on the staged
    files for checks over the whole table (uniqueness).
    """

    #: ``fail``, ``quarantine`` or ``warn``.
    mode: str = "fail"

    @abc.abstractmethod
    def validate(self, batch: pa.RecordBatch) -> BatchVerdict:
        """Worker: check one batch."""

    @abc.abstractmethod
    def partial(self) -> Any:
        """Worker: the counts and samples accumulated so far (picklable)."""

    @abc.abstractmethod
    def merge(self, partials: Sequence[Any]) -> ValidationReport:
        """Coordinator: one report from the partials of every partition."""

    def check_table(self, files: Sequence[str]) -> list[CheckResult]:
        """Coordinator: table-wide checks over the staged data files. Default: none."""
        return []


class Validator(abc.ABC):
    """A kind of validation, registered by name.

    :param options: ``{"rules": <path or module:Class or None>, "infer": bool}``.
    """

    name: ClassVar[str]
    description: ClassVar[str] = ""
    #: how messages name it; default: :attr:`name`.
    title: ClassVar[str] = ""
    #: the options it takes besides ``rules`` and ``infer``, which the engine gives every
    #: validator (:data:`~adu_core.plugin.options.VALIDATION_OPTIONS`).
    option_schema: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, options: Mapping[str, Any] | None = None) -> None:
        self.options: Mapping[str, Any] = check_options(
            self.all_options(), options, what="validator option", owner=self.title or self.name
        )

    @classmethod
    def all_options(cls) -> tuple[Option, ...]:
        """Every option a job gives this validator: ``rules`` and ``infer``, then its own."""
        return VALIDATION_OPTIONS + cls.option_schema

    def check_rules(self, tables: Sequence[TableInfo]) -> None:  # noqa: B027
        """Coordinator, before the job starts: reject unknown tables, columns and checks
        with :class:`adu_core.errors.UsageError` (naming the line and what was expected)."""

    @abc.abstractmethod
    def for_table(self, table: TableInfo) -> TableValidator | None:
        """The checks for ``table``, or None when there are none."""


RegisterSource = Callable[[type[Source]], None]
RegisterSink = Callable[[type[Sink]], None]
RegisterValidator = Callable[[type[Validator]], None]

#: name of the column the engine adds to quarantined batches.
FAILED_CHECKS_COLUMN = "_adu_failed_checks"


# --------------------------------------------------------------------------- executors


@attrs.frozen
class ExecutorContext:
    """What an executor is given for one job (coordinator side).

    :param job_id: the job's id.
    :param workers: how many partitions may run at once (at least 1).
    :param plugins: the job's plugins. Threads of this process use them as they are;
        another process or host rebuilds the same set from ``plugins.portable()`` (a
        picklable :class:`~adu_core.plugin.manager.PluginSet`), never from its own
        environment, so every worker sees the plugins the job was planned with.
    :param log_path: the job's log file (JSON lines); a worker process appends to it
        through :func:`adu_core.logs.job_logging` (``whole_process=True``).
    :param log_level: the level of the job log.
    :param secrets: values a worker process must mask in its logs
        (:func:`adu_core.secrets.remember_secret`).
    :param mp_start: start method of local process pools (None: Python's default).
    :param settings: the settings of the process running the job.
    """

    job_id: str
    workers: int
    plugins: Plugins
    log_path: str | None
    log_level: str
    secrets: tuple[str, ...]
    mp_start: str | None
    settings: Settings


class Executor(abc.ABC):
    """Coordinator: runs the partitions of one job (threads, a process pool, a cluster).

    The engine builds one executor per job (``cls(context)``), submits every partition,
    collects :meth:`progress` and finished futures in its loop, calls :meth:`cancel` when
    the job must stop, and :meth:`shutdown` at the end whatever happened. All methods are
    called from the one thread that runs the job.

    A submitted :class:`~adu_core.engine.partition.PartitionTask` is picklable (it carries
    the source URL with its password: memory only, never stored or logged). The worker
    that receives it calls :func:`adu_core.engine.run_partition` with a
    :class:`~adu_core.engine.partition.PartitionRuntime` holding the job's plugins, a
    :class:`CancelToken` that :meth:`cancel` sets, a ``report`` callable whose
    :class:`~adu_core.engine.partition.PartitionProgress` messages (table, partition, rows,
    bytes) come back through :meth:`progress`, and the worker's name, which the result
    carries (:attr:`~adu_core.models.PartitionResult.worker`) into the store. The result is
    small: file names, counts, hashes and validation partials, never data.
    """

    #: registered name, the value of ``ADU_EXECUTOR``.
    name: ClassVar[str]
    #: one line shown by ``adu plugins``.
    description: ClassVar[str] = ""
    #: how messages name it (``name`` when empty).
    title: ClassVar[str] = ""
    #: the settings it reads, for ``adu plugins`` (executors take no job options: they are
    #: chosen and configured per process, by environment variables).
    option_schema: ClassVar[tuple[Option, ...]] = ()

    @classmethod
    def all_options(cls) -> tuple[Option, ...]:
        """What ``adu plugins`` lists for it: its :attr:`option_schema`."""
        return cls.option_schema

    def __init__(self, context: ExecutorContext) -> None:
        self.context = context

    def where(self) -> str:
        """Where partitions run, for the job log (``in threads``, ``on tcp://host:8786``)."""
        return f"on the {self.name} executor"

    @abc.abstractmethod
    def submit(self, task: PartitionTask) -> Future[PartitionResult]:
        """Start ``task`` (now or when a worker is free) and return its future.

        The future's result is the partition's :class:`~adu_core.models.PartitionResult`,
        failures included (:func:`~adu_core.engine.run_partition` turns them into results);
        an exception from the future means the worker itself was lost (killed, out of
        memory) and the engine records the partition failed.
        """

    @abc.abstractmethod
    def cancel(self) -> None:
        """Tell every partition to stop, without waiting: running ones see their
        :class:`CancelToken` set between batches (and stop the read on the server); those
        not started yet return a cancelled result at once."""

    @abc.abstractmethod
    def progress(self) -> list[PartitionProgress]:
        """The progress messages received since the last call, without waiting."""

    @abc.abstractmethod
    def shutdown(self) -> None:
        """Wait for running partitions to return, drop the ones not started, and release
        what the executor holds (pools, connections, queues). Called once per job."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.shutdown()


RegisterExecutor = Callable[[type[Executor]], None]
