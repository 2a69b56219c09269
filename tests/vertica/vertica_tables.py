"""The test tables, defined once, created in the fake server or in a real Vertica."""

from __future__ import annotations

import datetime as dt
import decimal
import uuid

from vertica_engine import ColumnDef, TableDef

SCHEMA = "adu_test"
UTC = dt.UTC
PLUS2 = dt.timezone(dt.timedelta(hours=2))
MINUS0530 = dt.timezone(-dt.timedelta(hours=5, minutes=30))
D = decimal.Decimal
U1 = uuid.UUID("6f1b8f0e-3c55-4f0a-9d5e-2b1b0c9a7e11")
WIDE = D("-" + "1234567890" * 95 + "." + "1234567890" * 2)  # 952 digits, scale 20

TYPES_COLUMNS = [
    ColumnDef("id", "int", nullable=False),
    ColumnDef("f", "float"),
    ColumnDef("n", "numeric(12,2)"),
    ColumnDef("n_38", "numeric(38,10)"),
    ColumnDef("n_60", "numeric(60,5)"),
    ColumnDef("n_1024", "numeric(1024,20)"),
    ColumnDef("c", "char(5)"),
    ColumnDef("vc", "varchar(40)"),
    ColumnDef("lvc", "long varchar(100000)"),
    ColumnDef("bn", "binary(4)"),
    ColumnDef("vb", "varbinary(16)"),
    ColumnDef("lvb", "long varbinary(100000)"),
    ColumnDef("ok", "boolean"),
    ColumnDef("d", "date"),
    ColumnDef("t", "time"),
    ColumnDef("ttz", "timetz"),
    ColumnDef("ts", "timestamp"),
    ColumnDef("tstz", "timestamptz"),
    ColumnDef("ids", "interval day to second"),
    ColumnDef("iym", "interval year to month"),
    ColumnDef("u", "uuid"),
    ColumnDef("arr", "Array[int]"),
    ColumnDef("arr_s", "Array[varchar(10)]"),
    ColumnDef("st", "Set[float]"),
    ColumnDef("rw", "Row(x int, y varchar(10), z numeric(8,3))"),
    ColumnDef("geo", "geometry(1000)"),
]

TYPES_ROWS = [
    (
        1,
        1.5,
        D("123.45"),
        D("12345678901234567890123456.0123456789"),
        D("-" + "9" * 55 + ".12345"),
        WIDE,
        "ab",
        "héllo wörld",
        "x" * 5000,
        b"\x01\x02\x03\x04",
        b"\x00\xff\\",
        b"\x00" * 3000,
        True,
        dt.date(1, 1, 1),
        dt.time(0, 0, 0),
        dt.time(23, 59, 59, 999999, tzinfo=PLUS2),
        dt.datetime(1970, 1, 1),
        dt.datetime(2000, 1, 1, 0, 0, 0, 1, tzinfo=UTC),
        dt.timedelta(days=-3, hours=4, microseconds=5),
        14,
        U1,
        [1, None, 3],
        ["a", "b"],
        [0.5, 2.0],
        {"x": 1, "y": "why", "z": D("-1.250")},
        "POINT(1 2)",
    ),
    (
        2,
        float("nan"),
        D("-0.01"),
        D("-1.5"),
        D("0.00001"),
        D("1E-20"),
        "abcde",
        "",
        "",
        b"\x00\x00\x00\x00",
        b"",
        b"",
        False,
        dt.date(9999, 12, 31),
        dt.time(12, 30, 15, 250000),
        dt.time(1, 2, 3, tzinfo=MINUS0530),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999),
        dt.datetime(1960, 6, 1, 12, 0, tzinfo=PLUS2),
        dt.timedelta(microseconds=1),
        -25,
        uuid.UUID(int=0),
        [],
        [],
        [],
        {"x": None, "y": None, "z": None},
        "LINESTRING(0 0, 1 1)",
    ),
    (
        3,
        float("inf"),
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
        None,
    ),
    (
        4,
        float("-inf"),
        D("9999999999.99"),
        D("0"),
        D("1"),
        D("0"),
        "z",
        "z",
        "z",
        b"zzzz",
        b"z",
        b"z",
        True,
        dt.date(2024, 2, 29),
        dt.time(23, 59, 59),
        dt.time(0, 0, tzinfo=UTC),
        dt.datetime(2024, 2, 29, 12),
        dt.datetime(2024, 2, 29, 12, tzinfo=UTC),
        dt.timedelta(days=10000),
        0,
        U1,
        [None],
        [None],
        [float("nan")],
        {"x": -1, "y": "", "z": D("0.001")},
        "POLYGON((0 0, 1 0, 1 1, 0 0))",
    ),
]


def types_table() -> TableDef:
    return TableDef(SCHEMA, "all_types", TYPES_COLUMNS, list(TYPES_ROWS), primary_key=("id",), segmented_by=("id",))


def big_rows(n: int, start: int = 0) -> list[tuple[object, ...]]:
    base = dt.datetime(2024, 1, 1, tzinfo=UTC)
    return [
        (i, i * 0.5, D(i) / 100, f"name-{i}", base + dt.timedelta(seconds=i), i % 3 == 0)
        for i in range(start, start + n)
    ]


BIG_COLUMNS = [
    ColumnDef("id", "int", nullable=False),
    ColumnDef("v", "float"),
    ColumnDef("amount", "numeric(12,2)"),
    ColumnDef("name", "varchar(40)"),
    ColumnDef("at", "timestamptz"),
    ColumnDef("flag", "boolean"),
]
BIG_ROWS = 20_000


