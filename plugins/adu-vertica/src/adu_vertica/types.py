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
"""

from __future__ import annotations

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


def arrow_type(vt: VerticaType) -> pa.DataType:
    """The Arrow type ADU exports values of ``vt`` as."""
    k = vt.kind
    if k == "int":
        return pa.int64()
    if k == "float":
        return pa.float64()
    if k == "numeric":
        p = vt.precision or 37
        if p <= 38:
            return pa.decimal128(p, vt.scale or 0)
        if p <= 76:
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
        return pa.time64("us")
    if k == "timetz":
        return TIMETZ_ARROW
    if k == "timestamp":
        return pa.timestamp("us")
    if k == "timestamptz":
        return pa.timestamp("us", tz="UTC")
    if k == "interval ds":
        return pa.duration("us")
    if k == "interval ym":
        return pa.int64()
    if k == "uuid":
        return pa.uuid()
    if k in ("array", "set"):
        assert vt.element is not None
        return pa.list_(arrow_type(vt.element))
    if k == "row":
        return pa.struct([pa.field(n, arrow_type(t)) for n, t in vt.fields])
    return pa.string()


def properties(vt: VerticaType, row: dict[str, Any]) -> dict[str, Any]:
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
