"""Source option arrays=list: one-dimensional arrays as typed Arrow lists, exactly."""

from __future__ import annotations

import io
import math

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.errors import SourceError, UsageError
from adu_postgres.arrays import LIST_ENCODING, ArrayShapeError, to_list
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_helpers import find, open_source, read_table

# column -> (PostgreSQL array type, Arrow element type, values hypothesis draws)
COLUMNS = {
    "i2": ("smallint[]", pa.int16(), st.integers(-(2**15), 2**15 - 1)),
    "i4": ("integer[]", pa.int32(), st.integers(-(2**31), 2**31 - 1)),
    "i8": ("bigint[]", pa.int64(), st.integers(-(2**63), 2**63 - 1)),
    "o": ("oid[]", pa.uint32(), st.integers(0, 2**32 - 1)),
    "f4": ("real[]", pa.float32(), st.floats(width=32, allow_nan=True, allow_infinity=True)),
    "f8": ("double precision[]", pa.float64(), st.floats(allow_nan=True, allow_infinity=True)),
    "b": ("boolean[]", pa.bool_(), st.booleans()),
}


def _literal(values: list | None) -> str | None:
    """PostgreSQL's input form of a 1-D array (floats via repr: shortest exact)."""
    if values is None:
        return None

    def one(v: object) -> str:
        if v is None:
            return "NULL"
        if isinstance(v, bool):
            return "t" if v else "f"
        if isinstance(v, float):
            return (
                "NaN"
                if v != v
                else ("Infinity" if v == float("inf") else "-Infinity" if v == -float("inf") else repr(v))
            )
        return str(v)

    return "{" + ",".join(one(v) for v in values) + "}"


def _bits(values: list | None, typ: pa.DataType) -> list | None:
    """Values as comparable bit patterns (-0.0 != 0.0); every NaN compares as "NaN":
    PostgreSQL's text input makes any NaN (sign bit and payload too) its one NaN."""
    if values is None:
        return None
    if pa.types.is_floating(typ):
        dtype, view = (np.float32, np.uint32) if typ == pa.float32() else (np.float64, np.uint64)
        return [
            None if v is None else "NaN" if math.isnan(v) else int(np.array([v], dtype=dtype).view(view)[0])
            for v in values
        ]
    return list(values)


def test_a_nan_with_the_sign_bit_set_compares_as_nan() -> None:
    """hypothesis draws 0xFFC00000; PostgreSQL's text input gives 0x7FC00000 (issue 19)."""
    negative_nan = float(np.array([0xFFC00000], dtype=np.uint32).view(np.float32)[0])
    assert _bits([negative_nan], pa.float32()) == _bits([float("nan")], pa.float32()) == ["NaN"]
    assert _bits([-0.0], pa.float64()) != _bits([0.0], pa.float64())


@pytest.fixture(scope="module")
def arrays_db(pg):
    db = pg.create_database("arr")
    cols = ", ".join(f"{name} {pgtype}" for name, (pgtype, _t, _s) in COLUMNS.items())
    db.execute(f"CREATE TABLE arr (id int, {cols}, tx text[], m integer[])")
    yield db
    db.drop()


def test_unit_conversion_and_shapes() -> None:
    got = to_list(pa.array(["{1,NULL,3}", "{}", None, "{-7}"]), pa.int32())
    assert got.type == pa.list_(pa.int32())
    assert got.to_pylist() == [[1, None, 3], [], None, [-7]]
    assert to_list(pa.array(["{t,f,NULL}"]), pa.bool_()).to_pylist() == [[True, False, None]]
    floats = to_list(pa.array(["{NaN,Infinity,-Infinity,-0,1e+20}"]), pa.float64()).to_pylist()[0]
    assert floats[0] != floats[0] and floats[1:] == [float("inf"), float("-inf"), -0.0, 1e20]
    with pytest.raises(ArrayShapeError, match="more than one dimension"):
        to_list(pa.array(["{1}", "{{1,2},{3,4}}"]), pa.int32())
    with pytest.raises(ArrayShapeError, match="lower bound other than 1"):
        to_list(pa.array(["[0:1]={7,8}"]), pa.int32())
    with pytest.raises(ArrayShapeError, match="not a int16"):
        to_list(pa.array(["{70000}"]), pa.int16())


def test_discovery_types_lists_only_when_asked(arrays_db) -> None:
    plain = find(open_source(arrays_db.dsn).discover(), "public.arr")
    assert all(c.arrow_type == pa.string() for c in plain.columns if c.name != "id")
    listed = find(open_source(arrays_db.dsn, arrays="list").discover(), "public.arr")
    by_name = {c.name: c for c in listed.columns}
    for name, (_pg, typ, _s) in COLUMNS.items():
        assert by_name[name].arrow_type == pa.list_(typ), name
        assert by_name[name].properties["encoding"] == LIST_ENCODING
    assert by_name["tx"].arrow_type == pa.string()  # text elements stay PostgreSQL text
    with pytest.raises(UsageError, match="arrays must be one of: text, list"):
        open_source(arrays_db.dsn, arrays="json")


row = st.fixed_dictionaries(
    {
        name: st.one_of(st.none(), st.lists(st.one_of(st.none(), values), max_size=5))
        for name, (_pg, _t, values) in COLUMNS.items()
    }
)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(row, min_size=1, max_size=8))
def test_lists_round_trip_exactly(arrays_db, rows) -> None:
    arrays_db.execute("TRUNCATE arr")
    names = list(COLUMNS)
    for i, r in enumerate(rows):
        casts = ", ".join(f"%s::{COLUMNS[n][0]}" for n in names)
        arrays_db.execute(
            f"INSERT INTO arr (id, {', '.join(names)}) VALUES (%s, {casts})", (i, *[_literal(r[n]) for n in names])
        )
    source = open_source(arrays_db.dsn, arrays="list")
    try:
        table = find(source.discover(), "public.arr")
        data = read_table(source, table).sort_by("id")
    finally:
        source.close()
    for name, (_pg, typ, _s) in COLUMNS.items():
        got = [_bits(v, typ) for v in data.column(name).to_pylist()]
        want = [_bits(r[name], typ) for r in rows]
        assert got == want, name
    buf = io.BytesIO()
    pq.write_table(data, buf)  # Parquet keeps the lists as they are
    assert pq.read_table(io.BytesIO(buf.getvalue())).column("i8").to_pylist() == data.column("i8").to_pylist()


@pytest.mark.parametrize("value", ["{{1,2},{3,4}}", "[0:1]={7,8}"])
def test_a_value_a_list_cannot_hold_fails_the_read_loudly(arrays_db, value) -> None:
    arrays_db.execute("TRUNCATE arr")
    arrays_db.execute("INSERT INTO arr (id, m) VALUES (1, '{1,2}'), (2, %s::integer[])", (value,))
    source = open_source(arrays_db.dsn, arrays="list")
    try:
        table = find(source.discover(), "public.arr")
        with pytest.raises(SourceError, match=r"column 'm': .*arrays=text \(the default\) exports it exactly"):
            read_table(source, table)
        assert read_table(
            open_source(arrays_db.dsn), find(open_source(arrays_db.dsn).discover(), "public.arr")
        ).sort_by("id").column("m").to_pylist() == ["{1,2}", value]
    finally:
        source.close()
