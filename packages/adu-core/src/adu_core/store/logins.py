"""Sign-in attempts per account and client address: exponential back-off, and the
addresses that once signed in to an account (they may pass the account's lockout).

Every change is one statement that reads and writes together (``INSERT … ON CONFLICT DO
UPDATE … RETURNING``), so concurrent attempts are all counted.
"""

from __future__ import annotations

import time
from typing import Any

from adu_core.store.db import Connection

#: failures of one address against one account before it must wait
FREE_FAILURES = 3
#: the longest wait of one address (seconds)
MAX_BACKOFF = 3600.0


def backoff(failures: int) -> float:
    """Seconds an address waits after its ``failures``-th failure on an account."""
    if failures <= FREE_FAILURES:
        return 0.0
    return float(min(2 ** (failures - FREE_FAILURES), MAX_BACKOFF))


def get(conn: Connection, username: str, address: str) -> Any:
    """The attempts row of ``username`` from ``address`` (None when there is none)."""
    return conn.execute(
        "SELECT * FROM login_attempts WHERE username = :username AND address = :address",
        {"username": username, "address": address},
    ).first()


def failed(conn: Connection, username: str, address: str, now: float | None = None) -> int:
    """Count a failure (atomically) and set the address's back-off; the failures so far."""
    now = time.time() if now is None else now
    key = {"username": username, "address": address}
    failures = int(
        conn.execute(
            "INSERT INTO login_attempts (username, address, failures, last_failure_at)"
            " VALUES (:username, :address, 1, :now) ON CONFLICT (username, address) DO UPDATE"
            " SET failures = login_attempts.failures + 1, last_failure_at = :now RETURNING failures",
            {**key, "now": now},
        ).scalar_one()
    )
    wait = backoff(failures)
    if wait:
        conn.execute(
            "UPDATE login_attempts SET blocked_until = :until WHERE username = :username AND address = :address",
            {**key, "until": now + wait},
        )
    return failures


def succeeded(conn: Connection, username: str, address: str, now: float | None = None) -> None:
    """The address signed in: its failures are forgotten and it is known to the account."""
    now = time.time() if now is None else now
    conn.execute(
        "INSERT INTO login_attempts (username, address, failures, succeeded_at)"
        " VALUES (:username, :address, 0, :now) ON CONFLICT (username, address) DO UPDATE"
        " SET failures = 0, blocked_until = NULL, succeeded_at = :now",
        {"username": username, "address": address, "now": now},
    )


def forget(conn: Connection, username: str) -> None:
    """Drop every attempt of ``username`` (the account was removed or its password reset)."""
    conn.execute("DELETE FROM login_attempts WHERE username = :username", {"username": username})
