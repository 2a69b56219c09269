"""Vertica type names (as ``v_catalog.columns.data_type`` shows them) to Arrow types.

Every Vertica type gets an exact Arrow form:

========================  ==========================================================
Vertica                   Arrow (``properties["encoding"]`` when not the obvious one)
========================  ==========================================================
INTEGER (all int names)   int64
FLOAT                     float64 (NaN and ±Infinity kept)
NUMERIC(p,s)              decimal128 (p <= 38), decimal256 (p <= 76), else string
                          holding the exact decimal text (``decimal_text``)
CHAR/VARCHAR              string (``max_length``); LONG VARCHAR: large_string
BINARY/VARBINARY          binary (``max_length``); LONG VARBINARY: large_binary
BOOLEAN, DATE, TIME       bool, date32, time64[us]
TIMETZ                    struct<time: time64[us] local, utc_offset_s: int32>
                          (``timetz_struct``)
TIMESTAMP / TIMESTAMPTZ   timestamp[us] / timestamp[us, UTC]
INTERVAL day-to-second    duration[us]
INTERVAL year-to-month    int64 months (``months``)
UUID                      arrow.uuid extension (16 bytes)
ARRAY[t] / SET[t]         list<t> (SET: ``properties["set"] = True``)
ROW(a t, ...)             struct<a: t, ...>
GEOMETRY / GEOGRAPHY      large_string, the WKT of ``ST_AsText`` (``wkt``)
anything else             string, ``CAST(... AS VARCHAR)`` (``text``)
========================  ==========================================================

That table is the ``exact`` far-side profile. The ``portable`` profile (the source option
``profile``, set from the job's ``--profile``; the default) writes only what DuckDB,
polars, pandas and Spark all read without changing a value (Spark refuses a whole file
holding Parquet's UUID or TIME type; decimal256 is refused by Spark and polars and read
as DOUBLE by DuckDB), at the top level and inside ARRAY/SET/ROW alike:

========================  ==========================================================
UUID                      fixed_size_binary(16) without ``arrow.uuid`` (``uuid-bytes``)
TIME                      int64 microseconds since midnight (``time-micros``)
TIMETZ                    struct<time: int64 µs local, utc_offset_s: int32>
                          (``timetz-micros``)
NUMERIC(p,s), 38 < p      string, the exact decimal text with s decimals
                          (``decimal_text``)
ARRAY/SET/ROW holding     the same nesting with those element types
one of them               (``portable-nested``; ``adu.source_type`` names the exact type)
========================  ==========================================================

INTERVAL (duration[us], int64 months), the other types and the other nestings are the
same in both profiles (Parquet INT64 and the types every reader has).
"""

from __future__ import annotations

import decimal
import re
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

#: Vertica's HASH() returns a value in [0, 2**63).
HASH_SPACE = 1 << 63


@dataclass
class VerticaType:
    """A parsed Vertica type name."""

    kind: str
    length: int | None = None
    precision: int | None = None
    scale: int | None = None
    element: VerticaType | None = None
    fields: list[tuple[str, VerticaType]] = field(default_factory=list)
    interval_range: str | None = None


_ALIASES = {
    "int": "int",
    "integer": "int",
    "bigint": "int",
    "smallint": "int",
    "tinyint": "int",
    "int8": "int",
    "float": "float",
    "float8": "float",
    "double precision": "float",
    "real": "float",
    "double": "float",
    "numeric": "numeric",
    "decimal": "numeric",
    "number": "numeric",
    "money": "numeric",
    "char": "char",
    "character": "char",
    "varchar": "varchar",
    "character varying": "varchar",
    "long varchar": "long varchar",
    "binary": "binary",
    "varbinary": "varbinary",
    "bytea": "varbinary",
    "raw": "varbinary",
    "long varbinary": "long varbinary",
    "boolean": "boolean",
    "bool": "boolean",
    "date": "date",
    "time": "time",
    "timetz": "timetz",
    "time with time zone": "timetz",
    "timestamp": "timestamp",
    "datetime": "timestamp",
    "smalldatetime": "timestamp",
    "timestamp without time zone": "timestamp",
    "timestamptz": "timestamptz",
    "timestamp with time zone": "timestamptz",
    "uuid": "uuid",
    "geometry": "geometry",
    "geography": "geography",
}


