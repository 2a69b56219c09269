"""One ``COPY ... FROM STDIN`` fed with Arrow batches, over a psycopg2 connection.

Two ways, same bytes on the wire:

* *direct* (default with the C encoder on Linux): the encoder sends the COPY data itself
  over the ``PGconn`` psycopg2 opened (``connection.pgconn_ptr``), through the functions of
  the very libpq psycopg2 loaded (as :mod:`adu_postgres.copystream` does for reading), with
  the GIL released while it encodes and sends: threads of one process load in parallel.
* *psycopg2*: ``cursor.copy_expert`` in a helper thread pulls the encoded batches from a
  small queue (``ADU_PG_COPY=psycopg2`` forces it; used when libpq cannot be found).

A failure (an encoding error, a server error, a lost connection) aborts the COPY: the
server then inserts none of its rows.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import os
import queue
import threading
from typing import Any

import psycopg2
import psycopg2.extensions
import pyarrow as pa

from adu_postgres.copystream import PgCopyError
from adu_postgres.encoder import NATIVE, Encoder

_FUNCTIONS = (
    "PQexec",
    "PQresultStatus",
    "PQputCopyData",
    "PQputCopyEnd",
    "PQgetResult",
    "PQresultErrorField",
    "PQclear",
    "PQerrorMessage",
)
_QUEUE_DEPTH = 4


@functools.cache
def libpq_copy_in_functions() -> tuple[int, ...] | None:
    """Addresses of the libpq functions the direct path calls, from the libpq psycopg2
    itself uses (checked against the version psycopg2 reports), or None."""
    if os.environ.get("ADU_PG_COPY", "direct") != "direct" or not NATIVE:
        return None
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if line.rstrip().count(" ") >= 5}
    except OSError:
        return None
    libs = {p for p in paths if p.startswith("/") and os.path.basename(p).startswith("libpq") and ".so" in p}
    bundled = sorted(p for p in libs if "psycopg2" in p)
    candidates = bundled or sorted(libs)
    if len(candidates) != 1:
        return None
    try:
        lib = ctypes.CDLL(candidates[0], mode=os.RTLD_NOLOAD | os.RTLD_LAZY)
        if lib.PQlibVersion() != psycopg2.extensions.libpq_version():
            return None
        return tuple(int(ctypes.cast(getattr(lib, name), ctypes.c_void_p).value or 0) for name in _FUNCTIONS)
    except (OSError, AttributeError):
        return None


class CopyIn:
    """``copy_sql`` (a ``COPY ... FROM STDIN`` in ``encoder``'s format) running on ``conn``.

    :param conn: a psycopg2 connection, idle or inside a transaction the caller opened.
    :param direct: force (True) or refuse (False) the direct libpq path; None: direct
        when available.
    """

    def __init__(self, conn: Any, copy_sql: str, encoder: Encoder, *, direct: bool | None = None) -> None:
        self.conn = conn
        self.encoder = encoder
        self.rows = 0
        self._functions = libpq_copy_in_functions() if direct is not False else None
        if direct and self._functions is None:
            raise RuntimeError("the direct libpq COPY path is not available")
        self._done = False
        if self._functions is not None:
            self._check(encoder.native.copy_start(conn.pgconn_ptr, self._functions, copy_sql))
        else:
            self._start_thread(copy_sql)

    # -- direct -----------------------------------------------------------------------------

    @staticmethod
    def _check(outcome: tuple[int, str, str]) -> None:
        status, state, message = outcome
        if status != 0:
            raise PgCopyError(message.strip() or "the connection failed during COPY", state or None)

    # -- psycopg2 ---------------------------------------------------------------------------

    def _start_thread(self, copy_sql: str) -> None:
        self._queue: queue.Queue[bytes | BaseException] = queue.Queue(maxsize=_QUEUE_DEPTH)
        self._error: BaseException | None = None
        self._queue.put(self.encoder.header())
        feed = self

        class _Reader:
            def __init__(self) -> None:
                self.pending = b""

            def read(self, size: int = -1) -> bytes:
                while not self.pending:
                    item = feed._queue.get()
                    if isinstance(item, BaseException):
                        raise item
                    if item == b"":
                        return b""
                    self.pending = item
                out, self.pending = self.pending[: max(size, 1)], self.pending[max(size, 1) :]
                return out

            readline = read

        def run() -> None:
            try:
                with self.conn.cursor() as cur:
                    cur.copy_expert(copy_sql, _Reader(), size=1 << 18)
            except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
                self._error = exc

        self._thread = threading.Thread(target=run, name="adu-pg-copy-in", daemon=True)
        self._thread.start()

    def _put(self, item: bytes | BaseException) -> None:
        while self._thread.is_alive():
            with contextlib.suppress(queue.Full):
                self._queue.put(item, timeout=0.1)
                return
        self._raise_thread_error()

    def _raise_thread_error(self) -> None:
        exc = self._error
        if isinstance(exc, psycopg2.Error):
            raise PgCopyError(" ".join(str(exc).split()) or type(exc).__name__, getattr(exc, "pgcode", None))
        if exc is not None:
            raise exc

    # -- both -------------------------------------------------------------------------------

    def write(self, batch: pa.RecordBatch) -> None:
        """Encode ``batch`` and send it. Raises :class:`~adu_postgres.encoder.EncodeError`
        for a value PostgreSQL cannot hold, :class:`PgCopyError` when the server or the
        connection fails (call :meth:`abort` then)."""
        batch = self.encoder.conform(batch)
        if self._functions is not None:
            try:
                outcome = self.encoder.native.copy_batch(self.conn.pgconn_ptr, self._functions, batch)
            except ValueError as exc:
                raise self.encoder.column_error(exc) from None
            self._check(outcome)
        else:
            self._put(self.encoder.encode(batch))
        self.rows += batch.num_rows

    def finish(self) -> int:
        """End the COPY; the rows sent. Raises :class:`PgCopyError` when the server refused them."""
        self._done = True
        if self._functions is not None:
            self._check(self.encoder.native.copy_end(self.conn.pgconn_ptr, self._functions, None))
        else:
            self._put(self.encoder.trailer())
            self._put(b"")
            self._thread.join()
            self._raise_thread_error()
        return self.rows

    def abort(self, reason: str = "aborted by ADU") -> None:
        """Make the server abandon the COPY (none of its rows are inserted); never raises."""
        if self._done:
            return
        self._done = True
        with contextlib.suppress(Exception):
            if self._functions is not None:
                self.encoder.native.copy_end(self.conn.pgconn_ptr, self._functions, reason)
            else:
                self._put(RuntimeError(reason))
                self._thread.join(30)
