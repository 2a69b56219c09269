"""Parquet encodings and zstd levels per column, chosen by Arrow type (and, for strings, by a
trial on the first rows), so the files are small without costing the export time.

Measured on issue 19's 3M-row table and on random data (``bench/pg_export.py`` prints the
per-column table against DuckDB's files; zstd level 1 everywhere unless said):

=======================  ======================  ==========================================
Arrow type               encoding                why
=======================  ======================  ==========================================
integers, dates, times,  DELTA_BINARY_PACKED     timestamps 19.0 -> 0.2 MB (DuckDB 11.8);
timestamps, durations,                           random int64 0.83x PLAIN, random int32
decimals stored as                               0.87x, sorted timestamps with jitter
INT32/INT64                                      0.57x; encoding CPU equal or lower (less
                                                 data reaches zstd)
float32, float64         BYTE_STREAM_SPLIT       random doubles 0.92x PLAIN, generated
                                                 doubles 0.29x; CPU lower
strings, binary          PLAIN, DELTA_BYTE_      trial on the first 4,096 values of the
                         ARRAY or DELTA_LENGTH_  file (when its first row group holds at
                         BYTE_ARRAY              least 16,384 rows; PLAIN for smaller
                                                 files): the smaller delta encoding when
                                                 it is at least 3% smaller than PLAIN there.
                                                 Text with shared prefixes (ids in text,
                                                 JSON documents with the same keys):
                                                 DELTA_BYTE_ARRAY, 0.23-0.49x; prefix-poor,
                                                 high-entropy text (uuids as text, hashes,
                                                 random text): DELTA_LENGTH_BYTE_ARRAY
                                                 (lengths apart from the bytes), 0.92-0.94x
                                                 and 20-35% less CPU than PLAIN, whose
                                                 4-byte length before every value gives
                                                 zstd a short match per value; ordinary
                                                 text stays PLAIN
booleans                 PLAIN, zstd level 6     a bit per value; level 6 halves what level
                                                 1 leaves, on data this small it costs
                                                 nothing
anything else            PLAIN                   fixed-size binary (uuid), wide decimals,
                                                 nested columns
=======================  ======================  ==========================================

Dictionary-encoded columns (chosen by the writer for repeated values) keep dictionary
encoding: Parquet allows one or the other per column. Every encoding here is part of the
Parquet format 2 specification and read by pyarrow, DuckDB, polars, Spark 3.3+ and
parquet-mr 1.12+.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa
from adu_core.lazy import lazy_module

if TYPE_CHECKING:
    import pyarrow.parquet as pq
else:  # pyarrow.parquet imports pyarrow's file systems (S3, GCS, ssl): ~9 ms an export never uses
    pq = lazy_module("pyarrow.parquet")

#: values of a string column encoded both ways to choose
STRING_TRIAL_ROWS = 4096
#: files whose first row group has fewer rows skip the trial (PLAIN): ~1.7 ms per string
#: column per file is 15% of a 5,000-row table's export, for a few KB either way
STRING_TRIAL_MIN_ROWS = 16_384
#: a delta encoding is kept only when the trial shows at least this saving over PLAIN
STRING_DELTA_GAIN = 0.97
#: the string encodings tried against PLAIN
STRING_DELTA_ENCODINGS = ("DELTA_BYTE_ARRAY", "DELTA_LENGTH_BYTE_ARRAY")
#: zstd level for boolean columns
BOOLEAN_ZSTD_LEVEL = 6


def _storage(typ: pa.DataType) -> pa.DataType:
    return typ.storage_type if isinstance(typ, pa.BaseExtensionType) else typ


def integer_encoded(typ: pa.DataType, decimal_as_integer: bool) -> bool:
    """Whether Parquet stores ``typ`` as INT32/INT64 (what DELTA_BINARY_PACKED encodes)."""
    t = _storage(typ)
    if pa.types.is_decimal(t):
        return decimal_as_integer and t.precision <= 18
    return bool(
        pa.types.is_integer(t)
        or pa.types.is_date(t)
        or pa.types.is_time(t)
        or pa.types.is_timestamp(t)
        or pa.types.is_duration(t)
    )


def _is_text(typ: pa.DataType) -> bool:
    t = _storage(typ)
    return bool(
        pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t)
    )


def _trial_size(column: pa.ChunkedArray, encoding: str | None, compression: str, level: int | None) -> int:
    table = pa.table({"c": column})
    buf = pa.BufferOutputStream()
    kwargs: dict[str, Any] = {"compression": compression, "compression_level": level, "use_dictionary": False}
    if encoding is not None:
        kwargs["column_encoding"] = {"c": encoding}
    pq.write_table(table, buf, **kwargs)
    meta = pq.read_metadata(pa.BufferReader(buf.getvalue()))
    return sum(meta.row_group(g).column(0).total_compressed_size for g in range(meta.num_row_groups))


def string_encoding(column: pa.ChunkedArray, compression: str, level: int | None) -> str | None:
    """The delta encoding that writes the first values of ``column`` clearly smaller than
    PLAIN (:data:`STRING_DELTA_ENCODINGS`, the smaller of them), or None for PLAIN."""
    if len(column) < STRING_TRIAL_MIN_ROWS:
        return None
    sample = column.slice(0, STRING_TRIAL_ROWS)
    if len(sample) - sample.null_count < 2:
        return None
    if isinstance(sample.type, pa.BaseExtensionType):
        sample = pa.chunked_array([c.storage for c in sample.chunks], sample.type.storage_type)
    plain = _trial_size(sample, None, compression, level)
    size, encoding = min((_trial_size(sample, e, compression, level), e) for e in STRING_DELTA_ENCODINGS)
    return encoding if size <= plain * STRING_DELTA_GAIN else None


def choose(
    group: pa.Table,
    paths: Sequence[Sequence[str]],
    dictionary: Sequence[str] | bool,
    *,
    compression: str,
    level: int | None,
    decimal_as_integer: bool,
) -> tuple[dict[str, str], dict[str, int] | None]:
    """(leaf path -> encoding, leaf path -> zstd level or None) for the file whose first
    row group is ``group``; ``paths`` are each field's leaf paths, ``dictionary`` the
    dictionary-encoded leaf paths (True: every column, then no encoding is chosen)."""
    encodings: dict[str, str] = {}
    levels: dict[str, int] = {}
    dict_paths = set() if isinstance(dictionary, bool) else set(dictionary)
    for field, column, leaves in zip(group.schema, group.columns, paths, strict=True):
        if len(leaves) != 1:
            continue  # nested: Parquet's defaults
        (leaf,) = leaves
        typ = _storage(field.type)
        if compression == "zstd" and level is not None:
            levels[leaf] = max(level, BOOLEAN_ZSTD_LEVEL) if pa.types.is_boolean(typ) else level
        if dictionary is True or leaf in dict_paths:
            continue
        if integer_encoded(typ, decimal_as_integer):
            encodings[leaf] = "DELTA_BINARY_PACKED"
        elif pa.types.is_float32(typ) or pa.types.is_float64(typ):
            encodings[leaf] = "BYTE_STREAM_SPLIT"
        elif _is_text(typ) and (chosen := string_encoding(column, compression, level)) is not None:
            encodings[leaf] = chosen
    return encodings, (levels or None)