def parse_type(text: str) -> VerticaType:
    """Parse ``numeric(20,6)``, ``Array[varchar(10)]``, ``Row(a int, b date)``, ...

    Unknown names give ``VerticaType("unknown")`` (exported as text).
    """
    t = text.strip()
    low = t.lower()
    m = re.fullmatch(r"(array|set)\s*\[(.*)\]", t, re.IGNORECASE | re.DOTALL)
    if m:
        parts = split_top(m.group(2))
        return VerticaType(m.group(1).lower(), element=parse_type(parts[0]))
    m = re.fullmatch(r"row\s*\((.*)\)", t, re.IGNORECASE | re.DOTALL)
    if m:
        fields = []
        for part in split_top(m.group(1)):
            part = part.strip()
            if part.startswith('"'):
                end = part.index('"', 1)
                name, typ = part[1:end], part[end + 1 :]
            else:
                name, _, typ = part.partition(" ")
            fields.append((name, parse_type(typ)))
        return VerticaType("row", fields=fields)
    if low.startswith("interval"):
        rng = low[len("interval") :].strip() or "day to second"
        rng = re.sub(r"\(\d+\)", "", rng).strip()
        ym = "year" in rng or "month" in rng
        return VerticaType("interval ym" if ym else "interval ds", interval_range=rng)
    m = re.fullmatch(r"([a-z ]+?)\s*(?:\((\d+)(?:\s*,\s*(\d+))?\))?", low)
    if not m or m.group(1) not in _ALIASES:
        return VerticaType("unknown")
    kind = _ALIASES[m.group(1)]
    a = int(m.group(2)) if m.group(2) else None
    b = int(m.group(3)) if m.group(3) else None
    if kind == "numeric":
        return VerticaType(kind, precision=a or 37, scale=b if b is not None else (15 if a is None else 0))
    if kind in ("time", "timetz", "timestamp", "timestamptz"):
        return VerticaType(kind, precision=a)
    return VerticaType(kind, length=a)


def split_top(text: str) -> list[str]:
    """Split on the commas that are not inside brackets or parentheses."""
    out: list[str] = []
    depth = 0
    cur: list[str] = []
    for ch in text:
        if ch in "([":
            depth += 1
        elif ch in ")]":
            depth -= 1
        if ch == "," and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    if cur:
        out.append("".join(cur))
    return [p.strip() for p in out]


TIMETZ_ARROW = pa.struct([pa.field("time", pa.time64("us")), pa.field("utc_offset_s", pa.int32())])
#: TIMETZ in the portable profile: the local time as int64 microseconds since midnight
TIMETZ_MICROS_ARROW = pa.struct([pa.field("time", pa.int64()), pa.field("utc_offset_s", pa.int32())])

#: the far-side profiles (``adu_core.models.PROFILES``) and the source's default
PROFILES = ("portable", "exact")
DEFAULT_PROFILE = "portable"
#: ``adu.encoding`` markers of the portable profile (the first two as the PostgreSQL
#: source writes them, so every loader restores them the same way)
UUID_BYTES = "uuid-bytes"
TIME_MICROS = "time-micros"
TIMETZ_MICROS = "timetz-micros"
DECIMAL_TEXT = "decimal_text"
PORTABLE_NESTED = "portable-nested"
_NOTES = {
    UUID_BYTES: "uuid as its 16 bytes (FIXED_LEN_BYTE_ARRAY(16) without the UUID annotation)",
    TIME_MICROS: "time as int64 microseconds since midnight",
    TIMETZ_MICROS: "timetz as struct<time: int64 microseconds since midnight (local), utc_offset_s: int32>",
    DECIMAL_TEXT: "numeric beyond precision 38 as exact text",
    PORTABLE_NESTED: "uuid, time, timetz and numeric beyond precision 38 inside it as in the portable profile",
}


def arrow_type(vt: VerticaType, profile: str = "exact") -> pa.DataType:
    """The Arrow type ADU exports values of ``vt`` as, in the far-side ``profile``."""
    k = vt.kind
    portable = profile == "portable"
    if k == "int":
        return pa.int64()
    if k == "float":
        return pa.float64()
    if k == "numeric":
        p = vt.precision or 37
        if p <= 38:
            return pa.decimal128(p, vt.scale or 0)
        if p <= 76 and not portable:
            return pa.decimal256(p, vt.scale or 0)
        return pa.string()
    if k in ("char", "varchar"):
        return pa.string()
    if k in ("long varchar", "geometry", "geography"):
        return pa.large_string()
    if k in ("binary", "varbinary"):
        return pa.binary()
    if k == "long varbinary":
        return pa.large_binary()
    if k == "boolean":
        return pa.bool_()
    if k == "date":
        return pa.date32()
    if k == "time":
        return pa.int64() if portable else pa.time64("us")
    if k == "timetz":
        return TIMETZ_MICROS_ARROW if portable else TIMETZ_ARROW
    if k == "timestamp":
        return pa.timestamp("us")
    if k == "timestamptz":
        return pa.timestamp("us", tz="UTC")
    if k == "interval ds":
        return pa.duration("us")
    if k == "interval ym":
        return pa.int64()
    if k == "uuid":
        return pa.binary(16) if portable else pa.uuid()
    if k in ("array", "set"):
        assert vt.element is not None
        return pa.list_(arrow_type(vt.element, profile))
    if k == "row":
        return pa.struct([pa.field(n, arrow_type(t, profile)) for n, t in vt.fields])
    return pa.string()


def portable_differs(vt: VerticaType) -> bool:
    """True when the portable profile writes ``vt`` differently from the exact one."""
    return bool(arrow_type(vt, "portable") != arrow_type(vt, "exact"))


