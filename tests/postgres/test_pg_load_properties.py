"""Property and edge tests of the encoder: random rows read by the PostgreSQL source and
loaded back (binary and text COPY formats), and the values at the edges of each type."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal

import psycopg2.errors
import pyarrow as pa
import pytest
from adu_core.models import ColumnInfo, TableInfo
from adu_postgres.encoder import EncodeError, Encoder, plan_column
from adu_postgres.loader import TableLoad
from adu_postgres.partload import PartitionLoad
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_helpers import find, open_source, read_table
from pg_load_helpers import row_texts

COLUMNS = (
    "id int, b bool, i2 smallint, i8 bigint, f4 real, f8 double precision, n numeric(18,4), nf numeric, "
    "n76 numeric(76,20), tx text, ch char(4), by bytea, d date, tm time, tz timetz, ts timestamp, "
    "tstz timestamptz, iv interval, u uuid, jb jsonb, o oid"
)
INSERT = (
    "INSERT INTO {t} VALUES (%s, %s, %s, %s, %s, %s, %s, %s::numeric, %s, %s, %s, %s, %s, %s, %s, %s, %s, "
    "%s * interval '1 month' + %s * interval '1 day' + %s * interval '1 microsecond', %s::uuid, %s::jsonb, %s{extra})"
)

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
maybe = st.one_of
row = st.fixed_dictionaries(
    {
        "b": maybe(st.none(), st.booleans()),
        "i2": maybe(st.none(), st.integers(-(2**15), 2**15 - 1)),
        "i8": maybe(st.none(), st.integers(-(2**63), 2**63 - 1)),
        "f4": maybe(st.none(), st.floats(width=32)),
        "f8": maybe(st.none(), st.floats()),
        "n": maybe(st.none(), st.decimals(min_value=-(10**14) + 1, max_value=10**14 - 1, places=4)),
        "nf": maybe(
            st.none(),
            st.decimals(allow_nan=False, allow_infinity=False),
            st.sampled_from([Decimal("NaN"), Decimal("-0.000"), Decimal("1E+300"), Decimal("-1E-300")]),
        ),
        "n76": maybe(st.none(), st.decimals(min_value=-(10**56) + 1, max_value=10**56 - 1, places=20)),
        "tx": maybe(st.none(), text),
        "ch": maybe(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF), max_size=4)),
        "by": maybe(st.none(), st.binary(max_size=40)),
        "d": maybe(st.none(), st.dates()),
        "tm": maybe(st.none(), st.times()),
        "tz": maybe(
            st.none(),
            st.tuples(st.times(), st.integers(-15 * 3600 - 59 * 60, 15 * 3600 + 59 * 60)).map(
                lambda v: (
                    f"{v[0].isoformat()}{'+' if v[1] >= 0 else '-'}{abs(v[1]) // 3600:02d}:"
                    f"{abs(v[1]) // 60 % 60:02d}:{abs(v[1]) % 60:02d}"
                )
            ),
        ),
        "ts": maybe(st.none(), st.datetimes()),
        "tstz": maybe(st.none(), st.datetimes(timezones=st.just(dt.UTC))),
        "iv": maybe(
            st.none(),
            st.tuples(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6), st.integers(-(10**15), 10**15)),
        ),
        "u": maybe(st.none(), st.uuids()),
        "jb": maybe(st.none(), st.dictionaries(text, st.integers(-100, 100), max_size=3)),
        "o": maybe(st.none(), st.integers(0, 2**32 - 1)),
        "ip": maybe(st.none(), st.ip_addresses().map(str)),
    }
)


@pytest.fixture(scope="module")
def dbs(pg):
    src = pg.create_database("lprop")
    dst = pg.create_database("lprop_t")
    # rb: every column has a binary route (inet's text is parsed by the encoder); rt: a range
    # column (PostgreSQL's text, only range_in reads it) sends the table through COPY's text format
    src.execute(f"CREATE TABLE rb ({COLUMNS}, ip inet); CREATE TABLE rt ({COLUMNS}, ip inet, r int4range)")
    try:
        yield src, dst
    finally:
        src.drop()
        dst.drop()


def _params(i: int, r: dict) -> list:
    iv = r["iv"] or (None, None, None)
    return [
        i, r["b"], r["i2"], r["i8"], r["f4"], r["f8"], r["n"],
        None if r["nf"] is None else str(r["nf"]), r["n76"], r["tx"], r["ch"], r["by"], r["d"], r["tm"], r["tz"],
        r["ts"], r["tstz"], *iv, None if r["u"] is None else str(r["u"]),
        None if r["jb"] is None else json.dumps(r["jb"]), r["o"],
    ]  # fmt: skip


def _load_via_source(src, dst, name: str, profile: str = "exact") -> str:
    """Read ``name`` with the PostgreSQL source (far-side ``profile``) and load the
    batches into ``dst``."""
    source = open_source(src.dsn, profile=profile)
    try:
        table = find(source.discover(), f"public.{name}")
        data = read_table(source, table, batch_rows=7)
    finally:
        source.close()
    load = TableLoad(dst.dsn, table, job_id="prop", if_exists="replace")
    load.prepare()
    try:
        part = PartitionLoad(dst.dsn, table, schema="public", stage=load.stage, part="all")
        for batch in data.to_batches():
            part.write(batch)
        part.close()
        return load.publish(expected_rows=data.num_rows).copy_format
    except BaseException:
        load.discard()
        raise


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=1, max_size=12))
def test_random_rows_round_trip_in_both_copy_formats(dbs, rows) -> None:
    src, dst = dbs
    src.execute("TRUNCATE rb, rt")
    for i, r in enumerate(rows):
        src.execute(INSERT.format(t="rb", extra=", %s"), [*_params(i, r), r["ip"]])
        src.execute(INSERT.format(t="rt", extra=", %s, int4range(%s, NULL)"), [*_params(i, r), r["ip"], i])
    for name, fmt in (("rb", "binary"), ("rt", "text")):
        assert _load_via_source(src, dst, name) == fmt
        assert row_texts(dst.dsn, "public", name) == row_texts(src.dsn, "public", name), name
        # the portable profile (uuid and wide numerics as text, time as int64) restores the same,
        # in the same COPY format (its uuid, inet and numeric text are converted to binary)
        assert _load_via_source(src, dst, name, profile="portable") == fmt
        assert row_texts(dst.dsn, "public", name) == row_texts(src.dsn, "public", name), (name, "portable")


EDGES = """
CREATE TABLE edges (f4 real, f8 double precision, n numeric(76,38), nf numeric, tz timetz, t time, d date,
                    ts timestamp, tstz timestamptz, iv interval, m money, x text);
