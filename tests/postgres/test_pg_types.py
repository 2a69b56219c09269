"""Every type family of the zoo comes out exact: typed where Parquet has the type,
PostgreSQL's own text otherwise, the PostgreSQL type in the field metadata."""

from __future__ import annotations

import io
import uuid
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from adu_core.errors import ColumnFallback, SourceError, UsageError
from adu_core.models import ENCODING_KEY, SOURCE_TYPE_KEY
from pg_helpers import find, open_source, read_table


@pytest.fixture(scope="module")
def zoo(zoo_db):
    source = open_source(zoo_db.dsn, profile="exact")  # the richer logical types (test_portable_profile)
    tables = source.discover()
    table = find(tables, "public.zoo")
    data = read_table(source, table).sort_by("id")
    source.close()
    return table, data


def col(data: pa.Table, name: str) -> list:
    return data.column(name).to_pylist()


def raw(data: pa.Table, name: str) -> list:
    """Integer view of a temporal column (Python datetimes cannot hold BC or year 294246)."""
    arr = data.column(name).combine_chunks()
    width = pa.int32() if pa.types.is_date32(arr.type) else pa.int64()
    return arr.view(width).to_pylist()


def test_dropped_column_is_skipped(zoo) -> None:
    table, data = zoo
    assert [c.name for c in table.columns] == data.column_names
    assert "dropme" not in data.column_names
    assert "........pg.dropped" not in " ".join(data.column_names)
    assert data.num_rows == 3


def test_integers_and_oid(zoo) -> None:
    _, data = zoo
    assert col(data, "i2") == [-32768, 32767, None]
    assert col(data, "i4") == [-(2**31), 2**31 - 1, None]
    assert col(data, "i8") == [-(2**63), 2**63 - 1, None]
    assert data.schema.field("o").type == pa.uint32()
    assert col(data, "o") == [4294967295, 0, None]  # unsigned, never wrapped


def test_floats_keep_nan_and_infinity(zoo) -> None:
    _, data = zoo
    f4, f8 = col(data, "f4"), col(data, "f8")
    assert f4[0] != f4[0] and f4[1] == float("-inf") and f4[2] is None
    assert f8[0] == float("inf") and f8[1] != f8[1] and f8[2] is None
    assert data.schema.field("f4").type == pa.float32()


def test_numeric(zoo) -> None:
    table, data = zoo
    assert data.schema.field("n_typed").type == pa.decimal128(12, 2)
    assert col(data, "n_typed") == [Decimal("-9999999999.99"), Decimal("0.00"), None]
    assert data.schema.field("n_big").type == pa.decimal256(50, 10)
    assert col(data, "n_big") == [
        Decimal("1234567890123456789012345678901234567890.0123456789"),
        Decimal("-0.0000000001"),
        None,
    ]
    assert col(data, "n_huge") == [Decimal(10) ** 69, -(Decimal(10) ** 69), None]
    # unbounded numeric: exact text, NaN and Infinity survive (never a double)
    assert data.schema.field("n_free").type == pa.string()
    assert col(data, "n_free") == ["NaN", "Infinity", None]
    assert table.column("n_free").properties["encoding"] == "postgresql-text"
    assert table.column("n_typed").properties == {"precision": 12, "scale": 2}


def test_money_is_an_exact_decimal(zoo) -> None:
    _, data = zoo
    assert data.schema.field("m").type == pa.decimal128(19, 2)
    assert col(data, "m") == [Decimal("-92233720368547758.08"), Decimal("92233720368547758.07"), None]


def test_text_types(zoo) -> None:
    table, data = zoo
    assert col(data, "c") == ["ab   ", "abcde", None]  # char(n) padding kept
    assert col(data, "vc") == ["héllo\nwörld", "", None]
    assert col(data, "tx") == ["tab\there\nnewline \"quote\" 'single' \\back 😀", "", None]
    assert col(data, "nm") == ["nämé", "", None]
    assert table.column("vc").properties["max_length"] == 20
    assert table.column("c").properties["max_length"] == 5


