"""Vertica's NATIVE binary load format, parsed as the test server's COPY ... NATIVE.

The layout is Vertica's documentation ("Creating native binary format files": file
signature, column definitions, row data, and the worked example ``allTypes.bin``):

* signature ``NATIVE\\n\\377\\r\\n\\0`` (11 bytes); int32 header area length; int16
  version (1); a zero filler byte; int16 column count; an int32 width per column (-1 for
  variable-width columns). All integers little-endian.
* each row: uint32 length of its data; a NULL bit field of ceil(columns / 8) bytes, the
  most significant bit of the first byte for the first column; then the values of the
  non-NULL columns, back to back: fixed-width ones in their width, variable-width ones
  as a uint32 byte count and the bytes.
* INTEGER 1/2/4/8 bytes; FLOAT 8 (IEEE-754); BOOLEAN 1 (0/1); CHAR(n) and BINARY(n) a
  fixed width, padded or truncated to n (the documented example loads a 3-byte BINARY
  value into a BINARY(1) column as its first byte); VARCHAR/VARBINARY/LONG variants
  variable; DATE int64 days since 2000-01-01;
  TIME int64 microseconds since midnight; TIMETZ int64 with the UTC time in microseconds
  in the upper 40 bits and 86400 - (UTC offset in seconds) in the lower 24;
  TIMESTAMP/TIMESTAMPTZ int64 microseconds since 2000-01-01 (UTC); INTERVAL int64
  microseconds; NUMERIC(p,s) the unscaled value in ``(p // 19 + 1) * 8`` bytes: 64-bit
  words, most significant word first, each word little-endian.

Beyond the documentation (what the test server assumes, said so in the README): UUID as
its 16 bytes in RFC 4122 order; INTERVAL YEAR TO MONTH as int64 months (its internal
form, as for the wire's binary transfer); INTEGER's -2^63 refused (Vertica keeps it for
NULL); TIMESTAMP +infinity as 2^63-1 and -infinity as -(2^63-1), the SDK's constants.

A record Vertica would reject (a value that does not fit its column, a bad boolean byte,
invalid UTF-8, a row length that does not add up, a record cut short) is returned as a
rejection with its 1-based record number and a reason; COPY turns them into Vertica's
``COPY: Input record N has been rejected (reason)``. A header that is not a NATIVE
header fails the whole load.
"""

from __future__ import annotations

import decimal
import struct
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from vertica_types import VType

SIGNATURE = b"NATIVE\n\xff\r\n\x00"
UNIX_TO_2000_DAYS = 10_957
UNIX_TO_2000_US = 946_684_800_000_000
DAY_US = 86_400_000_000
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_INT = {1: "<b", 2: "<h", 4: "<i", 8: "<q"}


class NativeError(Exception):
    """The data is not a NATIVE file the columns can take (the whole COPY fails)."""


class Rejected(Exception):
    """One record is rejected (``reason`` in Vertica's words where known)."""


@dataclass
class Parsed:
    """Accepted rows as Arrow arrays in the engine's storage types, and the rejections."""

    columns: list[pa.Array]
    rows: int
    rejected: list[tuple[int, str]]


def width(vt: VType) -> int:
    """The NATIVE column width a column of ``vt`` must declare (-1: variable)."""
    k = vt.kind
    if k in ("varchar", "varbinary", "long varchar", "long varbinary"):
        return -1
    if k in ("char", "binary"):
        return int(vt.length or 1)
    if k == "boolean":
        return 1
    if k == "uuid":
        return 16
    if k == "numeric":
        return vt.numeric_bytes()
    if k in ("int", "float", "date", "time", "timetz", "timestamp", "timestamptz", "interval ds", "interval ym"):
        return 8
    raise NativeError(f"the NATIVE parser cannot load a column of type {vt.sql()}")


