"""ADU's NATIVE encoder against the test server's NATIVE parser (hypothesis).

Two independent implementations of Vertica's documented layout: whatever batch of
values the encoder writes, the parser must read back exactly, NULLs included.
"""

from __future__ import annotations

import decimal
from typing import Any

import pyarrow as pa
from adu_vertica.native import encode_batch, header
from adu_vertica.typemap import target_column
from hypothesis import given, settings
from hypothesis import strategies as st
from vertica_native import parse
from vertica_types import parse_type

# (Vertica type, Arrow type, values)
_DEC = st.decimals(min_value=-(10**8) + 1, max_value=10**8 - 1, places=2, allow_nan=False)
_WIDE = st.integers(-(10**59) + 1, 10**59 - 1).map(lambda i: decimal.Decimal(i).scaleb(-5))
COLUMNS: list[tuple[str, pa.DataType, st.SearchStrategy[Any]]] = [
    ("int", pa.int64(), st.integers(-(2**63) + 1, 2**63 - 1)),
    ("float", pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    ("numeric(10,2)", pa.decimal128(10, 2), _DEC),
    ("numeric(60,5)", pa.decimal256(60, 5), _WIDE),
    ("varchar(12)", pa.string(), st.text(max_size=3)),
    ("char(4)", pa.string(), st.text(alphabet="ab c", max_size=4)),
    ("long varbinary(100)", pa.large_binary(), st.binary(max_size=100)),
    ("binary(3)", pa.binary(), st.binary(max_size=3)),
    ("boolean", pa.bool_(), st.booleans()),
    ("date", pa.date32(), st.integers(-2_000_000, 2_000_000)),
    ("time", pa.time64("us"), st.integers(0, 86_400_000_000 - 1)),
    ("timestamp", pa.timestamp("us"), st.integers(-(2**60), 2**60)),
    ("timestamptz", pa.timestamp("us", tz="UTC"), st.integers(-(2**60), 2**60)),
    ("interval day to second", pa.duration("us"), st.integers(-(2**62), 2**62)),
    ("uuid", pa.uuid(), st.uuids().map(lambda u: u.bytes)),
    ("timetz", None, st.tuples(st.times(), st.integers(-50_000, 50_000))),
]
TIMETZ = pa.struct([pa.field("time", pa.time64("us")), pa.field("utc_offset_s", pa.int32())])


def _field(i: int, vtype: str, atype: pa.DataType | None) -> pa.Field:
    meta = {b"adu.source_type": vtype.encode()}
    if atype is None:
        return pa.field(f"c{i}", TIMETZ, metadata={**meta, b"adu.encoding": b"timetz_struct"})
    return pa.field(f"c{i}", atype, metadata=meta)


def _array(values: list[Any], field: pa.Field) -> pa.Array:
    if field.type == TIMETZ:
        return pa.array([None if v is None else {"time": v[0], "utc_offset_s": v[1]} for v in values], type=TIMETZ)
    if pa.types.is_date(field.type) or pa.types.is_time(field.type) or pa.types.is_timestamp(field.type):
        storage = pa.int32() if pa.types.is_date(field.type) else pa.int64()
        return pa.array(values, type=storage).cast(field.type)
    if pa.types.is_duration(field.type):
        return pa.array(values, type=pa.int64()).cast(field.type)
    if field.type == pa.uuid():
        return pa.ExtensionArray.from_storage(pa.uuid(), pa.array(values, type=pa.binary(16)))
    return pa.array(values, type=field.type)


def _want(v: Any, vtype: str) -> Any:
    if v is None:
        return None
    kind = parse_type(vtype)
    if kind.kind == "char":
        return v.ljust(kind.length or 1)
    if kind.kind == "binary":
        return v.ljust(kind.length or 1, b"\x00")
    if kind.kind == "uuid":
        return v.hex()
    if kind.kind == "timetz":
        return {"t": v[0], "o": v[1]}
    if kind.kind == "numeric" and (kind.precision or 0) > 38:
        return f"{v.quantize(decimal.Decimal(1).scaleb(-(kind.scale or 0)), context=decimal.Context(prec=100)):f}"
    return v


def _got(arr: pa.Array, vtype: str) -> list[Any]:
    k = parse_type(vtype).kind
    if k in ("date", "time", "timestamp", "timestamptz"):
        return arr.cast(pa.int32() if k == "date" else pa.int64()).to_pylist()
    return arr.to_pylist()


@settings(max_examples=40, deadline=None)
@given(data=st.data(), nrows=st.integers(0, 12))
def test_the_parser_reads_what_the_encoder_writes(data: st.DataObject, nrows: int) -> None:
    fields = [_field(i, v, a) for i, (v, a, _) in enumerate(COLUMNS)]
    columns = [target_column(f) for f in fields]
    values = [data.draw(st.lists(st.none() | strat, min_size=nrows, max_size=nrows)) for _, _, strat in COLUMNS]
    batch = pa.RecordBatch.from_arrays(
        [_array(v, f) for v, f in zip(values, fields, strict=True)], schema=pa.schema(fields)
    )
    stream = header(columns) + encode_batch(batch, columns)
    parsed = parse(stream, [parse_type(c.ddl) for c in columns], [c.name for c in columns], enforce_length=True)
    assert parsed.rejected == [] and parsed.rows == nrows
    for (vtype, _, _), vals, got in zip(COLUMNS, values, parsed.columns, strict=True):
        want = [_want(v, vtype) for v in vals]
        if vtype == "float":
            assert [repr(x) for x in got.to_pylist()] == [repr(x) for x in want], vtype
        else:
            assert _got(got, vtype) == want, vtype
