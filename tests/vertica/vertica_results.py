"""Result sets on the wire: RowDescription and DataRow messages for a query's columns.

RowDescription follows Vertica's layout (``backend_messages/row_description.py`` of
vertica-python 1.4): a type pool of user-defined types, then per field its name, int64
table oid, schema and table names when the oid is not 0, attribute number, parent
attribute number (protocol >= 3.12 with complex types), user-defined flag, type oid,
size, nullable, identity, type modifier and format code; child fields for ROW and for
arrays of complex types. DataRows are encoded by :mod:`vertica_encode`.
"""

from __future__ import annotations

import struct
from typing import Any

import vertica_encode as enc
from vertica_engine import ResultColumn
from vertica_types import VType


def msg(kind: bytes, payload: bytes) -> bytes:
    return kind + struct.pack("!I", len(payload) + 4) + payload


def cstr(s: str) -> bytes:
    return s.encode() + b"\x00"


def error_payload(severity: str, sqlstate: str, message: str, code: int = 0, hint: str | None = None) -> bytes:
    """ErrorResponse/NoticeResponse body: (code byte, NUL-terminated text)... then NUL."""
    fields = [(b"S", severity), (b"C", sqlstate), (b"M", message), (b"V", str(code))]
    if hint:
        fields.append((b"H", hint))
    return b"".join(k + cstr(v) for k, v in fields) + b"\x00"


def data_rows(cols: list[ResultColumn], batch: Any, *, binary: bool) -> bytes:
    encoder = enc.encode_binary if binary else enc.encode_text
    parts = [encoder(batch.column(i), c.vtype) for i, c in enumerate(cols)]
    return enc.data_rows(parts, batch.num_rows)


def row_description(cols: list[ResultColumn], *, binary: bool, complex_types: bool, protocol: int) -> bytes:
    pool: list[tuple[int, str]] = []
    fields: list[bytes] = []
    counter = [0]

    def add(name: str, vt: VType, col: ResultColumn, parent: int) -> None:
        counter[0] += 1
        attno = counter[0]
        out = cstr(name)
        out += struct.pack("!Q", col.table_id)
        if col.table_id:
            out += cstr(col.schema or "") + cstr(col.table or "")
        out += struct.pack("!H", attno)
        if complex_types and protocol >= (3 << 16 | 12):
            out += struct.pack("!H", parent)
        if vt.kind in ("geometry", "geography"):  # user-defined: index into the type pool
            pool.append((vt.oid(), vt.kind))
            user_defined, oid = 1, len(pool) - 1
        else:
            user_defined, oid = 0, vt.oid()
        out += struct.pack(
            "!BIhHHiH", user_defined, oid, vt.size(), 1 if col.nullable else 0, 0, vt.typmod(), 1 if binary else 0
        )
        fields.append(out)
        if vt.kind == "row" and complex_types:
            for fname, ftype in vt.fields:
                add(fname, ftype, col, attno)
        elif vt.kind in ("array", "set") and vt.oid() == 301 and complex_types and vt.element:
            add("elements", vt.element, col, attno)

    for c in cols:
        add(c.name, c.vtype, c, 0)
    # the field count covers child fields too (row_description.py loops over all of them)
    head = struct.pack("!HI", len(fields), len(pool))
    head += b"".join(struct.pack("!I", oid) + cstr(name) for oid, name in pool)
    return msg(b"T", head + b"".join(fields))
