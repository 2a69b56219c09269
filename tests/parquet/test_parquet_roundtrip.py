"""Property test: arbitrary Arrow batches written through the sink read back equal."""

from __future__ import annotations

import datetime as dt
from decimal import Context, Decimal

import pyarrow as pa
import pyarrow.parquet as pq
from adu_core.manifest import type_name
from adu_core.models import ColumnInfo, TableInfo
from adu_core.verify import verify_export
from adu_export_kit import export_tables
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

_text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=12)
_ts = st.datetimes(min_value=dt.datetime(1, 1, 1), max_value=dt.datetime(9999, 12, 31))
_ts_tz = st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(2200, 1, 1), timezones=st.just(dt.UTC))


def _dec(precision: int, scale: int) -> st.SearchStrategy[Decimal]:
    limit = 10**precision - 1  # exact integers: no decimal context rounding at 38 digits
    wide = Context(prec=60)
    return st.integers(-limit, limit).map(lambda i: Decimal(i).scaleb(-scale, context=wide))


# (Arrow type, source type name, strategy for one non-null value)
TYPES: list[tuple[pa.DataType, str, st.SearchStrategy]] = [
    (pa.bool_(), "boolean", st.booleans()),
    (pa.int16(), "smallint", st.integers(-(2**15), 2**15 - 1)),
    (pa.int32(), "integer", st.integers(-(2**31), 2**31 - 1)),
    (pa.int64(), "bigint", st.integers(-(2**63), 2**63 - 1)),
    (pa.uint32(), "oid", st.integers(0, 2**32 - 1)),
    (pa.float32(), "real", st.floats(width=32, allow_nan=False)),
    (pa.float64(), "double precision", st.floats(allow_nan=False)),
    (pa.string(), "text", _text),
    (pa.large_string(), "text", _text),
    (pa.binary(), "bytea", st.binary(max_size=20)),
    (pa.date32(), "date", st.dates()),
    (pa.time64("us"), "time", st.times()),
    (pa.timestamp("us"), "timestamp", _ts),
    (pa.timestamp("us", tz="UTC"), "timestamptz", _ts_tz),
    (pa.timestamp("us", tz="Europe/Paris"), "timestamptz", _ts_tz),
    (
        pa.duration("us"),
        "interval",
        st.timedeltas(min_value=dt.timedelta(days=-9999), max_value=dt.timedelta(days=9999)),
    ),
    (pa.decimal128(9, 3), "numeric(9,3)", _dec(9, 3)),
    (pa.decimal128(18, 4), "numeric(18,4)", _dec(18, 4)),
    (pa.decimal128(20, 6), "numeric(20,6)", _dec(20, 6)),
    (pa.decimal128(38, 0), "numeric(38,0)", _dec(38, 0)),
    (
        pa.list_(pa.int64()),
        "bigint[]",
        st.lists(st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1)), max_size=4),
    ),
    (
        pa.list_(pa.list_(pa.string())),
        "text[][]",
        st.lists(st.lists(st.one_of(st.none(), _text), max_size=3), max_size=3),
    ),
    (
        pa.struct([("re", pa.float64()), ("label", pa.string())]),
        "complex_t",
        st.fixed_dictionaries(
            {"re": st.one_of(st.none(), st.floats(allow_nan=False)), "label": st.one_of(st.none(), _text)}
        ),
    ),
    (
        pa.struct([("lower", pa.int32()), ("upper", pa.int32()), ("bounds", pa.string())]),
        "int4range",
        st.fixed_dictionaries(
            {"lower": st.integers(-5, 5), "upper": st.integers(6, 9), "bounds": st.sampled_from(["[)", "[]"])}
        ),
    ),
    (
        pa.map_(pa.string(), pa.string()),
        "hstore",
        st.lists(st.tuples(_text, st.one_of(st.none(), _text)), max_size=3),
    ),
    (pa.dictionary(pa.int32(), pa.string()), "mood", st.sampled_from(["sad", "ok", "happy", "😀"])),
    (pa.uuid(), "uuid", st.binary(min_size=16, max_size=16)),
    (pa.json_(), "jsonb", st.sampled_from(['{"a": 1}', "[]", '"ü"', "null"])),
    (pa.large_list(pa.int16()), "smallint[]", st.lists(st.integers(-(2**15), 2**15 - 1), max_size=3)),
    (pa.list_(pa.float64(), 2), "point", st.lists(st.floats(allow_nan=False), min_size=2, max_size=2)),
    (pa.large_binary(), "bytea", st.binary(max_size=30)),
    (pa.timestamp("ns"), "timestamp", st.integers(-(2**62), 2**62)),
    (pa.time32("ms"), "time(3)", st.integers(0, 86_399_999)),
]


