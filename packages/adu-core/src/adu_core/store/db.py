"""The store's connection layer: SQL text through the DB-API drivers themselves.

SQLite runs on the standard library's :mod:`sqlite3`, PostgreSQL on psycopg2; no
SQLAlchemy at run time (its import and set-up cost a quarter of a second of every ``adu``
command). SQLAlchemy and Alembic are imported only to upgrade an older store
(:mod:`adu_core.store.upgrade`).

* :class:`Database` opens connections for one store URL and keeps them open for the
  process (a small pool; closing the last connection to a WAL database checkpoints it, two
  fsyncs each time); a connection is never shared across ``fork`` (the pool belongs to the
  process that opened it). :meth:`Database.write` is a write transaction (SQLite: ``BEGIN
  IMMEDIATE``, so concurrent claims serialize instead of failing on a lock upgrade),
  :meth:`Database.read` a read one.
* SQL is one text per statement, with ``:name`` parameters; :class:`Connection` passes it
  to SQLite as is and translates it once per text to psycopg2's ``%(name)s``.
* Rows are tuples with attribute access (``row.id``, ``row.status``); :func:`in_list`
  expands ``IN`` lists into one parameter per value.
* Errors are the drivers' own (``sqlite3.Error``, ``psycopg2.Error``):
  :func:`adu_core.store.resilience.is_outage` tells an outage from a wrong query.
"""

from __future__ import annotations

import collections
import contextlib
import functools
import os
import re
import sqlite3
import threading
import weakref
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any
from urllib.parse import unquote, urlsplit

from adu_core.errors import UsageError
from adu_core.secrets import redact_url

#: seconds a connection to a PostgreSQL store may take before it counts as unreachable
CONNECT_TIMEOUT = 10
#: idle connections a process keeps open (more are opened when threads need them)
POOL_SIZE = 4

SQLITE, POSTGRESQL = "sqlite", "postgresql"

#: connections inherited through ``fork``: never used, never closed (closing a PostgreSQL
#: connection would end the parent's session on the shared socket)
_INHERITED: list[Any] = []

#: every store database of this process (:func:`close_before_exit`)
_DATABASES: weakref.WeakSet[Database] = weakref.WeakSet()

_PARAM = re.compile(r"(?<![:\w]):([A-Za-z_]\w*)")


class Target:
    """What a store URL names: a SQLite file (``path``; None: in memory) or a PostgreSQL
    connection string for libpq (``dsn``)."""

    def __init__(self, dialect: str, *, path: str | None = None, dsn: str = "") -> None:
        self.dialect = dialect
        self.path = path
        self.dsn = dsn


def parse_url(url: str) -> Target:
    """The store at ``url`` (``sqlite:///path`` or ``postgresql://…``, a ``+driver`` suffix
    allowed); :class:`UsageError` for anything else."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # a port that is not a number fails here, not at the first query
    except ValueError:
        raise UsageError(f"ADU_STORE_URL is not a database URL: {redact_url(url)!r}") from None
    if not parts.scheme or "://" not in url:
        raise UsageError(f"ADU_STORE_URL is not a database URL: {redact_url(url)!r}")
    backend, _, driver = parts.scheme.partition("+")
    if backend == SQLITE and driver in ("", "pysqlite"):
        path = unquote(url.split("://", 1)[1].split("?", 1)[0])
        path = path[1:] if path.startswith("/") else path  # sqlite:///rel, sqlite:////abs
        return Target(SQLITE, path=None if path in ("", ":memory:") else path)
    if backend in ("postgresql", "postgres") and driver in ("", "psycopg2"):
        return Target(POSTGRESQL, dsn="postgresql" + url[len(parts.scheme) :])
    raise UsageError(f"ADU_STORE_URL must be a sqlite:/// or postgresql:// URL, not {redact_url(url)!r}")


@functools.lru_cache(maxsize=256)
def _row_class(names: tuple[str, ...]) -> Any:
    return collections.namedtuple("Row", names, rename=True)


@functools.lru_cache(maxsize=1024)
def _pyformat(sql: str) -> str:
    """``sql`` with ``:name`` parameters as psycopg2's ``%(name)s`` (``%`` escaped)."""
    return _PARAM.sub(r"%(\1)s", sql.replace("%", "%%"))


