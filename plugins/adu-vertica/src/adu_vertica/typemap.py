"""The Vertica column each exported column is loaded into: the closest exact type.

Input is one Arrow field of an ADU export: its Arrow type, and in its metadata the
source's type name (``adu.source_type``) and how a value without an Arrow type was
encoded (``adu.encoding``). Sources: ADU's PostgreSQL and Vertica sources (their type
names differ in spelling, e.g. ``character varying(40)`` / ``varchar(40)``).

=================================  ======================================  ==========
exported column                    Vertica column                          note
=================================  ======================================  ==========
bool                               BOOLEAN
int8/16/32/64, uint8/16/32         INTEGER                                 -2^63 is refused (Vertica's NULL)
uint64                             NUMERIC(20,0)
float16/32/64                      FLOAT                                   NaN, ±Infinity kept
decimal(p,s), 0 <= s <= p          NUMERIC(p,s)
Vertica numeric(p,s) as text       NUMERIC(p,s)                            from its exact text (``decimal_text``)
PostgreSQL numeric(p,s) as text    NUMERIC(p,s) when p <= 1024             NaN/±Infinity: the load fails
Vertica char/varchar/long varchar  the same type and length
PostgreSQL varchar(n) / char(n)    VARCHAR(4n) (LONG VARCHAR above 65000)  Vertica counts bytes, not characters;
                                                                           char(n) padding kept in the value
PostgreSQL text, name, unbounded   LONG VARCHAR(32000000) / VARCHAR(64)
Vertica binary/varbinary/long      the same type and length
PostgreSQL bytea, other binary     LONG VARBINARY(32000000)
uuid (``uuid-bytes`` too)          UUID
date32                             DATE
time64, ``time-micros`` int64      TIME(p)
Vertica timetz, PostgreSQL timetz  TIMETZ(p)                               offset kept (PostgreSQL: from its text;
                                                                           ``timetz-micros``: int64 local time)
timestamp[us] / [us, tz]           TIMESTAMP(p) / TIMESTAMPTZ(p)
duration[us]                       INTERVAL DAY TO SECOND
Vertica interval year to month     INTERVAL YEAR TO MONTH
=================================  ======================================  ==========

Kept as text (``LONG VARCHAR(32000000)``, listed by :func:`text_columns` so the job
report can say so): PostgreSQL types Vertica lacks (unbounded numeric, json/jsonb, xml,
enums, arrays, ranges, composites, inet/cidr/macaddr, bit strings, tsvector, geometric,
hstore, ...: PostgreSQL's own text of the value, as exported); PostgreSQL interval (months,
days and microseconds cannot be one Vertica interval: ISO 8601 ``P<m>M<d>DT<s>S`` with the
exact seconds); ARRAY/SET/ROW and lists/structs (JSON: the NATIVE load format has no
complex types); GEOMETRY/GEOGRAPHY (their WKT).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence

import attrs
import pyarrow as pa
from adu_core.errors import UsageError

from adu_vertica.types import VerticaType, parse_type, quote_ident

SOURCE_TYPE = b"adu.source_type"
ENCODING = b"adu.encoding"
LONG_TEXT = "LONG VARCHAR(32000000)"
LONG_BINARY = "LONG VARBINARY(32000000)"
VARCHAR_MAX = 65000
LONG_MAX = 32_000_000

#: how a column's Arrow values become the Vertica values (see :mod:`adu_vertica.native`)
DIRECT, DECIMAL_TEXT, PG_TIMETZ, TEXT, JSON, ISO_INTERVAL = (
    "direct",
    "decimal_text",
    "pg_timetz",
    "text",
    "json",
    "iso_interval",
)


@attrs.frozen
class TargetColumn:
    """One column of the target table and how its values are encoded.

    :param name: the column name.
    :param ddl: its Vertica type, e.g. ``NUMERIC(12,2)``.
    :param vtype: ``ddl`` parsed.
    :param convert: how the Arrow values become Vertica values (``direct``, ``text``...).
    :param nullable: False for NOT NULL.
    :param text_reason: why the column is kept as text (None when it is not).
    :param restore: the Vertica type of an export's ``portable-nested`` column, whose
        values are turned back into the exact profile's types first
        (:func:`adu_vertica.types.from_portable`).
    """

    name: str
    ddl: str
    vtype: VerticaType
    convert: str
    nullable: bool = True
    text_reason: str | None = None
    restore: VerticaType | None = None

    def definition(self) -> str:
        return f"{quote_ident(self.name)} {self.ddl}{'' if self.nullable else ' NOT NULL'}"


def _meta(field: pa.Field, key: bytes) -> str:
    raw: bytes = (field.metadata or {}).get(key, b"")
    return raw.decode()


def _col(field: pa.Field, ddl: str, convert: str = DIRECT, reason: str | None = None) -> TargetColumn:
    return TargetColumn(field.name, ddl, parse_type(ddl), convert, field.nullable, reason)


def _text(field: pa.Field, convert: str, reason: str) -> TargetColumn:
    return _col(field, LONG_TEXT, convert, reason)


def _chars(n: int | None, per_char: int = 1) -> str:
    """A character column for ``n`` characters of up to ``per_char`` bytes each."""
    if n is None:
        return LONG_TEXT
    size = max(1, n * per_char)
    return f"VARCHAR({size})" if size <= VARCHAR_MAX else f"LONG VARCHAR({min(size, LONG_MAX)})"


def _length(source_type: str) -> int | None:
    m = re.search(r"\((\d+)\)", source_type)
    return int(m.group(1)) if m else None


def _precision(source_type: str) -> str:
    m = re.search(r"\((\d)\)", source_type)
    return f"({m.group(1)})" if m else ""


def target_column(field: pa.Field) -> TargetColumn:
    """The Vertica column for one exported Arrow field."""
    st = _meta(field, SOURCE_TYPE)
    low = st.lower()
    enc = _meta(field, ENCODING)
    t = field.type
    vt = parse_type(st) if st else VerticaType("unknown")
    if enc == "wkt":
        return _text(field, TEXT, f"{st or 'GEOMETRY'} as WKT")
    if enc == "decimal_text" and vt.kind == "numeric":
        return _col(field, f"NUMERIC({vt.precision},{vt.scale})", DECIMAL_TEXT)
    if enc in ("timetz_struct", "timetz-micros"):  # timetz-micros: the portable profile's timetz
        return _col(field, f"TIMETZ{_precision(st)}")
    if enc == "months":
        return _col(field, "INTERVAL YEAR TO MONTH")
    if enc == "interval-struct":
        return _text(field, ISO_INTERVAL, "PostgreSQL interval (months, days and seconds) as ISO 8601")
    if enc == "time-micros" and pa.types.is_integer(t):  # the portable profile's time
        return _col(field, f"TIME{_precision(st)}")
    if enc == "postgresql-text" and low == "uuid":  # the portable profile's uuid text
        return _col(field, "UUID")
    if enc == "postgresql-text":
        if low.startswith("time") and "with time zone" in low:
            return _col(field, f"TIMETZ{_precision(st)}", PG_TIMETZ)
        m = re.fullmatch(r"numeric\((\d+),(-?\d+)\)", low)
        if m and 0 <= int(m.group(2)) <= int(m.group(1)) <= 1024:
            return _col(field, f"NUMERIC({m.group(1)},{m.group(2)})", DECIMAL_TEXT)
        return _text(field, TEXT, f"PostgreSQL {st or 'value'} as its text")
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t):
        column = _text(field, JSON, f"{st or t} as JSON")
        # the portable profile's uuid/time/timetz/wide numerics inside: back to the exact
        # types first, so the JSON is the same whichever profile the export had
        return attrs.evolve(column, restore=vt) if enc == "portable-nested" else column
    if pa.types.is_boolean(t):
        return _col(field, "BOOLEAN")
    if pa.types.is_uint64(t):
        return _col(field, "NUMERIC(20,0)")
    if pa.types.is_integer(t):
        return _col(field, "INTEGER")
    if pa.types.is_floating(t):
        return _col(field, "FLOAT")
    if pa.types.is_decimal(t):
        if 0 <= t.scale <= t.precision:
            return _col(field, f"NUMERIC({t.precision},{t.scale})")
        return _text(field, TEXT, f"decimal with scale {t.scale}")
    if getattr(t, "extension_name", None) == "arrow.uuid" or (
        t == pa.binary(16) and (low == "uuid" or enc == "uuid-bytes")  # uuid-bytes: the portable profile's
    ):
        return _col(field, "UUID")
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return _string(field, st, low, vt, enc)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        if vt.kind in ("binary", "varbinary", "long varbinary") and low != "bytea":
            return _col(field, f"{vt.kind.upper()}({vt.length})" if vt.length else LONG_BINARY)
        return _col(field, LONG_BINARY)
    if pa.types.is_date(t):
        return _col(field, "DATE")
    if pa.types.is_time(t):
        return _col(field, f"TIME{_precision(st)}")
    if pa.types.is_timestamp(t):
        return _col(field, f"TIMESTAMP{'TZ' if t.tz else ''}{_precision(st)}")
    if pa.types.is_duration(t):
        return _col(field, "INTERVAL DAY TO SECOND")
    raise UsageError(f"column {field.name!r}: no Vertica type for Arrow type {t}")


def _string(field: pa.Field, st: str, low: str, vt: VerticaType, enc: str) -> TargetColumn:
    if enc == "text":
        return _text(field, TEXT, f"Vertica {st or 'value'} as text")
    if vt.kind in ("char", "varchar", "long varchar") and not low.startswith("character"):
        if vt.kind == "char":
            return _col(field, f"CHAR({vt.length or 1})")
        return _col(field, f"{vt.kind.upper()}({vt.length})" if vt.length else LONG_TEXT)
    if low.startswith(("character varying", "varchar")):
        return _col(field, _chars(_length(st), 4))
    if low.startswith(("character", "bpchar")):
        return _col(field, _chars(_length(st) or 1, 4))
    if low == "name":
        return _col(field, "VARCHAR(64)")
    if low in ("text", ""):
        return _col(field, LONG_TEXT)
    return _text(field, TEXT, f"PostgreSQL {st} as text")


def plan_columns(schema: pa.Schema) -> list[TargetColumn]:
    """The target columns of a table whose export has ``schema``."""
    return [target_column(f) for f in schema]


def text_columns(columns: Sequence[TargetColumn]) -> dict[str, str]:
    """Columns kept as text: name -> why (for the job report)."""
    return {c.name: c.text_reason for c in columns if c.text_reason}


def existing_columns(schema: pa.Schema, target_types: Mapping[str, str]) -> list[TargetColumn]:
    """The plan for loading ``schema`` into an existing table (``append``/``truncate``).

    ``target_types``: the table's column name -> Vertica type (``v_catalog.columns``).
    Every exported column must exist there and be encodable into its type.
    """
    out = []
    for field in schema:
        ddl = target_types.get(field.name)
        if ddl is None:
            raise UsageError(f"column {field.name!r} does not exist in the target table")
        planned = target_column(field)
        target = parse_type(ddl)
        if not compatible(planned.vtype, target):
            raise UsageError(
                f"column {field.name!r}: the export's {planned.ddl} cannot be loaded exactly into the target's {ddl}"
            )
        out.append(attrs.evolve(planned, ddl=ddl, vtype=target))
    return out


_FAMILIES = [
    {"int"},
    {"float"},
    {"numeric"},
    {"char", "varchar", "long varchar"},
    {"binary", "varbinary", "long varbinary"},
    {"boolean"},
    {"date"},
    {"time"},
    {"timetz"},
    {"timestamp"},
    {"timestamptz"},
    {"interval ds"},
    {"interval ym"},
    {"uuid"},
]


def compatible(planned: VerticaType, target: VerticaType) -> bool:
    """True when values planned as ``planned`` can go into a ``target`` column.

    Same family (lengths and precision are checked per value by the load: a value that
    no longer fits is rejected and the load fails, never truncated).
    """
    if planned.kind == "numeric" and target.kind == "numeric":
        return (target.scale or 0) >= (planned.scale or 0)
    return any(planned.kind in f and target.kind in f for f in _FAMILIES)
