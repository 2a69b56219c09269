"""The C decoder and its pure-Python twin give identical Arrow data, whatever the chunking."""

from __future__ import annotations

import gc
import io
import struct
import uuid
from decimal import Decimal

import psycopg2
import pyarrow as pa
import pytest
from adu_postgres import decoder as dec
from adu_postgres import types as t
from hypothesis import given, settings
from hypothesis import strategies as st
from needs import skip_or_fail
from pg_helpers import find, open_source


@pytest.fixture(autouse=True)
def _needs_the_c_decoder() -> None:
    if not dec.NATIVE:
        skip_or_fail("the C decoder is not built (no C compiler when it was installed?)")


@pytest.fixture(scope="module")
def zoo_stream(zoo_db):
    source = open_source(zoo_db.dsn, infinity="clamp")
    tables = source.discover()
    out = {}
    for name in ("public.zoo", "public.zoo_inf"):
        table = find(tables, name)
        (part,) = source.partitions(table, target=1)
        conn = psycopg2.connect(zoo_db.dsn)
        try:
            buf = io.BytesIO()
            with conn.cursor() as cur:
                cur.copy_expert(source.copy_query(part).as_string(conn), buf)
        finally:
            conn.close()
        specs = [tuple(p[:4]) for p in table.properties["read_plan"]]
        out[name] = (table, specs, buf.getvalue())
    source.close()
    return out


def _decode(specs, data: bytes, schema: pa.Schema, *, native: bool, chunk: int) -> pa.Table:
    d = dec.new_decoder(specs, native=native)
    batches = []
    for i in range(0, len(data), chunk):
        d.write(data[i : i + chunk])
        if d.rows >= 2:
            batches.append(dec.to_batch(schema, specs, d.take()))
    assert d.finished
    if d.rows:
        batches.append(dec.to_batch(schema, specs, d.take()))
    table = pa.Table.from_batches(batches, schema=schema)
    table.validate(full=False)
    return table


@pytest.mark.parametrize("name", ["public.zoo", "public.zoo_inf"])
@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_c_and_python_decoders_agree(zoo_stream, name, chunk) -> None:
    table, specs, data = zoo_stream[name]
    schema = table.arrow_schema()
    native = _decode(specs, data, schema, native=True, chunk=chunk)
    python = _decode(specs, data, schema, native=False, chunk=1 << 20)
    assert native.num_rows == python.num_rows > 0
    for field in schema:
        a = native.column(field.name).combine_chunks()
        b = python.column(field.name).combine_chunks()
        assert _bits(a).equals(_bits(b)), field.name


def _bits(arr: pa.Array) -> pa.Array:
    """A view that compares bit for bit (NaN equals NaN; BC dates need no Python date)."""
    typ = arr.type
    if pa.types.is_date32(typ) or typ == pa.float32():
        return arr.view(pa.int32())
    if pa.types.is_time(typ) or pa.types.is_timestamp(typ) or typ == pa.float64():
        return arr.view(pa.int64())
    return arr


@pytest.mark.parametrize("native", [True, False])
def test_extreme_infinity_and_the_text_fallback_agree(zoo_stream, native) -> None:
    """infinity=extreme: DuckDB's INT64_MAX/-INT64_MAX and INT32_MAX/-INT32_MAX; a finite
    timestamp past year 294246 asks for text (the same message from both decoders)."""
    table, specs, data = zoo_stream["public.zoo_inf"]
    extreme = [(k, w, s, t.POLICIES["extreme"]) for k, w, s, _ in specs]
    d = dec.new_decoder(extreme, native=native)
    with pytest.raises(OverflowError, match=r"^column 2: \[text fallback\] timestamp beyond year 294246 \(row 3"):
        d.write(data)
    taken = dec.to_batch(table.arrow_schema(), extreme, d.take())
    assert taken.num_rows == 2
    assert _bits(taken.column(1)).to_pylist() == [2**31 - 1, -(2**31 - 1)]
    assert _bits(taken.column(2)).to_pylist() == [2**63 - 1, -(2**63 - 1)]
    assert _bits(taken.column(3)).to_pylist() == [2**63 - 1, -(2**63 - 1)]


@pytest.mark.parametrize("native", [True, False])
def test_not_a_copy_stream(native) -> None:
    d = dec.new_decoder([(t.KIND_INT4, 0, 0, 0)], native=native)
    with pytest.raises(ValueError, match="not a PostgreSQL binary COPY"):
        d.write(b"hello, this is not binary copy data")


@pytest.mark.parametrize("native", [True, False])
def test_wrong_field_count(native) -> None:
    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
    row = b"\x00\x02" + b"\x00\x00\x00\x04\x00\x00\x00\x01" * 2
    d = dec.new_decoder([(t.KIND_INT4, 0, 0, 0)], native=native)
    with pytest.raises(ValueError, match="2 fields, expected 1"):
        d.write(header + row)


