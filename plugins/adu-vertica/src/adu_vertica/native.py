"""Arrow record batches in Vertica's NATIVE load format (``COPY ... FROM STDIN NATIVE``).

The format is Vertica's documented binary load format ("Creating native binary format
files"): an 11-byte signature, a header with one int32 width per column (-1 for
variable-width columns), then per row a uint32 data length, a NULL bit field (most
significant bit first) and the non-NULL values back to back, all integers little-endian.
Values: INTEGER 8 bytes; FLOAT 8 (IEEE-754); BOOLEAN 1; CHAR(n)/BINARY(n) n bytes padded
with spaces / zero bytes; (LONG) VARCHAR/VARBINARY a uint32 length and the bytes; DATE
days since 2000-01-01; TIME microseconds since midnight; TIMETZ the UTC time in
microseconds in the upper 40 bits and 86400 - (UTC offset in seconds) in the lower 24;
TIMESTAMP(TZ) microseconds since 2000-01-01 UTC; INTERVAL microseconds; NUMERIC(p,s) the
unscaled value in (p // 19 + 1) * 8 bytes, 64-bit words most significant first, each
word little-endian. Beyond the documented types: UUID as its 16 bytes and INTERVAL YEAR
TO MONTH as int64 months (their internal forms; proven against the test server only).

Every column is encoded with numpy over the whole batch (no Python per value), except
the columns kept as text from lists/structs (JSON) and PostgreSQL intervals, PostgreSQL
timetz text and exact decimal text wider than Arrow's decimals.
"""

from __future__ import annotations

import datetime as dt
import decimal
import io
import json
import math
import re
import struct
import uuid
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from adu_vertica import typemap as tm
from adu_vertica.typemap import TargetColumn
from adu_vertica.types import VerticaType, from_portable

SIGNATURE = b"NATIVE\n\xff\r\n\x00"
UNIX_TO_2000_DAYS = 10_957
UNIX_TO_2000_US = 946_684_800_000_000
DAY_US = 86_400_000_000
INT64_MIN = np.iinfo(np.int64).min


class EncodeError(ValueError):
    """A value that the target column cannot hold exactly (the load stops, naming it)."""


class Encoded:
    """One column of a batch: ``width`` (-1: variable), per-row ``lens`` (-1: NULL), the bytes."""

    def __init__(self, width: int, lens: np.ndarray, flat: np.ndarray) -> None:
        self.width = width
        self.lens = lens.astype(np.int64)
        self.flat = flat


