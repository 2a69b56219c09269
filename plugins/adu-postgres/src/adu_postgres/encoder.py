"""Arrow columns -> ``COPY ... FROM STDIN`` data: the conversion of each column, and the encoder.

The inverse of :mod:`adu_postgres.decoder`. The work is done by the C extension
:mod:`adu_postgres._copyenc` (no Python object per row or value); this module decides, per
column, from its Arrow type, the PostgreSQL base type it goes into and the export's field
metadata, which conversion the encoder applies, and whether the table can travel in
PostgreSQL's binary COPY format or needs COPY's text format.

Binary format (``FORMAT binary``; each value in its type's send format, exact bits):

==========================================  =========================================
Arrow (as the export writes it)             PostgreSQL
==========================================  =========================================
bool, int16/32/64, uint32                   boolean, smallint/integer/bigint, oid
float32/64                                  real/double precision (NaN, ±Infinity, -0.0)
decimal128/256(p,s)                         numeric (dscale s), money (decimal128(19,s))
string (``postgresql-text``) of numeric     numeric, parsed in C (NaN, ±Infinity, dscale)
string (``postgresql-text``) of timetz      timetz, parsed in C
string (``postgresql-text``) of uuid,       the same type, parsed in C (exactly what
inet, cidr, macaddr, macaddr8               its input function accepts)
date32, timestamp[us], timestamp[us, tz]    date, timestamp, timestamptz (±infinity:
                                            the export's sentinel convention, if any)
time64[us]                                  time (24:00:00 kept)
int64 (``adu.encoding = time-micros``)      time (the portable profile)
struct<months, days, microseconds>          interval
arrow.uuid / fixed_size_binary(16)          uuid
binary                                      bytea
string                                      text, varchar, char(n), name, json, enum,
                                            jsonb (version byte added), domains of them
list<bool|int|float|uint32>                 one-dimensional array, lower bound 1
struct<time, utc_offset_s> (a Vertica       timetz (the local time and the offset; the
TIMETZ: ``timetz_struct``, ``timetz-micros``) portable profile's int64 µs time too)
duration[us] (Vertica day-to-second)        interval (microseconds)
int64 months (``adu.encoding = months``)    interval (months)
==========================================  =========================================

Everything else was exported as PostgreSQL's own text output (``adu.encoding =
postgresql-text``: ranges, composites, arrays of any shape, bit strings, xml,
geometric types, hstore...). Only the type's input function can read that, so a table
holding such a column is loaded with COPY's *text* format: the encoder then writes every
column as the text its input function reads (floats with 17 significant digits, exact
decimals, ISO dates with BC, intervals as ``M mons D days U usecs``, bytea in hex, money
for ``lc_monetary = 'C'``) with COPY's escaping. See the package README for why this
beats the alternatives.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
import pyarrow as pa
from adu_core.lazy import lazy_module

from adu_postgres.arrays import LIST_ENCODING
from adu_postgres.types import TEXT_ENCODING

if TYPE_CHECKING:
    import pyarrow.compute as pc
else:  # ~0.07 s of wrappers at every load's start: only a batch that needs a cast uses them
    pc = lazy_module("pyarrow.compute")

try:
    from adu_postgres._copyenc import Encoder as _CEncoder

    NATIVE = True
except ImportError:  # pragma: no cover - depends on the build
    _CEncoder = None
    NATIVE = False

# conversion kinds (must match _copyenc.c)
KIND_BOOL = 0
KIND_INT2 = 1
KIND_INT4 = 2
KIND_INT8 = 3
KIND_FLOAT4 = 4
KIND_FLOAT8 = 5
KIND_OID = 6
KIND_DATE = 7
KIND_TIMESTAMP = 8
KIND_TIME = 9
KIND_INTERVAL = 10
KIND_UUID = 11
KIND_NUMERIC = 12
KIND_MONEY = 13
KIND_TEXT = 14
KIND_BYTEA = 15
KIND_JSONB = 16
KIND_NUMERIC_TEXT = 17
KIND_TIMETZ_TEXT = 18
KIND_PGTEXT = 19
KIND_LIST = 20
KIND_UUID_TEXT = 21
KIND_INET_TEXT = 22
KIND_CIDR_TEXT = 23
KIND_MACADDR_TEXT = 24
KIND_MACADDR8_TEXT = 25

#: base type -> the kind that parses its ``postgresql-text`` export in C into its binary
#: send format (accepting exactly what the type's input function accepts)
TEXT_IN_BINARY = {
    "numeric": KIND_NUMERIC_TEXT,
    "timetz": KIND_TIMETZ_TEXT,
    "uuid": KIND_UUID_TEXT,
    "inet": KIND_INET_TEXT,
    "cidr": KIND_CIDR_TEXT,
    "macaddr": KIND_MACADDR_TEXT,
    "macaddr8": KIND_MACADDR8_TEXT,
}

FLAG_INFINITY = 1
FLAG_TZ = 2

#: ``properties["infinity"]`` / field metadata ``adu.infinity`` values meaning "±infinity
#: is stored as the type's extreme value" (``INT64_MAX``/``-INT64_MAX`` µs,
#: ``INT32_MAX``/``-INT32_MAX`` days, DuckDB's convention): those values load as
#: ``±infinity``. Any other convention (``error``, ``null``, ``clamp``) wrote ordinary
#: values, which load as they are.
INFINITY_SENTINEL_CONVENTIONS = frozenset({"extreme", "sentinel", "duckdb"})
INFINITY_KEY = b"adu.infinity"
ENCODING_KEY = b"adu.encoding"
#: ``adu.encoding`` of a ``time`` the portable profile wrote as int64 microseconds
TIME_MICROS_ENCODING = "time-micros"

#: list element Arrow type -> (kind, PostgreSQL element type oid)
_ELEMENTS: dict[pa.DataType, tuple[int, int]] = {
    pa.bool_(): (KIND_BOOL, 16),
    pa.int16(): (KIND_INT2, 21),
    pa.int32(): (KIND_INT4, 23),
    pa.int64(): (KIND_INT8, 20),
    pa.uint32(): (KIND_OID, 26),
    pa.float32(): (KIND_FLOAT4, 700),
    pa.float64(): (KIND_FLOAT8, 701),
}
_SIMPLE: dict[pa.DataType, int] = {
    pa.bool_(): KIND_BOOL,
    pa.int16(): KIND_INT2,
    pa.int32(): KIND_INT4,
    pa.int64(): KIND_INT8,
    pa.uint32(): KIND_OID,
    pa.float32(): KIND_FLOAT4,
    pa.float64(): KIND_FLOAT8,
    pa.date32(): KIND_DATE,
    pa.time64("us"): KIND_TIME,
}
_INTERVAL_FIELDS = ("months", "days", "microseconds")
_TIMETZ_FIELDS = ("time", "utc_offset_s")
#: ``adu.encoding`` of a Vertica INTERVAL YEAR TO MONTH: int64 months
MONTHS_ENCODING = "months"
INTERVAL_ARROW = pa.struct(
    [
        pa.field("months", pa.int32(), nullable=False),
        pa.field("days", pa.int32(), nullable=False),
        pa.field("microseconds", pa.int64(), nullable=False),
    ]
)


class EncodeError(ValueError):
    """A column that cannot be loaded as planned, or a value PostgreSQL cannot hold."""


@attrs.frozen
class LoadColumn:
    """How one column is encoded.

    :param name: the column's name.
    :param kind: the conversion (``KIND_*``).
    :param arrow_type: the Arrow type the encoder reads (batches are cast to it if needed).
    :param base: the PostgreSQL base type name (``pg_type.typname``: ``int4``, ``jsonb``...;
        empty when unknown).
    :param flags: ``FLAG_INFINITY`` (sentinels are ±infinity), ``FLAG_TZ`` (timestamptz).
    :param json: the values are lists/structs written as JSON text (a Vertica export's
        ARRAY/SET/ROW, see ``targetddl.vertica_type``).
    """

    name: str
    kind: int
    arrow_type: pa.DataType
    base: str = ""
    flags: int = 0
    elem_kind: int = 0
    elem_oid: int = 0
    #: a Vertica ARRAY/SET/ROW (list/struct) going into a ``text`` column as its JSON
    json: bool = False

    @property
    def needs_text(self) -> bool:
        """True when only COPY's text format can carry this column."""
        return self.kind == KIND_PGTEXT

    def spec(self) -> tuple[int, int, int, int]:
        return (self.kind, self.flags, self.elem_kind, self.elem_oid)


