"""The worker side of the Parquet sink: one :class:`ParquetPartitionWriter` per partition.

A writer streams batches into staging files inside the export directory. Batches are
buffered until a row group is full (``row_group_size`` rows or ``row_group_bytes`` of
Arrow data), so memory is bounded by one row group per writer and every row group has
the configured size whatever the source's batch size. When a file reaches
``max_file_bytes`` the next row group goes to a new file. Each file is hashed as it grows
(the bytes of every row group are read back from the page cache right after they are
written: Parquet files are written front to back, never rewritten), so :meth:`close` only
hashes the footer: no second pass over a big file while the job waits for its last
partition. The writer does not flush its files to disk: the coordinator does, before it
publishes them (:meth:`ParquetSink.sync_staged` and :meth:`ParquetSink.publish_table`),
many files at once where it can (an ``fsync`` per file was ~4 ms of a worker's time each,
a third of a 5,000-row table's export).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow._parquet as _parquet
from adu_core.lazy import lazy_module
from adu_core.models import FileResult
from adu_core.plugin.components import PartitionWriter
from adu_core.verify import sha256_file

from adu_parquet import encodings
from adu_parquet.options import ParquetOptions

if TYPE_CHECKING:
    import pyarrow.parquet as pq
else:  # pyarrow.parquet imports pyarrow's file systems (S3, GCS, ssl): ~9 ms an export never uses
    pq = lazy_module("pyarrow.parquet")

#: rows of the first row group looked at to choose dictionary-encoded columns
DICTIONARY_SAMPLE_ROWS = 20_000
#: a column is dictionary-encoded when at most this share of its sampled values differ
DICTIONARY_MAX_DISTINCT = 0.5
#: rows looked at first: a column whose values all (nearly) differ there is taken as
#: unique without counting the whole sample (ids, timestamps, floats, free text: the
#: columns whose distinct count is the dearest)
DICTIONARY_PROBE_ROWS = 1024
DICTIONARY_UNIQUE_SHARE = 0.98
#: a row group this small is written without dictionaries (see choose_dictionary_columns)
PLAIN_ROWS = 64


#: :class:`pyarrow.parquet.ParquetWriter`'s defaults, given to the Cython writer under it
#: (whose own defaults differ: no compression, the library's format version)
WRITER_DEFAULTS: dict[str, Any] = {
    "version": "2.6",
    "use_dictionary": True,
    "compression": "snappy",
    "write_statistics": True,
    "use_deprecated_int96_timestamps": False,
    "writer_engine_version": "V2",
    "data_page_version": "1.0",
    "use_compliant_nested_type": True,
    "store_schema": True,
}


def open_parquet_writer(
    path: Path,
    schema: pa.Schema,
    options: ParquetOptions,
    dictionary_columns: list[str] | None = None,
    plan: tuple[dict[str, str], dict[str, int] | None] | None = None,
) -> _parquet.ParquetWriter:
    """A Parquet writer on a local path: pyarrow's Cython writer, which opens the file
    itself (C++ I/O, no Python file), with :class:`pyarrow.parquet.ParquetWriter`'s
    defaults (a test checks the files are the same, byte for byte). That class only adds
    a file-system lookup for the path, and importing its module imports pyarrow's file
    systems (S3, GCS, ssl): ~9 ms of a small export's start.

    :param plan: encodings and zstd levels per leaf column (:func:`encoding_plan`).
    """
    kwargs = options.writer_kwargs(dictionary_columns)
    if kwargs.get("write_statistics") is True:
        kwargs["write_statistics"] = statistics_columns(schema)
    if plan is not None:
        column_encoding, levels = plan
        if column_encoding:
            kwargs["column_encoding"] = column_encoding
        if levels:
            kwargs["compression_level"] = levels
    return _parquet.ParquetWriter(str(path), schema, **{**WRITER_DEFAULTS, **kwargs})


def encoding_plan(
    group: pa.Table, options: ParquetOptions, dictionary_columns: list[str] | None
) -> tuple[dict[str, str], dict[str, int] | None]:
    """Encodings and zstd levels per leaf column for a file whose first row group is
    ``group`` (chosen by Arrow type: :mod:`adu_parquet.encodings`)."""
    dictionary: list[str] | bool = bool(options.dictionary) if options.dictionary != "auto" else True
    if options.dictionary == "auto":
        dictionary = dictionary_columns if dictionary_columns is not None else True
    return encodings.choose(
        group,
        leaf_paths(group.schema),
        dictionary,
        compression=options.compression,
        level=options.compression_level,
        decimal_as_integer=options.decimal_as_integer,
    )


def statistics_columns(schema: pa.Schema) -> bool | list[str]:
    """The leaf columns that get statistics: every one but the booleans (True: all of them).

    Arrow's C++ writer writes a column chunk's statistics only together with statistics in
    every data page header, ~16 bytes a page: on a boolean column, whose values take one
    bit each, that is more than its data (bench/pg_export.py's mixed table, 3M values in 26
    row groups: 1,898 bytes with statistics, 1,482 without, DuckDB's 1,569), and a boolean's
    min/max rarely lets a reader skip anything. Other columns keep them (null counts and
    min/max are what readers skip row groups by). Booleans inside lists and structs lose
    theirs too.
    """
    return _statistics_columns(schema)


@functools.lru_cache(maxsize=64)
def _statistics_columns(schema: pa.Schema) -> bool | list[str]:
    flags = [pa.types.is_boolean(leaf) for field in schema for leaf in _leaf_types(field.type)]
    if not any(flags):
        return True
    paths = [path for field_paths in leaf_paths(schema) for path in field_paths]
    return [path for path, boolean in zip(paths, flags, strict=True) if not boolean]


def _leaf_types(typ: pa.DataType) -> list[pa.DataType]:
    """The types of the Parquet leaf columns an Arrow type becomes, in the file's order."""
    if isinstance(typ, pa.BaseExtensionType):
        return _leaf_types(typ.storage_type)
    if pa.types.is_struct(typ):
        return [leaf for f in typ for leaf in _leaf_types(f.type)]
    if pa.types.is_map(typ):
        return _leaf_types(typ.key_type) + _leaf_types(typ.item_type)
    if pa.types.is_list(typ) or pa.types.is_large_list(typ) or pa.types.is_fixed_size_list(typ):
        return _leaf_types(typ.value_type)
    return [typ]


def _leaf_count(typ: pa.DataType) -> int:
    """How many Parquet leaf columns an Arrow type becomes."""
    return len(_leaf_types(typ))


def leaf_paths(schema: pa.Schema) -> list[list[str]]:
    """For each field of ``schema``, the dotted paths of its Parquet leaf columns."""
    if all(_leaf_count(field.type) == 1 and not _is_nested(field.type) for field in schema):
        return [[field.name] for field in schema]  # a flat schema: a leaf per field, named as it
    return [list(paths) for paths in _leaf_paths(schema)]


def _is_nested(typ: pa.DataType) -> bool:
    storage = typ.storage_type if isinstance(typ, pa.BaseExtensionType) else typ
    return bool(pa.types.is_nested(storage))


@functools.lru_cache(maxsize=64)
def _leaf_paths(schema: pa.Schema) -> tuple[tuple[str, ...], ...]:
    """:func:`leaf_paths`, once per schema (the writer asks twice per file, and an export
    of many small tables has many files; each answer writes and reads an empty file: ~0.3 ms)."""
    buf = pa.BufferOutputStream()
    pq.write_table(pa.Table.from_batches([], schema=schema), buf)  # empty_table() builds no list<arrow.uuid>
    meta = pq.read_metadata(pa.BufferReader(buf.getvalue())).schema
    paths = [meta.column(i).path for i in range(len(meta))]
    out, pos = [], 0
    for field in schema:
        n = _leaf_count(field.type)
        out.append(tuple(paths[pos : pos + n]))
        pos += n
    return tuple(out)


def choose_dictionary_columns(group: pa.Table) -> list[str]:
    """Leaf paths worth dictionary-encoding, judged on the first rows of ``group``.

    Dictionary encoding pays off for repeated values and costs time and bytes on unique
    ones (ids, timestamps, measurements, UUIDs): the C++ writer fills a dictionary page
    before it falls back to plain encoding. Nested and dictionary columns keep it. A group
    of at most :data:`PLAIN_ROWS` rows is written plain without counting anything (a few
    bytes either way; counting imports ``pyarrow.compute``, ~0.04 s of a tiny export).
    """
    sample = group.slice(0, DICTIONARY_SAMPLE_ROWS)
    chosen: list[str] = []
    for field, column, paths in zip(group.schema, sample.columns, leaf_paths(group.schema), strict=True):
        typ = field.type
        storage = typ.storage_type if isinstance(typ, pa.BaseExtensionType) else typ
        if pa.types.is_nested(storage) or pa.types.is_dictionary(storage):
            chosen.extend(paths)
            continue
        if pa.types.is_boolean(storage) or len(group) <= PLAIN_ROWS:
            continue  # booleans are bit-packed; a dictionary never helps
        if isinstance(typ, pa.BaseExtensionType):
            column = pa.chunked_array([c.storage for c in column.chunks], typ.storage_type)
        try:
            if len(column) > DICTIONARY_PROBE_ROWS and _looks_unique(column.slice(0, DICTIONARY_PROBE_ROWS)):
                continue
            valid = len(column) - column.null_count
            distinct = _distinct(column)
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            chosen.extend(paths)
            continue
        if valid == 0 or distinct <= valid * DICTIONARY_MAX_DISTINCT:
            chosen.extend(paths)
    return chosen


def _distinct(values: pa.ChunkedArray) -> int:
    """How many distinct non-null values ``values`` holds. ``ChunkedArray.unique`` (nulls
    count as one value there) costs ~40% of ``pc.count_distinct``'s ~110 us per call,
    which ran for every column of every file: 0.3 s of CPU over 200 small tables."""
    return len(values.unique()) - (1 if values.null_count else 0)


def _looks_unique(probe: pa.ChunkedArray) -> bool:
    """Whether (nearly) every non-null value of ``probe`` differs (nulls do not count)."""
    valid = len(probe) - probe.null_count
    if valid < DICTIONARY_PROBE_ROWS // 2:
        return False
    distinct = _distinct(probe)
    return bool(distinct >= valid * DICTIONARY_UNIQUE_SHARE)


class GrowingFileHash:
    """SHA-256 of a file that is only ever appended to, read as it grows.

    :meth:`catch_up` hashes the bytes written since the last call (from the page cache);
    :meth:`finish` hashes the rest and returns ``(sha256, size)``: the same as
    :func:`adu_core.verify.sha256_file` of the finished file. It does not flush the file
    to disk: the coordinator does, before it publishes it.
    """

    CHUNK = 1 << 20

    def __init__(self, path: Path) -> None:
        self._fd: int | None = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        self._hash = hashlib.sha256()
        self._size = 0
        self._buf = bytearray(self.CHUNK)

    def catch_up(self) -> None:
        assert self._fd is not None
        view = memoryview(self._buf)
        while n := os.preadv(self._fd, [self._buf], self._size):
            self._hash.update(view[:n])
            self._size += n

    def finish(self) -> tuple[str, int]:
        self.catch_up()
        self.close()
        return self._hash.hexdigest(), self._size

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None


def write_empty_file(path: Path, schema: pa.Schema, options: ParquetOptions) -> FileResult:
    """A Parquet file with ``schema`` and no rows (a table with no rows still has a file)."""
    open_parquet_writer(path, schema, options).close()
    digest, size = sha256_file(path, fsync=True)
    return FileResult(path=str(path), rows=0, bytes=size, sha256=digest)


def conform(batch: pa.RecordBatch, schema: pa.Schema) -> pa.RecordBatch:
    """``batch`` carrying ``schema`` (and its field metadata), zero-copy when types match."""
    if batch.schema is schema:
        return batch
    if batch.schema.equals(schema, check_metadata=False):
        return pa.RecordBatch.from_arrays(batch.columns, schema=schema)
    if batch.schema.names != schema.names:
        raise ValueError(f"batch columns {batch.schema.names} differ from the table's columns {schema.names}")
    try:
        return pa.RecordBatch.from_arrays(
            [col.cast(field.type) for col, field in zip(batch.columns, schema, strict=True)], schema=schema
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"batch does not fit the table's schema: {exc}") from exc


class ParquetPartitionWriter(PartitionWriter):
    """Writes one partition's batches to ``<staging_dir>/<stem>-NNNNN.parquet`` files.

    :param root: the export directory (returned paths are relative to it).
    :param staging_dir: where the files go (inside ``root``).
    :param stem: file name prefix, unique per partition and attempt.
    :param schema: the file schema, with ADU's field and file metadata; for a quarantine
        writer the failed-checks column is added from the first batch when missing.
    :param quarantine_column: name of the extra column of quarantine batches, or None.
    """

    def __init__(
        self,
        *,
        root: Path,
        staging_dir: Path,
        stem: str,
        schema: pa.Schema,
        options: ParquetOptions,
        quarantine_column: str | None = None,
    ) -> None:
        self.root = root
        self.staging_dir = staging_dir
        self.stem = stem
        self.schema = schema
        self.options = options
        self.quarantine_column = quarantine_column
        self._schema_ready = quarantine_column is None or quarantine_column in schema.names
        #: a row group is cut at this many bytes of Arrow data
        self._group_bytes = options.row_group_bytes
        if options.max_file_bytes:
            self._group_bytes = min(self._group_bytes, options.max_file_bytes)
        self._buffer: list[pa.RecordBatch] = []
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self._writer: _parquet.ParquetWriter | None = None
        self._path: Path | None = None
        self._file_rows = 0
        self._last_group_bytes = 0
        self._done: list[tuple[Path, int, tuple[str, int]]] = []  # closed files: rows, (sha256, size)
        self._hash: GrowingFileHash | None = None  # of the open file
        self._written_bytes = 0  # bytes of closed files
        self._dictionary_columns: list[str] | None = None  # chosen on the first row group
        self._plan: tuple[dict[str, str], dict[str, int] | None] | None = None  # encodings, same
        self._closed = False

    # -- writing ---------------------------------------------------------------------

    def write(self, batch: pa.RecordBatch) -> int:
        if self._closed:
            raise RuntimeError("writer is closed")
        if not self._schema_ready:
            self._add_quarantine_field(batch)
        if batch.num_rows == 0:
            return self.bytes_written()
        batch = conform(batch, self.schema)
        self._buffer.append(batch)
        self._buffered_rows += batch.num_rows
        self._buffered_bytes += batch.nbytes  # bytes referenced: right for slices too
        if self._buffered_rows >= self.options.row_group_size or self._buffered_bytes >= self._group_bytes:
            self._flush(final=False)
        return self.bytes_written()

    def _add_quarantine_field(self, batch: pa.RecordBatch) -> None:
        assert self.quarantine_column is not None
        idx = batch.schema.get_field_index(self.quarantine_column)
        typ = batch.schema.field(idx).type if idx >= 0 else pa.list_(pa.string())
        self.schema = self.schema.append(pa.field(self.quarantine_column, typ))
        self._schema_ready = True

    def _flush(self, *, final: bool) -> None:
        """Write buffered rows as full row groups (and the rest too when ``final``).

        A group holds ``row_group_size`` rows, or fewer when that many rows would exceed
        the byte bound (``row_group_bytes``, and ``max_file_bytes`` so files can rotate).
        """
        if not self._buffer:
            return
        table = pa.Table.from_batches(self._buffer, schema=self.schema)
        nbytes = self._buffered_bytes
        self._buffer, self._buffered_rows, self._buffered_bytes = [], 0, 0
        size = self.options.row_group_size
        if nbytes > self._group_bytes and table.num_rows > 1:
            size = min(size, max(1, table.num_rows * self._group_bytes // nbytes))
        offset = 0
        while table.num_rows - offset >= size:
            self._write_group(table.slice(offset, size))
            offset += size
        rest = table.slice(offset)
        if rest.num_rows == 0:
            return
        if final:
            self._write_group(rest)
        else:
            self._buffer = rest.to_batches()
            self._buffered_rows = rest.num_rows
            self._buffered_bytes = rest.nbytes

    def _write_group(self, group: pa.Table) -> None:
        limit = self.options.max_file_bytes
        if self._writer is not None and limit and self._file_rows:
            size = self._current_size()
            if size + self._last_group_bytes > limit:
                self._close_file()
        if self._writer is None:
            self._open_file(group)
        assert self._writer is not None
        before = self._current_size()
        self._writer.write_table(group, row_group_size=group.num_rows)
        self._file_rows += group.num_rows
        self._last_group_bytes = self._current_size() - before
        if self._hash is not None:
            self._hash.catch_up()

    def _current_size(self) -> int:
        if self._path is None:
            return 0
        try:
            return os.stat(self._path).st_size
        except FileNotFoundError:
            return 0

    def _open_file(self, first_group: pa.Table) -> None:
        self.staging_dir.mkdir(parents=True, exist_ok=True)
        self._path = self.staging_dir / f"{self.stem}-{len(self._done):05d}.parquet"
        if self.options.dictionary == "auto" and self._dictionary_columns is None:
            self._dictionary_columns = choose_dictionary_columns(first_group)
        if self._plan is None:
            self._plan = encoding_plan(first_group, self.options, self._dictionary_columns)
        self._writer = open_parquet_writer(self._path, self.schema, self.options, self._dictionary_columns, self._plan)
        self._hash = GrowingFileHash(self._path)
        self._file_rows = 0

    def _close_file(self) -> None:
        assert self._writer is not None and self._path is not None and self._hash is not None
        self._writer.close()
        digest = self._hash.finish()  # the coordinator syncs before publishing
        self._written_bytes += digest[1]
        self._done.append((self._path, self._file_rows, digest))
        self._writer, self._path, self._file_rows, self._hash = None, None, 0, None

    def bytes_written(self) -> int:
        """Bytes on disk so far (closed files plus the open one)."""
        return self._written_bytes + self._current_size()

    # -- ending ----------------------------------------------------------------------

    def close(self) -> list[FileResult]:
        if self._closed:
            raise RuntimeError("writer is closed")
        self._flush(final=True)
        if self._writer is not None:
            self._close_file()
        self._closed = True
        return [
            FileResult(path=path.relative_to(self.root).as_posix(), rows=rows, bytes=size, sha256=digest)
            for path, rows, (digest, size) in self._done
        ]

    def abort(self) -> None:
        self._closed = True
        self._buffer = []
        if self._hash is not None:
            self._hash.close()
            self._hash = None
        if self._writer is not None:
            with contextlib.suppress(Exception):
                self._writer.close()
            assert self._path is not None
            self._done.append((self._path, self._file_rows, ("", 0)))
            self._writer = None
        for path, _rows, _digest in self._done:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()
        self._done = []