def test_bytea_and_uuid(zoo) -> None:
    _, data = zoo
    assert data.schema.field("ba").type == pa.binary()
    assert col(data, "ba") == [b"\x00\xff\x10", b"", None]
    assert col(data, "u") == [uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"), uuid.UUID(int=0), None]


def test_dates_bc_and_far_future(zoo, zoo_db) -> None:
    _, data = zoo
    # 4713-01-01 BC and 5874897-12-31 (PostgreSQL's last date) as days since 1970-01-01
    assert raw(data, "d") == [-2440550, 2145042905, None]
    assert raw(data, "d") == [r[0] for r in zoo_db.execute("SELECT d - date '1970-01-01' FROM zoo ORDER BY id")]


def test_times(zoo) -> None:
    _, data = zoo
    assert data.schema.field("t").type == pa.time64("us")
    assert raw(data, "t") == [86_400_000_000, 0, None]  # 24:00:00 kept, not wrapped to 00:00
    assert col(data, "ttz") == ["23:59:59.999999+14:30", "00:00:00-15:59", None]  # offsets kept


def test_timestamps(zoo, zoo_db) -> None:
    _, data = zoo
    assert data.schema.field("ts").type == pa.timestamp("us")
    assert data.schema.field("tstz").type == pa.timestamp("us", tz="UTC")
    assert raw(data, "ts") == [-210863520000000000, 946684800000000, None]  # 4713 BC
    expected = zoo_db.execute(
        "SELECT (extract(epoch FROM ts) * 1000000)::bigint, (extract(epoch FROM tstz) * 1000000)::bigint"
        " FROM zoo ORDER BY id"
    )
    assert raw(data, "ts") == [r[0] for r in expected]
    assert raw(data, "tstz") == [r[1] for r in expected]
    assert raw(data, "tstz") == [9223371244799999999, 0, None]  # 294246-12-31 23:59:59.999999


def test_interval_keeps_months_days_and_micros_apart(zoo) -> None:
    _, data = zoo
    assert col(data, "iv") == [
        {"months": -14, "days": 3, "microseconds": -(4 * 3600 + 5 * 60 + 6) * 1_000_000 - 7},
        {"months": 178_000_000 * 12, "days": 0, "microseconds": 0},
        None,
    ]


def test_json_xml_network_bits_text_search(zoo) -> None:
    _, data = zoo
    assert col(data, "j") == ['{"b": 1, "a": [1, 2.50]}', "null", None]  # json: as written
    assert col(data, "jb") == ['{"a": [1, 2.50], "b": 1, "z": null}', '"s"', None]
    assert col(data, "x") == ["<a>x &amp; y</a>", "<r/>", None]  # as PostgreSQL writes it (xml_out)
    assert col(data, "ip") == ["192.168.1.5/24", "::1", None]  # as PostgreSQL writes it
    assert col(data, "cidr_") == ["10.0.0.0/8", "2001:db8::/32", None]
    assert col(data, "mac") == ["08:00:2b:01:02:03", "ff:ff:ff:ff:ff:ff", None]
    assert col(data, "mac8") == ["08:00:2b:01:02:03:04:05", "00:00:00:00:00:00:00:00", None]
    assert col(data, "bt") == ["1010", "0000", None]
    assert col(data, "vb") == ["1", "", None]
    assert col(data, "tsv") == ["'a' 'cat':1A 'fat'", "", None]
    assert col(data, "tsq") == ["'fat' & 'rat'", "'a'", None]


def test_ranges_hstore_geometry(zoo) -> None:
    _, data = zoo
    assert col(data, "r") == ["[1,5)", "empty", None]
    assert col(data, "dr") == ["[2020-01-01,infinity)", "empty", None]
    assert col(data, "tr") == ['["2020-01-01 00:00:00+00",)', "empty", None]
    assert col(data, "mr") == ["{[1,3),[5,7)}", "{}", None]
    assert col(data, "hs") == ['"a"=>"1", "b c"=>NULL', "", None]
    assert col(data, "pt") == ["(1.5,-2)", "(0,0)", None]
    assert col(data, "bx") == ["(1,1),(0,0)", "(0,0),(0,0)", None]
    assert col(data, "ci") == ["<(0,0),5>", "<(0,0),0>", None]
    assert col(data, "lsn") == ["16/B374D848", "0/0", None]


def test_enum_domain_composite(zoo) -> None:
    table, data = zoo
    assert col(data, "e") == ['it\'s "fine"', "sad", None]
    assert table.column("e").properties["enum"] == ["sad", "ok", "happy", 'it\'s "fine"']
    assert table.column("e").source_type == "mood"
    # domains come out as their base type
    assert data.schema.field("dom").type == pa.int32()
    assert col(data, "dom") == [7, 1, None]
    assert table.column("dom").properties["base_type"] == "integer"
    assert data.schema.field("dom_price").type == pa.decimal128(10, 3)
    assert col(data, "dom_price") == [Decimal("12.345"), Decimal("-0.001"), None]
    assert table.column("dom_name").properties["max_length"] == 5
    assert col(data, "comp") == ['(1,"x,y")', "(,)", None]


def test_arrays_are_never_flattened(zoo) -> None:
    _, data = zoo
    assert col(data, "a1") == ["{1,NULL,3}", "{}", None]
    assert col(data, "a2") == ["{{1,2},{3,4}}", "[0:1][1:2]={{1,2},{3,4}}", None]
    assert col(data, "at") == ['{"a b","c,d",NULL,"NULL"}', "{}", None]
    assert col(data, "an") == ["{1.5,NaN}", "{-Infinity}", None]
    assert col(data, "ae") == ["{sad,happy}", "{}", None]


def test_text_columns_equal_postgres_output(zoo, zoo_db) -> None:
    """Every column exported as text holds exactly what PostgreSQL prints."""
    table, data = zoo
    for c in table.columns:
        if c.properties.get("encoding") != "postgresql-text":
            continue
        # inet's ::text cast adds /32 to a host and xml's keeps the <?xml?> declaration; their
        # output functions (what psql shows) do not
        out = {"inet": "inet_out", "xml": "xml_out"}.get(c.source_type)
        expr = f'textin({out}("{c.name}"))' if out else f'"{c.name}"::text'
        expected = [r[0] for r in zoo_db.execute(f"SELECT {expr} FROM zoo ORDER BY id")]
        assert col(data, c.name) == expected, c.name


def test_field_metadata_and_parquet(zoo) -> None:
    table, data = zoo
    for c in table.columns:
        field = data.schema.field(c.name)
        assert field.metadata[SOURCE_TYPE_KEY] == c.source_type.encode()
    assert data.schema.field("a2").metadata[ENCODING_KEY] == b"postgresql-text"
    buf = io.BytesIO()
    pq.write_table(data, buf, compression="zstd")  # every column is writable to Parquet
    back = pq.read_table(io.BytesIO(buf.getvalue()))
    assert back.column("iv").to_pylist() == data.column("iv").to_pylist()
    assert back.column("n_big").to_pylist() == data.column("n_big").to_pylist()
    assert back.schema.field("tx").metadata[SOURCE_TYPE_KEY] == b"text"


@pytest.mark.parametrize(
    ("policy", "expected_d", "expected_ts"),
    [
        ("null", [None, None, 18321], [None, None, None]),
        ("clamp", [2932896, -719162, 18321], [253402300799999999, -62135596800000000, 253402300799999999]),
    ],
)
def test_infinity_policies(zoo_db, policy, expected_d, expected_ts) -> None:
    source = open_source(zoo_db.dsn, infinity=policy)
    table = find(source.discover(), "public.zoo_inf")
    data = read_table(source, table).sort_by("id")
    assert raw(data, "d") == expected_d
    assert raw(data, "ts") == expected_ts
    assert table.column("ts").properties["infinity"] == policy


def test_infinity_fails_loudly_when_asked(zoo_db) -> None:
    source = open_source(zoo_db.dsn, infinity="error")
    table = find(source.discover(), "public.zoo_inf")
    with pytest.raises(
        SourceError, match=r"column 'd' \(date\): date 'infinity'.*infinity=extreme\|null\|clamp"
    ) as err:
        read_table(source, table)
    assert not err.value.retryable


def test_infinity_is_the_extreme_value_by_default(zoo_db) -> None:
    """DuckDB's convention: INT32_MAX/-INT32_MAX days, INT64_MAX/-INT64_MAX microseconds."""
    source = open_source(zoo_db.dsn)
    table = find(source.discover(), "public.zoo_inf")
    assert table.column("ts").properties["infinity"] == "extreme"
    # ts holds 294276-12-31, past what int64 microseconds from 1970 hold: that column asks for text
    with pytest.raises(ColumnFallback, match=r"column 'ts'.*beyond year 294246") as err:
        read_table(source, table)
    assert err.value.columns == ("ts",)
    again = source.fallback(table, ["ts"])
    assert again is not None
    assert again.column("ts").arrow_type == pa.string()
    assert again.column("ts").properties["fallback"] == "text"
    assert source.fallback(again, ["ts"]) is None  # already text: nothing more to fall back to
    data = read_table(source, again).sort_by("id")
    assert raw(data, "d") == [2**31 - 1, -(2**31 - 1), 18321]
    assert raw(data, "tstz") == [2**63 - 1, -(2**63 - 1), 1582977600000000]
    assert col(data, "ts") == ["infinity", "-infinity", "294276-12-31 23:59:59.999999"]
    meta = data.schema.field("tstz").metadata
    assert meta[b"adu.infinity"] == b"extreme"
    assert ENCODING_KEY not in meta


def test_numeric_nan_in_a_decimal_column_falls_back_to_text(pg_db) -> None:
    pg_db.execute("CREATE TABLE n (id int, v numeric(8,3)); INSERT INTO n VALUES (1, 1.5), (2, 'NaN')")
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.n")
    with pytest.raises(ColumnFallback, match=r"column 'v'.*NaN") as err:
        read_table(source, table)
    again = source.fallback(table, err.value.columns)
    assert again is not None
    assert read_table(source, again).sort_by("id").column("v").to_pylist() == ["1.500", "NaN"]
    assert again.column("v").properties == {
        "encoding": "postgresql-text",
        "precision": 8,
        "scale": 3,
        "fallback": "text",
    }
    as_text = open_source(pg_db.dsn, numeric="text")
    table = find(as_text.discover(), "public.n")
    assert table.column("v").arrow_type == pa.string()
    assert table.column("v").properties == {"encoding": "postgresql-text", "precision": 8, "scale": 3}
    assert read_table(as_text, table).sort_by("id").column("v").to_pylist() == ["1.500", "NaN"]


def test_a_table_without_columns_keeps_its_rows(pg_db) -> None:
    pg_db.execute("CREATE TABLE nocols (); INSERT INTO nocols DEFAULT VALUES; INSERT INTO nocols DEFAULT VALUES")
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.nocols")
    assert [c.name for c in table.columns] == ["_adu_placeholder"]
    assert table.column("_adu_placeholder").properties["placeholder"] is True
    data = read_table(source, table)
    assert data.num_rows == 2
    assert data.column("_adu_placeholder").to_pylist() == [None, None]
    assert data.schema.field("_adu_placeholder").metadata[b"adu.placeholder"] == b"true"


def test_unusual_numeric_typmods_fall_back_to_text(pg_db) -> None:
    pg_db.execute(
        "CREATE TABLE n (a numeric(3,-2), b numeric(2,4), c numeric(1000,2));"
        "INSERT INTO n VALUES (12300, 0.0012, 12345678901234567890123456789012345678901234567890.25)"
    )
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.n")
    assert [c.arrow_type for c in table.columns] == [pa.string()] * 3
    assert read_table(source, table).to_pylist() == [
        {"a": "12300", "b": "0.0012", "c": "12345678901234567890123456789012345678901234567890.25"}
    ]


def test_bad_options_are_refused() -> None:
    with pytest.raises(UsageError, match="infinity"):
        open_source("postgresql://u@h/db", infinity="wrap")
    with pytest.raises(UsageError, match="unknown PostgreSQL source option"):
        open_source("postgresql://u@h/db", colour="red")
    with pytest.raises(UsageError, match="numeric"):
        open_source("postgresql://u@h/db", numeric="float")


def test_text_output_does_not_depend_on_session_defaults(pg, pg_db) -> None:
    pg_db.execute(
        "CREATE TABLE s (id int, r tstzrange, ds date[], iv interval[], f float8[], b bytea[]);"
        "INSERT INTO s VALUES (1, tstzrange('2020-01-02 03:04:05+00', NULL), ARRAY[date '2020-01-02'],"
        " ARRAY[interval '-1 day 02:00:00'], ARRAY[0.1::float8], ARRAY[decode('00ff', 'hex')])"
    )
    for setting in (
        "DateStyle = 'SQL, DMY'",
        "IntervalStyle = 'sql_standard'",
        "TimeZone = 'Asia/Tokyo'",
        "extra_float_digits = -3",
        "bytea_output = 'escape'",
    ):
        pg_db.execute(f"ALTER ROLE {pg.role} IN DATABASE {pg_db.name} SET {setting}", superuser=True)
    assert pg_db.execute("SELECT ds::text, r::text FROM s") != [("{2020-01-02}", '["2020-01-02 03:04:05+00",)')]
    source = open_source(pg_db.dsn)
    row = read_table(source, find(source.discover(), "public.s")).to_pylist()[0]
    assert row == {
        "id": 1,
        "r": '["2020-01-02 03:04:05+00",)',
        "ds": "{2020-01-02}",
        "iv": '{"-1 days +02:00:00"}',
        "f": "{0.1}",
        "b": '{"\\\\x00ff"}',
    }


def test_portable_profile(pg_db) -> None:
    """The default profile writes only what DuckDB, polars, pandas and Spark all read:
    uuid as 16 plain bytes, time as int64 microseconds, numeric beyond precision 38 as
    text, and case-colliding names made unique (the original kept); exact keeps the logical
    types; the source option uuid=text writes uuid as its text."""
    pg_db.execute(
        'CREATE TABLE p (id int PRIMARY KEY, u uuid, t time, n numeric(76,8), m numeric(38,2), "MyCol" int,'
        ' mycol text, "MYCOL" bool, "mycol__2" int);'
        "INSERT INTO p VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '24:00:00',"
        " '-123456789012345678901234567890123456789012345678901234567890123456.12345678', 1.5, 1, 'x', true, 2)"
    )
    source = open_source(pg_db.dsn)
    table = find(source.discover(), "public.p")
    by = {c.name: c for c in table.columns}
    assert [c.name for c in table.columns] == ["id", "u", "t", "n", "m", "MyCol", "mycol__3", "MYCOL__4", "mycol__2"]
    assert by["mycol__3"].properties["original_name"] == "mycol"
    assert by["MYCOL__4"].properties["original_name"] == "MYCOL"
    assert "original_name" not in by["mycol__2"].properties
    assert (by["u"].arrow_type, by["t"].arrow_type, by["n"].arrow_type) == (pa.binary(16), pa.int64(), pa.string())
    assert by["m"].arrow_type == pa.decimal128(38, 2)
    data = read_table(source, table)
    row = data.to_pylist()[0]
    assert row["u"] == uuid.UUID("a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11").bytes
    assert row["t"] == 86_400_000_000
    assert row["n"] == "-123456789012345678901234567890123456789012345678901234567890123456.12345678"
    assert (row["mycol__3"], row["MYCOL__4"], row["mycol__2"]) == ("x", True, 2)
    assert data.schema.field("t").metadata[ENCODING_KEY] == b"time-micros"
    assert data.schema.field("mycol__3").metadata[b"adu.original_name"] == b"mycol"
    assert data.schema.field("u").metadata[SOURCE_TYPE_KEY] == b"uuid"
    assert data.schema.field("u").metadata[ENCODING_KEY] == b"uuid-bytes"
    as_text = open_source(pg_db.dsn, uuid="text")
    table = find(as_text.discover(), "public.p")
    assert table.column("u").arrow_type == pa.string()
    data = read_table(as_text, table)
    assert data.column("u").to_pylist() == ["a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11"]
    assert data.schema.field("u").metadata[ENCODING_KEY] == b"postgresql-text"
    exact = open_source(pg_db.dsn, profile="exact")
    table = find(exact.discover(), "public.p")
    assert [c.name for c in table.columns] == ["id", "u", "t", "n", "m", "MyCol", "mycol", "MYCOL", "mycol__2"]
    assert table.column("n").arrow_type == pa.decimal256(76, 8)
    assert table.column("t").arrow_type == pa.time64("us")
