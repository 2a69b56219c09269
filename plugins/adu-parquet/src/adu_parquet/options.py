"""The options of the Parquet sink, validated once, picklable.

=====================  ===========  =====================================================
option                 default      meaning
=====================  ===========  =====================================================
``compression``        ``zstd``     ``zstd``, ``snappy``, ``gzip``, ``lz4`` or ``none``
``compression_level``  zstd: 1     zstd 1-22 (default 1: on mixed data level 3 wrote
                                    within 1% of the bytes and took 30-40% longer,
                                    see bench/parquet_sink.py), gzip 1-9 (codec's
                                    default); snappy, lz4 and none take no level
``row_group_size``     122880       rows per row group (the unit readers skip by)
``row_group_bytes``    64 MiB       a row group is also cut when this many bytes of
                                    Arrow data are buffered: bounds memory per writer
``max_file_bytes``     1 GiB        start a new numbered part file once a file reaches
                                    about this size (FAT32 media hold at most 4 GiB per
                                    file); 0 = never rotate
``dictionary``         auto         dictionary encoding: ``auto`` decides per column from
                                    the first row group (on when at most half the values
                                    are distinct, always for nested and dictionary
                                    columns: measured smaller and faster than all-on),
                                    or true (every column) / false (none)
``statistics``         true         min/max/null-count statistics per column chunk,
                                    booleans apart (see ``writer.statistics_columns``)
``decimal_as_integer`` true         store decimals of precision <= 18 as INT32/INT64
                                    (Parquet spec; smaller and faster to write and read
                                    than fixed-length bytes; set false for old readers)
=====================  ===========  =====================================================

Sizes accept an integer number of bytes or a string with a unit: ``512MB``, ``1GiB``.

Data pages are cut at 1 MiB of encoded data only, not every 20,000 rows as Arrow does by
default: a narrow column (booleans, keys, timestamps, dates) is then one page per row
group, and its page headers, statistics and compression frames no longer outweigh its
data (on the benchmark tables: booleans 2-4x smaller, keys and timestamps 1.5-2.5x).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import attrs
from adu_core.errors import UsageError
from adu_core.plugin.options import Option

COMPRESSIONS = ("zstd", "snappy", "gzip", "lz4", "none")
_LEVELS = {"zstd": (1, 22), "gzip": (1, 9)}
DEFAULT_ZSTD_LEVEL = 1

_UNITS = {
    "": 1,
    "b": 1,
    "k": 1000,
    "kb": 1000,
    "kib": 1024,
    "m": 1000**2,
    "mb": 1000**2,
    "mib": 1024**2,
    "g": 1000**3,
    "gb": 1000**3,
    "gib": 1024**3,
    "t": 1000**4,
    "tb": 1000**4,
    "tib": 1024**4,
}
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-zA-Z]*)\s*$")


def parse_size(name: str, value: Any) -> int:
    """Bytes from an int or a string such as ``"256MiB"``; UsageError otherwise."""
    if isinstance(value, bool):
        raise UsageError(f"sink option {name}: expected a size, got {value!r}")
    if isinstance(value, int):
        n = value
    else:
        m = _SIZE.match(str(value))
        if m is None or m.group(2).lower() not in _UNITS:
            raise UsageError(f"sink option {name}: expected a size such as 512MiB, got {value!r}")
        n = int(float(m.group(1)) * _UNITS[m.group(2).lower()])
    if n < 0:
        raise UsageError(f"sink option {name}: must not be negative")
    return n


def _bool(name: str, value: Any) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise UsageError(f"sink option {name}: expected true or false, got {value!r}")


def _auto_bool(name: str, value: Any) -> bool | str:
    if isinstance(value, str) and value.strip().lower() == "auto":
        return "auto"
    try:
        return _bool(name, value)
    except UsageError:
        raise UsageError(f"sink option {name}: expected auto, true or false, got {value!r}") from None


def _int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool):
        raise UsageError(f"sink option {name}: expected an integer, got {value!r}")
    try:
        n = int(value)
    except (TypeError, ValueError):
        raise UsageError(f"sink option {name}: expected an integer, got {value!r}") from None
    if n < low:
        raise UsageError(f"sink option {name}: must be at least {low}, got {n}")
    return n


#: the sink's options as the CLI, ``adu plugins`` and the web form show and check them;
#: :meth:`ParquetOptions.from_mapping` then checks what depends on several (levels)
OPTIONS: tuple[Option, ...] = (
    Option("compression", choices=COMPRESSIONS, default="zstd", help="Parquet compression codec"),
    Option(
        "compression_level",
        "int",
        minimum=1,
        help="zstd 1-22 (default 1), gzip 1-9 (the codec's default); snappy, lz4 and none take none",
    ),
    Option("row_group_size", "int", default=122_880, minimum=1, help="rows per row group"),
    Option("row_group_bytes", "size", default="64MiB", help="a row group is also cut at this much Arrow data"),
    Option("max_file_bytes", "size", default="1GiB", help="start a new part file at about this size; 0: never rotate"),
    Option(
        "dictionary",
        choices=("auto", "true", "false"),
        default="auto",
        help="dictionary encoding: auto decides per column from the first row group",
    ),
    Option("statistics", "bool", default=True, help="min/max/null-count statistics per column chunk"),
    Option("decimal_as_integer", "bool", default=True, help="decimals of precision <= 18 as INT32/INT64"),
)


@functools.cache
def _pages_take_a_row_limit() -> bool:
    """Whether this pyarrow's writer takes ``max_rows_per_page`` (Arrow 21 and later)."""
    import pyarrow as pa

    return int(pa.__version__.split(".")[0]) >= 21