def in_list(name: str, values: Iterable[Any]) -> tuple[str, dict[str, Any]]:
    """``(":name_0, :name_1, …", {"name_0": …})``: an ``IN`` list as one parameter per
    value (``NULL`` for no value: ``x IN (NULL)`` is never true)."""
    params = {f"{name}_{i}": v for i, v in enumerate(values)}
    return (", ".join(f":{k}" for k in params) or "NULL"), params


class Result:
    """The rows of one statement (all fetched) and the number of rows it changed."""

    __slots__ = ("rowcount", "rows")

    def __init__(self, rows: list[Any], rowcount: int) -> None:
        self.rows = rows
        self.rowcount = rowcount

    def __iter__(self) -> Iterator[Any]:
        return iter(self.rows)

    def all(self) -> list[Any]:
        return self.rows

    def first(self) -> Any:
        """The first row, or None."""
        return self.rows[0] if self.rows else None

    def one(self) -> Any:
        """The only row (LookupError unless there is exactly one)."""
        if len(self.rows) != 1:
            raise LookupError(f"expected one row, got {len(self.rows)}")
        return self.rows[0]

    def scalar(self) -> Any:
        """The first column of the first row, or None."""
        return self.rows[0][0] if self.rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalars(self) -> list[Any]:
        """The first column of every row."""
        return [r[0] for r in self.rows]


