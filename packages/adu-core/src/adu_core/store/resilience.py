"""Store calls that survive an outage of the job store.

A PostgreSQL store can go away for a while (a restart, a failover, connections refused);
a SQLite store can stay locked longer than its busy timeout. Every public method of the
store is wrapped by :func:`retried`: a call that fails because the store cannot be reached
is run again, with back-off, for up to ``retry_seconds`` (``ADU_STORE_RETRY_SECONDS``), then
raises :class:`~adu_core.errors.StoreUnavailable`. Each method is one transaction, so
running it again is safe. The outage is logged once when it starts and once when the
store answers again (:class:`Outage`), not at every call.

Only the outermost store call of a thread retries (a method calling another method does
not multiply the waiting).
"""

from __future__ import annotations

import functools
import logging
import sqlite3
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar, cast

from adu_core.errors import StoreUnavailable
from adu_core.secrets import redact_text

log = logging.getLogger("adu.store")

F = TypeVar("F", bound=Callable[..., Any])

#: back-off between two tries of a store call: first and largest delay, in seconds
FIRST_DELAY, MAX_DELAY = 0.1, 2.0

_SQLITE_TRANSIENT = ("database is locked", "unable to open database", "disk i/o error", "database is busy")


def is_outage(exc: BaseException) -> bool:
    """True when ``exc`` (an error of the store's driver, :mod:`sqlite3` or psycopg2) says
    the store cannot be reached now, not that a query is wrong."""
    module = type(exc).__module__.split(".")[0]
    if module == "sqlite3":
        return isinstance(exc, sqlite3.OperationalError) and any(m in str(exc).lower() for m in _SQLITE_TRANSIENT)
    if module != "psycopg2":
        return False
    import psycopg2  # loaded already: ``exc`` is one of its errors

    code = getattr(exc, "pgcode", None)
    if code:
        # connection exceptions, admin shutdown / crash / cannot connect now, too many connections
        return bool(code.startswith("08") or code in ("57P01", "57P02", "57P03", "53300"))
    # no SQL state: the connection failed or broke (refused, reset, closed by the server)
    return isinstance(exc, (psycopg2.OperationalError, psycopg2.InterfaceError))


def outage_message(exc: BaseException) -> str:
    """The reason of an outage on one line, without secrets."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    return redact_text(text)[:300]


class Outage:
    """Whether the store is unreachable now, logged once per outage."""

    def __init__(self, where: str) -> None:
        self.where = where
        self.since: float | None = None
        self._lock = threading.Lock()

    def begin(self, exc: BaseException) -> None:
        with self._lock:
            if self.since is not None:
                return
            self.since = time.monotonic()
        log.warning("the job store %s is unreachable (%s); retrying", self.where, outage_message(exc))

    def end(self) -> None:
        if self.since is None:
            return
        with self._lock:
            since, self.since = self.since, None
        if since is not None:
            log.warning("the job store %s answers again after %.1f s", self.where, time.monotonic() - since)


_depth = threading.local()


def retried(fn: F) -> F:
    """Run the store method ``fn`` again while the store is unreachable (see the module)."""

    @functools.wraps(fn)
    def wrapper(self: Any, *args: Any, **kwargs: Any) -> Any:
        if getattr(_depth, "n", 0) > 0:
            return fn(self, *args, **kwargs)  # an inner call: the outermost one retries
        _depth.n = 1
        try:
            return _call(self, fn, args, kwargs)
        finally:
            _depth.n = 0

    return cast(F, wrapper)


def _call(store: Any, fn: Callable[..., Any], args: Any, kwargs: Any) -> Any:
    deadline: float | None = None
    delay = FIRST_DELAY
    while True:
        try:
            result = fn(store, *args, **kwargs)
        except Exception as exc:
            if not is_outage(exc):
                raise
            store.outage.begin(exc)
            now = time.monotonic()
            if deadline is None:
                deadline = now + store.retry_seconds
            if now >= deadline:
                raise StoreUnavailable(
                    f"the job store {store.outage.where} is unreachable: {outage_message(exc)}"
                ) from None
            time.sleep(min(delay, deadline - now))
            delay = min(delay * 2, MAX_DELAY)
            continue
        store.outage.end()
        return result


def resilient(cls: type[Any]) -> type[Any]:
    """Wrap every public method ``cls`` and its store bases define with :func:`retried`."""
    names = {
        name
        for klass in cls.__mro__
        if klass.__module__.startswith("adu_core.store")
        for name, value in vars(klass).items()
        if not name.startswith("_")
        and name not in NOT_RETRIED
        and callable(value)
        and not isinstance(value, (type, staticmethod, classmethod, property))
    }
    for name in sorted(names):
        setattr(cls, name, retried(getattr(cls, name)))
    return cls


#: methods that must not be retried: opening, migrating and closing the store
NOT_RETRIED = frozenset({"migrate", "dispose", "from_settings", "ping"})