def parse(data: bytes, vtypes: list[VType], names: list[str], *, enforce_length: bool) -> Parsed:
    """Parse a whole NATIVE stream for columns of ``vtypes``."""
    widths = _header(data, vtypes, names)
    pos = 11 + 4 + struct.unpack_from("<I", data, 11)[0]
    nbytes = (len(vtypes) + 7) // 8
    values: list[list[Any]] = [[] for _ in vtypes]
    rejected: list[tuple[int, str]] = []
    record = 0
    while pos < len(data):
        record += 1
        if len(data) - pos < 4 + nbytes:
            rejected.append((record, "Record is cut short"))
            break
        length = struct.unpack_from("<I", data, pos)[0]
        nulls = data[pos + 4 : pos + 4 + nbytes]
        start = pos + 4 + nbytes
        end = start + length
        pos = end
        if end > len(data):
            rejected.append((record, "Record is cut short"))
            break
        try:
            row = _row(data[start:end], nulls, vtypes, widths, names, enforce_length)
        except Rejected as e:
            rejected.append((record, str(e)))
            continue
        for col, v in zip(values, row, strict=True):
            col.append(v)
    arrays = [pa.array(v, type=_arrow_type(vt)) for v, vt in zip(values, vtypes, strict=True)]
    return Parsed(arrays, len(values[0]) if values else 0, rejected)


def _header(data: bytes, vtypes: list[VType], names: list[str]) -> list[int]:
    if data[:11] != SIGNATURE:
        raise NativeError("COPY: Input is not a NATIVE file (bad file signature)")
    if len(data) < 20:
        raise NativeError("COPY: NATIVE header is cut short")
    header_len, version, filler, ncols = struct.unpack_from("<IHBH", data, 11)
    if version != 1 or filler != 0:
        raise NativeError(f"COPY: unsupported NATIVE file version {version}")
    if ncols != len(vtypes):
        raise NativeError(f"COPY: the NATIVE file has {ncols} columns, the load expects {len(vtypes)}")
    if header_len != 5 + 4 * ncols or len(data) < 15 + header_len:
        raise NativeError("COPY: NATIVE header area length does not match its column count")
    widths = list(struct.unpack_from(f"<{ncols}i", data, 20))
    for w, vt, name in zip(widths, vtypes, names, strict=True):
        want = width(vt)
        if vt.kind == "int":
            ok = w in (1, 2, 4, 8)
        elif vt.kind in ("char", "binary"):  # any fixed width: padded or truncated to the column
            ok = w > 0
        else:
            ok = w == want
        if not ok:
            raise NativeError(f"COPY: column {name} ({vt.sql()}) cannot have width {w} in a NATIVE file")
    return widths


