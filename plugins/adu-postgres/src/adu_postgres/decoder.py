"""Binary COPY bytes -> Arrow record batches.

The work is done by the C decoder :mod:`adu_postgres._copydec` (no Python object per
value). When the extension was not compiled (no C compiler at install time), the
pure-Python :class:`PyDecoder` gives the same output, much more slowly;
:data:`NATIVE` says which one is in use.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import Any

import pyarrow as pa

from adu_postgres import types as t

try:
    from adu_postgres._copydec import Decoder as _CDecoder

    NATIVE = True
except ImportError:  # pragma: no cover - depends on the build
    _CDecoder = None
    NATIVE = False

Spec = tuple[int, int, int, int]
_SIGNATURE = b"PGCOPY\n\xff\r\n\x00"
_PG_EPOCH_DAYS = 10957
_PG_EPOCH_MICROS = 946684800000000
_I64 = (-(2**63), 2**63 - 1)
_I32 = (-(2**31), 2**31 - 1)
_CLAMP_MICROS = (-62135596800000000, 253402300799999999)
_CLAMP_DAYS = (-719162, 2932896)
_EXTREME_MICROS = 2**63 - 1  # DuckDB's infinity; -_EXTREME_MICROS is its -infinity
_EXTREME_DAYS = 2**31 - 1


def new_decoder(specs: Sequence[Spec], *, native: bool | None = None) -> Any:
    """A decoder for columns described by ``specs`` (C unless ``native`` is False)."""
    if native is None:
        native = NATIVE
    if native:
        if _CDecoder is None:
            raise RuntimeError("the C decoder adu_postgres._copydec is not built")
        return _CDecoder(list(specs))
    return PyDecoder(specs)


def to_batch(schema: pa.Schema, specs: Sequence[Spec], taken: tuple[int, list[tuple[Any, ...]]]) -> pa.RecordBatch:
    """Wrap the buffers of ``decoder.take()`` as a record batch of ``schema`` (zero-copy)."""
    rows, cols = taken
    arrays = []
    for field, spec, (nulls, validity, b1, b2, b3) in zip(schema, specs, cols, strict=True):
        kind = spec[0]
        vbuf = pa.py_buffer(validity) if validity is not None else None
        typ = field.type
        if kind == t.KIND_INTERVAL:
            children = [
                pa.Array.from_buffers(pa.int32(), rows, [None, pa.py_buffer(b1)]),
                pa.Array.from_buffers(pa.int32(), rows, [None, pa.py_buffer(b2)]),
                pa.Array.from_buffers(pa.int64(), rows, [None, pa.py_buffer(b3)]),
            ]
            arr = pa.Array.from_buffers(typ, rows, [vbuf], null_count=nulls, children=children)
        elif kind in t.TEXT_KINDS:
            arr = pa.Array.from_buffers(typ, rows, [vbuf, pa.py_buffer(b2), pa.py_buffer(b1)], null_count=nulls)
        elif isinstance(typ, pa.BaseExtensionType):
            storage = pa.Array.from_buffers(typ.storage_type, rows, [vbuf, pa.py_buffer(b1)], null_count=nulls)
            arr = pa.ExtensionArray.from_storage(typ, storage)
        else:
            arr = pa.Array.from_buffers(typ, rows, [vbuf, pa.py_buffer(b1)], null_count=nulls)
        arrays.append(arr)
    return pa.RecordBatch.from_arrays(arrays, schema=schema)


class PyDecoder:
    """Pure-Python twin of the C decoder (same interface, same buffers)."""

    def __init__(self, specs: Sequence[Spec]) -> None:
        self.specs = [tuple(s) for s in specs]
        self._pending = b""
        self._header_done = False
        self.finished = False
        self.total_rows_done = 0
        self._reset()

    def _reset(self) -> None:
        self.rows = 0
        self.batch_bytes = 0
        self._valid: list[list[bool]] = [[] for _ in self.specs]
        self._vals: list[list[Any]] = [[] for _ in self.specs]

    @property
    def total_rows(self) -> int:
        return self.total_rows_done + self.rows

    @property
    def pending(self) -> int:
        return len(self._pending)

    def write(self, data: bytes) -> int:
        if self.finished:
            if data:
                raise ValueError("data after the end of the COPY stream")
            return 0
        buf = self._pending + bytes(data)
        pos = 0
        if not self._header_done:
            if len(buf) < 19:
                self._pending = buf
                return len(data)
            if buf[:11] != _SIGNATURE:
                raise ValueError("not a PostgreSQL binary COPY stream")
            (ext,) = struct.unpack_from("!I", buf, 15)
            if len(buf) < 19 + ext:
                self._pending = buf
                return len(data)
            pos = 19 + ext
            self._header_done = True
        n = len(buf)
        while pos + 2 <= n:
            (nf,) = struct.unpack_from("!h", buf, pos)
            if nf == -1:
                self.finished = True
                pos += 2
                break
            if nf != len(self.specs):
                raise ValueError(f"COPY row has {nf} fields, expected {len(self.specs)}")
            q = pos + 2
            fields: list[bytes | None] = []
            complete = True
            for _ in range(nf):
                if q + 4 > n:
                    complete = False
                    break
                (ln,) = struct.unpack_from("!i", buf, q)
                q += 4
                if ln >= 0:
                    if q + ln > n:
                        complete = False
                        break
                    fields.append(buf[q : q + ln])
                    q += ln
                else:
                    fields.append(None)
            if not complete:
                break
            for i, value in enumerate(fields):
                self._put(i, value)
            self.rows += 1
            pos = q
        self._pending = buf[pos:]
        return len(data)

    def _err(self, col: int, what: str) -> OverflowError:
        return OverflowError(f"column {col}: {what} (row {self.total_rows + 1} of the partition)")

    def _put(self, col: int, raw: bytes | None) -> None:
        kind, width, scale, policy = self.specs[col]
        if raw is None:
            self._valid[col].append(False)
            self._vals[col].append(None)
            return
        self.batch_bytes += len(raw)
        valid = True
        value: Any
        if kind == t.KIND_BOOL:
            value = raw != b"\x00"
        elif kind == t.KIND_INT2:
            value = raw
        elif kind in (t.KIND_INT4, t.KIND_FLOAT4, t.KIND_INT8, t.KIND_FLOAT8, t.KIND_TIME):
            value = raw[::-1]
        elif kind == t.KIND_DATE:
            (v,) = struct.unpack("!i", raw)
            out = v + _PG_EPOCH_DAYS
            if v in _I32 or not (-_EXTREME_DAYS < out < _EXTREME_DAYS):
                valid, out = self._policy(col, policy, v, _I32, "date", _CLAMP_DAYS, _EXTREME_DAYS)
            value = struct.pack("<i", out)
        elif kind == t.KIND_TIMESTAMP:
            (v,) = struct.unpack("!q", raw)
            out = v + _PG_EPOCH_MICROS
            if v in _I64 or not (-_EXTREME_MICROS < out < _EXTREME_MICROS):
                valid, out = self._policy(col, policy, v, _I64, "timestamp", _CLAMP_MICROS, _EXTREME_MICROS)
            value = struct.pack("<q", out)
        elif kind == t.KIND_TEXT:
            value = raw
        elif kind == t.KIND_JSONB:
            if not raw or raw[0] != 1:
                raise self._err(col, "unknown jsonb binary version")
            value = raw[1:]
        elif kind == t.KIND_UUID:
            value = raw
        elif kind == t.KIND_UUID_TEXT:
            if len(raw) != 16:
                raise self._err(col, "malformed uuid")
            h = raw.hex()
            value = f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}".encode()
        elif kind == t.KIND_NUMERIC:
            value = self._numeric(col, raw, width, scale)
        elif kind == t.KIND_MONEY:
            (v,) = struct.unpack("!q", raw)
            value = v.to_bytes(16, "little", signed=True)
        elif kind == t.KIND_INTERVAL:
            micros, days, months = struct.unpack("!qii", raw)
            value = (months, days, micros)
        else:
            raise ValueError(f"unknown column kind {kind}")
        self._valid[col].append(valid)
        self._vals[col].append(value if valid else None)

    def _policy(
        self,
        col: int,
        policy: int,
        v: int,
        infinities: tuple[int, int],
        what: str,
        clamp: tuple[int, int],
        extreme: int,
    ) -> tuple[bool, int]:
        positive = v > 0
        if policy == t.POLICIES["extreme"]:
            if v not in infinities:
                beyond = "beyond year 294246" if what == "timestamp" else "out of the range Parquet holds"
                raise self._err(col, f"{t.FALLBACK_MARK}{what} {beyond}")
            return True, extreme if positive else -extreme
        if policy == 0:
            sign = "infinity" if positive else "-infinity"
            raise self._err(
                col,
                f"{what} '{sign}' (or out of range) cannot be stored;"
                " source option infinity=extreme|null|clamp decides",
            )
        if policy == 1:
            return False, 0
        return True, clamp[1] if positive else clamp[0]

    def _numeric(self, col: int, raw: bytes, width: int, scale: int) -> bytes:
        ndigits, weight, sign, _dscale = struct.unpack_from("!hhHh", raw, 0)
        if sign == 0xC000:
            raise self._err(col, f"{t.FALLBACK_MARK}NaN has no decimal value")
        if sign in (0xD000, 0xF000):
            raise self._err(col, f"{t.FALLBACK_MARK}Infinity has no decimal value")
        digits = struct.unpack_from(f"!{ndigits}H", raw, 8)
        # value * 10^scale = sum d_i * 10000^(weight-i) * 10^scale
        num: int = 0
        for d in digits:
            num = num * 10000 + d
        exp10 = 4 * (weight - ndigits + 1) + scale  # value*10^scale = num * 10^exp10
        if exp10 >= 0:
            num *= 10**exp10
        else:
            num, rem = divmod(num, 10**-exp10)
            if rem:
                raise self._err(col, "numeric has more fractional digits than its scale")
        if sign == 0x4000:
            num = -num
        bits = width * 8
        if not (-(2 ** (bits - 1)) <= num < 2 ** (bits - 1)):
            raise self._err(col, "numeric value does not fit the decimal type")
        return bytes(num.to_bytes(width, "little", signed=True))

    def take(self) -> tuple[int, list[tuple[Any, ...]]]:
        rows = self.rows
        out = []
        for col, (kind, width, _scale, _policy) in enumerate(self.specs):
            valid = self._valid[col]
            vals = self._vals[col]
            nulls = valid.count(False)
            validity = _bitmap(valid) if nulls else None
            b2: bytes | None = None
            b3: bytes | None = None
            if kind == t.KIND_BOOL:
                b1 = _bitmap([bool(v) for v in vals])
            elif kind in t.TEXT_KINDS:
                offsets = [0]
                chunks = []
                for v in vals:
                    if v is not None:
                        chunks.append(v)
                        offsets.append(offsets[-1] + len(v))
                    else:
                        offsets.append(offsets[-1])
                b1 = b"".join(chunks)
                b2 = struct.pack(f"<{len(offsets)}i", *offsets)
            elif kind == t.KIND_INTERVAL:
                triples = [v if v is not None else (0, 0, 0) for v in vals]
                b1 = struct.pack(f"<{rows}i", *(m for m, _, _ in triples))
                b2 = struct.pack(f"<{rows}i", *(d for _, d, _ in triples))
                b3 = struct.pack(f"<{rows}q", *(u for _, _, u in triples))
            else:
                size = {
                    t.KIND_INT2: 2,
                    t.KIND_INT4: 4,
                    t.KIND_FLOAT4: 4,
                    t.KIND_DATE: 4,
                    t.KIND_INT8: 8,
                    t.KIND_FLOAT8: 8,
                    t.KIND_TIMESTAMP: 8,
                    t.KIND_TIME: 8,
                    t.KIND_UUID: 16,
                    t.KIND_MONEY: 16,
                    t.KIND_NUMERIC: width,
                }[kind]
                if kind == t.KIND_INT2:
                    vals = [v[::-1] if v is not None else None for v in vals]
                b1 = b"".join(v if v is not None else b"\x00" * size for v in vals)
            out.append((nulls, validity, b1, b2, b3))
        self.total_rows_done += rows
        self._reset()
        return rows, out


def _bitmap(bits: list[bool]) -> bytes:
    out = bytearray((len(bits) + 7) // 8)
    for i, b in enumerate(bits):
        if b:
            out[i >> 3] |= 1 << (i & 7)
    return bytes(out)