INSERT INTO edges VALUES
 ('1.4e-45', '4.9e-324', '-9999999999999999999999999999999999999.99999999999999999999999999999999999999',
  '-0.0000000000000000000000000000000000001', '12:00:00+00:19:32', '24:00:00', '4713-01-01 BC',
  '4713-01-01 00:00:00 BC', '294246-12-31 23:59:59.999999+00', '-178956970 years -8 mons -2147483648 days',
  '-92233720368547758.08', E'\\\\.\\n\\\\N\\t\\r'),
 ('-0', '-0', 0, '1e-16383', '00:00:00-15:59:59', '00:00:00', '5874897-12-31', '0001-01-01 00:00:00',
  '1999-12-31 23:59:59.999999+00', '178956970 years 7 mons 2147483647 days 2562047788:00:54.775807',
  '92233720368547758.07', '\\N'),
 ('3.4028235e38', '1.7976931348623157e308', '1e37', ('9' || repeat('0', 1000))::numeric, '24:00:00+15:59',
  '23:59:59.999999',
  '2000-02-29', '2000-01-01 00:00:00', '1970-01-01 00:00:00+00', '-0.000001 seconds', '0', NULL);
CREATE TABLE edges_text (LIKE edges, ip inet, r int4range);
INSERT INTO edges_text SELECT *, '::1', '[1,3)' FROM edges;
"""


def test_edge_values_of_every_type_in_both_formats(pg) -> None:
    src = pg.create_database("ledge")
    dst = pg.create_database("ledge_t")
    try:
        src.execute(EDGES)
        for name, fmt in (("edges", "binary"), ("edges_text", "text")):
            assert _load_via_source(src, dst, name) == fmt
            assert row_texts(dst.dsn, "public", name) == row_texts(src.dsn, "public", name), name
            assert _load_via_source(src, dst, name, profile="portable") == fmt
            assert row_texts(dst.dsn, "public", name) == row_texts(src.dsn, "public", name), (name, "portable")
    finally:
        src.drop()
        dst.drop()


@pytest.mark.parametrize("text_format", [False, True])
def test_infinity_sentinels_load_as_infinity_when_the_export_says_so(pg_db, text_format) -> None:
    schema = pa.schema(
        [
            pa.field("d", pa.date32(), metadata={b"adu.infinity": b"extreme"}),
            pa.field("ts", pa.timestamp("us"), metadata={b"adu.infinity": b"extreme"}),
            pa.field("tz", pa.timestamp("us", tz="UTC"), metadata={b"adu.infinity": b"extreme"}),
            pa.field("plain", pa.timestamp("us")),
        ]
    )
    big, small = 2**63 - 1, -(2**63 - 1)
    batch = pa.record_batch(
        [
            pa.array([2**31 - 1, -(2**31 - 1), 0], pa.date32()),
            pa.array([big, small, 0], pa.timestamp("us")),
            pa.array([big, small, None], pa.timestamp("us", tz="UTC")),
            pa.array([big, 0, 0], pa.timestamp("us")),  # no convention: an ordinary (far) timestamp
        ],
        schema=schema,
    )
    pg_names = ["date", "timestamp without time zone", "timestamp with time zone", "timestamp without time zone"]
    cols = tuple(ColumnInfo(f.name, t, f.type) for f, t in zip(schema, pg_names, strict=True))
    if text_format:
        schema = schema.append(pa.field("r", pa.string(), metadata={b"adu.encoding": b"postgresql-text"}))
        batch = pa.record_batch([*batch.columns, pa.array(["[1,2)"] * 3)], schema=schema)
        cols = (*cols, ColumnInfo("r", "int4range", pa.string()))
    table = TableInfo(schema="public", name="inf", columns=cols)
    load = TableLoad(pg_db.dsn, table, job_id="inf", data_schema=schema)
    load.prepare()
    part = PartitionLoad(pg_db.dsn, table, schema="public", stage=load.stage, part="p", data_schema=schema)
    part.write(batch)
    part.close()
    assert load.publish().copy_format == ("text" if text_format else "binary")
    rows = pg_db.execute("SET TimeZone = 'UTC'; SELECT d::text, ts::text, tz::text, plain::text FROM inf")
    assert sorted(rows, key=str) == sorted(
        [
            ("infinity", "infinity", "infinity", "294247-01-10 04:00:54.775807"),
            ("-infinity", "-infinity", "-infinity", "1970-01-01 00:00:00"),
            ("1970-01-01", "1970-01-01 00:00:00", None, "1970-01-01 00:00:00"),
        ],
        key=str,
    )


def test_encoder_refuses_what_it_cannot_carry() -> None:
    with pytest.raises(EncodeError, match="no way to load"):
        plan_column(pa.field("x", pa.duration("s")))
    text_col = plan_column(pa.field("r", pa.string()), encoding="postgresql-text")
    with pytest.raises(EncodeError, match="text COPY format"):
        Encoder([text_col], text=False)
    money = Encoder([plan_column(pa.field("m", pa.decimal128(38, 2)), base="money")])
    with pytest.raises(EncodeError, match="column 'm': value out of money's range"):
        money.encode(pa.record_batch([pa.array([Decimal("1e30")], pa.decimal128(38, 2))], names=["m"]))
    num = Encoder([plan_column(pa.field("n", pa.string()), base="numeric", encoding="postgresql-text")])
    with pytest.raises(EncodeError, match="not a numeric"):
        num.encode(pa.record_batch([pa.array(["1e5"])], names=["n"]))


UUID_SPELLINGS = [
    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    "A0EEBC99-9C0B-4EF8-BB6D-6BB9BD380A11",
    "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
    "a0eebc999c0b4ef8bb6d6bb9bd380a11",
    "a0ee-bc99-9c0b-4ef8-bb6d-6bb9-bd38-0a11",
    "{a0eebc99-9c0b4ef8-bb6d6bb9-bd380a11}",
    "00000000-0000-0000-0000-000000000000",
]
NOT_UUIDS = [
    "",
    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a1",
    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a111",
    "-a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11-",
    "a0eebc99--9c0b-4ef8-bb6d-6bb9bd380a11",
    "a0eebc9-99c0b-4ef8-bb6d-6bb9bd380a11",
    "{a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    "a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11}",
    "g0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
    " a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11",
]


def test_uuid_text_loads_in_binary_as_uuid_in_reads_it(pg_db) -> None:
    """The portable profile's uuid text travels in binary COPY: every spelling uuid_in
    accepts gives uuid_in's value, every spelling it refuses is refused before the load."""
    schema = pa.schema([pa.field("u", pa.string(), metadata={b"adu.encoding": b"postgresql-text"})])
    table = TableInfo(schema="public", name="uu", columns=(ColumnInfo("u", "uuid", pa.string()),))
    load = TableLoad(pg_db.dsn, table, job_id="uu", data_schema=schema)
    load.prepare()
    part = PartitionLoad(pg_db.dsn, table, schema="public", stage=load.stage, part="p", data_schema=schema)
    part.write(pa.record_batch([pa.array([*UUID_SPELLINGS, None])], schema=schema))
    part.close()
    assert load.publish().copy_format == "binary"
    loaded = sorted(r[0] for r in pg_db.execute("SELECT u::text FROM uu WHERE u IS NOT NULL"))
    expected = sorted(r[0] for r in pg_db.execute("SELECT x::uuid::text FROM unnest(%s::text[]) x", (UUID_SPELLINGS,)))
    assert loaded == expected
    enc = Encoder([plan_column(schema.field("u"), base="uuid", encoding="postgresql-text")])
    assert enc.copy_format == "binary"
    for bad in NOT_UUIDS:
        with pytest.raises(psycopg2.errors.InvalidTextRepresentation, match="type uuid"):
            pg_db.execute("SELECT %s::uuid", (bad,))
        with pytest.raises(EncodeError, match="column 'u': not a uuid"):
            enc.encode(pa.record_batch([pa.array([bad])], schema=schema))


