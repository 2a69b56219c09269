"""The data model shared by the engine, the store, the plugins and the frontends.

Everything here is an attrs class. Two families:

* *Descriptions* of what a source holds (:class:`ColumnInfo`, :class:`TableInfo`,
  :class:`Partition`, :class:`SourceInfo`): made by source plugins, read by everyone.
* *Job* objects (:class:`JobSpec` and the results): a :class:`JobSpec` is what a user asks
  for; it round-trips through JSON and YAML and its stored form never holds a secret.
"""

from __future__ import annotations

import fnmatch
import functools
import json
from collections.abc import Iterable, Mapping, Sequence
from enum import Enum
from typing import TYPE_CHECKING, Any

import attrs

from adu_core.errors import UsageError
from adu_core.lazy import lazy_module
from adu_core.secrets import redact_url

if TYPE_CHECKING:
    import pyarrow as pa
    import yaml
else:  # imported when data moves or a YAML spec is read: `adu --help` needs neither
    pa = lazy_module("pyarrow")
    yaml = lazy_module("yaml")

#: Field metadata key holding the source type of a column, e.g. ``numeric(20,6)``.
SOURCE_TYPE_KEY = b"adu.source_type"
#: Field metadata key holding how a value that Arrow cannot hold natively was encoded.
ENCODING_KEY = b"adu.encoding"


#: what a job does: ``export`` a database to files, ``load`` an export into a database.
JOB_KINDS = ("export", "load")


class JobStatus(str, Enum):
    """Life cycle of a job. ``partial``: some tables succeeded and some failed."""

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    PARTIAL = "partial"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STALE = "stale"

    @property
    def finished(self) -> bool:
        return self not in (JobStatus.QUEUED, JobStatus.RUNNING)


class TableStatus(str, Enum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


# --------------------------------------------------------------------------- descriptions


@attrs.frozen
class ColumnInfo:
    """One column of a source table.

    :param name: the column name exactly as the source spells it.
    :param source_type: the source's own type name, e.g. ``numeric(20,6)`` or ``mood``.
    :param arrow_type: the Arrow type the source plugin produces for this column.
    :param nullable: False when the source declares the column NOT NULL.
    :param properties: facts validators may use: ``max_length``, ``precision``,
        ``scale``, ``enum`` (a list of members), ``encoding`` (how a value without an
        Arrow type is represented), ``base_type`` for domains, ``field_metadata`` (more
        ``adu.*`` keys of the Arrow field: conventions a reader needs, e.g. ``adu.infinity``),
        ``fallback`` (``text``: the column was read as exact text because a value has no
        Arrow type), ``placeholder`` (a hidden column that only carries the row count of a
        table without columns; loaders drop it).
    """

    name: str
    source_type: str
    arrow_type: pa.DataType
    nullable: bool = True
    properties: Mapping[str, Any] = attrs.field(factory=dict)

    def arrow_field(self) -> pa.Field:
        meta = {SOURCE_TYPE_KEY: self.source_type.encode()}
        enc = self.properties.get("encoding")
        if enc:
            meta[ENCODING_KEY] = str(enc).encode()
        for key, value in (self.properties.get("field_metadata") or {}).items():
            meta[str(key).encode()] = str(value).encode()
        return pa.field(self.name, self.arrow_type, nullable=self.nullable, metadata=meta)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "source_type": self.source_type,
            "arrow_type": str(self.arrow_type),
            "nullable": self.nullable,
            "properties": dict(self.properties),
        }