# format_type() spellings of the base types whose conversion differs from their Arrow type's
_BASE_SPELLINGS = (
    (re.compile(r"^jsonb$"), "jsonb"),
    (re.compile(r"^money$"), "money"),
    (re.compile(r"^numeric(\(.*\))?$"), "numeric"),
    (re.compile(r"^time(\(\d+\))? with time zone$"), "timetz"),
    (re.compile(r"^timetz$"), "timetz"),
    (re.compile(r"^uuid$"), "uuid"),
    (re.compile(r"^(inet|cidr|macaddr8?)$"), ""),
)


def base_from_text(type_text: str) -> str:
    """The base type name of a ``format_type()`` spelling, for the types whose encoding
    depends on it (``jsonb``, ``money``, ``numeric``, ``timetz``, ``uuid``, ``inet``,
    ``cidr``, ``macaddr``, ``macaddr8``); '' otherwise."""
    text = type_text.strip().lower()
    for pattern, name in _BASE_SPELLINGS:
        if m := pattern.match(text):
            return name or m.group(0)
    return ""


def plan_column(
    field: pa.Field, *, base: str = "", encoding: str | None = None, infinity: str | None = None
) -> LoadColumn:
    """The conversion of one column.

    :param field: the Arrow field of the data (its type decides how values are read).
    :param base: the PostgreSQL base type (``typname`` of the type or of a domain's base).
    :param encoding: the export's ``adu.encoding`` of the column, if any.
    :param infinity: the export's ±infinity convention of the column, if any.
    :raises EncodeError: an Arrow type PostgreSQL has no binary or text route for.
    """
    t = field.type
    flags = FLAG_INFINITY if (infinity or "") in INFINITY_SENTINEL_CONVENTIONS else 0
    name = field.name
    if isinstance(t, pa.BaseExtensionType):
        if t.storage_type == pa.binary(16):
            return LoadColumn(name, KIND_UUID, t, base)
        t = t.storage_type
    if encoding == TIME_MICROS_ENCODING and pa.types.is_integer(t):  # the portable profile's time
        return LoadColumn(name, KIND_TIME, pa.time64("us"), base)
    if pa.types.is_struct(t) and tuple(f.name for f in t) == _TIMETZ_FIELDS:  # a Vertica TIMETZ
        return LoadColumn(name, KIND_TIMETZ_TEXT, pa.string(), base)
    if t == pa.duration("us") or (encoding == MONTHS_ENCODING and pa.types.is_integer(t)):  # Vertica INTERVALs
        return LoadColumn(name, KIND_INTERVAL, INTERVAL_ARROW, base)
    if encoding == TEXT_ENCODING and (pa.types.is_string(t) or pa.types.is_large_string(t)):
        kind = TEXT_IN_BINARY.get(base, KIND_PGTEXT)
        return LoadColumn(name, kind, t, base)
    if base in TEXT_IN_BINARY and (pa.types.is_string(t) or pa.types.is_large_string(t)):
        # the type's text without the export's marker (another writer's Parquet): a string
        # of these types can only be their text, so it is parsed all the same (never sent
        # as raw bytes where the binary format expects the type's own)
        return LoadColumn(name, TEXT_IN_BINARY[base], t, base)
    if t in _SIMPLE:
        return LoadColumn(name, _SIMPLE[t], t, base, flags if t == pa.date32() else 0)
    if pa.types.is_timestamp(t):
        flags |= FLAG_TZ if t.tz is not None else 0
        return LoadColumn(name, KIND_TIMESTAMP, pa.timestamp("us", tz=t.tz), base, flags)
    if pa.types.is_time(t):
        return LoadColumn(name, KIND_TIME, pa.time64("us"), base)
    if pa.types.is_date(t):
        return LoadColumn(name, KIND_DATE, pa.date32(), base, flags)
    if pa.types.is_fixed_size_binary(t) and t.byte_width == 16:
        return LoadColumn(name, KIND_UUID, t, base)
    if pa.types.is_decimal(t):
        return LoadColumn(name, KIND_MONEY if base == "money" else KIND_NUMERIC, t, base)
    if pa.types.is_struct(t) and tuple(f.name for f in t) == _INTERVAL_FIELDS:
        return LoadColumn(name, KIND_INTERVAL, t, base)
    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return LoadColumn(name, KIND_JSONB if base == "jsonb" else KIND_TEXT, t, base)
    if pa.types.is_binary(t) or pa.types.is_large_binary(t):
        return LoadColumn(name, KIND_BYTEA, t, base)
    if (pa.types.is_list(t) or pa.types.is_large_list(t)) and t.value_type in _ELEMENTS:
        kind, oid = _ELEMENTS[t.value_type]
        return LoadColumn(name, KIND_LIST, pa.list_(t.value_type), base, 0, kind, oid)
    raise EncodeError(f"column {name!r}: no way to load Arrow type {t} into PostgreSQL")