# Network addresses in the portable/exact profiles travel as text (inet_out...); the encoder
# parses them in C into their binary send format. Each list holds spellings the server's
# input function accepts (checked below, so the lists cannot lie), quirks included.
# fmt: off
NET_ACCEPTED = {
    "inet": [
        "192.168.1.5", "192.168.1.5/24", "10.0.0.0/8", "0.0.0.0/0", "255.255.255.255", "010.001.000.001",
        "1.2.3.4.", "1.2.3./24", "10/8", "10.1/16", "10.1/9", "1.2.3.4/0", "1.2.3.4/4294967295", "1.2.3.4/4294967296",
        "::", "::1", "::1/128", "::/0", "2001:db8::/32", "2001:DB8:0:0:8:800:200C:417A",
        "2001:db8::8:800:200c:417a/64", "::ffff:1.2.3.4", "::ffff:1.2.3.4/120", "1:2:3:4:5:6:1.2.3.4",
        "1:2:3:4:5:6:1.2.3.4/100", "1::", "1:2:3:4:5:6:7::", "::2:3:4:5:6:7:8", "1:2:3:4:5:6:7:8",
        "0:0:0:0:0:0:0:0", "::1.2.3", "::.1.2.3", "::1..2.3", "fe80::1/10", "::ffff:0.0.0.0/96",
    ],
    "cidr": [
        "10", "10.1", "10.1.2", "10.1.2.3", "128", "192.168", "192.168.1", "224", "224.1", "239", "240",
        "10/8", "10.0.0.0/8", "0x0a", "0x0a/8", "0XA", "0x0a0b0c0d", "0x0a0b0c0", "192.168.0.0/16",
        "0.0.0.0/0", "255.255.255.255/32", "010.1/16", "::/0", "::", "2001:db8::/32", "::ffff:0.0.0.0/96",
        "2001:db8::8:800:200c:417a", "1.2.3.0/4294967295", "10.1.2.3/4294967295", "225",
    ],
    "macaddr": [
        "08:00:2b:01:02:03", "08-00-2b-01-02-03", "08002b:010203", "08002b-010203", "0800.2b01.0203",
        "0800-2b01-0203", "08002b010203", "8:0:2b:1:2:3", "08:00:2B:01:02:03", " 08:00:2b:01:02:03",
        "08:00:2b:01:02:03 ", "0x8:0:2b:1:2:3", "+8:0:2b:1:2:3", "8: 0: 2b: 1: 2: 3", "FF:FF:FF:FF:FF:FF",
        "08002b01020",
    ],
    "macaddr8": [
        "08:00:2b:01:02:03:04:05", "08-00-2b-01-02-03-04-05", "08002b0102030405", "0800.2b01.0203.0405",
        "0800:2b01:0203:0405", "08:00:2b:01:02:03", "08002b010203", " 08:00:2b:01:02:03:04:05 ",
        "08:00:2b:01:02:03:04:05:", "08:00:2b:01:02:03:04:05x", "08:00:2B:01:02:03:04:05",
    ],
}
NET_REFUSED = {
    "inet": [
        "", " 1.2.3.4", "1.2.3.4 ", "1.2.3", "256.1.1.1", "1.2.3.4/33", "1.2.3.4/", "1.2.3.4/a", "1.2.3.4.5",
        "a.b.c.d", ":::", "1:2:3:4:5:6:7:8:9", "1::2::3", "12345::", "::1/129", "::1/01", "1:", ":1", "::g",
        "1.2.3.4/-1", "10/16", "::ffff:1.2.3.4.5", "::ffff:01.2.3.4", "1:2:3:4:5:6:7:1.2.3.4", "0x0a",
        "fe80::1%eth0", "1:2:3:4:5:6:7:8::", "::1.2.3.4/",
    ],
    "cidr": [
        "", "10.1.2.3/8", "192.168.1.1/24", "::1/64", "0x0a0b0c0d0e", "1.2.3.4.", "10/33", "0x", "0xg",
        "1.2.3./24", "1.2.3.4/4294967297", "0x0a/", "/8",
    ],
    "macaddr": [
        "", "08:00:2b:01:02", "08:00:2b:01:02:03:04", "08:00:2b:01:02:0g", "08:00:2b:01:02:100",
        "08.00.2b.01.02.03", "08:00-2b:01:02:03", "08002b0102", "-1:0:0:0:0:0", "08:00:2b:01:02:03 x",
    ],
    "macaddr8": [
        "", "08:00:2b:01:02:03:04", "08:00:2b:01:02:03:04:05:06", "08:00-2b:01:02:03:04:05",
        "08:00:2b:01:02:03:04:0g", "8:0:2b:1:2:3:4:5", "08:00:2b:01:02:03 x", "08:00:2b:01:02:03:04:05 x",
        "é8:00:2b:01:02:03",
    ],
}
# fmt: on


