"""Sign-in attempts per account and client address: exponential back-off, and the
addresses that once signed in to an account (they may pass the account's lockout).

Every change is one statement that reads and writes together (``INSERT … ON CONFLICT DO
UPDATE … RETURNING``), so concurrent attempts are all counted.
"""

from __future__ import annotations

import time
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from adu_core.store.schema import login_attempts

#: failures of one address against one account before it must wait
FREE_FAILURES = 3
#: the longest wait of one address (seconds)
MAX_BACKOFF = 3600.0


def backoff(failures: int) -> float:
    """Seconds an address waits after its ``failures``-th failure on an account."""
    if failures <= FREE_FAILURES:
        return 0.0
    return float(min(2 ** (failures - FREE_FAILURES), MAX_BACKOFF))


def _insert(conn: Connection) -> Any:
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects import postgresql

        return postgresql.insert(login_attempts)
    from sqlalchemy.dialects import sqlite

    return sqlite.insert(login_attempts)


def get(conn: Connection, username: str, address: str) -> Any:
    """The attempts row of ``username`` from ``address`` (None when there is none)."""
    return conn.execute(
        sa.select(login_attempts).where(login_attempts.c.username == username, login_attempts.c.address == address)
    ).first()


def failed(conn: Connection, username: str, address: str, now: float | None = None) -> int:
    """Count a failure (atomically) and set the address's back-off; the failures so far."""
    now = time.time() if now is None else now
    stmt = _insert(conn).values(username=username, address=address, failures=1, last_failure_at=now)
    stmt = stmt.on_conflict_do_update(
        index_elements=[login_attempts.c.username, login_attempts.c.address],
        set_={"failures": login_attempts.c.failures + 1, "last_failure_at": now},
    ).returning(login_attempts.c.failures)
    failures = int(conn.execute(stmt).scalar_one())
    wait = backoff(failures)
    if wait:
        conn.execute(
            login_attempts.update()
            .where(login_attempts.c.username == username, login_attempts.c.address == address)
            .values(blocked_until=now + wait)
        )
    return failures


def succeeded(conn: Connection, username: str, address: str, now: float | None = None) -> None:
    """The address signed in: its failures are forgotten and it is known to the account."""
    now = time.time() if now is None else now
    stmt = _insert(conn).values(username=username, address=address, failures=0, succeeded_at=now)
    conn.execute(
        stmt.on_conflict_do_update(
            index_elements=[login_attempts.c.username, login_attempts.c.address],
            set_={"failures": 0, "blocked_until": None, "succeeded_at": now},
        )
    )


def forget(conn: Connection, username: str) -> None:
    """Drop every attempt of ``username`` (the account was removed or its password reset)."""
    conn.execute(login_attempts.delete().where(login_attempts.c.username == username))
