"""The test server's COPY sub-protocol and NATIVE parser, driven by vertica-python alone.

``Cursor.copy`` sends the statement, gets CopyInResponse, streams CopyData and ends with
CopyDone, or CopyFail when its input fails. The data here is built by hand (no ADU code),
starting from the worked example of Vertica's documentation, whose SELECT output the
load must reproduce. Always against the test server: these check the server.
"""

from __future__ import annotations

import datetime as dt
import decimal
import struct
from typing import Any

import pytest
import vertica_python
from dateutil.relativedelta import relativedelta
from vertica_python import errors as verrors
from vertica_wire import VerticaTestServer

# "Loading a NATIVE file into a table: example", Vertica documentation (allTypes.bin)
DOC_EXAMPLE = bytes.fromhex(
    "4E 41 54 49 56 45 0A FF 0D 0A 00 3D 00 00 00 01 00 00 0E 00"
    "08 00 00 00 08 00 00 00 0A 00 00 00 FF FF FF FF 01 00 00 00"
    "08 00 00 00 08 00 00 00 08 00 00 00 08 00 00 00 08 00 00 00"
    "FF FF FF FF 03 00 00 00 18 00 00 00 08 00 00 00 73 00 00 00"
    "00 00 01 00 00 00 00 00 00 00 C3 F5 28 5C 8F C2 F1 BF 6F 6E"
    "65 20 20 20 20 20 20 20 03 00 00 00 4F 4E 45 01 9A FE FF FF"
    "FF FF FF FF 30 85 B3 4F 7E E7 FF FF 40 1F 3E 64 E8 E3 FF FF"
    "C0 2E 98 FF 05 00 00 00 D0 97 01 80 F0 79 F0 10 02 00 00 00"
    "AB CD AB CD 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 64 D6 12 00 00 00 00 00 C0 47 A3 8E 02 00 00 00"
)
DOC_TABLE = """CREATE TABLE s.allTypes (INTCOL INTEGER, FLOATCOL FLOAT, CHARCOL CHAR(10), VARCHARCOL VARCHAR,
  BOOLCOL BOOLEAN, DATECOL DATE, TIMESTAMPCOL TIMESTAMP, TIMESTAMPTZCOL TIMESTAMPTZ, TIMECOL TIME,
  TIMETZCOL TIMETZ, VARBINCOL VARBINARY, BINCOL BINARY, NUMCOL NUMERIC(38,0), INTERVALCOL INTERVAL)"""