def _server_send(cur, type_name: str, text: str) -> bytes | None:
    """The server's binary send form of ``text`` read by ``type_name``'s input function, or
    None when the input function refuses it."""
    cur.execute("SAVEPOINT s")
    try:
        cur.execute(f"SELECT {type_name}_send(%s::{type_name})", (text,))
    except psycopg2.DataError:
        cur.execute("ROLLBACK TO SAVEPOINT s")
        return None
    return bytes(cur.fetchone()[0])


def _encoded(type_name: str, text: str) -> bytes | None:
    """The encoder's binary field for ``text`` (without its length), or None when refused."""
    schema = pa.schema([pa.field("a", pa.string(), metadata={b"adu.encoding": b"postgresql-text"})])
    enc = Encoder([plan_column(schema.field("a"), base=type_name, encoding="postgresql-text")])
    assert enc.copy_format == "binary"
    try:
        data = enc.encode(pa.record_batch([pa.array([text])], schema=schema))
    except EncodeError as exc:
        assert str(exc).startswith("column 'a': ") and "(row 1)" in str(exc) and "\n" not in str(exc)
        return None
    assert data[:2] == b"\x00\x01" and int.from_bytes(data[2:6], "big") == len(data) - 6
    return data[6:]


@pytest.mark.parametrize("type_name", sorted(NET_ACCEPTED))
def test_network_text_encodes_as_the_servers_input_function_reads_it(pg_db, type_name) -> None:
    """Every spelling the server accepts gives the server's own binary value; every spelling
    it refuses is refused by the encoder, with a one-line error naming column and row."""
    with psycopg2.connect(pg_db.dsn) as conn, conn.cursor() as cur:
        for text in NET_ACCEPTED[type_name]:
            want = _server_send(cur, type_name, text)
            assert want is not None, f"the server refuses {type_name} {text!r}: not a spelling it accepts"
            assert _encoded(type_name, text) == want, (type_name, text)
        for text in NET_REFUSED[type_name]:
            assert _server_send(cur, type_name, text) is None, f"the server accepts {type_name} {text!r}"
            assert _encoded(type_name, text) is None, (type_name, text)
        with pytest.raises(EncodeError, match=r"^column 'a': not an? \w+ in PostgreSQL's text form \(row 1\)$"):
            _encoded_or_raise(type_name, "x\x00")


