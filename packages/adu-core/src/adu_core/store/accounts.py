"""Web accounts in the job store: roles, scrypt password hashes, lockout after failures.

Reached as ``store.accounts`` (an :class:`Accounts`), and by the frontends only through
:mod:`adu_core.services.accounts`. Every change that could take the last active admin
away (remove, demote, deactivate) checks and writes in one write transaction with the
active admins' rows locked, so two concurrent requests can never both pass the rule.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import attrs

from adu_core.errors import Conflict, NotFound, UsageError
from adu_core.passwords import check_password, hash_password
from adu_core.store import logins
from adu_core.store.db import POSTGRESQL, Connection, Database

#: the roles, most powerful first: an admin manages accounts, an operator runs jobs, a
#: viewer reads
ROLES = ("admin", "operator", "viewer")
#: failed logins before an account is locked for :data:`LOCK_SECONDS`.
MAX_FAILED_LOGINS = 5
LOCK_SECONDS = 300.0
#: the shortest password an account may have
MIN_PASSWORD = 8


class LastAdminError(Conflict):
    """The change would leave no active admin (nobody could manage accounts any more)."""


@attrs.frozen
class UserRow:
    """An account as the store holds it (never with its password hash)."""

    id: int
    username: str
    role: str
    active: bool
    created_at: float
    last_login_at: float | None
    failed_logins: int
    locked_until: float | None

    @property
    def locked(self) -> bool:
        """Locked out now after too many failed sign-ins."""
        return bool(self.locked_until and self.locked_until > time.time())

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in attrs.fields(UserRow)}


def check_role(role: str) -> str:
    """``role`` when it is one of :data:`ROLES`; UsageError otherwise."""
    if role not in ROLES:
        raise UsageError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    return role


def check_new_password(password: str) -> str:
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"a password needs at least {MIN_PASSWORD} characters")
    return password


def _row(r: Any) -> UserRow:
    return UserRow(
        r.id, r.username, r.role, bool(r.active), r.created_at, r.last_login_at, r.failed_logins, r.locked_until
    )


def active_admins(conn: Connection) -> list[str]:
    """The names of the active admins, their rows locked until the transaction ends
    (``FOR UPDATE`` on PostgreSQL; SQLite's write transactions are serialized already)."""
    lock = " FOR UPDATE" if conn.dialect == POSTGRESQL else ""  # SQLite has no row locks
    query = f"SELECT username FROM users WHERE role = 'admin' AND active = :yes ORDER BY id{lock}"
    return list(conn.execute(query, {"yes": True}).scalars())


class Accounts:
    """The ``users`` table.

    :param db: the store's connections.
    :param write: the store's write transaction (a context manager giving a connection).
    """

    def __init__(self, db: Database, write: Callable[[], AbstractContextManager[Connection]]) -> None:
        self.db = db
        self._tx = write

    # ------------------------------------------------------------------ reading

    def get(self, username: str) -> UserRow:
        with self.db.read() as conn:
            r = conn.execute("SELECT * FROM users WHERE username = :username", {"username": username}).first()
        if r is None:
            raise NotFound(f"no user {username!r}")
        return _row(r)

    def get_by_id(self, user_id: int) -> UserRow | None:
        with self.db.read() as conn:
            r = conn.execute("SELECT * FROM users WHERE id = :id", {"id": user_id}).first()
        return _row(r) if r is not None else None

    def list(self) -> list[UserRow]:
        with self.db.read() as conn:
            return [_row(r) for r in conn.execute("SELECT * FROM users ORDER BY username")]

    def password_stamp(self, user_id: int, key: bytes) -> str:
        """A keyed fingerprint of the account's password hash and session version: a web
        session carries it, so a new password, a new role, a deactivation or a sign-out
        (each bumps the version) ends every older session, server-side."""
        with self.db.read() as conn:
            row = conn.execute(
                "SELECT password_hash, session_version FROM users WHERE id = :id", {"id": user_id}
            ).first()
        text = f"{row.password_hash}:{row.session_version}" if row is not None else ""
        return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()[:24]

    def end_sessions(self, user_id: int) -> None:
        """End every web session of the account (its session version is bumped)."""
        with self._tx() as conn:
            conn.execute("UPDATE users SET session_version = session_version + 1 WHERE id = :id", {"id": user_id})

    # ------------------------------------------------------------------ changes

    def add(self, username: str, password: str, role: str) -> UserRow:
        username = username.strip()
        if not username or len(username) > 128 or any(c.isspace() for c in username):
            raise UsageError("a user name is 1 to 128 characters without spaces")
        check_new_password(password)
        check_role(role)
        with self._tx() as conn:
            if conn.execute("SELECT id FROM users WHERE username = :username", {"username": username}).first():
                raise UsageError(f"user {username!r} already exists")
            conn.execute(
                "INSERT INTO users (username, password_hash, role, created_at)"
                " VALUES (:username, :password_hash, :role, :created_at)",
                {
                    "username": username,
                    "password_hash": hash_password(password),
                    "role": role,
                    "created_at": time.time(),
                },
            )
        return self.get(username)

    @staticmethod
    def _keep_an_admin(conn: Connection, username: str, what: str) -> None:
        """Refuse ``what`` when ``username`` is the last active admin (inside the caller's
        write transaction, so the check and the change are one step)."""
        admins = active_admins(conn)
        if admins == [username]:
            raise LastAdminError(f"refusing to {what} the last admin ({username} is the only active admin)")

    def remove(self, username: str) -> None:
        """Delete the account; never the last active admin."""
        with self._tx() as conn:
            self._keep_an_admin(conn, username, "remove")
            if conn.execute("DELETE FROM users WHERE username = :username", {"username": username}).rowcount != 1:
                raise NotFound(f"no user {username!r}")
            logins.forget(conn, username)

    def set_role(self, username: str, role: str) -> UserRow:
        """Give the account ``role``; the last active admin keeps the admin role."""
        check_role(role)
        with self._tx() as conn:
            if role != "admin":
                self._keep_an_admin(conn, username, "take the admin role from")
            res = conn.execute(
                "UPDATE users SET role = :role, session_version = session_version + 1 WHERE username = :username",
                {"role": role, "username": username},
            )
            if res.rowcount != 1:
                raise NotFound(f"no user {username!r}")
        return self.get(username)

    def set_active(self, username: str, active: bool) -> UserRow:
        """Let the account sign in (``active``) or not; the last active admin stays active."""
        with self._tx() as conn:
            if not active:
                self._keep_an_admin(conn, username, "deactivate")
            res = conn.execute(
                "UPDATE users SET active = :active, session_version = session_version + 1 WHERE username = :username",
                {"active": bool(active), "username": username},
            )
            if res.rowcount != 1:
                raise NotFound(f"no user {username!r}")
        return self.get(username)

    def set_password(self, username: str, password: str) -> None:
        """A new password (it also lifts a lockout)."""
        check_new_password(password)
        with self._tx() as conn:
            res = conn.execute(
                "UPDATE users SET password_hash = :password_hash, failed_logins = 0, locked_until = NULL,"
                " session_version = session_version + 1 WHERE username = :username",
                {"password_hash": hash_password(password), "username": username},
            )
            if res.rowcount != 1:
                raise NotFound(f"no user {username!r}")
            logins.forget(conn, username)

    def authenticate(self, username: str, password: str, address: str = "?") -> UserRow | None:
        """The user when the password is right and the account is active and may sign in
        from ``address`` now.

        - Every attempt is counted before its password is checked, in one ``UPDATE …
          RETURNING``: concurrent attempts are all counted; after
          :data:`MAX_FAILED_LOGINS` failures the account is locked for :data:`LOCK_SECONDS`.
        - A lockout does not stop an address that signed in to the account before (an
          anonymous attacker cannot lock an admin out); the attacker's own address waits
          longer after each failure (:mod:`adu_core.store.logins`).
        - Unknown, locked, blocked and wrong: the same work, one password hash check each
          (constant time: no answer tells whether an account exists or is locked).
        """
        now = time.time()
        address = (address or "?")[:64]
        with self._tx() as conn:
            attempt = logins.get(conn, username, address)
            r = conn.execute(
                "UPDATE users SET failed_logins = failed_logins + 1 WHERE username = :username"
                " RETURNING id, failed_logins, locked_until, password_hash, active",
                {"username": username},
            ).first()
        known = attempt is not None and attempt.succeeded_at is not None
        blocked = attempt is not None and bool(attempt.blocked_until) and attempt.blocked_until > now
        if r is None:
            check_password(_dummy_hash(), password)
            with self._tx() as conn:
                logins.failed(conn, username[:128], address, now)
            return None
        locked = bool(r.locked_until and r.locked_until > now) or r.failed_logins > MAX_FAILED_LOGINS
        may_try = not blocked and (known or not locked)
        right = check_password(r.password_hash if may_try else _dummy_hash(), password)
        ok = may_try and right and bool(r.active)
        with self._tx() as conn:
            if ok:
                conn.execute(
                    "UPDATE users SET failed_logins = 0, locked_until = NULL, last_login_at = :now WHERE id = :id",
                    {"now": now, "id": r.id},
                )
                logins.succeeded(conn, username, address, now)
            else:
                if r.failed_logins >= MAX_FAILED_LOGINS:
                    conn.execute(
                        "UPDATE users SET locked_until = :until"
                        " WHERE id = :id AND (locked_until IS NULL OR locked_until < :now)",
                        {"until": now + LOCK_SECONDS, "id": r.id, "now": now},
                    )
                logins.failed(conn, username, address, now)
        return self.get(username) if ok else None


@functools.cache
def _dummy_hash() -> str:
    return hash_password("not-a-real-password")