@attrs.frozen
class TableInfo:
    """A table (or view) a source can export.

    :param schema: schema (namespace) name as the source spells it.
    :param name: table name as the source spells it.
    :param kind: ``table``, ``partitioned``, ``unlogged``, ``view``, ``matview``, ``foreign``.
    :param columns: the exported columns, in order.
    :param primary_key: column names of the primary key, if any.
    :param unique_keys: column-name tuples of every unique constraint.
    :param row_estimate: the source's estimate of the row count (not exact).
    :param size_bytes: the on-disk size the source reports.
    :param ddl: a CREATE TABLE statement the far side can run.
    :param properties: source-specific facts (leaf partitions, segmentation, ...).
    """

    schema: str
    name: str
    columns: tuple[ColumnInfo, ...]
    kind: str = "table"
    primary_key: tuple[str, ...] = ()
    unique_keys: tuple[tuple[str, ...], ...] = ()
    row_estimate: int | None = None
    size_bytes: int | None = None
    ddl: str | None = None
    properties: Mapping[str, Any] = attrs.field(factory=dict)
    #: :meth:`arrow_schema`, once built (not a field of the description: never compared,
    #: and a changed copy, ``attrs.evolve``, builds its own)
    _arrow: pa.Schema | None = attrs.field(default=None, init=False, eq=False, repr=False)

    @property
    def qualified_name(self) -> str:
        """``schema.name``: the key the engine, the store and rules files use."""
        return f"{self.schema}.{self.name}"

    def arrow_schema(self) -> pa.Schema:
        """The Arrow schema of the columns (their source types in the field metadata),
        built once: a worker asks for it for every partition (the read, the file's
        schema), ~30 us each time."""
        if self._arrow is None:
            object.__setattr__(self, "_arrow", pa.schema([c.arrow_field() for c in self.columns]))
        assert self._arrow is not None
        return self._arrow

    def column(self, name: str) -> ColumnInfo:
        for c in self.columns:
            if c.name == name:
                return c
        raise KeyError(name)

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": self.schema,
            "name": self.name,
            "kind": self.kind,
            "columns": [c.to_dict() for c in self.columns],
            "primary_key": list(self.primary_key),
            "unique_keys": [list(k) for k in self.unique_keys],
            "row_estimate": self.row_estimate,
            "size_bytes": self.size_bytes,
            "ddl": self.ddl,
            "properties": _jsonable(self.properties),
        }


@attrs.frozen
class Partition:
    """A slice of one table that one worker reads on its own.

    :param table: the table this partition belongs to.
    :param index: position of this partition, 0-based.
    :param count: number of partitions of the table.
    :param spec: source-specific description (page range, leaf relation, hash range).
    :param estimated_rows: for progress and ETA; may be None.
    """

    table: TableInfo
    index: int
    count: int
    spec: Mapping[str, Any] = attrs.field(factory=dict)
    estimated_rows: int | None = None

    @property
    def label(self) -> str:
        return f"{self.table.qualified_name}#{self.index + 1}/{self.count}"


@attrs.frozen
class SourceInfo:
    """What the manifest says about the source.

    :param url: the source URL with the password removed.
    :param kind: source plugin name, e.g. ``postgresql``.
    :param server_version: the server's version string.
    :param consistency: the point in time the data was read at, e.g.
        ``{"snapshot": "00000003-0000001B-1", "lsn": "0/1A2B3C"}`` or ``{"epoch": 42}``.
    """

    url: str
    kind: str
    server_version: str | None = None
    consistency: Mapping[str, Any] = attrs.field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "url": redact_url(self.url),
            "kind": self.kind,
            "server_version": self.server_version,
            "consistency": _jsonable(self.consistency),
        }


# --------------------------------------------------------------------------- job spec


@attrs.frozen
class TableSelection:
    """Which tables a job exports.

    Patterns are shell globs (``fnmatch``) matched case-sensitively against
    ``schema.table``; an empty selection means every table the source lists.

    :param schemas: whole schemas to export.
    :param tables: ``schema.table`` names or patterns.
    :param exclude: ``schema.table`` patterns removed from the result.
    """

    schemas: tuple[str, ...] = ()
    tables: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()

    def matches(self, table: TableInfo) -> bool:
        q = table.qualified_name
        if _matches_any(q, self.exclude):
            return False
        if not self.schemas and not self.tables:
            return True
        if _matches_any(table.schema, self.schemas):
            return True
        return _matches_any(q, self.tables)

    def may_match(self, schema: str, name: str) -> bool:
        """Whether the table ``schema.name`` is one :meth:`select` can choose or needs for
        its checks (``exclude`` left out: a schema whose every table is excluded still
        exists). A source filters its discovery with it (:attr:`Source.discover_matches`)."""
        if not self.schemas and not self.tables:
            return True
        if _matches_any(schema, self.schemas):
            return True
        return _matches_any(f"{schema}.{name}", self.tables)

    @property
    def one_table(self) -> bool:
        """Whether this selection names exactly one table and nothing else (no schema, no
        pattern): it selects one table at most."""
        return not self.schemas and len(self.tables) == 1 and not _is_pattern(self.tables[0])

    def select(self, tables: Iterable[TableInfo]) -> list[TableInfo]:
        """The matching tables; raise :class:`UsageError` for a named table that is absent."""
        tables = list(tables)
        chosen = [t for t in tables if self.matches(t)]
        known = {t.qualified_name for t in tables}
        for p in self.tables:
            if not _is_pattern(p) and p not in known:
                raise UsageError(f"table {p!r} does not exist in the source")
        schemas = {t.schema for t in tables}
        for s in self.schemas:
            if not _is_pattern(s) and s not in schemas:
                raise UsageError(f"schema {s!r} does not exist in the source (or holds no table)")
        return chosen