def big_table() -> TableDef:
    return TableDef(SCHEMA, "events", BIG_COLUMNS, big_rows(BIG_ROWS), primary_key=("id",), segmented_by=("id",))


def plain_table() -> TableDef:
    """No primary key, not segmented: only integer key ranges can split it."""
    return TableDef(
        SCHEMA,
        "plain",
        [ColumnDef("k", "int"), ColumnDef("label", "varchar(10)")],
        [(i if i % 97 else None, f"l{i}") for i in range(1, 1001)],
        segmented_by=None,
    )


def secret_table() -> TableDef:
    return TableDef(
        SCHEMA,
        "payroll",
        [ColumnDef("id", "int", nullable=False), ColumnDef("salary", "numeric(10,2)")],
        [(1, D("1000.00"))],
        primary_key=("id",),
        segmented_by=("id",),
    )


def all_tables() -> list[TableDef]:
    return [types_table(), big_table(), plain_table(), secret_table()]


# the far-side profiles: every type the portable profile changes, alone and nested
FAR_COLUMNS = [
    ColumnDef("id", "int", nullable=False),
    ColumnDef("u", "uuid"),
    ColumnDef("t", "time"),
    ColumnDef("ttz", "timetz"),
    ColumnDef("n50", "numeric(50,10)"),
    ColumnDef("ids", "interval day to second"),
    ColumnDef("iym", "interval year to month"),
    ColumnDef("au", "Array[uuid]"),
    ColumnDef("at", "Array[time]"),
    ColumnDef("su", "Set[uuid]"),
    ColumnDef("rw", "Row(u uuid, t time, n numeric(50,10))"),
]
FAR_ROWS = [
    (
        1,
        U1,
        dt.time(23, 59, 59, 999999),
        dt.time(13, 45, 0, 500000, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
        D("-1234567890123456789012345678901234567890.0123456789"),
        dt.timedelta(days=-3, hours=4, microseconds=5),
        -25,
        [U1, None, uuid.UUID(int=0)],
        [dt.time(0, 0), None, dt.time(12, 30, 15, 250000)],
        [U1],
        {"u": U1, "t": dt.time(1, 2, 3), "n": D("0.0000000001")},
    ),
    (2, None, None, None, None, None, None, None, None, None, None),
    (
        3,
        uuid.UUID(int=0),
        dt.time(0, 0),
        dt.time(0, 0, tzinfo=MINUS0530),
        D("9" * 40 + "." + "9" * 10),
        dt.timedelta(0),
        1200,
        [],
        [],
        [],
        {"u": None, "t": None, "n": None},
    ),
]
#: the Arrow types the portable profile gives FAR_COLUMNS (the exact profile: types.arrow_type)
FAR_PORTABLE_ENCODINGS = {
    "u": "uuid-bytes",
    "t": "time-micros",
    "ttz": "timetz-micros",
    "n50": "decimal_text",
    "au": "portable-nested",
    "at": "portable-nested",
    "su": "portable-nested",
    "rw": "portable-nested",
}


def far_table() -> TableDef:
    return TableDef(SCHEMA, "far", FAR_COLUMNS, list(FAR_ROWS), primary_key=("id",), segmented_by=("id",))


def far_expected() -> list[dict[str, object]]:
    """FAR_ROWS in the comparison's terms (:func:`canonical`): UUIDs, times and intervals as
    microseconds, TIMETZ as its local microseconds and UTC offset, numerics as Decimal."""

    def micros(t: dt.time) -> int:
        return ((t.hour * 60 + t.minute) * 60 + t.second) * 1_000_000 + t.microsecond

    def value(v: object) -> object:
        if isinstance(v, dt.time):
            if v.tzinfo is not None:
                off = v.utcoffset() or dt.timedelta(0)
                return {"time": micros(v), "utc_offset_s": int(off.total_seconds())}
            return micros(v)
        if isinstance(v, dt.timedelta):
            return v // dt.timedelta(microseconds=1)
        if isinstance(v, list):
            return [value(x) for x in v]
        if isinstance(v, dict):
            return {k: value(x) for k, x in v.items()}
        return v

    return [{c.name: value(v) for c, v in zip(FAR_COLUMNS, row, strict=True)} for row in FAR_ROWS]


def canonical(v: object) -> object:
    """A reader's value of a FAR_COLUMNS column in :func:`far_expected`'s terms."""
    if v is None:
        return None
    if isinstance(v, bytes | bytearray | memoryview):
        return uuid.UUID(bytes=bytes(v))
    if isinstance(v, uuid.UUID | D):
        return v
    if isinstance(v, str):  # a UUID's text (DuckDB's UUID in Arrow), else a numeric's exact text
        return uuid.UUID(v) if len(v) == 36 and v.count("-") == 4 else D(v)
    if isinstance(v, dt.time):
        return ((v.hour * 60 + v.minute) * 60 + v.second) * 1_000_000 + v.microsecond
    if isinstance(v, dt.timedelta):
        return v // dt.timedelta(microseconds=1)
    if hasattr(v, "nanoseconds") and hasattr(v, "days"):  # Arrow's month_day_nano (DuckDB's INTERVAL)
        assert v.months == 0, v
        return v.days * 86_400_000_000 + v.nanoseconds // 1000
    if hasattr(v, "asDict"):  # a Spark Row
        v = v.asDict()
    if isinstance(v, dict):
        return {k: canonical(x) for k, x in v.items()}
    if isinstance(v, list | tuple) or type(v).__name__ == "ndarray":
        return [canonical(x) for x in list(v)]  # type: ignore[call-overload]
    return int(v)  # type: ignore[call-overload]