@pytest.mark.parametrize("native", [True, False])
def test_decimal_overflow_is_loud(native) -> None:
    # numeric 123456 (digits base 10000: 12, 3456; weight 1) into decimal(4,0)'s 16 bytes is fine,
    # but a value needing more than 128 bits must fail, never wrap
    header = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"
    ndigits = 12
    num = (ndigits).to_bytes(2, "big") + (11).to_bytes(2, "big") + b"\x00\x00" + b"\x00\x00"
    num += b"\x27\x0f" * ndigits  # 9999 x 12 = 10^48 - 1
    row = b"\x00\x01" + len(num).to_bytes(4, "big") + num
    d = dec.new_decoder([(t.KIND_NUMERIC, 16, 0, 0)], native=native)
    with pytest.raises(OverflowError, match="does not fit"):
        d.write(header + row)


def test_direct_libpq_path_is_used_and_agrees_with_psycopg2(zoo_db, monkeypatch) -> None:
    from adu_postgres import copystream
    from pg_helpers import read_table

    assert copystream.libpq_functions() is not None  # Linux + C decoder: the fast path is on
    source = open_source(zoo_db.dsn, infinity="null")
    tables = source.discover()
    direct = {n: read_table(source, find(tables, n)).sort_by("id") for n in ("public.zoo", "public.zoo_inf")}
    monkeypatch.setattr(copystream, "libpq_functions", lambda: None)
    for name, data in direct.items():
        slow = read_table(source, find(tables, name)).sort_by("id")
        assert slow.num_rows == data.num_rows > 0
        for field in data.schema:
            assert _bits(data.column(field.name).combine_chunks()).equals(
                _bits(slow.column(field.name).combine_chunks())
            ), field.name


def test_source_works_without_the_c_extension(zoo_db, monkeypatch) -> None:
    """No compiler at install time: the pure-Python decoder gives the same table."""
    from pg_helpers import read_table

    source = open_source(zoo_db.dsn, infinity="clamp")
    table = find(source.discover(), "public.zoo_inf")
    fast = read_table(source, table).sort_by("id")
    monkeypatch.setattr(dec, "NATIVE", False)
    used = []
    take = dec.PyDecoder.take
    monkeypatch.setattr(dec.PyDecoder, "take", lambda self: used.append(1) or take(self))
    slow = read_table(source, table).sort_by("id")
    assert used  # the pure-Python decoder did the work
    for field in fast.schema:
        assert _bits(fast.column(field.name).combine_chunks()).equals(_bits(slow.column(field.name).combine_chunks()))


def test_big_buffers_change_owner_and_outlive_the_next_batch(pg_db) -> None:
    """take() hands big buffers to Arrow without a copy; a batch stays intact while the
    decoder fills the next one (the block is the batch's, not the decoder's, any more)."""
    pg_db.execute(
        "CREATE TABLE big AS SELECT g::bigint AS id, repeat('x', g % 10) AS s FROM generate_series(1, 60000) g"
    )
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.big")
    (part,) = source.partitions(table, target=1)
    conn = psycopg2.connect(pg_db.dsn)
    try:
        buf = io.BytesIO()
        with conn.cursor() as cur:
            cur.copy_expert(source.copy_query(part).as_string(conn), buf)
    finally:
        conn.close()
        source.close()
    specs = [tuple(p[:4]) for p in table.properties["read_plan"]]
    schema = table.arrow_schema()
    data = buf.getvalue()
    d = dec.new_decoder(specs, native=True)
    first = None
    for i in range(0, len(data), 1 << 16):
        d.write(data[i : i + (1 << 16)])
        if first is None and d.rows >= 30000:
            taken = d.take()
            ids_buffer = taken[1][0][2]
            assert not isinstance(ids_buffer, bytes) and memoryview(ids_buffer).readonly  # handed over
            first = dec.to_batch(schema, specs, taken)
    second = dec.to_batch(schema, specs, d.take())
    del taken, ids_buffer
    assert first is not None and first.num_rows + second.num_rows == 60000
    n = first.num_rows
    assert first.column("id").to_pylist() == list(range(1, n + 1))
    assert first.column("s").to_pylist() == ["x" * (g % 10) for g in range(1, n + 1)]
    assert second.column("id").to_pylist() == list(range(n + 1, 60001))


# -- numeric's 64-bit fast path, uuid as text, validity bitmaps from the first NULL -----------

_HEADER = b"PGCOPY\n\xff\r\n\x00" + b"\x00\x00\x00\x00" + b"\x00\x00\x00\x00"


def _pg_numeric(value: Decimal) -> bytes:
    """``value`` in PostgreSQL's binary numeric form (base-10000 digits, weight, sign, dscale)."""
    sign, digits, exp = value.as_tuple()
    assert isinstance(exp, int)
    text = "".join(map(str, digits))
    if exp < 0:
        text = text.zfill(1 - exp)  # 0.01: digits (1,), exponent -2 -> "001"
    whole, frac = (text[:exp] if exp < 0 else text + "0" * exp), (text[exp:] if exp < 0 else "")
    whole = whole.lstrip("0")
    whole = "0" * (-len(whole) % 4) + whole
    frac = frac + "0" * (-len(frac) % 4)
    groups = [int(whole[i : i + 4]) for i in range(0, len(whole), 4)] + [
        int(frac[i : i + 4]) for i in range(0, len(frac), 4)
    ]
    weight = len(whole) // 4 - 1
    while groups and groups[0] == 0:
        groups.pop(0)
        weight -= 1
    while groups and groups[-1] == 0:
        groups.pop()
    if not groups:
        weight, sign = 0, 0
    head = struct.pack("!hhHh", len(groups), weight, 0x4000 if sign else 0, max(0, -exp))
    return head + struct.pack(f"!{len(groups)}H", *groups)


