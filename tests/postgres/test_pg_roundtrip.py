"""Property test: random values inserted into PostgreSQL come back exactly."""

from __future__ import annotations

import datetime as dt
import json
import math
from decimal import Decimal

import psycopg2
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pg_helpers import find, open_source, read_table

COLUMNS = (
    "id int, b bool, i2 smallint, i8 bigint, f8 double precision, n numeric(18,4), nf numeric, "
    "tx text, ch char(4), by bytea, d date, tm time, ts timestamp, tstz timestamptz, "
    "iv interval, u uuid, a int[], jb jsonb"
)
INSERT = (
    "INSERT INTO rt VALUES (%s, %s, %s, %s, %s, %s, %s::numeric, %s, %s, %s, %s, %s, %s, %s, "
    "%s * interval '1 month' + %s * interval '1 day' + %s * interval '1 microsecond', %s::uuid, "
    "%s::int[], %s::jsonb)"
)

text = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), max_size=30)
maybe = st.one_of
row = st.fixed_dictionaries(
    {
        "b": maybe(st.none(), st.booleans()),
        "i2": maybe(st.none(), st.integers(-(2**15), 2**15 - 1)),
        "i8": maybe(st.none(), st.integers(-(2**63), 2**63 - 1)),
        "f8": maybe(st.none(), st.floats(allow_nan=True, allow_infinity=True)),
        "n": maybe(st.none(), st.decimals(min_value=-(10**13) + 1, max_value=10**13 - 1, places=4)),
        "nf": maybe(
            st.none(),
            st.decimals(allow_nan=False, allow_infinity=False),
            st.sampled_from([Decimal("NaN"), Decimal("-0.000"), Decimal("1E+300"), Decimal("-1E-300")]),
        ),
        "tx": maybe(st.none(), text),
        "ch": maybe(st.none(), st.text(st.characters(min_codepoint=33, max_codepoint=0x2FFF), max_size=4)),
        "by": maybe(st.none(), st.binary(max_size=40)),
        "d": maybe(st.none(), st.dates()),
        "tm": maybe(st.none(), st.times()),
        "ts": maybe(st.none(), st.datetimes()),
        "tstz": maybe(st.none(), st.datetimes(timezones=st.just(dt.UTC))),
        "iv": maybe(
            st.none(),
            st.tuples(st.integers(-(10**6), 10**6), st.integers(-(10**6), 10**6), st.integers(-(10**15), 10**15)),
        ),
        "u": maybe(st.none(), st.uuids()),
        "a": maybe(
            st.none(),
            st.lists(maybe(st.none(), st.integers(-(2**31), 2**31 - 1)), max_size=4),
            st.lists(st.lists(st.integers(-9, 9), min_size=2, max_size=2), min_size=1, max_size=3),
        ),
        "jb": maybe(st.none(), st.dictionaries(text, st.integers(-100, 100), max_size=3)),
    }
)


@pytest.fixture(scope="module")
def rt_db(pg):
    db = pg.create_database("rt")
    db.execute(f"CREATE TABLE rt ({COLUMNS})")
    source = open_source(db.dsn, profile="exact")  # the portable profile: tests/interop
    table = find(source.discover(), "public.rt")
    try:
        yield db, source, table
    finally:
        source.close()
        db.drop()


def _array_literal(value):
    if value is None:
        return None

    return json.dumps(value).replace("[", "{").replace("]", "}").replace("null", "NULL")


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(row, min_size=0, max_size=12))
def test_values_round_trip_exactly(rt_db, rows) -> None:
    db, source, table = rt_db
    conn = psycopg2.connect(db.dsn)
    try:
        with conn, conn.cursor() as cur:
            cur.execute("TRUNCATE rt")
            for i, r in enumerate(rows):
                iv = r["iv"] or (None, None, None)

                cur.execute(
                    INSERT,
                    (
                        i, r["b"], r["i2"], r["i8"], r["f8"], r["n"],
                        str(r["nf"]) if r["nf"] is not None else None,
                        r["tx"], r["ch"], psycopg2.Binary(r["by"]) if r["by"] is not None else None,
                        r["d"], r["tm"], r["ts"], r["tstz"], *iv,
                        str(r["u"]) if r["u"] is not None else None,
                        _array_literal(r["a"]),
                        json.dumps(r["jb"]) if r["jb"] is not None else None,
                    ),
                )  # fmt: skip
            cur.execute("SELECT a::text, jb::text, nf::text FROM rt ORDER BY id")
            pg_text = cur.fetchall()
    finally:
        conn.close()
    data = read_table(source, table).sort_by("id").to_pylist()
    assert len(data) == len(rows)
    for got, want, (a_text, jb_text, nf_text) in zip(data, rows, pg_text, strict=True):
        for key in ("b", "i2", "i8", "tx", "by", "d", "tm", "ts", "tstz", "u"):
            assert got[key] == want[key], key
        if want["f8"] is not None and math.isnan(want["f8"]):
            assert math.isnan(got["f8"])
        else:
            assert got["f8"] == want["f8"]
        assert got["n"] == want["n"]
        if want["nf"] is None:
            assert got["nf"] is None
        elif want["nf"].is_nan():
            assert got["nf"] == "NaN"
        else:
            assert Decimal(got["nf"]) == want["nf"]
            assert got["nf"] == nf_text  # digits and scale exactly as PostgreSQL keeps them
        assert got["ch"] == (want["ch"].ljust(4) if want["ch"] is not None else None)
        if want["iv"] is None:
            assert got["iv"] is None
        else:
            months, days, micros = want["iv"]
            assert got["iv"] == {"months": months, "days": days, "microseconds": micros}
        assert got["a"] == a_text
        assert got["jb"] == jb_text