def _is_pattern(text: str) -> bool:
    return any(ch in text for ch in "*?[")


@functools.lru_cache(maxsize=256)
def _split_patterns(patterns: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...]]:
    """``patterns`` as the plain names among them and the globs."""
    return frozenset(p for p in patterns if not _is_pattern(p)), tuple(p for p in patterns if _is_pattern(p))


def _matches_any(name: str, patterns: Sequence[str]) -> bool:
    """Whether ``name`` matches one of the shell globs ``patterns`` (case-sensitively): a
    plain name by a set lookup (``--table`` given 200 times, for 200 tables, made 40,000
    ``fnmatch`` calls per selection)."""
    if not patterns:
        return False
    names, globs = _split_patterns(tuple(patterns))
    return name in names or any(fnmatch.fnmatchcase(name, g) for g in globs)


def _cursors(value: Any) -> dict[str, str]:
    """``{"schema.table": column}`` from a mapping or ``schema.table=column`` strings."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items()}
    return dict(parse_cursor(str(v)) for v in _tuple(value))


def parse_cursor(text: str) -> tuple[str, str]:
    """``("schema.table", "column")`` of ``schema.table=column`` (``--cursor``)."""
    table, sep, column = text.rpartition("=")
    if not sep or "." not in table or not column:
        raise UsageError(f"a cursor is schema.table=COLUMN, got {text!r}")
    return table, column


def _tuple(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(str(v) for v in value)


#: far-side profiles of an export (``JobSpec.profile``; ``adu export --profile``): what the
#: Parquet files hold for the readers on the far side (the README's reader matrix)
PROFILES = ("portable", "exact")


@attrs.frozen
class JobSpec:
    """Everything a job needs, and nothing secret.

    :param source: the source URL. Its password is removed before the spec is stored;
        the engine gets it back from the secret the job was submitted with.
    :param target: the output directory (or the sink's target URL).
    :param selection: which tables to export.
    :param sink: the sink plugin name (``parquet`` by default).
    :param sink_options: options of the sink, e.g. ``{"compression": "zstd"}``.
    :param source_options: options of the source, e.g. ``{"infinity": "null"}``.
    :param rules: a rules file path or ``module:Class``; None for inferred rules only.
    :param validate: run the validators (inferred rules at least).
    :param parallel: how many partitions run at once.
    :param overwrite: replace an existing export in ``target``.
    :param sign_key: path of an Ed25519 private key to sign the manifest with.
    :param retry_tables: the tables a retry exports again (its failed or unfinished ones).
    :param retry: this run completes an earlier attempt of the same job: the tables that
        attempt published are kept (checked first, exported again when they do not
        check) and the manifest describes both; ``retry_tables`` may then be empty (only
        the manifest was missing).
    :param name: a free label shown in the dashboard.
    :param profile: the far-side profile (:data:`PROFILES`): ``portable`` (the default)
        writes only what DuckDB, polars, pandas and Spark all read without changing a
        value; ``exact`` keeps the richer Parquet logical types (UUID, TIME, decimals
        beyond precision 38). Recorded in the manifest.
    :param kind: ``export`` (a database to files) or ``load`` (``adu load``: ``source`` is a
        verified export directory, ``target`` a database URL or ``@name``, ``sink`` the load
        sink, ``sink_options`` its ``if_exists`` and ``schema_map``).
    :param cursors: ``{"schema.table": column}``: tables exported with a cursor column
        (monotonically increasing); the manifest records each one's watermark.
    :param after: this job is a delta: an export directory (verified first) or ``last``
        (the last export of this source recorded in the job store); only rows whose
        cursor is past the previous watermark are read.
    """

    source: str
    target: str
    selection: TableSelection = TableSelection()
    sink: str = "parquet"
    sink_options: Mapping[str, Any] = attrs.field(factory=dict)
    source_options: Mapping[str, Any] = attrs.field(factory=dict)
    rules: str | None = None
    validate: bool = True
    parallel: int = 2
    overwrite: bool = False
    sign_key: str | None = None
    retry_tables: tuple[str, ...] = ()
    name: str | None = None
    retry: bool = False
    profile: str = "portable"
    kind: str = "export"
    cursors: Mapping[str, str] = attrs.field(factory=dict)
    after: str | None = None

    def __attrs_post_init__(self) -> None:
        if self.parallel < 1:
            raise UsageError("parallel must be at least 1")
        if self.profile not in PROFILES:
            raise UsageError(f"profile must be one of: {', '.join(PROFILES)} (got {self.profile!r})")
        if self.kind not in JOB_KINDS:
            raise UsageError(f"job kind must be one of: {', '.join(JOB_KINDS)}")
        for table, column in self.cursors.items():
            if not isinstance(table, str) or "." not in table or not isinstance(column, str) or not column:
                raise UsageError(f"a cursor is schema.table=column, got {table!r}={column!r}")
        if self.after is not None and not str(self.after).strip():
            raise UsageError("after: an export directory or 'last'")

    @property
    def is_retry(self) -> bool:
        """This run completes an earlier attempt (``retry``, or a retry recorded before the
        flag existed: ``retry_tables`` alone)."""
        return self.retry or bool(self.retry_tables)

    @property
    def is_load(self) -> bool:
        """An ``adu load`` job (its target is a database)."""
        return self.kind == "load"

    @property
    def database(self) -> str:
        """The URL (or ``@name``) of the database the job talks to: the source of an
        export, the target of a load."""
        return self.target if self.is_load else self.source

    def redacted(self) -> JobSpec:
        """The spec with the password removed from the source URL (and from the target
        URL of a load): the stored form."""
        return attrs.evolve(
            self,
            source=redact_url(self.source, mask=""),
            target=redact_url(self.target, mask="") if self.is_load else self.target,
        )

    def to_dict(self) -> dict[str, Any]:
        spec = self.redacted()
        return {
            "source": spec.source,
            "target": spec.target,
            "selection": {
                "schemas": list(spec.selection.schemas),
                "tables": list(spec.selection.tables),
                "exclude": list(spec.selection.exclude),
            },
            "sink": spec.sink,
            "sink_options": _jsonable(spec.sink_options),
            "source_options": _jsonable(spec.source_options),
            "rules": spec.rules,
            "validate": spec.validate,
            "parallel": spec.parallel,
            "overwrite": spec.overwrite,
            "sign_key": spec.sign_key,
            "retry_tables": list(spec.retry_tables),
            "retry": spec.retry,
            "name": spec.name,
            "profile": spec.profile,
            "kind": spec.kind,
            "cursors": dict(spec.cursors),
            "after": spec.after,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> JobSpec:
        known = {f.name for f in attrs.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise UsageError(f"unknown job spec field(s): {', '.join(sorted(unknown))}")
        if "source" not in data or "target" not in data:
            raise UsageError("a job spec needs 'source' and 'target'")
        sel = data.get("selection") or {}
        if not isinstance(sel, Mapping):
            raise UsageError("'selection' must be a mapping")
        return cls(
            source=str(data["source"]),
            target=str(data["target"]),
            selection=TableSelection(
                schemas=_tuple(sel.get("schemas")),
                tables=_tuple(sel.get("tables")),
                exclude=_tuple(sel.get("exclude")),
            ),
            sink=str(data.get("sink", "parquet")),
            sink_options=dict(data.get("sink_options") or {}),
            source_options=dict(data.get("source_options") or {}),
            rules=data.get("rules"),
            validate=bool(data.get("validate", True)),
            parallel=int(data.get("parallel", 2)),
            overwrite=bool(data.get("overwrite", False)),
            sign_key=data.get("sign_key"),
            retry_tables=_tuple(data.get("retry_tables")),
            retry=bool(data.get("retry", False)),
            name=data.get("name"),
            profile=str(data.get("profile") or "portable"),
            kind=str(data.get("kind") or "export"),
            cursors=_cursors(data.get("cursors")),
            after=str(data["after"]) if data.get("after") is not None else None,
        )

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> JobSpec:
        return cls.from_dict(json.loads(text))

    def to_yaml(self) -> str:
        return yaml.safe_dump(self.to_dict(), sort_keys=True)

    @classmethod
    def from_yaml(cls, text: str) -> JobSpec:
        data = yaml.safe_load(text)
        if not isinstance(data, Mapping):
            raise UsageError("a job spec in YAML must be a mapping")
        return cls.from_dict(data)


# --------------------------------------------------------------------------- results


@attrs.define
class FileResult:
    """One file a sink wrote.

    :param path: relative to the export directory once published; the staging path before.
    """

    path: str
    rows: int
    bytes: int
    sha256: str

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "rows": self.rows, "bytes": self.bytes, "sha256": self.sha256}


@attrs.define
class CheckResult:
    """The outcome of one validation check over a table."""

    check: str
    column: str | None
    failed_rows: int = 0
    samples: list[dict[str, Any]] = attrs.field(factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "column": self.column,
            "failed_rows": self.failed_rows,
            "samples": self.samples,
        }


@attrs.define
class ValidationReport:
    """What validation found in one table."""

    mode: str = "fail"
    checks: list[CheckResult] = attrs.field(factory=list)
    failed_rows: int = 0
    quarantined_rows: int = 0
    quarantine_files: list[FileResult] = attrs.field(factory=list)

    @property
    def passed(self) -> bool:
        return self.failed_rows == 0 and all(c.failed_rows == 0 for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {
            "mode": self.mode,
            "passed": self.passed,
            "failed_rows": self.failed_rows,
            "quarantined_rows": self.quarantined_rows,
            "checks": [c.to_dict() for c in self.checks],
            "quarantine_files": [f.to_dict() for f in self.quarantine_files],
        }


@attrs.define
class ErrorInfo:
    """An error kept for people: message, context and the formatted traceback."""

    message: str
    kind: str = "Error"
    traceback: str | None = None
    context: dict[str, Any] = attrs.field(factory=dict)
    sqlstate: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "message": self.message,
            "kind": self.kind,
            "traceback": self.traceback,
            "context": _jsonable(self.context),
            "sqlstate": self.sqlstate,
        }


@attrs.define
class PartitionResult:
    """What one partition produced (returned from a worker process).

    :param worker: where it ran: ``host:pid`` for the built-in executors, the worker's own
        name (a cluster address) for an executor plugin's; empty when the worker was lost.
    """

    table: str
    index: int
    rows: int = 0
    bytes: int = 0
    files: list[FileResult] = attrs.field(factory=list)
    quarantine_files: list[FileResult] = attrs.field(factory=list)
    validation: Any = None
    error: ErrorInfo | None = None
    cancelled: bool = False
    attempts: int = 1
    worker: str = ""


@attrs.define
class TableResult:
    """The outcome of one table in a job."""

    schema: str
    name: str
    status: TableStatus = TableStatus.PENDING
    rows: int = 0
    bytes: int = 0
    files: list[FileResult] = attrs.field(factory=list)
    validation: ValidationReport | None = None
    error: ErrorInfo | None = None
    started_at: float | None = None
    finished_at: float | None = None

    @property
    def qualified_name(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def duration(self) -> float | None:
        if self.started_at is None or self.finished_at is None:
            return None
        return self.finished_at - self.started_at


@attrs.define
class JobResult:
    """The outcome of a whole job."""

    job_id: str
    status: JobStatus
    tables: list[TableResult] = attrs.field(factory=list)
    source: SourceInfo | None = None
    error: ErrorInfo | None = None
    manifest_path: str | None = None
    #: what else the job's report says (a load's place in a chain of transfers)
    notes: list[str] = attrs.field(factory=list)

    @property
    def rows(self) -> int:
        return sum(t.rows for t in self.tables)

    @property
    def bytes(self) -> int:
        return sum(t.bytes for t in self.tables)


def _jsonable(value: Any) -> Any:
    """A deep copy of ``value`` made of JSON types only (tuples become lists)."""
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    if isinstance(value, Sequence):
        return [_jsonable(v) for v in value]
    return str(value)
