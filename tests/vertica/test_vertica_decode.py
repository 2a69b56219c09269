"""The row scanner of the vectorised decoder against a plain loop (hypothesis)."""

from __future__ import annotations

import struct

from adu_vertica.decode import scan_rows
from hypothesis import given, settings
from hypothesis import strategies as st


def _datarow(values: list[bytes | None]) -> bytes:
    body = struct.pack("!H", len(values))
    for v in values:
        body += struct.pack("!i", -1) if v is None else struct.pack("!i", len(v)) + v
    return b"D" + struct.pack("!I", len(body) + 4) + body


def _naive(buf: bytes, pos: int, limit: int) -> tuple[list[int], int]:
    starts = []
    while len(starts) < limit and len(buf) - pos >= 5 and buf[pos] == 0x44:
        size = struct.unpack_from("!I", buf, pos + 1)[0]
        if pos + 1 + size > len(buf):
            break
        starts.append(pos)
        pos += 1 + size
    return starts, pos


values = st.one_of(st.none(), st.binary(max_size=12), st.sampled_from([b"D", b"DDDD", b"\x00D\x00\x00\x00\x05D"]))


@settings(max_examples=200, deadline=None)
@given(
    rows=st.lists(st.lists(values, min_size=1, max_size=4), min_size=1, max_size=40),
    prefix=st.binary(max_size=8),
    cut=st.integers(0, 30),
    tail=st.booleans(),
    limit=st.integers(1, 50),
)
def test_scan_rows_matches_a_loop(
    rows: list[list[bytes | None]], prefix: bytes, cut: int, tail: bool, limit: int
) -> None:
    stream = b"".join(_datarow(r) for r in rows)
    if tail:
        stream += b"C" + struct.pack("!I", 11) + b"SELECT\x00"
    stream = stream[: max(len(stream) - cut, len(_datarow(rows[0])))]
    buf = bytearray(prefix + stream)
    got, end = scan_rows(buf, len(prefix), len(buf), limit)
    want, want_end = _naive(bytes(buf), len(prefix), limit)
    assert got.tolist() == want and end == want_end
    buf += b"x"  # the scanner left no view on the buffer: it can still grow


def test_minus_infinity_in_either_convention() -> None:
    """-infinity arrives as the int64 minimum (PostgreSQL's convention) or one above it
    (Vertica's SDK constant): both follow the infinity policy, nothing else does."""
    import numpy as np
    import pyarrow as pa
    from adu_vertica.decode import _timestamp

    raw = np.array([-(2**63), -(2**63) + 1, -(2**63) + 2, 0], dtype=">i8")
    a = np.frombuffer(raw.tobytes(), dtype=np.uint8)
    field = pa.field("ts", pa.timestamp("us"))
    got = _timestamp(a, np.arange(4) * 8, np.full(4, 8), field, "null")
    assert got.is_null().to_pylist() == [True, True, False, False]