def _encoded_or_raise(type_name: str, text: str) -> bytes:
    schema = pa.schema([pa.field("a", pa.string())])
    enc = Encoder([plan_column(schema.field("a"), base=type_name, encoding="postgresql-text")])
    return enc.encode(pa.record_batch([pa.array([text])], schema=schema))


NET_ALPHABET = {
    "inet": "0123456789abcdefABx.:/ ",
    "cidr": "0123456789abcdefxX.:/",
    "macaddr": "0123456789abcdefx:-.+ ",
    "macaddr8": "0123456789abcdef:-. ",
}


def _near_misses(spellings: list[str], alphabet: str) -> st.SearchStrategy[str]:
    """An accepted spelling with up to two characters of ``alphabet`` inserted somewhere."""
    return st.sampled_from(spellings).flatmap(
        lambda s: st.builds(
            lambda at, extra: s[:at] + extra + s[at:], st.integers(0, len(s)), st.text(alphabet, max_size=2)
        )
    )


@pytest.mark.parametrize("type_name", sorted(NET_ALPHABET))
def test_random_network_spellings_agree_with_the_server(pg_db, type_name) -> None:
    """Random strings over each type's alphabet: the encoder accepts exactly what the
    server's input function accepts, with the same binary value."""
    with psycopg2.connect(pg_db.dsn) as conn, conn.cursor() as cur:

        @settings(max_examples=400, deadline=None)
        @given(
            text=st.one_of(
                st.text(st.sampled_from(NET_ALPHABET[type_name]), max_size=42),
                _near_misses(NET_ACCEPTED[type_name], NET_ALPHABET[type_name]),
            )
        )
        def agree(text: str) -> None:
            assert _encoded(type_name, text) == _server_send(cur, type_name, text), (type_name, text)

        agree()