def field_facts(field: pa.Field, properties: Mapping[str, Any] | None = None) -> tuple[str | None, str | None]:
    """``(encoding, infinity convention)`` of a column, from its properties or field metadata."""
    props = properties or {}
    meta = field.metadata or {}
    encoding = props.get("encoding") or (meta[ENCODING_KEY].decode() if ENCODING_KEY in meta else None)
    infinity = props.get("infinity") or (meta[INFINITY_KEY].decode() if INFINITY_KEY in meta else None)
    if encoding == LIST_ENCODING:
        encoding = None  # a typed list: the Arrow type says everything
    return encoding, infinity


def needs_text(columns: Sequence[LoadColumn]) -> bool:
    """True when the table must be loaded with COPY's text format."""
    return any(c.needs_text for c in columns)


class Encoder:
    """Encodes record batches for one ``COPY ... FROM STDIN`` (binary or text format)."""

    def __init__(self, columns: Sequence[LoadColumn], *, text: bool | None = None) -> None:
        if _CEncoder is None:
            raise RuntimeError(
                "the C encoder adu_postgres._copyenc is not built: reinstall adu-postgres with a C compiler"
            )
        self.columns = list(columns)
        self.text = needs_text(self.columns) if text is None else text
        if not self.text and needs_text(self.columns):
            raise EncodeError("a column in PostgreSQL's text form needs the text COPY format")
        self.native = _CEncoder([c.spec() for c in self.columns], text=self.text)
        self._schema = pa.schema([pa.field(c.name, c.arrow_type) for c in self.columns])

    @property
    def copy_format(self) -> str:
        """The ``FORMAT`` option of the COPY statement."""
        return "text" if self.text else "binary"

    def conform(self, batch: pa.RecordBatch) -> pa.RecordBatch:
        """``batch`` with each column in the Arrow type the encoder reads (a cast where a
        reader gave another, e.g. ``large_string``; zero-copy when they already match)."""
        if batch.num_columns != len(self.columns):
            raise EncodeError(f"a batch has {batch.num_columns} columns, the table {len(self.columns)}")
        arrays = []
        changed = False
        for col, arr in zip(self.columns, batch.columns, strict=True):
            want = col.arrow_type
            if arr.type != want and not _same_storage(arr.type, want):
                try:
                    arr = _vertica_form(arr, want, col.json) or pc.cast(arr, want)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                    raise EncodeError(f"column {col.name!r}: cannot read {arr.type} as {want}: {exc}") from None
                changed = True
            arrays.append(arr)
        if not changed:
            return batch
        return pa.RecordBatch.from_arrays(arrays, names=[c.name for c in self.columns])

    def header(self) -> bytes:
        return bytes(self.native.header())

    def trailer(self) -> bytes:
        return bytes(self.native.trailer())

    def encode(self, batch: pa.RecordBatch) -> bytes:
        """The COPY data of ``batch``'s rows (without header and trailer)."""
        try:
            return bytes(self.native.encode(self.conform(batch)))
        except ValueError as exc:
            raise self.column_error(exc) from None

    def column_error(self, exc: BaseException) -> EncodeError:
        """The C encoder's ``column N: ...`` message with the column's name."""
        message = str(exc)
        m = re.match(r"^column (\d+): ", message)
        if m and int(m.group(1)) < len(self.columns):
            col = self.columns[int(m.group(1))]
            message = f"column {col.name!r}: {message[m.end() :]}"
        return EncodeError(message)