def native(widths: list[int], rows: list[list[bytes | None]]) -> bytes:
    """A NATIVE stream, packed by hand from the documented layout."""
    body = struct.pack(f"<HBH{len(widths)}i", 1, 0, len(widths), *widths)
    out = b"NATIVE\n\xff\r\n\x00" + struct.pack("<I", len(body)) + body
    nb = (len(widths) + 7) // 8
    for row in rows:
        bits = bytearray(nb)
        data = b""
        for i, (w, v) in enumerate(zip(widths, row, strict=True)):
            if v is None:
                bits[i // 8] |= 0x80 >> (i % 8)
            else:
                data += (struct.pack("<I", len(v)) if w < 0 else b"") + v
        out += struct.pack("<I", len(data)) + bytes(bits) + data
    return out


def i8(v: int) -> bytes:
    return struct.pack("<q", v)


@pytest.fixture
def cur(fresh_server: VerticaTestServer) -> Any:
    conn = vertica_python.connect(
        host="127.0.0.1",
        port=fresh_server.port,
        user=fresh_server.user,
        password=fresh_server.password,
        database=fresh_server.database,
        tlsmode="disable",
        autocommit=True,
    )
    c = conn.cursor()
    c.execute("CREATE SCHEMA s")
    c.execute("CREATE TABLE s.t (id INTEGER, flag BOOLEAN, label VARCHAR(3))")
    try:
        yield c
    finally:
        conn.close()


def _count(cur: Any) -> int:
    cur.execute("SELECT COUNT(*) FROM s.t")
    return int(cur.fetchone()[0])


GOOD = native([8, 1, -1], [[i8(1), b"\x01", b"abc"], [i8(2), b"\x00", None], [None, None, b""]])


def test_the_documented_example_loads_as_documented(cur: Any) -> None:
    cur.execute(DOC_TABLE)
    cur.copy("COPY s.allTypes FROM STDIN NATIVE", DOC_EXAMPLE)
    cur.execute("SELECT * FROM s.allTypes")
    row = cur.fetchall()
    assert len(row) == 1
    (i, f, c, vc, b, d, ts, tstz, t, ttz, vb, bn, n, iv) = row[0]
    assert (i, f, c, vc, b) == (1, -1.11, "one       ", "ONE", True)
    assert d == dt.date(1999, 1, 8) and ts == dt.datetime(1999, 2, 23, 3, 11, 52, 350000)
    assert tstz == dt.datetime(1999, 1, 8, 7, 4, 37, tzinfo=dt.timezone(dt.timedelta(hours=-5)))
    assert t == dt.time(7, 9, 23)
    # the documented output shows 15:12:34-04; the bytes hold 20:12:34 UTC at offset -05:00
    assert ttz.replace(tzinfo=None) == dt.time(15, 12, 34) and ttz.utcoffset() == dt.timedelta(hours=-5)
    assert vb == b"\xab\xcd" and bn == b"\xab"  # a 3-byte value into BINARY(1): its first byte
    assert n == decimal.Decimal(1234532) and iv == relativedelta(hours=3, minutes=3, seconds=3)


def test_copy_counts_and_reads_back(cur: Any) -> None:
    cur.copy("COPY s.t (id, flag, label) FROM STDIN NATIVE ABORT ON ERROR", GOOD)
    cur.execute("SELECT GET_NUM_ACCEPTED_ROWS(), GET_NUM_REJECTED_ROWS()")
    assert cur.fetchone() == [3, 0]
    cur.execute("SELECT id, flag, label FROM s.t ORDER BY id")
    assert cur.fetchall() == [[1, True, "abc"], [2, False, None], [None, None, ""]]


def test_a_rejected_record_aborts_the_copy_or_is_skipped(cur: Any) -> None:
    bad = native([8, 1, -1], [[i8(1), b"\x01", b"a"], [i8(2), b"\x07", b"b"], [i8(3), b"\x00", b"c"]])
    with pytest.raises(verrors.CopyRejected, match="Input record 2 has been rejected") as info:
        cur.copy("COPY s.t FROM STDIN NATIVE ABORT ON ERROR", bad)
    assert info.value.sqlstate == "22V04"
    assert _count(cur) == 0  # nothing of an aborted COPY is kept
    cur.copy("COPY s.t FROM STDIN NATIVE", bad)  # Vertica's default: skip the record, load the rest
    cur.execute("SELECT GET_NUM_ACCEPTED_ROWS(), GET_NUM_REJECTED_ROWS()")
    assert cur.fetchone() == [2, 1]
    assert _count(cur) == 2
    with pytest.raises(verrors.CopyRejected):
        cur.copy("COPY s.t FROM STDIN NATIVE REJECTMAX 0", bad)


def test_too_long_values_are_truncated_unless_enforcelength(cur: Any) -> None:
    long = native([8, 1, -1], [[i8(1), b"\x01", b"abcdef"]])
    with pytest.raises(verrors.CopyRejected, match="too long"):
        cur.copy("COPY s.t FROM STDIN NATIVE ENFORCELENGTH ABORT ON ERROR", long)
    cur.copy("COPY s.t FROM STDIN NATIVE", long)
    cur.execute("SELECT label FROM s.t")
    assert cur.fetchall() == [["abc"]]


def test_malformed_streams_are_refused_and_load_nothing(cur: Any) -> None:
    with pytest.raises(verrors.QueryError, match="not a NATIVE file"):
        cur.copy("COPY s.t FROM STDIN NATIVE", b"id|flag|label\n1|t|abc\n")
    with pytest.raises(verrors.QueryError, match="2 columns"):
        cur.copy("COPY s.t (id, flag, label) FROM STDIN NATIVE", native([8, 1], [[i8(1), b"\x01"]]))
    with pytest.raises(verrors.CopyRejected, match="cut short"):
        cur.copy("COPY s.t FROM STDIN NATIVE ABORT ON ERROR", GOOD[:-3])
    with pytest.raises(verrors.QueryError, match="not modelled"):  # only NATIVE is modelled
        cur.copy("COPY s.t FROM STDIN DELIMITER ','", b"1,t,abc\n")
    with pytest.raises(verrors.QueryError, match="COPY LOCAL"):
        cur.copy("COPY s.t FROM LOCAL STDIN NATIVE", GOOD)
    with pytest.raises(verrors.MissingRelation):
        cur.copy("COPY s.nowhere FROM STDIN NATIVE", GOOD)
    assert _count(cur) == 0
    cur.execute("SELECT 1")  # the session is still usable
    assert cur.fetchall() == [[1]]


class _Failing:
    """A stream whose second read fails: the driver sends CopyFail."""

    def __init__(self) -> None:
        self.calls = 0

    def read(self, size: int = -1) -> bytes:
        self.calls += 1
        if self.calls > 1:
            raise OSError("the source file went away")
        return GOOD[:40]


def test_copy_fail_loads_nothing(cur: Any, fresh_server: VerticaTestServer) -> None:
    with pytest.raises(verrors.DataError, match="the source file went away"):
        cur.copy("COPY s.t FROM STDIN NATIVE", _Failing())
    assert _count(cur) == 0
    assert any("COPY" in q for q in fresh_server.cluster.queries)


def test_a_connection_lost_mid_copy_loads_nothing(cur: Any, fresh_server: VerticaTestServer) -> None:
    fresh_server.cluster.faults.drop_copy_after_bytes = 20
    with pytest.raises((verrors.ConnectionError, OSError)):
        cur.copy("COPY s.t FROM STDIN NATIVE", GOOD, buffer_size=16)
    assert fresh_server.cluster.faults.drop_copy_after_bytes is None
    conn = vertica_python.connect(
        host="127.0.0.1",
        port=fresh_server.port,
        user=fresh_server.user,
        password=fresh_server.password,
        database=fresh_server.database,
        tlsmode="disable",
    )
    try:
        assert _count(conn.cursor()) == 0
    finally:
        conn.close()


def test_no_commit_copies_belong_to_the_transaction(cur: Any) -> None:
    cur.connection.autocommit = False
    cur.copy("COPY s.t FROM STDIN NATIVE NO COMMIT", GOOD)
    assert _count(cur) == 3  # the session sees its own rows
    cur.execute("ROLLBACK")
    assert _count(cur) == 0
    cur.copy("COPY s.t FROM STDIN NATIVE", GOOD)  # without NO COMMIT, COPY commits
    cur.execute("ROLLBACK")
    assert _count(cur) == 3
