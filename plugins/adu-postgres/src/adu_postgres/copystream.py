"""Stream one ``COPY ... TO STDOUT (FORMAT binary)`` as Arrow record batches.

A reader thread runs the COPY and decodes it; full batches go through a small bounded
queue to the caller, so decoding overlaps with whatever the caller does with the previous
batch (validation, Parquet encoding) and memory stays bounded by ``queue depth x batch``.

Two ways to run the COPY, same output:

* *direct* (default with the C decoder on Linux): the C decoder reads the COPY itself
  from the ``PGconn`` psycopg2 opened (``connection.pgconn_ptr``), through the functions
  of the very libpq psycopg2 loaded, with the GIL released: no Python call per row.
* *psycopg2*: ``cursor.copy_expert`` calls the decoder's ``write`` once per row
  (``ADU_PG_COPY=psycopg2`` forces it).

Cancellation stops the server-side COPY: the caller's thread sends a cancel request
(``connection.cancel()``, i.e. ``PQcancel``) and the reader thread ends with the
server's "canceling statement due to user request" error, which is swallowed.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import queue
import threading
from collections.abc import Generator, Sequence
from typing import Any

import psycopg2
import psycopg2.extensions
import pyarrow as pa

from adu_postgres.decoder import NATIVE, Spec, new_decoder, to_batch

#: a batch is handed over when it holds this many value bytes, whatever its row count.
MAX_BATCH_BYTES = 48 * 1024 * 1024
_QUEUE_DEPTH = 2
_POLL = 0.1


class _Stop(Exception):
    """Raised inside the reader thread to abandon the COPY."""


class CopyCancelled(Exception):
    """The caller's cancel token was set; the server-side COPY was cancelled."""


class PgCopyError(Exception):
    """The server or the connection failed during a direct COPY.

    :ivar pgcode: the SQL state, or None when the connection itself failed.
    """

    def __init__(self, message: str, pgcode: str | None) -> None:
        super().__init__(message)
        self.pgcode = pgcode


_LIBPQ_FUNCTIONS = (
    "PQexec",
    "PQresultStatus",
    "PQgetCopyData",
    "PQgetResult",
    "PQresultErrorField",
    "PQclear",
    "PQfreemem",
    "PQerrorMessage",
)


@functools.cache
def libpq_functions() -> tuple[int, ...] | None:
    """Addresses of the libpq functions of the libpq psycopg2 itself uses, or None.

    Found among the libraries already mapped into this process (psycopg2-binary brings
    its own copy, psycopg2 links the system one) and checked against the version
    psycopg2 reports, so the ``PGconn`` psycopg2 made is only ever handled by its own
    libpq.
    """
    if os.environ.get("ADU_PG_COPY", "direct") != "direct" or not NATIVE:
        return None
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if line.rstrip().count(" ") >= 5}
        libs = {p for p in paths if p.startswith("/") and os.path.basename(p).startswith("libpq") and ".so" in p}
    except OSError:
        return None
    bundled = sorted(p for p in libs if "psycopg2" in p)
    candidates = bundled or sorted(libs)
    if len(candidates) != 1:
        return None
    try:
        lib = ctypes.CDLL(candidates[0], mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        if lib.PQlibVersion() != psycopg2.extensions.libpq_version():
            return None
        return tuple(int(ctypes.cast(getattr(lib, name), ctypes.c_void_p).value or 0) for name in _LIBPQ_FUNCTIONS)
    except (OSError, AttributeError):
        return None


def stream_copy(
    conn: Any,
    copy_sql: str,
    schema: pa.Schema,
    specs: Sequence[Spec],
    *,
    batch_rows: int,
    cancel: Any = None,
    max_batch_bytes: int = MAX_BATCH_BYTES,
    native: bool | None = None,
) -> Generator[pa.RecordBatch, None, None]:
    """Yield the rows of ``copy_sql`` (run on psycopg2 ``conn``) as batches of ``schema``.

    Raises :class:`CopyCancelled` when ``cancel`` is set, after cancelling the COPY on
    the server; raises whatever psycopg2 or the decoder raised otherwise.
    """
    decoder = new_decoder(specs, native=native)
    functions = libpq_functions() if native is not False and hasattr(decoder, "copy") else None
    q: queue.Queue[tuple[str, Any]] = queue.Queue(maxsize=_QUEUE_DEPTH)
    stop = threading.Event()
    batch_rows = max(1, int(batch_rows))

    def put(item: tuple[str, Any]) -> None:
        while True:
            if stop.is_set():
                raise _Stop
            try:
                q.put(item, timeout=_POLL)
                return
            except queue.Full:
                continue

    class _Sink:
        def write(self, data: bytes) -> int:
            if stop.is_set():
                raise _Stop
            decoder.write(data)
            if decoder.rows >= batch_rows or decoder.batch_bytes >= max_batch_bytes:
                put(("batch", to_batch(schema, specs, decoder.take())))
            return len(data)

    def run_direct() -> None:
        assert functions is not None
        sql: str | None = copy_sql
        while True:
            if stop.is_set():
                raise _Stop
            status, state, message = decoder.copy(conn.pgconn_ptr, functions, sql, batch_rows, max_batch_bytes)
            sql = None
            if decoder.rows:
                put(("batch", to_batch(schema, specs, decoder.take())))
            if status == 1:
                return
            if status == 2:
                raise PgCopyError(message.strip() or "the connection failed during COPY", state or None)

    def run() -> None:
        try:
            if functions is not None:
                run_direct()
            else:
                with conn.cursor() as cur:
                    cur.copy_expert(copy_sql, _Sink(), size=1 << 16)
                if decoder.rows:
                    put(("batch", to_batch(schema, specs, decoder.take())))
            put(("end", None))
        except _Stop:
            pass
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            if stop.is_set():
                return
            with contextlib.suppress(_Stop):
                put(("error", exc))

    thread = threading.Thread(target=run, name="adu-pg-copy", daemon=True)
    thread.start()
    finished = False
    try:
        while True:
            if cancel is not None and cancel.is_set():
                raise CopyCancelled
            try:
                what, item = q.get(timeout=_POLL)
            except queue.Empty:
                continue
            if what == "batch":
                yield item
            elif what == "end":
                finished = True
                return
            else:
                raise item
    finally:
        if not finished:
            stop.set()
            if thread.is_alive():
                _cancel_quietly(conn)
            while thread.is_alive():
                with contextlib.suppress(queue.Empty):  # unblock a reader waiting on a full queue
                    q.get_nowait()
                thread.join(_POLL)
        else:
            thread.join()


def _cancel_quietly(conn: Any) -> None:
    with contextlib.suppress(Exception):  # the connection may already be gone
        conn.cancel()