def width(vt: VerticaType) -> int:
    """The NATIVE column width of a column of ``vt``."""
    k = vt.kind
    if k in ("char", "binary"):
        return int(vt.length or 1)
    if k == "boolean":
        return 1
    if k == "uuid":
        return 16
    if k == "numeric":
        return ((vt.precision or 37) // 19 + 1) * 8
    if k in ("varchar", "long varchar", "varbinary", "long varbinary"):
        return -1
    return 8


def header(columns: Sequence[TargetColumn]) -> bytes:
    widths = [width(c.vtype) for c in columns]
    body = struct.pack(f"<HBH{len(widths)}i", 1, 0, len(widths), *widths)
    return SIGNATURE + struct.pack("<I", len(body)) + body


def encode_batch(batch: pa.RecordBatch, columns: Sequence[TargetColumn]) -> bytes:
    """The NATIVE rows of ``batch`` (its columns in the order of ``columns``)."""
    cols = [encode_column(batch.column(i), c) for i, c in enumerate(columns)]
    return interleave(cols, batch.num_rows)


class NativeStream(io.RawIOBase):
    """A file-like NATIVE stream of batches for ``Cursor.copy`` (encoded as it is read).

    An error while producing the data (a bad value, the batches' own source failing) is
    kept in :attr:`error` and raised to the driver, which then sends CopyFail.
    """

    def __init__(self, columns: Sequence[TargetColumn], batches: Iterator[pa.RecordBatch]) -> None:
        super().__init__()
        self.columns = list(columns)
        self.rows = 0
        self.error: BaseException | None = None
        self._batches = batches
        self._buf = memoryview(header(self.columns))
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        while not self._buf and not self._done:
            try:
                batch = next(self._batches, None)
                if batch is None:
                    self._done = True
                    break
                self._buf = memoryview(encode_batch(batch, self.columns))
                self.rows += batch.num_rows
            except Exception as e:
                self.error = e
                raise
        n = len(self._buf) if size is None or size < 0 else min(size, len(self._buf))
        out, self._buf = bytes(self._buf[:n]), self._buf[n:]
        return out


# ------------------------------------------------------------------------------ columns


def _valid(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.ones(len(arr), dtype=bool)
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _fixed(values: np.ndarray, valid: np.ndarray, size: int) -> Encoded:
    flat = np.ascontiguousarray(values[valid]).view(np.uint8).reshape(-1)
    return Encoded(size, np.where(valid, size, -1), flat)


def _int64(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.fill_null(0).to_numpy(zero_copy_only=False)).astype(np.int64)


def _le8(arr: pa.Array, valid: np.ndarray) -> Encoded:
    return _fixed(_int64(arr).astype("<i8"), valid, 8)


def encode_column(arr: pa.Array, col: TargetColumn) -> Encoded:
    """One Arrow column as NATIVE values of ``col``."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    try:
        if col.restore is not None:
            arr = from_portable(arr, col.restore)
        if isinstance(arr, pa.ExtensionArray):
            arr = arr.storage
        return _encode(arr, col)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, ValueError, OverflowError) as e:
        if isinstance(e, EncodeError):
            raise
        raise EncodeError(f"column {col.name!r} ({col.ddl}): {str(e).splitlines()[0]}") from None


def _encode(arr: pa.Array, col: TargetColumn) -> Encoded:
    vt, k = col.vtype, col.vtype.kind
    valid = _valid(arr)
    if col.convert in (tm.TEXT, tm.JSON, tm.ISO_INTERVAL):
        return _varlen(_as_text(arr, col.convert), col, valid)
    if col.convert == tm.DECIMAL_TEXT:
        return _numeric_text(arr, vt, col, valid)
    if col.convert == tm.PG_TIMETZ:
        return _pg_timetz(arr, col, valid)
    if k == "int":
        v = _int64(arr.cast(pa.int64()))
        if (v[valid] == INT64_MIN).any():
            raise EncodeError(f"column {col.name!r} holds -9223372036854775808, which Vertica's INTEGER cannot hold")
        return _fixed(v.astype("<i8"), valid, 8)
    if k == "float":
        v = np.asarray(arr.cast(pa.float64()).fill_null(0).to_numpy(zero_copy_only=False)).astype("<f8")
        return _fixed(v, valid, 8)
    if k == "boolean":
        return _fixed(np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False)).astype(np.uint8), valid, 1)
    if k == "numeric":
        return _numeric(arr, vt, col, valid)
    if k in ("char", "varchar", "long varchar"):
        return _varlen(arr, col, valid)
    if k in ("binary", "varbinary", "long varbinary"):
        return _varlen(arr, col, valid)
    if k == "uuid" and (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)):
        arr = _uuid_bytes(arr)  # the 36-character text (uuid=text, older portable exports)
        valid = _valid(arr)
    if k == "uuid":
        raw = np.frombuffer(arr.buffers()[1], dtype=np.uint8)[arr.offset * 16 : (arr.offset + len(arr)) * 16]
        return Encoded(16, np.where(valid, 16, -1), np.ascontiguousarray(raw.reshape(-1, 16)[valid]).reshape(-1))
    if k == "date":
        return _fixed((_int64(arr.cast(pa.date32()).cast(pa.int32())) - UNIX_TO_2000_DAYS).astype("<i8"), valid, 8)
    if k == "time":
        return _le8(arr.cast(pa.time64("us")).cast(pa.int64()), valid)
    if k in ("timestamp", "timestamptz"):
        us = _int64(arr.cast(pa.timestamp("us", tz=arr.type.tz)).cast(pa.int64()))
        return _fixed((us - UNIX_TO_2000_US).astype("<i8"), valid, 8)
    if k == "interval ds":
        return _le8(arr.cast(pa.duration("us")).cast(pa.int64()), valid)
    if k == "interval ym":
        return _le8(arr.cast(pa.int64()), valid)
    if k == "timetz":
        local = _int64(pc.struct_field(arr, [0]).cast(pa.time64("us")).cast(pa.int64()))
        off = _int64(pc.struct_field(arr, [1]).cast(pa.int64()))
        return _fixed(_pack_timetz(local, off, valid, col), valid, 8)
    raise EncodeError(f"column {col.name!r}: cannot load {arr.type} into {col.ddl}")


def _uuid_bytes(arr: pa.Array) -> pa.Array:
    """UUIDs written as text (the portable profile) as their 16 bytes."""
    return pa.array([None if v is None else uuid.UUID(v).bytes for v in arr.to_pylist()], type=pa.binary(16))


def _pack_timetz(local: np.ndarray, off: np.ndarray, valid: np.ndarray, col: TargetColumn) -> np.ndarray:
    if ((local >= DAY_US) & valid).any():
        raise EncodeError(f"column {col.name!r} holds 24:00:00, which Vertica's TIMETZ cannot hold")
    utc = (local - off * 1_000_000) % DAY_US
    packed: np.ndarray = ((utc << 24) | (86_400 - off)).astype("<i8")
    return packed


def _varlen(arr: pa.Array, col: TargetColumn, valid: np.ndarray) -> Encoded:
    """Strings/binaries: lengths from the offsets, bytes from the data buffer."""
    t = arr.type
    if pa.types.is_fixed_size_binary(t) or pa.types.is_string(t):
        arr = arr.cast(pa.binary())
    elif pa.types.is_large_string(t):
        arr = arr.cast(pa.large_binary())
    large = pa.types.is_large_binary(arr.type)
    bufs = arr.buffers()
    offsets = np.frombuffer(bufs[1], dtype=np.int64 if large else np.int32)[arr.offset : arr.offset + len(arr) + 1]
    offsets = offsets.astype(np.int64)
    data = np.frombuffer(bufs[2], dtype=np.uint8) if bufs[2] is not None else np.zeros(0, np.uint8)
    lens = np.diff(offsets)
    flat = data[offsets[0] : offsets[-1]]
    if not valid.all():
        flat = flat[np.repeat(valid, lens)]
    limit = col.vtype.length
    if limit and valid.any() and int(lens[valid].max()) > limit:
        i = int(np.flatnonzero(valid & (lens > limit))[0])
        raise EncodeError(f"column {col.name!r}: a {int(lens[i])}-byte value does not fit {col.ddl} (row {i + 1})")
    if col.vtype.kind in ("char", "binary"):
        return _pad(lens, flat, valid, int(limit or 1), b" " if col.vtype.kind == "char" else b"\x00")
    return Encoded(-1, np.where(valid, lens, -1), flat)


def _pad(lens: np.ndarray, flat: np.ndarray, valid: np.ndarray, n: int, pad: bytes) -> Encoded:
    """Fixed-width CHAR(n)/BINARY(n) values: each padded to ``n`` bytes."""
    good = lens[valid]
    out = np.full((good.size, n), pad[0], dtype=np.uint8)
    rows = np.repeat(np.arange(good.size), good)
    starts = np.zeros(good.size, dtype=np.int64)
    np.cumsum(good[:-1], out=starts[1:])
    cols = np.arange(flat.size) - np.repeat(starts, good)
    out[rows, cols] = flat
    return Encoded(n, np.where(valid, n, -1), out.reshape(-1))


def _numeric(arr: pa.Array, vt: VerticaType, col: TargetColumn, valid: np.ndarray) -> Encoded:
    """Decimals (or integers) to NUMERIC(p,s) words, vectorised over the batch."""
    scale, size = vt.scale or 0, width(vt)
    t = arr.type
    if not pa.types.is_decimal(t):
        t = pa.decimal128(20, 0)
        arr = arr.cast(t)
    if t.scale != scale:  # an existing column with a larger scale: exact rescaling
        p = t.precision + scale - t.scale
        arr = arr.cast(pa.decimal128(p, scale) if p <= 38 else pa.decimal256(min(p, 76), scale))
        t = arr.type
    nbytes = 16 if pa.types.is_decimal128(t) else 32
    le = np.frombuffer(arr.buffers()[1], dtype=np.uint8)[arr.offset * nbytes : (arr.offset + len(arr)) * nbytes]
    le = le.reshape(-1, nbytes)[valid]
    sign = np.where(le[:, -1:] >= 0x80, 0xFF, 0).astype(np.uint8)
    if size >= nbytes:
        full = np.concatenate([le, np.repeat(sign, size - nbytes, axis=1)], axis=1)
    else:
        if (le[:, size:] != sign).any() or ((le[:, size - 1 : size] >= 0x80) != (sign == 0xFF)).any():
            raise EncodeError(f"column {col.name!r}: a value does not fit {col.ddl}")
        full = le[:, :size]
    words = full.reshape(-1, size // 8, 8)[:, ::-1, :]
    return Encoded(size, np.where(valid, size, -1), np.ascontiguousarray(words).reshape(-1))


def _numeric_text(arr: pa.Array, vt: VerticaType, col: TargetColumn, valid: np.ndarray) -> Encoded:
    """Exact decimal text (wider than Arrow's decimals) to NUMERIC(p,s) words."""
    scale, size = vt.scale or 0, width(vt)
    ctx = decimal.Context(prec=2000)
    out = np.zeros((int(valid.sum()), size), dtype=np.uint8)
    for i, text in enumerate(v for v in arr.to_pylist() if v is not None):
        d = decimal.Decimal(text)
        if not d.is_finite():
            raise EncodeError(f"column {col.name!r} holds {text}, which Vertica's NUMERIC cannot hold")
        unscaled = d.scaleb(scale, context=ctx)
        if unscaled != unscaled.to_integral_value():
            raise EncodeError(f"column {col.name!r}: {text} has more than {scale} decimal places")
        big = int(unscaled).to_bytes(size, "big", signed=True)
        out[i] = np.frombuffer(big, dtype=np.uint8)
    words = out.reshape(-1, size // 8, 8)[:, :, ::-1]  # words stay most significant first, bytes LE
    return Encoded(size, np.where(valid, size, -1), np.ascontiguousarray(words).reshape(-1))


_TIMETZ = re.compile(r"^(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?([+-])(\d{2})(?::(\d{2}))?(?::(\d{2}))?$")


def _pg_timetz(arr: pa.Array, col: TargetColumn, valid: np.ndarray) -> Encoded:
    """PostgreSQL's timetz text (``13:45:00.5+05:30``) to TIMETZ."""
    local = np.zeros(len(arr), dtype=np.int64)
    off = np.zeros(len(arr), dtype=np.int64)
    for i, text in enumerate(arr.to_pylist()):
        if text is None:
            continue
        m = _TIMETZ.match(text)
        if not m:
            raise EncodeError(f"column {col.name!r}: {text!r} is not a PostgreSQL timetz")
        h, mi, s, frac, sign, oh, om, os_ = m.groups()
        local[i] = ((int(h) * 60 + int(mi)) * 60 + int(s)) * 1_000_000 + int((frac or "0").ljust(6, "0"))
        off[i] = (1 if sign == "+" else -1) * (int(oh) * 3600 + int(om or 0) * 60 + int(os_ or 0))
    return _fixed(_pack_timetz(local, off, valid, col), valid, 8)


def _as_text(arr: pa.Array, convert: str) -> pa.Array:
    if convert == tm.TEXT:
        return arr if pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type) else arr.cast(pa.string())
    if convert == tm.ISO_INTERVAL:
        return pa.array([None if v is None else iso_interval(v) for v in arr.to_pylist()], type=pa.large_string())
    return pa.array([None if v is None else to_json(v) for v in arr.to_pylist()], type=pa.large_string())


def iso_interval(v: dict[str, int]) -> str:
    """``{months, days, microseconds}`` as ISO 8601 ``P<m>M<d>DT<s>S`` (exact seconds)."""
    seconds = decimal.Decimal(int(v["microseconds"])).scaleb(-6)
    text = format(seconds.normalize(), "f") if seconds else "0"
    return f"P{int(v['months'])}M{int(v['days'])}DT{text}S"


def to_json(v: Any) -> str:
    """A list/struct value as JSON text, every scalar exact (decimals as written, NaN as text)."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isfinite(v):
            return repr(v)
        return '"NaN"' if math.isnan(v) else ('"Infinity"' if v > 0 else '"-Infinity"')
    if isinstance(v, decimal.Decimal):
        return format(v, "f")
    if isinstance(v, dict):
        return "{" + ",".join(f"{json.dumps(str(k))}:{to_json(x)}" for k, x in v.items()) + "}"
    if isinstance(v, list | tuple):
        return "[" + ",".join(to_json(x) for x in v) + "]"
    if isinstance(v, bytes):
        return json.dumps("\\x" + v.hex())
    if isinstance(v, dt.date | dt.time | dt.datetime):
        return json.dumps(v.isoformat())
    if isinstance(v, dt.timedelta):
        return json.dumps(f"{v.days * 86_400_000_000 + v.seconds * 1_000_000 + v.microseconds}us")
    return json.dumps(str(v))


# ------------------------------------------------------------------------------ rows


def _windows(out: np.ndarray, n: int) -> np.ndarray:
    return np.lib.stride_tricks.as_strided(out, shape=(out.size - n + 1, n), strides=(1, 1))


def interleave(cols: Sequence[Encoded], nrows: int) -> bytes:
    """NATIVE rows from encoded columns, without a Python loop over rows."""
    if nrows == 0:
        return b""
    nb = (len(cols) + 7) // 8
    lens = np.stack([c.lens for c in cols], axis=1)
    nulls = lens < 0
    var = np.array([c.width < 0 for c in cols])
    sizes = np.where(nulls, 0, np.maximum(lens, 0) + np.where(var, 4, 0))
    data_len = sizes.sum(axis=1)
    row_size = 4 + nb + data_len
    row_start = np.zeros(nrows, dtype=np.int64)
    np.cumsum(row_size[:-1], out=row_start[1:])
    out = np.zeros(int(row_size.sum()), dtype=np.uint8)
    _windows(out, 4)[row_start] = data_len.astype("<u4").view(np.uint8).reshape(-1, 4)
    bits = np.packbits(nulls, axis=1, bitorder="big")
    _windows(out, nb)[row_start + 4] = bits
    pos = row_start + 4 + nb
    for j, col in enumerate(cols):
        ok = ~nulls[:, j]
        n = np.where(ok, np.maximum(lens[:, j], 0), 0)
        start = pos
        if col.width < 0:
            _windows(out, 4)[pos[ok]] = n[ok].astype("<u4").view(np.uint8).reshape(-1, 4)
            start = pos + 4
        if col.flat.size:
            src = np.zeros(nrows, dtype=np.int64)
            np.cumsum(n[:-1], out=src[1:])
            idx = np.repeat(start - src, n) + np.arange(int(n.sum()), dtype=np.int64)
            out[idx] = col.flat
        pos = pos + sizes[:, j]
    return out.tobytes()