def _row(
    buf: bytes, nulls: bytes, vtypes: list[VType], widths: list[int], names: list[str], enforce: bool
) -> list[Any]:
    out: list[Any] = []
    pos = 0
    for i, (vt, w) in enumerate(zip(vtypes, widths, strict=True)):
        if nulls[i // 8] & (0x80 >> (i % 8)):
            out.append(None)
            continue
        if w < 0:
            if pos + 4 > len(buf):
                raise Rejected("Row length does not match its values")
            n = struct.unpack_from("<I", buf, pos)[0]
            pos += 4
        else:
            n = w
        raw = buf[pos : pos + n]
        if len(raw) != n:
            raise Rejected("Row length does not match its values")
        pos += n
        out.append(_value(raw, vt, names[i], i + 1, enforce))
    if pos != len(buf):
        raise Rejected("Row length does not match its values")
    return out


def _value(raw: bytes, vt: VType, name: str, colno: int, enforce: bool) -> Any:
    k = vt.kind
    where = f"for column {colno} ({name})"
    if k == "int":
        v = struct.unpack(_INT[len(raw)], raw)[0]
        if v == INT64_MIN:
            raise Rejected(f"Value -9223372036854775808 is out of range {where}")
        return v
    if k == "float":
        return struct.unpack("<d", raw)[0]
    if k == "boolean":
        if raw[0] not in (0, 1):
            raise Rejected(f"Invalid boolean byte {raw[0]} {where}")
        return bool(raw[0])
    if k in ("char", "binary"):
        raw = _fixed(raw, vt, where, enforce)
    if k in ("char", "varchar", "long varchar"):
        limit = vt.length or 0
        if k != "char" and len(raw) > limit:
            if enforce:
                raise Rejected(f"The {len(raw)}-byte value is too long for type {vt.sql()} {where}")
            raw = raw[:limit]  # Vertica truncates without ENFORCELENGTH
            return raw.decode("utf-8", errors="ignore")
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Rejected(f"Invalid UTF-8 {where}") from None
    if k in ("binary", "varbinary", "long varbinary"):
        limit = vt.length or 0
        if k != "binary" and len(raw) > limit:
            if enforce:
                raise Rejected(f"The {len(raw)}-byte value is too long for type {vt.sql()} {where}")
            raw = raw[:limit]
        return bytes(raw)
    if k == "uuid":
        return raw.hex()
    v = struct.unpack("<q", raw)[0] if len(raw) == 8 and k != "numeric" else None
    if k == "date":
        return v + UNIX_TO_2000_DAYS  # type: ignore[operator]
    if k == "time":
        if not 0 <= v <= DAY_US:  # type: ignore[operator]
            raise Rejected(f"Time {v} microseconds is out of range {where}")
        return v
    if k == "timetz":
        utc, east = v >> 24, 86_400 - (v & 0xFFFFFF)  # type: ignore[operator]
        if not 0 <= utc < DAY_US or not -86_400 < east < 86_400:
            raise Rejected(f"Invalid TIMETZ value {where}")
        return {"t": (utc + east * 1_000_000) % DAY_US, "o": east}
    if k in ("timestamp", "timestamptz"):
        if v == INT64_MIN:
            raise Rejected(f"Invalid timestamp {where}")
        if v in (INT64_MAX, -INT64_MAX):
            return v  # ±infinity, stored as DuckDB's infinities
        return v + UNIX_TO_2000_US  # type: ignore[operator]
    if k in ("interval ds", "interval ym"):
        return v
    if k == "numeric":
        unscaled = 0
        for j in range(0, len(raw), 8):
            unscaled = (unscaled << 64) | struct.unpack_from("<Q", raw, j)[0]
        if unscaled >= 1 << (8 * len(raw) - 1):
            unscaled -= 1 << (8 * len(raw))
        if abs(unscaled) >= 10 ** (vt.precision or 37):
            raise Rejected(f"Value exceeds the precision of {vt.sql()} {where}")
        d = decimal.Decimal(unscaled).scaleb(-(vt.scale or 0), context=decimal.Context(prec=2000))
        return d if (vt.precision or 37) <= 38 else f"{d:f}"
    raise Rejected(f"type {vt.sql()} {where}")


def _fixed(raw: bytes, vt: VType, where: str, enforce: bool) -> bytes:
    """A CHAR(n)/BINARY(n) value of another width: padded (spaces / zero bytes) or truncated."""
    n = vt.length or 1
    if len(raw) > n:
        if enforce and raw[n:].strip(b" " if vt.kind == "char" else b"\x00"):
            raise Rejected(f"The {len(raw)}-byte value is too long for type {vt.sql()} {where}")
        return raw[:n]
    return raw.ljust(n, b" " if vt.kind == "char" else b"\x00")


def _arrow_type(vt: VType) -> pa.DataType:
    """Arrow types DuckDB reads into the engine's storage types (see ``VType.storage``)."""
    k = vt.kind
    if k == "numeric":
        p = vt.precision or 37
        return pa.decimal128(p, vt.scale or 0) if p <= 38 else pa.string()
    table = {
        "int": pa.int64(),
        "float": pa.float64(),
        "boolean": pa.bool_(),
        "char": pa.string(),
        "varchar": pa.string(),
        "long varchar": pa.large_string(),
        "binary": pa.binary(),
        "varbinary": pa.binary(),
        "long varbinary": pa.large_binary(),
        "uuid": pa.string(),
        "date": pa.date32(),
        "time": pa.time64("us"),
        "timetz": pa.struct([("t", pa.time64("us")), ("o", pa.int32())]),
        "timestamp": pa.timestamp("us"),
        "timestamptz": pa.timestamp("us", tz="UTC"),
        "interval ds": pa.int64(),
        "interval ym": pa.int64(),
    }
    return table[k]


def storage_select(name: str, vt: VType) -> str:
    """A DuckDB expression turning ``name`` (an Arrow column of :func:`_arrow_type`) into storage."""
    quoted = '"' + name.replace('"', '""') + '"'
    return f"CAST({quoted} AS {vt.storage()})"