@attrs.frozen
class ParquetOptions:
    """Validated sink options (see the module docstring)."""

    compression: str = "zstd"
    compression_level: int | None = DEFAULT_ZSTD_LEVEL
    row_group_size: int = 122_880
    row_group_bytes: int = 64 * 1024**2
    max_file_bytes: int = 1024**3
    dictionary: bool | str = "auto"
    statistics: bool = True
    decimal_as_integer: bool = True

    @classmethod
    def from_mapping(cls, options: Mapping[str, Any]) -> ParquetOptions:
        known = {f.name for f in attrs.fields(cls)}
        unknown = sorted(set(options) - known)
        if unknown:
            raise UsageError(
                f"unknown parquet sink option(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})"
            )
        compression = str(options.get("compression", "zstd")).strip().lower()
        if compression not in COMPRESSIONS:
            raise UsageError(f"sink option compression: expected one of {', '.join(COMPRESSIONS)}, got {compression!r}")
        level: int | None
        raw_level = options.get("compression_level")
        if raw_level is None:
            level = DEFAULT_ZSTD_LEVEL if compression == "zstd" else None
        elif compression not in _LEVELS:
            raise UsageError(f"sink option compression_level: {compression} takes no level")
        else:
            low, high = _LEVELS[compression]
            level = _int("compression_level", raw_level, low)
            if level > high:
                raise UsageError(f"sink option compression_level: {compression} levels are {low}-{high}")
        return cls(
            compression=compression,
            compression_level=level,
            row_group_size=_int("row_group_size", options.get("row_group_size", 122_880), 1),
            row_group_bytes=max(1, parse_size("row_group_bytes", options.get("row_group_bytes", 64 * 1024**2))),
            max_file_bytes=parse_size("max_file_bytes", options.get("max_file_bytes", 1024**3)),
            dictionary=_auto_bool("dictionary", options.get("dictionary", "auto")),
            statistics=_bool("statistics", options.get("statistics", True)),
            decimal_as_integer=_bool("decimal_as_integer", options.get("decimal_as_integer", True)),
        )

    def writer_kwargs(self, dictionary_columns: list[str] | None = None) -> dict[str, Any]:
        """Keyword arguments for :class:`pyarrow.parquet.ParquetWriter`.

        :param dictionary_columns: the leaf column paths to dictionary-encode when the
            ``dictionary`` option is ``auto`` (None: every column).
        """
        use_dictionary: bool | list[str] = bool(self.dictionary)
        if self.dictionary == "auto" and dictionary_columns is not None:
            use_dictionary = dictionary_columns
        return {
            "compression": self.compression,
            "compression_level": self.compression_level,
            "use_dictionary": use_dictionary,
            "write_statistics": self.statistics,
            "store_decimal_as_integer": self.decimal_as_integer,
            # pages cut by size alone (see the module docstring)
            **({"max_rows_per_page": self.row_group_size} if _pages_take_a_row_limit() else {}),
        }