@st.composite
def tables(draw: st.DrawFn) -> tuple[TableInfo, list[pa.RecordBatch], dict]:
    picks = draw(st.lists(st.integers(0, len(TYPES) - 1), min_size=1, max_size=6))
    rows = draw(st.integers(0, 50))
    columns, arrays = [], []
    for i, k in enumerate(picks):
        typ, source_type, values = TYPES[k]
        nullable = draw(st.booleans())
        strategy = st.one_of(st.none(), values) if nullable else values
        data = draw(st.lists(strategy, min_size=rows, max_size=rows))
        name = draw(st.sampled_from(["c", "Col", "ü n", "x.y", '"q"'])) + str(i)
        columns.append(ColumnInfo(name, source_type, typ, nullable=nullable))
        arrays.append(pa.array(data, type=typ))
    table = TableInfo(schema=draw(_text), name=draw(_text), columns=tuple(columns))
    full = pa.Table.from_arrays(arrays, schema=table.arrow_schema())
    cuts = sorted(draw(st.lists(st.integers(0, rows), max_size=4)))
    batches, prev = [], 0
    for c in [*cuts, rows]:
        batches.extend(full.slice(prev, c - prev).to_batches())
        prev = c
    options = {
        "row_group_size": draw(st.integers(4, 40)),
        "max_file_bytes": draw(st.sampled_from([0, 1, 4000])),
        "compression": draw(st.sampled_from(["zstd", "snappy", "none", "gzip", "lz4"])),
        "dictionary": draw(st.sampled_from(["auto", True, False])),
        "decimal_as_integer": draw(st.booleans()),
    }
    return table, batches, options


def _decoded(table: pa.Table) -> pa.Table:
    """Dictionary columns as plain values: chunks may carry different dictionaries."""
    cols = [c.cast(c.type.value_type) if pa.types.is_dictionary(c.type) else c for c in table.columns]
    return pa.Table.from_arrays(cols, names=table.column_names)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(tables())
def test_batches_read_back_equal(tmp_path_factory, case) -> None:
    table, batches, options = case
    target = tmp_path_factory.mktemp("rt") / "export"
    split = len(batches) // 2
    manifest, _sink = export_tables(target, [(table, [batches[:split], batches[split:]])], options=options)
    (entry,) = manifest["tables"]
    parts = [pq.read_table(target / f["path"]) for f in entry["files"]]
    assert all(p.schema.metadata[b"adu.job_id"] == b"job-1" for p in parts)
    got = pa.concat_tables(parts).replace_schema_metadata(None)
    schema = table.arrow_schema()
    want = pa.Table.from_batches(batches, schema=schema) if batches else schema.empty_table()
    # map columns come back with their entries named after the column: same type otherwise
    assert [type_name(f.type) for f in got.schema] == [type_name(f.type) for f in want.schema]
    assert [(f.name, f.nullable, f.metadata) for f in got.schema] == [
        (f.name, f.nullable, f.metadata) for f in want.schema
    ]
    # the source type of every column survives in the Parquet field metadata
    for field, col in zip(got.schema, table.columns, strict=True):
        assert field.metadata[b"adu.source_type"] == col.source_type.encode()
    got = _decoded(got.cast(want.schema))
    want = _decoded(want)
    assert got.num_rows == want.num_rows == entry["rows"]
    assert got.equals(want), (got.to_pylist()[:3], want.to_pylist()[:3])
    report = verify_export(target)  # footers agree with the manifest for every type
    assert report.ok, report.lines()
