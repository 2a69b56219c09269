"""Connections a coordinator's PostgreSQL source lends to the partitions its own process
reads (:meth:`adu_postgres.source.PostgresSource.lend`): its autocommit connection and the
spare readers :meth:`~adu_postgres.source.PostgresSource.warm_up` opens in the background,
found by the readers of the same job only (URL, options, snapshot id)."""

from __future__ import annotations

import concurrent.futures as cf
import contextvars
import os
import threading
from collections.abc import Callable
from typing import Any

from adu_postgres.connection import close_quietly


class Lender:
    """The connections a coordinator's source lends to the partitions its process reads
    (:meth:`PostgresSource.lend`): its own autocommit connection and the spare readers
    :meth:`PostgresSource.warm_up` opened (some maybe still connecting). A connection is
    used by one reader at a time; what comes back after the lending ended is closed."""

    def __init__(self, free: list[Any]) -> None:
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.free = free  # connections, or futures of connections being opened
        self.open = True

    def borrow(self) -> Any:
        """A free open connection, or None."""
        while True:
            with self.lock:
                if not self.open or self.pid != os.getpid() or not self.free:
                    return None
                item = self.free.pop(0)
            conn = future_conn(item) if isinstance(item, cf.Future) else item
            if conn is not None and not conn.closed:
                return conn

    def give_back(self, conn: Any, *, broken: bool) -> None:
        """Return a connection; a broken one is closed, never lent again."""
        with self.lock:
            if self.open and not broken and not conn.closed:
                self.free.append(conn)
                return
        close_quietly(conn)


#: lenders by (URL, options, snapshot id): only the job's own readers find them
LENDERS: dict[tuple[str, str, str], Lender] = {}
LENDERS_LOCK = threading.Lock()


def in_background(fn: Callable[[], Any]) -> cf.Future[Any]:
    """``fn()`` run in a daemon thread (in the caller's context: its job's secret scope)."""
    fut: cf.Future[Any] = cf.Future()
    ctx = contextvars.copy_context()

    def run() -> None:
        try:
            fut.set_result(ctx.run(fn))
        except BaseException as exc:  # noqa: BLE001 - raised where the result is taken
            fut.set_exception(exc)

    threading.Thread(target=run, name="adu-pg-connect", daemon=True).start()
    return fut


def future_conn(fut: cf.Future[Any] | None) -> Any:
    """The connection a background connect made, or None (still failing quietly)."""
    if fut is None:
        return None
    try:
        return fut.result()
    except Exception:  # noqa: BLE001 - closing: nothing to report
        return None