def portable_encoding(vt: VerticaType) -> str | None:
    """The ``adu.encoding`` the portable profile gives a column of ``vt`` (None: unchanged)."""
    if not portable_differs(vt):
        return None
    return {"uuid": UUID_BYTES, "time": TIME_MICROS, "timetz": TIMETZ_MICROS, "numeric": DECIMAL_TEXT}.get(
        vt.kind, PORTABLE_NESTED
    )


def properties(vt: VerticaType, row: dict[str, Any], profile: str = "exact") -> dict[str, Any]:
    """ColumnInfo properties: facts validators use, and how odd values are encoded."""
    k = vt.kind
    props: dict[str, Any] = {}
    if k in ("char", "varchar", "long varchar", "binary", "varbinary", "long varbinary") and vt.length:
        props["max_length"] = vt.length
    if k == "char" or k == "binary":
        props["fixed_length"] = True
    if k == "numeric":
        props["precision"] = vt.precision
        props["scale"] = vt.scale
        if (vt.precision or 0) > 76:
            props["encoding"] = "decimal_text"
    if k in ("time", "timetz", "timestamp", "timestamptz"):
        props["seconds_precision"] = 6 if vt.precision is None else vt.precision
    if k == "timetz":
        props["encoding"] = "timetz_struct"
    if k == "interval ym":
        props["encoding"] = "months"
    if k in ("interval ds", "interval ym"):
        props["interval_range"] = vt.interval_range
    if k in ("geometry", "geography"):
        props["encoding"] = "wkt"
    if k == "set":
        props["set"] = True
    if k == "unknown":
        props["encoding"] = "text"
    encoding = portable_encoding(vt) if profile == "portable" else None
    if encoding is not None:
        props["encoding"] = encoding
        props["profile_note"] = _NOTES[encoding]
    if row.get("is_identity"):
        props["identity"] = True
    if row.get("column_default"):
        props["default"] = row["column_default"]
    return props


def quote_ident(name: str) -> str:
    """A Vertica identifier, always quoted."""
    return '"' + name.replace('"', '""') + '"'


def select_expr(name: str, vt: VerticaType) -> str:
    """What ``SELECT`` asks for so the wire carries the exact value for ``vt``."""
    q = quote_ident(name)
    if vt.kind == "numeric" and (vt.precision or 0) > 76:
        return f"CAST({q} AS VARCHAR({(vt.precision or 0) + 3}))"
    if vt.kind in ("geometry", "geography"):
        return f"ST_AsText({q})"
    if vt.kind == "unknown":
        return f"CAST({q} AS VARCHAR(65000))"
    return q


# ------------------------------------------------------------------ the portable profile


def to_portable(arr: pa.Array, vt: VerticaType) -> pa.Array:
    """Values of ``vt`` decoded in the exact profile's Arrow type, in the portable one's."""
    if not portable_differs(vt):
        return arr
    return _convert(arr, vt, portable=True)


def from_portable(arr: pa.Array, vt: VerticaType) -> pa.Array:
    """The inverse of :func:`to_portable`: the exact profile's Arrow values again."""
    if not portable_differs(vt) or arr.type == arrow_type(vt, "exact"):
        return arr
    return _convert(arr, vt, portable=False)


def _convert(arr: pa.Array, vt: VerticaType, *, portable: bool) -> pa.Array:
    import pyarrow.compute as pc  # when data moves: the plugin's import (every CLI start) stays light

    k = vt.kind
    target = arrow_type(vt, "portable" if portable else "exact")
    if arr.type == target:
        return arr
    mask = arr.is_null() if arr.null_count else None
    if k == "uuid":
        if portable:
            return arr.storage if isinstance(arr, pa.ExtensionArray) else arr.cast(pa.binary(16))
        return pa.ExtensionArray.from_storage(target, arr.cast(pa.binary(16)))
    if k == "time":
        return arr.cast(target)
    if k == "timetz":
        assert isinstance(arr, pa.StructArray)
        t = arr.field(0).cast(target.field(0).type)
        return pa.StructArray.from_arrays([t, arr.field(1)], fields=list(target), mask=mask)
    if k == "numeric":
        if portable:  # exact decimal text, every scale digit written (as Vertica prints it)
            return pa.array([None if v is None else format(v, "f") for v in arr.to_pylist()], pa.string())
        return pa.array([None if v is None else decimal.Decimal(v) for v in arr.to_pylist()], target)
    if k in ("array", "set"):
        assert vt.element is not None and isinstance(arr, pa.ListArray)
        offsets = arr.offsets
        start = offsets[0].as_py()
        values = arr.values.slice(start, offsets[-1].as_py() - start)
        rebased = pc.subtract(offsets, pa.scalar(start, offsets.type))
        items = _convert(values, vt.element, portable=portable)
        return pa.ListArray.from_arrays(rebased, items, type=target, mask=mask)
    if k == "row":
        assert isinstance(arr, pa.StructArray)
        children = [_convert(arr.field(i), t, portable=portable) for i, (_n, t) in enumerate(vt.fields)]
        return pa.StructArray.from_arrays(children, fields=list(target), mask=mask)
    return arr.cast(target)