def _stream(rows: list[list[bytes | None]]) -> bytes:
    out = [_HEADER]
    for row in rows:
        out.append(struct.pack("!h", len(row)))
        for v in row:
            out.append(struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v)
    out.append(b"\xff\xff")
    return b"".join(out)


@settings(max_examples=60, deadline=None)
@given(
    data=st.data(),
    precision=st.sampled_from([4, 9, 12, 16, 18, 24, 38]),
    chunk=st.sampled_from([5, 64, 1 << 20]),
)
def test_numeric_uuid_and_nulls_agree_with_python(data, precision: int, chunk: int) -> None:
    """Both decoders give the same values for numerics of every scale (the 64-bit fast path
    and the 256-bit one), uuids as uuid_out's text, and columns whose first NULL comes
    anywhere in a batch (the validity bitmap is built from there)."""
    scale = data.draw(st.integers(0, min(precision, 7)), label="scale")
    values = st.decimals(
        min_value=-(Decimal(10) ** (precision - scale)) + Decimal(1).scaleb(-scale),
        max_value=Decimal(10) ** (precision - scale) - Decimal(1).scaleb(-scale),
        places=scale,
        allow_nan=False,
        allow_infinity=False,
    )
    rows = data.draw(
        st.lists(
            st.tuples(st.none() | values, st.none() | st.binary(min_size=16, max_size=16), st.integers(-5, 5)),
            min_size=1,
            max_size=40,
        ),
        label="rows",
    )
    stream = _stream(
        [[None if n is None else _pg_numeric(n), u, None if i < 0 else struct.pack("!i", i)] for n, u, i in rows]
    )
    width = 16 if precision <= 38 else 32
    specs = [(t.KIND_NUMERIC, width, scale, 0), (t.KIND_UUID_TEXT, 0, 0, 0), (t.KIND_INT4, 0, 0, 0)]
    schema = pa.schema([("n", pa.decimal128(precision, scale)), ("u", pa.string()), ("i", pa.int32())])
    native = _decode(specs, stream, schema, native=True, chunk=chunk)
    python = _decode(specs, stream, schema, native=False, chunk=chunk)
    assert native.equals(python)
    assert native.column("n").to_pylist() == [n for n, _, _ in rows]
    assert native.column("u").to_pylist() == [None if u is None else str(uuid.UUID(bytes=u)) for _, u, _ in rows]
    assert native.column("i").to_pylist() == [None if i < 0 else i for _, _, i in rows]
    for col in native.columns:  # no NULL in a batch: no bitmap
        for arr in col.chunks:
            if arr.null_count == 0:
                assert arr.buffers()[0] is None


# -- the pool of batch buffers ------------------------------------------------------------------


def test_released_batch_buffers_are_reused_and_never_shared() -> None:
    """A batch's big buffers go back to the decoder's pool when Arrow releases them and the
    next batches are decoded into them (no fresh pages to fault in); a batch still held is
    never written into; the pool is emptied once the last decoder and batch are gone."""
    from adu_postgres import _copydec

    rows_per_batch, batches = 20_000, 8
    n = rows_per_batch * batches
    stream = _stream([[struct.pack("!q", i), b"v%07d" % i] for i in range(n)])
    specs = [(t.KIND_INT8, 0, 0, 0), (t.KIND_TEXT, 0, 0, 0)]
    schema = pa.schema([("id", pa.int64()), ("s", pa.string())])
    reused_before = _copydec.pool_stats()[2]
    d = dec.new_decoder(specs, native=True)
    kept = []
    for i in range(0, len(stream), 1 << 16):
        d.write(stream[i : i + (1 << 16)])
        if d.rows >= rows_per_batch:
            batch = dec.to_batch(schema, specs, d.take())
            if len(kept) % 2 == 0:
                kept.append(batch)  # held while the next batches are decoded
            else:
                kept.append(batch.to_pydict())  # a copy; the batch's buffers go back
            del batch
    assert d.finished
    if d.rows:
        kept.append(dec.to_batch(schema, specs, d.take()))
    assert _copydec.pool_stats()[2] > reused_before  # released blocks were decoded into again
    start = 0
    for item in kept:
        values = item.to_pydict() if isinstance(item, pa.RecordBatch) else item
        count = len(values["id"])
        assert values["id"] == list(range(start, start + count))
        assert values["s"] == [f"v{i:07d}" for i in range(start, start + count)]
        start += count
    assert start == n
    del d, kept, item
    gc.collect()  # no other test's decoder left alive in a reference cycle
    assert _copydec.pool_stats()[:2] == (0, 0)
