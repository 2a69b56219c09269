"""Stream one ``COPY ... TO STDOUT (FORMAT binary)`` as Arrow record batches.

psycopg2 runs the COPY in a reader thread (it releases the GIL while it waits on the
socket) and hands every CopyData message to the C decoder; full batches go through a
small bounded queue to the caller, so decoding overlaps with whatever the caller does
with the previous batch (validation, Parquet encoding) and memory stays bounded by
``queue depth x batch size``.

Cancellation stops the server-side COPY: the caller's thread sends a cancel request
(``connection.cancel()``, i.e. ``PQcancel``) and the reader thread ends with the
server's "canceling statement due to user request" error, which is swallowed.
"""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Iterator, Sequence
from typing import Any

import pyarrow as pa

from adu_postgres.decoder import Spec, new_decoder, to_batch

#: a batch is handed over when it holds this many value bytes, whatever its row count.
MAX_BATCH_BYTES = 48 * 1024 * 1024
_QUEUE_DEPTH = 2
_POLL = 0.1


class _Stop(Exception):
    """Raised inside the reader thread to abandon the COPY."""


class CopyCancelled(Exception):
    """The caller's cancel token was set; the server-side COPY was cancelled."""


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
) -> Iterator[pa.RecordBatch]:
    """Yield the rows of ``copy_sql`` (run on psycopg2 ``conn``) as batches of ``schema``.

    Raises :class:`CopyCancelled` when ``cancel`` is set, after cancelling the COPY on
    the server; raises whatever psycopg2 or the decoder raised otherwise.
    """
    decoder = new_decoder(specs, native=native)
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

    def run() -> None:
        try:
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
