"""``COPY ... FROM STDIN`` on the test server: the COPY sub-protocol and the load itself.

What vertica-python's ``Cursor.copy(sql, data)`` does (``vertica/cursor.py``): it sends
the statement as a simple Query; the server answers CopyInResponse ('G': int8 overall
format, int16 column count, an int16 format per column); the client streams CopyData
('d') messages and ends with CopyDone ('c') — or CopyFail ('f', a NUL-terminated reason)
when reading its input failed; the server then answers CommandComplete (or an
ErrorResponse) and ReadyForQuery. That is the path modelled here. ``COPY LOCAL`` (the
driver's ``execute(..., copy_stdin=...)``: VerifyFiles, LoadFile, EndOfBatchRequest) is
not: the server refuses it with an error.

Statement form: ``COPY s.t [(col, ...)] FROM STDIN NATIVE [ABORT ON ERROR]
[ENFORCELENGTH] [REJECTMAX n] [NO COMMIT] [DIRECT]`` (options in any order). The data is
parsed by :mod:`vertica_native` against the target columns' types. As in Vertica:

* without ABORT ON ERROR a rejected record is skipped and the others load (REJECTMAX n:
  more than n rejections fail the load); with it the first rejection fails the whole
  COPY, which then loads nothing (``ERROR 2035: COPY: Input record N has been rejected
  (reason)``, SQLSTATE 22V04);
* without ENFORCELENGTH a too-long (VAR)CHAR/(VAR)BINARY value is truncated;
* COPY commits itself and the session's open transaction unless NO COMMIT;
* CopyFail, or the connection dropping mid-stream, loads nothing;
* ``GET_NUM_ACCEPTED_ROWS()`` / ``GET_NUM_REJECTED_ROWS()`` report the last COPY.
The target needs the INSERT privilege (and USAGE on its schema).
"""

from __future__ import annotations

import re
import socket
import struct
from typing import Any

import pyarrow as pa
import vertica_native as native
from vertica_catalog import q
from vertica_engine import SqlError
from vertica_privileges import Denied
from vertica_results import cstr, msg
from vertica_sqltext import ident, leading_name, split_top

_COPY = re.compile(r"^\s*COPY\b", re.IGNORECASE)
_FROM = re.compile(r"\bFROM\s+(LOCAL\s+)?STDIN\b", re.IGNORECASE)
_OPTION = re.compile(
    r"\s*(NATIVE\s+VARCHAR|NATIVE|ABORT\s+ON\s+ERROR|ENFORCELENGTH|NO\s+COMMIT|DIRECT|REJECTMAX\s+(\d+))",
    re.IGNORECASE,
)


def is_copy(sql: str) -> bool:
    return bool(_COPY.match(sql))


def run(session: Any, sql: str) -> None:
    """Serve one COPY statement on ``session`` (a ``vertica_wire.Session``)."""
    engine = session.cluster.engine
    try:
        plan = _plan(engine, sql, session.state)
    except SqlError as e:
        session._error(e.sqlstate, e.message, e.code)
        return
    except Denied as e:
        session._error("42501", e.message, 4367)
        return
    ncols = len(plan["columns"])
    session._send(msg(b"G", struct.pack(f"!BH{ncols}H", 1, ncols, *([1] * ncols))))
    data = _receive(session)
    if data is None:
        return  # CopyFail: the error was sent
    try:
        accepted, rejected = _load(engine, plan, data, session.state)
    except SqlError as e:
        session._error(e.sqlstate, e.message, e.code)
        return
    session.state.last_copy = (accepted, rejected)
    session._send(msg(b"C", cstr("COPY")))


