"""PostgreSQL types -> Arrow types, exactly.

Every column gets a :class:`ColumnPlan`: the Arrow type the source produces, the
decoder kind for the binary COPY stream (see ``_copydec.c``), and whether the COPY query
casts the column to ``text`` (PostgreSQL's own output format: lossless for every type).

Typed Arrow columns where Parquet has the type:

=========================  ==============================================  =============
PostgreSQL                 Arrow                                           notes
=========================  ==============================================  =============
boolean                    bool
smallint/integer/bigint    int16/int32/int64
oid                        uint32                                          unsigned
real/double precision      float32/float64                                 NaN, ±Infinity kept
numeric(p,s), p <= 38      decimal128(p,s)                                 NaN: the column falls back to text
numeric(p,s), p <= 76      decimal256(p,s)
money                      decimal128(19, frac digits of lc_monetary)
date                       date32                                          ±infinity: option ``infinity``
timestamp                  timestamp[us]                                   ±infinity: option ``infinity``
timestamptz                timestamp[us, tz=UTC]                           ±infinity: option ``infinity``
time                       time64[us]                                      24:00:00 kept as 86400000000 µs
interval                   struct<months int32, days int32, microseconds int64>
uuid                       arrow.uuid (fixed_size_binary[16])
bytea                      binary
text/varchar/char(n)/name  string                                          char(n) padding kept
json, jsonb, enum          string
=========================  ==============================================  =============

The ``portable`` far-side profile (source option ``profile``, the job's
``JobSpec.profile``; the default) changes three rows so that DuckDB, polars, pandas and
Spark all read every file without changing a value: ``uuid`` is ``fixed_size_binary(16)``
without the ``arrow.uuid`` extension (Parquet FIXED_LEN_BYTE_ARRAY(16) with no logical
type, ``adu.encoding = uuid-bytes``), ``time`` is int64 microseconds since midnight
(``adu.encoding = time-micros``), and ``numeric(p,s)`` with p > 38 is exact text; ``exact``
keeps the table above. The source option ``uuid=text`` writes ``uuid`` as its
36-character text instead (``postgresql-text``), in either profile.

Everything else (unbounded numeric, timetz, xml, inet/cidr/macaddr, bit/varbit,
tsvector, ranges, hstore, geometric types, arrays of any dimension, composite types, ...)
is exported as ``string`` holding PostgreSQL's text output of the value (lossless, never
flattened), with ``properties["encoding"] = "postgresql-text"``. Domains are exported as
their base type. With the source option ``arrays=list``, one-dimensional arrays of
integers, floats, oids and booleans are ``list<T>`` instead (see :mod:`adu_postgres.arrays`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import attrs
import pyarrow as pa

from adu_postgres.arrays import ELEMENT_TYPES, LIST_ENCODING

# decoder kinds (must match _copydec.c)
KIND_BOOL = 0
KIND_INT2 = 1
KIND_INT4 = 2
KIND_INT8 = 3
KIND_FLOAT4 = 4
KIND_FLOAT8 = 5
KIND_DATE = 6
KIND_TIMESTAMP = 7
KIND_TIME = 8
KIND_TEXT = 9
KIND_JSONB = 10
KIND_UUID = 11
KIND_NUMERIC = 12
KIND_MONEY = 13
KIND_INTERVAL = 14
#: uuid read as its 16 bytes and written as its 36-character text by the decoder (the
#: source option ``uuid=text``): the server sends 20 bytes a value instead of running
#: ``uuid_out`` and sending 40
KIND_UUID_TEXT = 15
#: kinds the decoder hands over as Arrow strings (offsets and bytes)
TEXT_KINDS = (KIND_TEXT, KIND_JSONB, KIND_UUID_TEXT)

POLICIES = {"error": 0, "null": 1, "clamp": 2, "extreme": 3}
#: the default ``infinity`` policy: DuckDB's convention (see :data:`INFINITY_CONVENTION`)
DEFAULT_INFINITY = "extreme"
#: the field metadata ``adu.infinity`` of ``infinity=extreme`` columns: ±infinity is
#: ``INT64_MAX``/``-INT64_MAX`` microseconds, ``INT32_MAX``/``-INT32_MAX`` days (DuckDB's
#: convention; the loader, ``adu_postgres.encoder``, turns them back into ±infinity)
INFINITY_CONVENTION = "extreme"
#: types whose ``::text`` cast is not their output function (what psql shows, what the
#: README promises): ``inet`` (the cast adds ``/32`` to a host), ``xml`` (the cast keeps the
#: ``<?xml version="1.0"?>`` declaration the output function leaves out)
OUTPUT_FUNCTIONS = {"inet": "inet_out", "xml": "xml_out"}
#: the far-side profile when none is given (``JobSpec.profile``; see ``adu_core.models.PROFILES``)
DEFAULT_PROFILE = "portable"
#: ``adu.encoding`` of ``time`` in the portable profile: int64 microseconds since midnight
TIME_MICROS_ENCODING = "time-micros"
#: ``adu.encoding`` of ``uuid`` in the portable profile: its 16 bytes (big-endian, as
#: PostgreSQL sends them) as a plain FIXED_LEN_BYTE_ARRAY(16) without Parquet's UUID
#: annotation, which Spark refuses; 16 bytes a value where the 36-character text took ~18.5
#: after compression (random hex does not compress)
UUID_BYTES_ENCODING = "uuid-bytes"
UUID_BYTES_NOTE = "uuid as its 16 bytes (FIXED_LEN_BYTE_ARRAY(16) without the UUID annotation)"
#: the ``uuid`` source option's default: ``bytes`` (16 bytes a value); ``text`` writes the
#: 36-character text (human-readable in every reader, ~16% bigger files)
DEFAULT_UUID = "bytes"
#: how the decoder says a value has no Parquet type: read the column again as exact text
FALLBACK_MARK = "[text fallback] "
TEXT_ENCODING = "postgresql-text"

INTERVAL_TYPE = pa.struct(
    [
        pa.field("months", pa.int32(), nullable=False),
        pa.field("days", pa.int32(), nullable=False),
        pa.field("microseconds", pa.int64(), nullable=False),
    ]
)


def uuid_type() -> pa.DataType:
    """``arrow.uuid`` where pyarrow has it (Parquet UUID logical type), else 16 bytes."""
    factory = getattr(pa, "uuid", None)
    return factory() if factory is not None else pa.binary(16)


@attrs.frozen
class ColumnPlan:
    """How one column is read: its Arrow type, decoder kind and COPY expression."""

    arrow_type: pa.DataType
    kind: int
    #: False: binary; True: ``::text``; an output function's name (:data:`OUTPUT_FUNCTIONS`):
    #: ``textin(f(col))``; ``"placeholder"``: ``NULL::boolean`` (see ``source._expression``)
    as_text: bool | str = False
    width: int = 0
    scale: int = 0
    policy: int = 0
    properties: Mapping[str, Any] = attrs.field(factory=dict)


def numeric_typmod(typmod: int) -> tuple[int, int] | None:
    """(precision, scale) of a numeric typmod, or None when unconstrained."""
    if typmod < 4:
        return None
    t = typmod - 4
    precision = (t >> 16) & 0xFFFF
    scale = ((t & 0x7FF) ^ 1024) - 1024  # PostgreSQL 15 allows a negative scale
    return precision, scale


def varchar_length(typmod: int) -> int | None:
    return typmod - 4 if typmod >= 4 else None


def plan_column(
    *,
    base_type: str,
    typmod: int,
    category: str,
    typtype: str,
    options: Mapping[str, Any],
    money_scale: int = 2,
) -> ColumnPlan:
    """The read plan of a column whose (domain-resolved) type is ``base_type``.

    :param base_type: ``pg_type.typname`` of the base type (``int4``, ``_int4``...).
    :param typmod: the attribute's (or domain's) type modifier.
    :param category: ``pg_type.typcategory`` (``A`` for arrays).
    :param typtype: ``pg_type.typtype`` (``b`` base, ``e`` enum, ``c`` composite, ``r`` range...).
    :param options: source options (``infinity``, ``numeric``, ``arrays``, ``profile``, ``uuid``).
    :param money_scale: fractional digits of ``money`` under the server's lc_monetary.
    """
    infinity = str(options.get("infinity", DEFAULT_INFINITY))
    policy = POLICIES[infinity]
    portable = str(options.get("profile", DEFAULT_PROFILE)) == "portable"
    numeric_mode = str(options.get("numeric", "decimal"))
    text = ColumnPlan(pa.string(), KIND_TEXT, as_text=True, properties={"encoding": TEXT_ENCODING})
    if category == "A":
        element = ELEMENT_TYPES.get(base_type) if str(options.get("arrays", "text")) == "list" else None
        if element is not None:  # read as text, turned into a list per batch (adu_postgres.arrays)
            return ColumnPlan(pa.list_(element), KIND_TEXT, as_text=True, properties={"encoding": LIST_ENCODING})
        return text
    if typtype == "e":
        return ColumnPlan(pa.string(), KIND_TEXT)
    if typtype != "b":
        return text
    if base_type in OUTPUT_FUNCTIONS:  # PostgreSQL's own text, where ::text differs from it
        return ColumnPlan(
            pa.string(), KIND_TEXT, as_text=OUTPUT_FUNCTIONS[base_type], properties={"encoding": TEXT_ENCODING}
        )
    simple: dict[str, tuple[pa.DataType, int]] = {
        "bool": (pa.bool_(), KIND_BOOL),
        "int2": (pa.int16(), KIND_INT2),
        "int4": (pa.int32(), KIND_INT4),
        "int8": (pa.int64(), KIND_INT8),
        "oid": (pa.uint32(), KIND_INT4),
        "float4": (pa.float32(), KIND_FLOAT4),
        "float8": (pa.float64(), KIND_FLOAT8),
        "time": (pa.time64("us"), KIND_TIME),
        "text": (pa.string(), KIND_TEXT),
        "varchar": (pa.string(), KIND_TEXT),
        "bpchar": (pa.string(), KIND_TEXT),
        "name": (pa.string(), KIND_TEXT),
        "json": (pa.string(), KIND_TEXT),
        "jsonb": (pa.string(), KIND_JSONB),
        "bytea": (pa.binary(), KIND_TEXT),
        "uuid": (uuid_type(), KIND_UUID),
        "interval": (INTERVAL_TYPE, KIND_INTERVAL),
    }
    if base_type == "uuid" and str(options.get("uuid", DEFAULT_UUID)) == "text":  # human-readable, asked for
        return ColumnPlan(
            pa.string(),
            KIND_UUID_TEXT,
            properties={"encoding": TEXT_ENCODING, "profile_note": "uuid as its 36-character text"},
        )
    if portable and base_type == "uuid":  # Spark cannot open a file with the UUID logical type
        return ColumnPlan(
            pa.binary(16),
            KIND_UUID,
            properties={"encoding": UUID_BYTES_ENCODING, "profile_note": UUID_BYTES_NOTE},
        )
    if portable and base_type == "time":  # Spark cannot open a file with the TIME logical type
        return ColumnPlan(
            pa.int64(),
            KIND_TIME,
            properties={
                "encoding": TIME_MICROS_ENCODING,
                "profile_note": "time as int64 microseconds since midnight (24:00:00 is 86400000000)",
            },
        )
    if base_type in simple:
        arrow_type, kind = simple[base_type]
        props: dict[str, Any] = {}
        if base_type in ("varchar", "bpchar") and varchar_length(typmod) is not None:
            props["max_length"] = varchar_length(typmod)
        if base_type == "interval":
            props["encoding"] = "interval-struct"
        if base_type == "time":
            props["note"] = "24:00:00 is kept as 86400000000 microseconds"
        return ColumnPlan(arrow_type, kind, properties=props)
    if base_type in ("date", "timestamp", "timestamptz"):
        arrow_type = {
            "date": pa.date32(),
            "timestamp": pa.timestamp("us"),
            "timestamptz": pa.timestamp("us", tz="UTC"),
        }[base_type]
        kind = KIND_DATE if base_type == "date" else KIND_TIMESTAMP
        props = {"infinity": infinity}
        if infinity == "extreme":
            props["field_metadata"] = {"adu.infinity": INFINITY_CONVENTION}
        return ColumnPlan(arrow_type, kind, policy=policy, properties=props)
    if base_type == "money":
        return ColumnPlan(
            pa.decimal128(19, money_scale),
            KIND_MONEY,
            properties={"precision": 19, "scale": money_scale},
        )
    if base_type == "numeric":
        ps = numeric_typmod(typmod)
        if ps is None or numeric_mode == "text":
            props = {"encoding": TEXT_ENCODING}
            if ps is not None:
                props.update(precision=ps[0], scale=ps[1])
            return ColumnPlan(pa.string(), KIND_TEXT, as_text=True, properties=props)
        p, s = ps
        if s < 0 or s > p or p > 76:
            return ColumnPlan(
                pa.string(),
                KIND_TEXT,
                as_text=True,
                properties={"encoding": TEXT_ENCODING, "precision": p, "scale": s},
            )
        if p > 38 and portable:  # decimal256: Spark and polars refuse it, DuckDB reads a DOUBLE
            return ColumnPlan(
                pa.string(),
                KIND_TEXT,
                as_text=True,
                properties={
                    "encoding": TEXT_ENCODING,
                    "precision": p,
                    "scale": s,
                    "profile_note": "numeric beyond precision 38 as exact text",
                },
            )
        if p <= 38:
            return ColumnPlan(
                pa.decimal128(p, s), KIND_NUMERIC, width=16, scale=s, properties={"precision": p, "scale": s}
            )
        return ColumnPlan(pa.decimal256(p, s), KIND_NUMERIC, width=32, scale=s, properties={"precision": p, "scale": s})
    return text


def decoder_spec(plan: ColumnPlan) -> tuple[int, int, int, int]:
    """The ``(kind, width, scale, policy)`` tuple the C decoder takes."""
    return (plan.kind, plan.width, plan.scale, plan.policy)