class Connection:
    """One DB-API connection inside a transaction of :class:`Database`.

    :ivar dialect: ``"sqlite"`` or ``"postgresql"``.
    """

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect
        self.pid = os.getpid()

    def _sql(self, sql: str) -> str:
        return sql if self.dialect == SQLITE else _pyformat(sql)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> Result:
        """Run one statement with ``:name`` parameters; its rows (if any) are fetched."""
        cur = self.raw.cursor()
        try:
            cur.execute(self._sql(sql), params or {})
            rows: list[Any] = []
            if cur.description is not None:
                cls = _row_class(tuple(d[0] for d in cur.description))
                rows = [cls._make(r) for r in cur.fetchall()]
            return Result(rows, cur.rowcount)
        finally:
            cur.close()

    def executemany(self, sql: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """Run one statement for each of ``rows`` (PostgreSQL: in pages of 100 statements
        per round trip)."""
        if not rows:
            return
        cur = self.raw.cursor()
        try:
            if self.dialect == SQLITE:
                cur.executemany(sql, rows)
            else:
                from psycopg2.extras import execute_batch

                execute_batch(cur, self._sql(sql), rows, page_size=100)
        finally:
            cur.close()


class Database:
    """Connections to the store at ``url``, opened on demand and kept for the process.

    :raises UsageError: ``url`` is not a database URL ADU can use.
    """

    def __init__(self, url: str) -> None:
        self.url = url
        self.target = parse_url(url)
        self.dialect = self.target.dialect
        if self.dialect == SQLITE and self.target.path:
            os.makedirs(os.path.dirname(os.path.abspath(self.target.path)), exist_ok=True)
        self._idle: list[Any] = []
        self._memory: Any = None  # the one connection of an in-memory SQLite store
        self._lock = threading.Lock()
        self._pid = os.getpid()
        _DATABASES.add(self)

    # ----------------------------------------------------------------- connections

    def _connect(self) -> Any:
        if self.dialect == SQLITE:
            raw = sqlite3.connect(self.target.path or ":memory:", timeout=30, check_same_thread=False)
            # autocommit at the driver level: the transactions begin explicitly (below)
            raw.isolation_level = None
            try:
                for pragma in ("journal_mode=WAL", "busy_timeout=30000", "foreign_keys=ON", "synchronous=NORMAL"):
                    raw.execute(f"PRAGMA {pragma}")
            except BaseException:
                raw.close()
                raise
            return raw
        try:
            import psycopg2
        except ImportError as exc:  # psycopg2 comes with the adu-postgres plugin
            raise UsageError(f"ADU_STORE_URL needs psycopg2: {exc}") from None
        return psycopg2.connect(self.target.dsn, connect_timeout=CONNECT_TIMEOUT)

    def _own_process(self) -> None:
        """Forget the connections of the parent process (after ``fork``)."""
        if self._pid != os.getpid():
            self._lock = threading.Lock()  # it may have been held by a thread of the parent
            _INHERITED.extend(self._idle)
            if self._memory is not None:
                _INHERITED.append(self._memory)
            self._idle, self._memory, self._pid = [], None, os.getpid()

    def _checkout(self) -> Any:
        self._own_process()
        if self.dialect == SQLITE and self.target.path is None:
            if self._memory is None:
                self._memory = self._connect()
            return self._memory
        while True:
            with self._lock:
                raw = self._idle.pop() if self._idle else None
            if raw is None:
                return self._connect()
            if self.dialect == SQLITE:
                return raw
            # pre-ping: a PostgreSQL connection may have died while it was idle
            try:
                if raw.closed:
                    continue
                cur = raw.cursor()
                cur.execute("SELECT 1")  # opens the transaction the caller goes on with
                cur.close()
                return raw
            except Exception:  # noqa: BLE001 - any failure of the ping: a new connection
                _close(raw)

    def _checkin(self, raw: Any) -> None:
        if raw is self._memory:
            return
        if self._pid != os.getpid():
            _INHERITED.append(raw)
            return
        with self._lock:
            if len(self._idle) < POOL_SIZE:
                self._idle.append(raw)
                return
        _close(raw)

    @contextmanager
    def _transaction(self, write: bool) -> Iterator[Connection]:
        raw = self._checkout()
        conn = Connection(raw, self.dialect)
        sqlite = self.dialect == SQLITE
        try:
            if sqlite:
                # writers take the write lock at the start; readers never block
                raw.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield conn
            if sqlite:
                raw.execute("COMMIT" if write else "ROLLBACK")
            elif write:
                raw.commit()
            else:
                raw.rollback()
        except BaseException:
            if _rolled_back(raw, sqlite):
                self._checkin(raw)
            else:
                _close(raw)  # broken: never back to the pool
            raise
        self._checkin(raw)

    def read(self) -> AbstractContextManager[Connection]:
        """A read transaction: ``with db.read() as conn: conn.execute(…)``."""
        return self._transaction(False)

    def write(self) -> AbstractContextManager[Connection]:
        """A write transaction, committed at the end of the block (rolled back on error)."""
        return self._transaction(True)

    def dispose(self) -> None:
        """Close the idle connections of this process."""
        self._own_process()
        with self._lock:
            idle, self._idle = self._idle, []
        for raw in idle:
            _close(raw)
        if self._memory is not None:
            _close(self._memory)
            self._memory = None

    def file_identity(self) -> tuple[int, int] | None:
        """``(device, inode)`` of a SQLite store's file (``(0, 0)`` when it is missing);
        None for other stores."""
        if self.dialect != SQLITE or self.target.path is None:
            return None
        try:
            st = os.stat(self.target.path)
        except OSError:
            return (0, 0)
        return (st.st_dev, st.st_ino)


def _rolled_back(raw: Any, sqlite: bool) -> bool:
    """Roll back what failed; False when the connection is broken."""
    try:
        if not sqlite:
            raw.rollback()
            return not raw.closed
        if raw.in_transaction:
            raw.execute("ROLLBACK")
        return True
    except Exception:  # noqa: BLE001 - whatever the reason, the connection is not reused
        return False


def _close(raw: Any) -> None:
    with contextlib.suppress(Exception):  # a broken connection may fail to close; it is dropped
        raw.close()


def close_before_exit() -> None:
    """Close this process's PostgreSQL store connections (a server logs a client that
    vanishes without saying goodbye), for a process about to leave with ``os._exit``.

    SQLite connections are left as they are: closing the last one checkpoints the WAL into
    the database file and syncs it (~10 ms at the end of every command); a committed
    transaction is in the WAL already, and the next connection finds it there.
    """
    for database in list(_DATABASES):
        if database.dialect != SQLITE and database._pid == os.getpid():
            database.dispose()