def test_network_columns_load_in_binary_as_the_server_reads_them(pg_db) -> None:
    """A table of inet, cidr, macaddr and macaddr8 text (as the export writes them) loads
    in binary COPY, each value as the server's cast of its text; a malformed value fails
    the part before anything is visible, naming the column and the row."""
    meta = {b"adu.encoding": b"postgresql-text"}
    names = sorted(NET_ACCEPTED)
    n = max(len(v) for v in NET_ACCEPTED.values())
    columns = {t: [*NET_ACCEPTED[t], *[None] * (n - len(NET_ACCEPTED[t]))] for t in names}
    schema = pa.schema([pa.field(t, pa.string(), metadata=meta) for t in names])
    table = TableInfo(schema="public", name="net", columns=tuple(ColumnInfo(t, t, pa.string()) for t in names))
    load = TableLoad(pg_db.dsn, table, job_id="net", data_schema=schema)
    load.prepare()
    part = PartitionLoad(pg_db.dsn, table, schema="public", stage=load.stage, part="p", data_schema=schema)
    part.write(pa.record_batch([pa.array(columns[t]) for t in names], schema=schema))
    part.close()
    assert load.publish().copy_format == "binary"
    for t in names:
        loaded = sorted(r[0] for r in pg_db.execute(f"SELECT {t}::text FROM net WHERE {t} IS NOT NULL"))
        expected = sorted(
            r[0] for r in pg_db.execute(f"SELECT x::{t}::text FROM unnest(%s::text[]) x", (NET_ACCEPTED[t],))
        )
        assert loaded == expected, t

    bad = TableInfo(schema="public", name="net_bad", columns=(ColumnInfo("addr", "inet", pa.string()),))
    bad_schema = pa.schema([pa.field("addr", pa.string(), metadata=meta)])
    load = TableLoad(pg_db.dsn, bad, job_id="net_bad", data_schema=bad_schema)
    load.prepare()
    part = PartitionLoad(pg_db.dsn, bad, schema="public", stage=load.stage, part="p", data_schema=bad_schema)
    with pytest.raises(Exception, match=r"column 'addr': not an inet in PostgreSQL's text form \(row 3\)"):
        part.write(pa.record_batch([pa.array(["10.0.0.1", "::1", "10.0.0.256"])], schema=bad_schema))
        part.close()
    load.discard()
    assert not pg_db.execute("SELECT to_regclass('public.net_bad')")[0][0]