def _same_storage(have: pa.DataType, want: pa.DataType) -> bool:
    if isinstance(have, pa.BaseExtensionType):
        return bool(have.storage_type == want) or have == want
    return False


def _json(v: Any) -> str:
    """A Vertica ARRAY/SET/ROW value as JSON (the text a PostgreSQL ``text`` column gets)."""
    import datetime as dt
    import decimal
    import json
    import math

    def plain(x: Any) -> Any:
        if isinstance(x, dict):
            return {str(k): plain(y) for k, y in x.items()}
        if isinstance(x, list):
            return [plain(y) for y in x]
        if isinstance(x, float) and not math.isfinite(x):
            return str(x)
        if isinstance(x, bytes):
            return "\\x" + x.hex()
        if isinstance(x, dt.timedelta):
            return f"{x // dt.timedelta(microseconds=1)}us"
        if isinstance(x, dt.date | dt.time):
            return x.isoformat()
        if isinstance(x, decimal.Decimal):
            return format(x, "f")
        if x is None or isinstance(x, bool | int | float | str):
            return x
        return str(x)

    return json.dumps(plain(v), separators=(",", ":"), ensure_ascii=False)


def _vertica_form(arr: pa.Array, want: pa.DataType, json: bool = False) -> pa.Array | None:
    """A Vertica export's TIMETZ struct as timetz text, its INTERVALs (duration, int64
    months) as interval structs; None for anything else (a plain cast then)."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    t = arr.type
    if want == pa.string() and pa.types.is_struct(t) and tuple(f.name for f in t) == _TIMETZ_FIELDS:
        local = pc.struct_field(arr, [0])
        micros = local.cast(pa.int64()) if pa.types.is_time(local.type) else local
        offsets = pc.struct_field(arr, [1]).to_pylist()
        out: list[str | None] = []
        for valid, us, off in zip(arr.is_valid().to_pylist(), micros.to_pylist(), offsets, strict=True):
            if not valid:
                out.append(None)
                continue
            sign, a = ("-" if off < 0 else "+"), abs(int(off))
            clock = (
                f"{us // 3_600_000_000:02d}:{us // 60_000_000 % 60:02d}:{us // 1_000_000 % 60:02d}.{us % 1_000_000:06d}"
            )
            out.append(f"{clock}{sign}{a // 3600:02d}:{a // 60 % 60:02d}:{a % 60:02d}")
        return pa.array(out, pa.string())
    if json and (pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t)):
        return pa.array([None if v is None else _json(v) for v in arr.to_pylist()], pa.string())  # Vertica ARRAY/ROW
    if want == INTERVAL_ARROW and (pa.types.is_duration(t) or pa.types.is_integer(t)):
        n = len(arr)
        zeros32 = pa.array([0] * n, pa.int32())
        if pa.types.is_duration(t):
            months, micros = zeros32, pc.cast(pc.cast(arr, pa.duration("us")), pa.int64()).fill_null(0)
        else:
            months, micros = pc.cast(arr, pa.int32()).fill_null(0), pa.array([0] * n, pa.int64())
        mask = arr.is_null() if arr.null_count else None
        return pa.StructArray.from_arrays([months, zeros32, micros], fields=list(INTERVAL_ARROW), mask=mask)
    return None