def _plan(engine: Any, sql: str, state: Any) -> dict[str, Any]:
    text = sql.strip().rstrip(";")
    m = _FROM.search(text)
    if not m:
        raise SqlError("0A000", "the test server loads only COPY ... FROM STDIN", 0)
    if m.group(1):
        raise SqlError("0A000", "the test server does not model COPY LOCAL", 0)
    (schema, name), cols_text = leading_name(_COPY.sub("", text[: m.start()], count=1))
    tid = engine.table_id(schema, name)
    engine.privileges.check_table(state.user, tid, schema, name, "INSERT")
    table = engine.tables[(schema, name)]
    names = [c.name for c in table.columns]
    cols_text = cols_text.strip()
    if cols_text:
        if not (cols_text.startswith("(") and cols_text.endswith(")")):
            raise SqlError("42601", f"Syntax error at or near {cols_text[:20]!r}", 4856)
        cols = [ident(c) for c in split_top(cols_text[1:-1])]
        for c in cols:
            if c not in names:
                raise SqlError("42703", f'Column "{c}" does not exist', 2624)
    else:
        cols = names
    opts: dict[str, Any] = {"native": False, "abort": False, "enforce": False, "commit": True, "rejectmax": None}
    rest = text[m.end() :]
    while rest.strip():
        o = _OPTION.match(rest)
        if not o:
            raise SqlError("0A000", f"COPY option not modelled by the test server: {rest.strip()[:40]!r}", 0)
        word = o.group(1).upper().split()[0]
        if o.group(1).upper().replace(" ", "") == "NATIVEVARCHAR":
            raise SqlError("0A000", "the test server does not model NATIVE VARCHAR", 0)
        if word == "NATIVE":
            opts["native"] = True
        elif word == "ABORT":
            opts["abort"] = True
        elif word == "ENFORCELENGTH":
            opts["enforce"] = True
        elif word == "NO":
            opts["commit"] = False
        elif word == "REJECTMAX":
            opts["rejectmax"] = int(o.group(2))
        rest = rest[o.end() :]
    if not opts["native"]:
        raise SqlError("0A000", "the test server loads only the NATIVE format (add NATIVE)", 0)
    vtypes = [engine.vtypes[(schema, name)][c] for c in cols]
    return {"key": (schema, name), "columns": cols, "vtypes": vtypes, **opts}


def _receive(session: Any) -> bytes | None:
    """CopyData until CopyDone (the bytes) or CopyFail (None, after the ErrorResponse)."""
    faults = session.cluster.faults
    parts: list[bytes] = []
    got = 0
    while True:
        kind = session._read(1)
        body = session._read(struct.unpack("!I", session._read(4))[0] - 4)
        if kind == b"d":
            parts.append(body)
            got += len(body)
            limit = faults.drop_copy_after_bytes
            if limit is not None and got >= limit:
                faults.drop_copy_after_bytes = None
                session.sock.shutdown(socket.SHUT_RDWR)
                raise ConnectionError("fault: connection lost mid-COPY")
        elif kind == b"c":
            return b"".join(parts)
        elif kind == b"f":
            reason = body.rstrip(b"\x00").decode("utf-8", "replace")
            session._error("57014", f"COPY: from stdin failed: {reason}", 3321)
            return None
        else:
            session._error("08P01", f"unexpected message {kind!r} during COPY", 0)
            return None


def _load(engine: Any, plan: dict[str, Any], data: bytes, state: Any) -> tuple[int, int]:
    """Parse and insert; returns (accepted, rejected) rows."""
    try:
        parsed = native.parse(data, plan["vtypes"], plan["columns"], enforce_length=plan["enforce"])
    except native.NativeError as e:
        raise SqlError("22V04", str(e), 2035) from None
    rejected = parsed.rejected
    if rejected and (plan["abort"] or (plan["rejectmax"] is not None and len(rejected) > plan["rejectmax"])):
        record, reason = rejected[0]
        raise SqlError("22V04", f"COPY: Input record {record} has been rejected ({reason})", 2035)
    schema, name = plan["key"]
    cols = plan["columns"]
    with engine.lock:
        if plan["key"] not in engine.tables:
            raise SqlError("42V01", f'Table "{name}" does not exist', 4566)
        if parsed.rows:
            arrow = pa.table({f"c{i}": a for i, a in enumerate(parsed.columns)})
            select = ", ".join(native.storage_select(f"c{i}", vt) for i, vt in enumerate(plan["vtypes"]))
            engine.db.register("__copy", arrow)
            try:
                engine.db.execute(
                    f"INSERT INTO {q(schema)}.{q(name)} ({', '.join(q(c) for c in cols)}, __txn)"
                    f" SELECT {select}, {state.sid} FROM __copy"
                )
            finally:
                engine.db.unregister("__copy")
        state.touched.add(plan["key"])
        if plan["commit"]:
            engine.history.commit(state)
    return parsed.rows, len(rejected)