DECIMAL_TYPES = [(12, 2), (18, 4), (18, 0), (5, 0), (10, 1), (18, 7), (19, 3), (38, 10), (38, 0), (76, 20)]


@pytest.mark.parametrize(("precision", "scale"), DECIMAL_TYPES)
def test_decimals_encode_as_numeric_send_writes_them(pg_db, precision, scale) -> None:
    """Decimals (the int64 fast path and the wide path alike) give numeric_send's bytes:
    weight, sign, display scale and base-10000 digits without trailing zero groups."""
    arrow_type = pa.decimal128(precision, scale) if precision <= 38 else pa.decimal256(precision, scale)
    enc = Encoder([plan_column(pa.field("n", arrow_type))])
    top = 10 ** (precision - scale)
    edges = [Decimal(0), Decimal(1), Decimal(-1), Decimal(top) - Decimal(1).scaleb(-scale)]
    edges += [-edges[-1], Decimal(1).scaleb(-scale), Decimal(-1).scaleb(-scale), Decimal(10000), Decimal(-100000000)]

    with psycopg2.connect(pg_db.dsn) as conn, conn.cursor() as cur:

        def check(value: Decimal) -> None:
            cur.execute(f"SELECT numeric_send(%s::numeric({precision}, {scale}))", (value,))
            want = bytes(cur.fetchone()[0])
            data = enc.encode(pa.record_batch([pa.array([value], arrow_type)], names=["n"]))
            assert data[6:] == want, value

        for value in edges:
            if abs(value) < top:
                check(value)

        @settings(max_examples=150, deadline=None)
        @given(
            value=st.decimals(
                min_value=-top + 1, max_value=top - 1, places=scale, allow_nan=False, allow_infinity=False
            )
        )
        def agree(value: Decimal) -> None:
            check(value)

        agree()
